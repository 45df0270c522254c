//! The [`Checker`] builder: the one place that knows every stage and wires them together.
//! generate scenarios -> run them under a scheduler -> record -> check -> report.
//! [`Checker::check`], the edge that keeps regressions and panics with the report, is in `check.rs`.

mod check;
mod inversion;

use std::cell::RefCell;
use std::marker::PhantomData;
use std::ops::RangeInclusive;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::backend::loom::{self as loom_backend, LoomSettings};
use crate::backend::reproduce;
use crate::backend::shuttle::{body, short_name, Driver, RunSettings, State};
use crate::backend::stress::{StressSettings, DEFAULT_STRESS_TIMEOUT};
use crate::plan::{Plan, StrategyFactory};
use crate::report::{Failure, FailureKind, Report};
use crate::resource::Resource;
use crate::runtime::{panics, Backend, BackendGuard};
use crate::scenario::{self, Scenario, Shape};
use crate::scheduler::{self, Scheduler, Strategy};
use crate::shrink::{self, DEFAULT_SHRINK_BUDGET, DEFAULT_SHRINK_TIME};
use crate::token::{fnv32, fnv64, Token, TokenScenario};

/// The schedules a check runs when `iterations` is not set.
pub const DEFAULT_ITERATIONS: usize = 10_000;
/// With no `scenarios` setting, one generated scenario per this many schedules.
pub const SCHEDULES_PER_SCENARIO: usize = 100;
/// The seed when neither `seed` nor `CROSSCHECK_SEED` is set: checks are reproducible by default.
pub const DEFAULT_SEED: u64 = 0;
/// Scheduling steps one execution may take before it is reported as a spin loop or livelock.
pub const DEFAULT_MAX_STEPS: usize = 50_000;

pub use inversion::DEFAULT_LIVELOCK_STEPS;

/// A size setting: one number or an inclusive range to draw from.
pub trait SizeRange {
    /// The range this setting means.
    fn range(self) -> RangeInclusive<usize>;
}

impl SizeRange for usize {
    fn range(self) -> RangeInclusive<usize> {
        self..=self
    }
}

impl SizeRange for RangeInclusive<usize> {
    fn range(self) -> RangeInclusive<usize> {
        self
    }
}

/// Checks a [`Resource`] against its [`Model`](crate::Model) under a scheduler.
///
/// Every setting has a default; the budget is counted in schedules, never in seconds.
///
/// | setting | default | meaning |
/// |---|---|---|
/// | `threads` | 2..=3 | threads in the parallel part |
/// | `ops_per_thread` | 1..=3 | operations per thread |
/// | `init_ops`, `post_ops` | 0..=1 | operations before and after the parallel part |
/// | `scheduler` | [`Scheduler::recommended`] (a portfolio) | see [`Scheduler`] |
/// | `iterations` | 10,000 | schedules in all, over all scenarios |
/// | `scenarios` | iterations / 100 | generated scenarios sharing them (at least 1) |
/// | `seed` | `CROSSCHECK_SEED`, else 0 | the scenarios and the random schedulers' choices |
/// | `max_steps` | 50,000 | scheduling steps per execution before `StepLimitExceeded` |
/// | `livelock_steps` | 1,000 | steps without a completed operation before an execution is examined for a `Livelock` |
/// | `lock_order` | on | the lock-order (lockdep) analysis that reports `LockOrderInversion` |
/// | `check_budget` | 10 s | time the linearizability check of one history may take |
/// | `shrink_budget` | `CROSSCHECK_SHRINK_BUDGET`, else 50,000 | schedules shrinking a failure may run |
/// | `shrink_time_limit` | 30 s | wall-clock cap on shrinking |
/// | `stress_timeout` | 10 s | under `Scheduler::Stress`, how long an iteration's threads may run before a suspected deadlock |
///
/// Environment: `CROSSCHECK_SEED` sets the seed where `seed` is not called; `CROSSCHECK_REPLAY`
/// makes [`Checker::check`] replay only that token.
pub struct Checker<R: Resource> {
    shape: Shape,
    iterations: usize,
    scenarios: Option<usize>,
    scheduler: Scheduler,
    seed: Option<u64>,
    pinned: Option<Scenario<R::Op>>,
    max_steps: usize,
    livelock_steps: usize,
    lock_order: bool,
    check_budget: Duration,
    shrink_budget: Option<usize>,
    shrink_time: Duration,
    regression_file: Option<std::path::PathBuf>,
    stress_timeout: Duration,
    _resource: PhantomData<fn() -> R>,
}

