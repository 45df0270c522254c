//! The [`Checker`] builder: the one place that knows every stage and wires them together.
//! generate scenarios -> run them under a scheduler -> record -> check -> report.
//! [`Checker::check`], the edge that keeps regressions and panics with the report, is in `check.rs`.

mod check;
mod inversion;
mod reproduce;
mod robust;
mod shard;
mod size;
mod speed;
mod surprises;

use std::marker::PhantomData;
use std::ops::RangeInclusive;
use std::sync::Arc;
use std::time::Duration;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::backend::loom::{self as loom_backend, LoomSettings};
use crate::backend::shuttle::{self, RunSettings};
use crate::backend::stress::{StressSettings, DEFAULT_STRESS_TIMEOUT};
use crate::env;
use crate::plan::{Plan, StrategyFactory};
use crate::record::short_name;
use crate::report::{Failure, Report};
use crate::resource::Resource;
use crate::scenario::{self, Scenario, Shape};
use crate::scheduler::{self, Scheduler};
use crate::shrink::{self, ShrinkSettings, DEFAULT_SHRINK_BUDGET, DEFAULT_SHRINK_TIME};
use crate::token::{fnv64, Token, TokenScenario};

pub use inversion::DEFAULT_LIVELOCK_STEPS;
pub use size::SizeRange;

/// The schedules a check runs when `iterations` is not set.
pub const DEFAULT_ITERATIONS: usize = 10_000;
/// With no `scenarios` setting, one generated scenario per this many schedules.
pub const SCHEDULES_PER_SCENARIO: usize = 100;
/// The seed when neither `seed` nor `CROSSCHECK_SEED` is set: checks are reproducible by default.
pub const DEFAULT_SEED: u64 = 0;
/// Scheduling steps one execution may take before it is reported as a spin loop or livelock.
pub const DEFAULT_MAX_STEPS: usize = 50_000;
/// Time the consistency check of one history may take before it counts as unknown.
pub(crate) const DEFAULT_CHECK_BUDGET: Duration = Duration::from_secs(10);

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
/// | `spurious` | on | spurious wakeups, weak-CAS failures and early park returns as scheduling choices (see [`Checker::spurious`]) |
/// | `short_writes` | off | a file `write` may write only part of its buffer (see [`Checker::short_writes`]) |
/// | `stack_size` | `CROSSCHECK_STACK_SIZE`, else 2 MiB | the stack of each controlled thread; an overflow names this setting (see [`Checker::stack_size`]) |
/// | `hang_timeout` | `CROSSCHECK_HANG_TIMEOUT_MS`, else 5 s | how long a controlled thread may run without reaching a scheduling point (see [`Checker::hang_timeout`]) |
/// | `determinism` | `CROSSCHECK_DETERMINISM`, else `Failures` | when schedules are run twice to detect uncontrolled nondeterminism (see [`Checker::determinism`]) |
///
/// Environment (read in one place; an unknown `CROSSCHECK_*` variable gets a warning naming the
/// known ones): `CROSSCHECK_SEED` sets the seed where `seed` is not called,
/// `CROSSCHECK_SHRINK_BUDGET` the shrink budget where `shrink_budget` is not called;
/// `CROSSCHECK_REPLAY` makes [`Checker::check`] replay only that token, and
/// `CROSSCHECK_REGRESSIONS=off` stops it from saving failures.
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
    locks: inversion::LockSettings,
    check_budget: Duration,
    shrink_budget: Option<usize>,
    shrink_time: Duration,
    regression_file: Option<std::path::PathBuf>,
    stress_timeout: Duration,
    spurious: bool,
    short_writes: bool,
    robust: robust::Robustness,
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
            locks: self.locks,
            check_budget: self.check_budget,
            shrink_budget: self.shrink_budget,
            shrink_time: self.shrink_time,
            regression_file: self.regression_file.clone(),
            stress_timeout: self.stress_timeout,
            spurious: self.spurious,
            short_writes: self.short_writes,
            robust: self.robust,
            _resource: PhantomData,
        }
    }
}

