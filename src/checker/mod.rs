//! The [`Checker`] builder: the one place that knows every stage and wires them together.
//! generate scenarios -> run them under a scheduler -> record -> check -> report.
//! [`Checker::check`], the edge that keeps regressions and panics with the report, is in `check.rs`.

mod check;
mod shard;
mod validate;

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
use crate::report::{Failure, Report};
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
    /// The pinned scenario's bytes, when it was generated (by `crosscheck::proptest`): its token
    /// then names the bytes, so it replays without the `.scenario(..)`.
    pinned_bytes: Option<Vec<u8>>,
    max_steps: usize,
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
            pinned_bytes: self.pinned_bytes.clone(),
            max_steps: self.max_steps,
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
            pinned_bytes: None,
            max_steps: DEFAULT_MAX_STEPS,
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
        self.pinned_bytes = None;
        self
    }

    /// Pins a generated scenario with the bytes it was decoded from (so its token replays alone).
    pub(crate) fn generated_scenario(mut self, scenario: Scenario<R::Op>, bytes: Option<Vec<u8>>) -> Self {
        self.pinned = Some(scenario);
        self.pinned_bytes = bytes;
        self
    }

    /// The pinned scenario, if any: shrinking leaves a pinned scenario as it is.
    pub(crate) fn pinned_scenario(&self) -> Option<&Scenario<R::Op>> {
        self.pinned.as_ref()
    }

    /// The sizes generated scenarios are drawn from.
    pub(crate) fn shape(&self) -> &Shape {
        &self.shape
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
        let mode = crate::progress::Mode::from_env().map_err(Failure::usage)?;
        let _progress = crate::progress::Session::open(short_name(std::any::type_name::<R>()), self.iterations, mode);

        let shard = shard::Shard::from_env().map_err(Failure::usage)?;
        let mut shares = None;
        let (plans, budget, make_strategy): (Vec<Plan<R::Op>>, usize, StrategyFactory) = match &self.scheduler {
            Scheduler::Replay(text) => {
                let (plan, schedule, loom) = self.replay_plan(text)?;
                if let Some(path) = loom {
                    return loom_backend::replay::<R>(plan, path, self.loom_settings(None, 1, None))
                        .map_err(Failure::with_page);
                }
                let strategy = RefCell::new(Some(schedule));
                let make = move |_| -> Box<dyn Strategy> {
                    Box::new(scheduler::Replay::new(strategy.borrow_mut().take().unwrap_or_default()))
                };
                (vec![plan], 1, Box::new(make))
            }
            other => {
                let unsplit = self.pinned.is_some() || matches!(other, Scheduler::Loom { .. } | Scheduler::Stress);
                if let Some(shard) = shard.filter(|s| unsplit && !s.runs_unsplit()) {
                    eprintln!(
                        "crosscheck: CROSSCHECK_SHARD={shard}: this check of {} is not split (a pinned scenario, loom or \
                         stress); shard 1 runs it",
                        short_name(std::any::type_name::<R>())
                    );
                    return Ok(self.empty_report(&format!("{} (shard {shard}: run by shard 1)", other.label())));
                }
                let plans = match &self.pinned {
                    Some(s) => vec![Plan {
                        scenario: Arc::new(s.clone()),
                        source: match &self.pinned_bytes {
                            Some(bytes) => TokenScenario::Bytes(bytes.clone()),
                            None => TokenScenario::Pinned(Self::fingerprint(s)),
                        },
                    }],
                    None => self.generate(seed)?,
                };
                match other {
                    Scheduler::Loom { preemption_bound } => {
                        let settings = self.loom_settings(*preemption_bound, self.iterations, Some(seed));
                        return loom_backend::check(self, plans, settings).map_err(Failure::with_page);
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
                        return reproduce::stress_check(self, plans, settings, seed, shrink)
                            .map_err(Failure::with_page);
                    }
                    _ => {}
                }
                let other = other.clone();
                match shard.filter(|_| !unsplit) {
                    Some(shard) => {
                        let (plans, mine, ids) = shard.split(plans, self.iterations);
                        let budget = mine.iter().sum();
                        shares = Some(mine);
                        // Each scenario's scheduler is seeded by its index in the whole check.
                        let make = move |i: usize| other.strategy(seed, ids[i]);
                        (plans, budget, Box::new(make))
                    }
                    None => {
                        let make = move |i: usize| other.strategy(seed, i);
                        (plans, self.iterations, Box::new(make))
                    }
                }
            }
        };

        let mut scheduler_name = match &self.scheduler {
            Scheduler::Replay(_) => "Replay".to_string(),
            other => other.label(),
        };
        if let (Some(shard), Some(_)) = (shard, &shares) {
            scheduler_name += &format!(", shard {shard}");
        }
        let shrink_budget = self.effective_shrink_budget()?;
        let replaying = matches!(self.scheduler, Scheduler::Replay(_));
        let settings = self.run_settings(budget, scheduler_name, (!replaying).then_some(seed), false);
        let settings = RunSettings { shares, ..settings };
        let result = match self.execute_settings(plans, settings, make_strategy) {
            // A replay runs exactly what it was given; everything else is shrunk before it is shown.
            Err(failure) if !replaying => Err({
                crate::progress::failure_found();
                shrink::shrink(self, failure, &self.scheduler, seed, shrink_budget, self.shrink_time)
            }),
            other => other,
        };
        result.map_err(Failure::with_page)
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
        let settings = self.run_settings(budget, scheduler_name, seed, keep_going);
        self.execute_settings(plans, settings, make_strategy)
    }

    fn run_settings(&self, budget: usize, scheduler: String, seed: Option<u64>, keep_going: bool) -> RunSettings {
        RunSettings {
            budget,
            max_steps: self.max_steps,
            check_budget: self.check_budget,
            scheduler,
            seed,
            type_name: std::any::type_name::<R>(),
            keep_going,
            shares: None,
        }
    }

    /// Runs `plans` with the driver configured by `settings`.
    fn execute_settings(
        &self,
        plans: Vec<Plan<R::Op>>,
        settings: RunSettings,
        make_strategy: StrategyFactory,
    ) -> Result<Report, Failure<R::Op>> {
        let started = Instant::now();
        let type_name = settings.type_name;
        let scheduler_name = settings.scheduler.clone();
        let keep_going = settings.keep_going;
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