impl<R: Resource> Clone for Checker<R> {
    fn clone(&self) -> Self {
        Checker {
            shape: self.shape.clone(),
            iterations: self.iterations,
            scenarios: self.scenarios,
            scheduler: self.scheduler.clone(),
            seed: self.seed,
            pinned: self.pinned.clone(),
            max_steps: self.max_steps,
            livelock_steps: self.livelock_steps,
            lock_order: self.lock_order,
            check_budget: self.check_budget,
            shrink_budget: self.shrink_budget,
            shrink_time: self.shrink_time,
            regression_file: self.regression_file.clone(),
            stress_timeout: self.stress_timeout,
            _resource: PhantomData,
        }
    }
}

impl<R: Resource> Default for Checker<R> {
    fn default() -> Self {
        Self::new()
    }
}

impl<R: Resource> Checker<R> {
    /// A checker with every setting at its default.
    pub fn new() -> Self {
        Checker {
            shape: Shape::default(),
            iterations: DEFAULT_ITERATIONS,
            scenarios: None,
            scheduler: Scheduler::default(),
            seed: None,
            pinned: None,
            max_steps: DEFAULT_MAX_STEPS,
            livelock_steps: DEFAULT_LIVELOCK_STEPS,
            lock_order: true,
            check_budget: Duration::from_secs(10),
            shrink_budget: None,
            shrink_time: DEFAULT_SHRINK_TIME,
            regression_file: None,
            stress_timeout: DEFAULT_STRESS_TIMEOUT,
            _resource: PhantomData,
        }
    }

    /// Threads in the parallel part: a number or a range (`2..=4`).
    pub fn threads(mut self, n: impl SizeRange) -> Self {
        self.shape.threads = n.range();
        self
    }

    /// Operations per thread in the parallel part: a number or a range.
    pub fn ops_per_thread(mut self, n: impl SizeRange) -> Self {
        self.shape.ops_per_thread = n.range();
        self
    }

    /// Operations run before the threads start: a number or a range.
    pub fn init_ops(mut self, n: impl SizeRange) -> Self {
        self.shape.init = n.range();
        self
    }

    /// Operations run after every thread has joined (a final `Get` turns "the count is right" into
    /// a checked property): a number or a range.
    pub fn post_ops(mut self, n: impl SizeRange) -> Self {
        self.shape.post = n.range();
        self
    }

    /// How threads are interleaved.
    pub fn scheduler(mut self, scheduler: Scheduler) -> Self {
        self.scheduler = scheduler;
        self
    }

    /// Schedules (executions) to run in all, over all scenarios.
    pub fn iterations(mut self, n: usize) -> Self {
        self.iterations = n;
        self
    }

    /// How many generated scenarios share the schedules; each gets an equal part of what is left
    /// when it starts (a scenario whose exhaustive search ends early passes the rest on).
    pub fn scenarios(mut self, m: usize) -> Self {
        self.scenarios = Some(m);
        self
    }

    /// The seed of scenario generation and of the random schedulers.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Runs this scenario instead of generated ones.
    pub fn scenario(mut self, scenario: Scenario<R::Op>) -> Self {
        self.pinned = Some(scenario);
        self
    }

    /// Scheduling steps one execution may take before it fails with `StepLimitExceeded`.
    pub fn max_steps(mut self, steps: usize) -> Self {
        self.max_steps = steps;
        self
    }

    /// Time the linearizability check of one history may take before it is counted as unknown.
    pub fn check_budget(mut self, budget: Duration) -> Self {
        self.check_budget = budget;
        self
    }

    /// Schedules shrinking may spend on a failure (0 turns shrinking off). Default 50,000, or
    /// `CROSSCHECK_SHRINK_BUDGET`.
    pub fn shrink_budget(mut self, schedules: usize) -> Self {
        self.shrink_budget = Some(schedules);
        self
    }

    /// A wall-clock cap on shrinking, for slow machines; the report says when it stopped early.
    pub fn shrink_time_limit(mut self, limit: Duration) -> Self {
        self.shrink_time = limit;
        self
    }

    /// Under `Scheduler::Stress`: how long one iteration's threads may run before the iteration is
    /// reported as a suspected deadlock (the stuck threads are left running; the check returns).
    pub fn stress_timeout(mut self, timeout: Duration) -> Self {
        self.stress_timeout = timeout;
        self
    }

    pub(crate) fn effective_shrink_budget(&self) -> Result<usize, Failure<R::Op>> {
        setting("CROSSCHECK_SHRINK_BUDGET", self.shrink_budget, DEFAULT_SHRINK_BUDGET)
    }