impl<R: Resource> std::fmt::Debug for Checker<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checker")
            .field("resource", &short_name(std::any::type_name::<R>()))
            .field("threads", &self.shape.threads)
            .field("ops_per_thread", &self.shape.ops_per_thread)
            .field("init_ops", &self.shape.init)
            .field("post_ops", &self.shape.post)
            .field("scheduler", &self.scheduler)
            .field("iterations", &self.iterations)
            .field("scenarios", &self.scenarios)
            .field("seed", &self.seed)
            .field("pinned", &self.pinned)
            .field("max_steps", &self.max_steps)
            .field("locks", &self.locks)
            .field("check_budget", &self.check_budget)
            .field("shrink_budget", &self.shrink_budget)
            .field("shrink_time_limit", &self.shrink_time)
            .field("regression_file", &self.regression_file)
            .field("stress_timeout", &self.stress_timeout)
            .field("spurious", &self.spurious)
            .field("short_writes", &self.short_writes)
            .field("robust", &self.robust)
            .finish()
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
            locks: inversion::LockSettings::default(),
            check_budget: DEFAULT_CHECK_BUDGET,
            shrink_budget: None,
            shrink_time: DEFAULT_SHRINK_TIME,
            regression_file: None,
            stress_timeout: DEFAULT_STRESS_TIMEOUT,
            spurious: true,
            short_writes: false,
            robust: robust::Robustness::default(),
            _resource: PhantomData,
        }
    }

    /// Threads in the parallel part: a number or a range (`2..=4`).
    pub fn threads(mut self, n: impl SizeRange) -> Self {
        self.shape.threads = size::resolve(n, 1);
        self
    }

    /// Operations per thread in the parallel part: a number or a range.
    pub fn ops_per_thread(mut self, n: impl SizeRange) -> Self {
        self.shape.ops_per_thread = size::resolve(n, 1);
        self
    }

    /// Operations run before the threads start: a number or a range.
    pub fn init_ops(mut self, n: impl SizeRange) -> Self {
        self.shape.init = size::resolve(n, 0);
        self
    }

    /// Operations run after every thread has joined (a final `Get` turns "the count is right" into
    /// a checked property): a number or a range.
    pub fn post_ops(mut self, n: impl SizeRange) -> Self {
        self.shape.post = size::resolve(n, 0);
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

    /// The settings that come from code or, where the code gave none, from the environment.
    fn env(&self) -> Result<env::Env, Failure<R::Op>> {
        env::read().map_err(Failure::usage)
    }

    fn effective_seed(&self) -> Result<u64, Failure<R::Op>> {
        Ok(self.seed.or(self.env()?.seed).unwrap_or(DEFAULT_SEED))
    }

    /// What shrinking may spend, and the limits its executions run under.
    pub(crate) fn shrink_settings(&self) -> Result<ShrinkSettings, Failure<R::Op>> {
        Ok(ShrinkSettings {
            budget: self
                .shrink_budget
                .or(self.env()?.shrink_budget)
                .unwrap_or(DEFAULT_SHRINK_BUDGET),
            time: self.shrink_time,
            max_steps: self.max_steps,
            livelock_steps: self.locks.livelock_steps,
            check_budget: self.check_budget,
            scenario: self.pinned.is_none(),
            spurious: self.spurious,
            short_writes: self.short_writes,
        })
    }

    /// Settings for a shuttle run of `budget` schedules, named `scheduler` in reports.
    pub(crate) fn run_settings(&self, budget: usize, scheduler: String, seed: Option<u64>) -> RunSettings {
        RunSettings {
            budget,
            max_steps: self.max_steps,
            livelock_steps: self.locks.livelock_steps,
            lock_order: self.locks.lock_order,
            check_budget: self.check_budget,
            scheduler,
            seed,
            keep_going: false,
            shares: None,
            spurious: self.spurious,
            short_writes: self.short_writes,
        }
    }

    pub(crate) fn validate(&self) -> Result<(), Failure<R::Op>> {
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
                "scenario too large for loom: {threads} threads plus the harness's main thread, and loom models at \
                 most {} threads in all; use .threads(..=4) (2 keeps loom's exploration small)",
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
        if !token.is_for(full) {
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
            token.schedule.clone(),
            token.loom,
            token.offered(),
        ))
    }

    /// Runs the check and returns what it found: a [`Report`] if every schedule passed, or the
    /// first [`Failure`]. Invalid settings give a `Usage` failure; nothing panics.
    pub fn run(&self) -> Result<Report, Failure<R::Op>> {
        self.validate()?;
        let seed = self.effective_seed()?;
        let shrink = self.shrink_settings()?;
        let mode = crate::progress::Mode::from_env().map_err(Failure::usage)?;
        let _scope = self.guards()?.enter();
        let _progress = crate::progress::Session::open(short_name(std::any::type_name::<R>()), self.iterations, mode);
        let started = std::time::Instant::now();
        let result = self
            .run_inner(seed, &shrink)
            .map_err(|f| self.verify_determinism(f))
            .map_err(Failure::with_page);
        speed::check_ended(started.elapsed());
        result
    }

    fn run_inner(&self, seed: u64, shrink: &ShrinkSettings) -> Result<Report, Failure<R::Op>> {
        let shard = shard::Shard::from_env().map_err(Failure::usage)?;
        if let Scheduler::Replay(text) = &self.scheduler {
            let (plan, schedule, loom, offered) = self.replay_plan(text)?;
            if let Some(path) = loom {
                return loom_backend::replay::<R>(plan, path, self.loom_settings(None, 1, None));
            }
            // A replay runs exactly what it was given: it is not shrunk. The token says which kinds
            // of choice point the recorded execution offered.
            let make: StrategyFactory = Box::new(move |_| Box::new(scheduler::Replay::new(schedule.clone())));
            let settings = RunSettings {
                spurious: offered.spurious,
                short_writes: offered.short_writes,
                ..self.run_settings(1, "Replay".into(), None)
            };
            return shuttle::run::<R>(vec![plan], make, settings);
        }
        let unsplit = shard::unsplit(self.pinned.is_some(), &self.scheduler);
        if let Some(skipped) = shard.and_then(|s| s.skips(unsplit, &self.scheduler, std::any::type_name::<R>())) {
            return Ok(skipped);
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
        match &self.scheduler {
            Scheduler::Loom { preemption_bound } => {
                let settings = self.loom_settings(*preemption_bound, self.iterations, Some(seed));
                let mut failure = match loom_backend::check::<R>(plans, settings) {
                    Ok(report) => return Ok(report),
                    Err(failure) => failure,
                };
                if failure.is_inversion() {
                    return Err(self.seek_deadlock(failure, seed));
                }
                if failure.token().is_some() {
                    reproduce::cross_check(self, &mut failure);
                }
                Err(failure)
            }
            Scheduler::Stress => {
                let settings = StressSettings {
                    budget: self.iterations,
                    timeout: self.stress_timeout,
                    check_budget: self.check_budget,
                    scheduler: "Stress".to_string(),
                    seed: Some(seed),
                    lock_order: self.locks.lock_order,
                };
                reproduce::stress_check(self, plans, settings, seed, shrink)
            }
            other => {
                let strategies = other.clone();
                let mut label = if self.spurious {
                    other.label()
                } else {
                    format!(
                        "{}; spurious wakeups, weak-CAS failures and early park returns off",
                        other.label()
                    )
                };
                if self.short_writes {
                    label.push_str("; short writes on");
                }
                let (plans, settings, make): (_, _, StrategyFactory) = match shard.filter(|_| !unsplit) {
                    Some(shard) => {
                        let (plans, mine, make) = shard.split(plans, self.iterations, &strategies, seed);
                        let settings = RunSettings {
                            shares: Some(mine.clone()),
                            ..self.run_settings(mine.iter().sum(), format!("{label}, shard {shard}"), Some(seed))
                        };
                        (plans, settings, make)
                    }
                    None => {
                        let settings = self.run_settings(self.iterations, label, Some(seed));
                        (plans, settings, Box::new(move |i| strategies.strategy(seed, i)))
                    }
                };
                shuttle::run::<R>(plans, make, settings).map_err(|failure| {
                    crate::progress::failure_found();
                    match failure.is_inversion() {
                        // Not one execution's failure: nothing to shrink (see inversion.rs).
                        true => self.seek_deadlock(failure, seed),
                        false => shrink::shrink::<R>(failure, other, seed, shrink),
                    }
                })
            }
        }
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
            lock_order: self.locks.lock_order,
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

/// A decoded replay token: the scenario to run and the schedule to follow.
type ReplayPlan<Op> = (
    Plan<Op>,
    Vec<scheduler::Choice>,
    Option<crate::token::LoomPath>,
    crate::token::Offered,
);

#[cfg(test)]
mod tests;