    fn effective_seed(&self) -> Result<u64, Failure<R::Op>> {
        setting("CROSSCHECK_SEED", self.seed, DEFAULT_SEED)
    }

    fn validate(&self) -> Result<(), Failure<R::Op>> {
        let range_ok = |name: &str, r: &RangeInclusive<usize>, min: usize| {
            if r.is_empty() {
                Err(Failure::usage(format!("{name}({r:?}) is an empty range")))
            } else if *r.start() < min {
                Err(Failure::usage(format!(
                    "{name} must be at least {min}, got {}",
                    r.start()
                )))
            } else if *r.end() > 255 {
                Err(Failure::usage(format!("{name} can be at most 255, got {}", r.end())))
            } else {
                Ok(())
            }
        };
        if matches!(self.scheduler, Scheduler::Replay(_)) {
            return Ok(());
        }
        if self.iterations == 0 {
            return Err(Failure::usage("iterations(0) runs nothing: give at least 1 schedule"));
        }
        if self.scenarios == Some(0) {
            return Err(Failure::usage("scenarios(0) runs nothing: give at least 1 scenario"));
        }
        if self.max_steps == 0 {
            return Err(Failure::usage("max_steps(0) stops every execution before it starts"));
        }
        self.scheduler.validate().map_err(Failure::usage)?;
        let loom = matches!(self.scheduler, Scheduler::Loom { .. });
        let too_large = |threads: usize| {
            Failure::usage(format!(
                "scenario too large for loom: {threads} threads plus the harness's main thread, and loom models at                  most {} threads in all; use .threads(..=4) (2 keeps loom's exploration small)",
                loom::MAX_THREADS
            ))
        };
        if let Some(s) = &self.pinned {
            if s.threads.is_empty() {
                return Err(Failure::usage("the pinned scenario has no threads: give it at least 1"));
            }
            if loom && s.threads.len() > crate::runtime::LOOM_MAX_SPAWNED {
                return Err(too_large(s.threads.len()));
            }
            return Ok(());
        }
        if loom && *self.shape.threads.end() > crate::runtime::LOOM_MAX_SPAWNED {
            return Err(too_large(*self.shape.threads.end()));
        }
        range_ok("threads", &self.shape.threads, 1)?;
        range_ok("ops_per_thread", &self.shape.ops_per_thread, 1)?;
        range_ok("init_ops", &self.shape.init, 0)?;
        range_ok("post_ops", &self.shape.post, 0)
    }

    pub(crate) fn fingerprint(scenario: &Scenario<R::Op>) -> u64 {
        fnv64(format!("{scenario:?}").as_bytes())
    }

    /// Decodes a replay token into the plan it names and its schedule.
    pub(crate) fn replay_plan(&self, text: &str) -> Result<ReplayPlan<R::Op>, Failure<R::Op>> {
        let token = Token::decode(text).map_err(|e| Failure::usage(e.to_string()))?;
        let full = std::any::type_name::<R>();
        if token.type_hash != fnv32(full.as_bytes()) {
            return Err(Failure::usage(format!(
                "this replay token was recorded for resource type `{}`, but this check is for `{}`",
                token.type_name,
                short_name(full)
            )));
        }
        let scenario = match &token.scenario {
            TokenScenario::Bytes(bytes) => scenario::decode::<R::Op>(bytes).map_err(|e| {
                Failure::usage(format!(
                    "the replay token's scenario no longer decodes ({e}): the operation type changed since it was recorded"
                ))
            })?,
            TokenScenario::Pinned(fingerprint) => match &self.pinned {
                Some(s) if Self::fingerprint(s) == *fingerprint => s.clone(),
                Some(_) => {
                    return Err(Failure::usage(
                        "this replay token was recorded with a different pinned scenario than this check's .scenario(..)",
                    ))
                }
                None => {
                    return Err(Failure::usage(
                        "this replay token was recorded with a pinned scenario: replay it with the same .scenario(..)",
                    ))
                }
            },
        };
        Ok((
            Plan {
                scenario: Arc::new(scenario),
                source: token.scenario.clone(),
            },
            token.schedule,
            token.loom,
        ))
    }

    /// Runs the check and returns what it found: a [`Report`] if every schedule passed, or the
    /// first [`Failure`]. Invalid settings give a `Usage` failure; nothing panics.
    pub fn run(&self) -> Result<Report, Failure<R::Op>> {
        self.validate()?;
        let seed = self.effective_seed()?;

        let (plans, budget, make_strategy): (Vec<Plan<R::Op>>, usize, StrategyFactory) = match &self.scheduler {
            Scheduler::Replay(text) => {
                let (plan, schedule, loom) = self.replay_plan(text)?;
                if let Some(path) = loom {
                    return loom_backend::replay::<R>(plan, path, self.loom_settings(None, 1, None));
                }
                let strategy = RefCell::new(Some(schedule));
                let make = move |_| -> Box<dyn Strategy> {
                    Box::new(scheduler::Replay::new(strategy.borrow_mut().take().unwrap_or_default()))
                };
                (vec![plan], 1, Box::new(make))
            }
            other => {
                let plans = match &self.pinned {
                    Some(s) => vec![Plan {
                        scenario: Arc::new(s.clone()),
                        source: TokenScenario::Pinned(Self::fingerprint(s)),
                    }],
                    None => self.generate(seed)?,
                };
                match other {
                    Scheduler::Loom { preemption_bound } => {
                        let settings = self.loom_settings(*preemption_bound, self.iterations, Some(seed));
                        return loom_backend::check(self, plans, settings);
                    }
                    Scheduler::Stress => {
                        let settings = StressSettings {
                            budget: self.iterations,
                            timeout: self.stress_timeout,
                            check_budget: self.check_budget,
                            scheduler: "Stress".to_string(),
                            seed: Some(seed),
                        };
                        let shrink = (self.effective_shrink_budget()?, self.shrink_time);
                        return reproduce::stress_check(self, plans, settings, seed, shrink);
                    }
                    _ => {}
                }
                let other = other.clone();
                let make = move |i: usize| other.strategy(seed, i);
                (plans, self.iterations, Box::new(make))
            }
        };

        let scheduler_name = match &self.scheduler {
            Scheduler::Replay(_) => "Replay".to_string(),
            other => other.label(),
        };
        let shrink_budget = self.effective_shrink_budget()?;
        let replaying = matches!(self.scheduler, Scheduler::Replay(_));
        match self.execute(
            plans,
            budget,
            make_strategy,
            scheduler_name,
            (!replaying).then_some(seed),
        ) {
            // A lock-order cycle is not one execution's failure: nothing to shrink (see inversion.rs).
            Err(f) if matches!(f.kind(), FailureKind::LockOrderInversion { .. }) => {
                Err(self.seek_deadlock(f, seed, replaying))
            }
            // A replay runs exactly what it was given; everything else is shrunk before it is shown.
            Err(failure) if !replaying => Err(shrink::shrink(
                self,
                failure,
                &self.scheduler,
                seed,
                shrink_budget,
                self.shrink_time,
            )),
            other => other,
        }
    }

    /// Runs `plans` under the strategies `make_strategy` makes, `budget` schedules in all, and
    /// returns the report or the first failure. The one way anything runs under shuttle: checks,
    /// replays, shrinking and fuzzing all come through here.
    pub(crate) fn execute(
        &self,
        plans: Vec<Plan<R::Op>>,
        budget: usize,
        make_strategy: StrategyFactory,
        scheduler_name: String,
        seed: Option<u64>,
    ) -> Result<Report, Failure<R::Op>> {
        self.execute_with(plans, budget, make_strategy, scheduler_name, seed, false)
    }

    /// [`Checker::execute`], optionally going on after a failure to find the simplest one.
    pub(crate) fn execute_with(
        &self,
        plans: Vec<Plan<R::Op>>,
        budget: usize,
        make_strategy: StrategyFactory,
        scheduler_name: String,
        seed: Option<u64>,
        keep_going: bool,
    ) -> Result<Report, Failure<R::Op>> {
        let started = Instant::now();
        let type_name = std::any::type_name::<R>();
        let settings = RunSettings {
            budget,
            max_steps: self.max_steps,
            livelock_steps: self.livelock_steps,
            check_budget: self.check_budget,
            scheduler: scheduler_name.clone(),
            seed,
            type_name,
            keep_going,
            lock_order: self.lock_order && !keep_going,
        };
        let state = Rc::new(RefCell::new(State::<R>::new(plans, settings, make_strategy)));
        let body = body(&state.borrow());

        let _quiet = panics::Quiet::new();
        let _backend = BackendGuard::set(Backend::Shuttle);
        let mut config = shuttle::Config::new();
        config.max_steps = shuttle::MaxSteps::None;
        config.failure_persistence = shuttle::FailurePersistence::None;
        config.silence_warnings = true;
        config.stack_size = 0x20000;
        let runner = shuttle::Runner::new(Driver(Rc::clone(&state)), config);
        let outcome = catch_unwind(AssertUnwindSafe(|| runner.run(body)));
        let mut state = state.borrow_mut();
        if let Err(payload) = outcome {
            let message = panics::take_last().unwrap_or_else(|| panics::payload_message(&*payload));
            state.evaluate_panic(message);
        }
        if let Some(mut failure) = state.failure.take() {
            if keep_going {
                // The run went on past the failure: count everything it ran.
                failure.data_mut().schedules = state.runs;
            }
            return Err(failure);
        }
        if let Some(mut inversion) = state.inversion.take() {
            // Every schedule passed, but the locks were taken in orders that can deadlock.
            inversion.data_mut().schedules = state.runs;
            return Err(inversion);
        }
        Ok(Report {
            resource: short_name(type_name).to_string(),
            scheduler: scheduler_name,
            scenarios: state.scenarios_run,
            schedules: state.runs,
            exhausted: state.exhausted,
            unknown: state.unknown,
            regressions: 0,
            elapsed: started.elapsed(),
            incomplete: None,
            lock_stats: std::mem::take(&mut state.contention).into_stats(),
        })
    }

    fn loom_settings(&self, preemption_bound: Option<usize>, budget: usize, seed: Option<u64>) -> LoomSettings {
        LoomSettings {
            preemption_bound,
            budget,
            max_steps: self.max_steps,
            check_budget: self.check_budget,
            scheduler: match preemption_bound {
                Some(b) => format!("Loom, preemption bound {b}"),
                None => "Loom, unbounded".to_string(),
            },
            seed,
            target: None,
            lock_order: self.lock_order,
        }
    }

    fn generate(&self, seed: u64) -> Result<Vec<Plan<R::Op>>, Failure<R::Op>> {
        let count = self
            .scenarios
            .unwrap_or((self.iterations / SCHEDULES_PER_SCENARIO).max(1))
            .min(self.iterations);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let chunk = scenario::chunk_len::<R::Op>();
        (0..count)
            .map(|_| {
                let bytes = scenario::generate(&mut rng, &self.shape, chunk);
                let scenario = scenario::decode::<R::Op>(&bytes).map_err(|e| {
                    Failure::usage(format!(
                        "the operation type's Arbitrary implementation cannot decode {chunk} random bytes ({e})"
                    ))
                })?;
                Ok(Plan {
                    scenario: Arc::new(scenario),
                    source: TokenScenario::Bytes(bytes),
                })
            })
            .collect()
    }
}

/// A setting given in code, else read from the environment variable `name`, else `default`.
fn setting<T: std::str::FromStr, Op>(name: &str, given: Option<T>, default: T) -> Result<T, Failure<Op>> {
    if let Some(value) = given {
        return Ok(value);
    }
    match std::env::var(name) {
        Ok(text) => text
            .trim()
            .parse()
            .map_err(|_| Failure::usage(format!("{name}={text:?} is not a whole number"))),
        Err(_) => Ok(default),
    }
}

/// A decoded replay token: the scenario to run and the schedule to follow.
type ReplayPlan<Op> = (Plan<Op>, Vec<usize>, Option<crate::token::LoomPath>);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::RacyCounter;
    use crate::FailureKind;

    /// A token whose scenario still decodes but whose schedule the code no longer offers.
    fn token_with_schedule(schedule: Vec<usize>) -> String {
        let failure = Checker::<RacyCounter>::new().run().unwrap_err();
        let mut token = Token::decode(failure.schedule().unwrap()).unwrap();
        token.schedule = schedule;
        token.encode()
    }

    fn usage(token: String) -> String {
        match Checker::<RacyCounter>::new().scheduler(Scheduler::Replay(token)).run() {
            Err(f) => match f.kind() {
                FailureKind::Usage { message } => message.clone(),
                other => panic!("expected a usage error, got {other:?}"),
            },
            Ok(r) => panic!("replayed: {r}"),
        }
    }

    #[test]
    fn a_schedule_the_code_no_longer_offers_is_a_clear_error() {
        let message = usage(token_with_schedule(vec![7, 7, 7]));
        assert!(
            message.contains("no longer matches the resource's behaviour"),
            "{message}"
        );
        assert!(message.contains("only"), "says which threads could run: {message}");
        let message = usage(token_with_schedule(vec![
            1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        ]));
        assert!(message.contains("no longer matches"), "{message}");
    }
}
