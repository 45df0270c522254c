//! Runs scenarios under shuttle's execution engine, with crosscheck's own strategies choosing the
//! threads, and judges each execution as it ends.
//!
//! One `shuttle::Runner` runs every scenario of a run (a runner per execution is ~7x slower). The
//! [`Driver`] is the runner's scheduler: it picks the scenario for each execution, records the
//! schedule, counts preemptions, enforces the step limit, and stops the runner at the first
//! failure. Failures never travel as panics through shuttle, except shuttle's own deadlock report
//! for waits crosscheck does not track (condition variables, joins), which [`run`] catches.
//! [`run`] is the one way anything runs under shuttle: checks, replays, shrinking, the
//! reproduction of loom and stress failures, and fuzzing all come through it.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use shuttle::scheduler::{Schedule, Task, TaskId};

use super::harness::{self, lock};
use super::judge::{self, Consistency, Judged, Outcome};
use super::locks::LockWatch;
use crate::linearizability::cache::FxHasher;
use crate::plan::{Plan, StrategyFactory};
use crate::record::{short_name, Access, Event, EventKind, Footprint};
use crate::report::{self, Failure, FailureKind, Report};
use crate::resource::{Model, Resource};
use crate::runtime::{self, panics, Abort, Backend, BackendGuard, ExecutionRecord};
use crate::scenario::Scenario;
use crate::scheduler::{is_preemption, Choice, Strategy, Upcoming};

mod failure;
mod guarded;

/// The scenario the next execution runs: set by the driver, read by the execution's body.
type NextScenario<Op> = Arc<Mutex<Option<Arc<Scenario<Op>>>>>;

/// Settings the driver needs from the checker.
pub(crate) struct RunSettings {
    pub budget: usize,
    pub max_steps: usize,
    /// Steps without a completed operation before the execution is examined for a livelock.
    pub livelock_steps: usize,
    /// Run the lock-order analysis over the executions (see [`crate::lock_order`]).
    pub lock_order: bool,
    pub check_budget: Duration,
    pub scheduler: String,
    pub seed: Option<u64>,
    /// Keep running after a failure and keep the simplest failing schedule (fewest preemptions,
    /// then context switches, then steps) instead of the first: how shrinking polishes a schedule.
    pub keep_going: bool,
    /// Each plan's share of the budget, fixed in advance (a shard of a check, see
    /// `CROSSCHECK_SHARD`); `None`: an equal part of what is left when the plan starts.
    pub shares: Option<Vec<usize>>,
    /// Offer the surprises std permits (spurious wakeups, spurious weak-CAS failures, early park
    /// returns) as choices.
    pub spurious: bool,
}

/// Everything the driver keeps, shared with the checker so that it survives a panic out of the
/// runner.
pub(crate) struct State<R: Resource> {
    pub plans: Vec<Plan<R::Op>>,
    pub settings: RunSettings,
    make_strategy: StrategyFactory,
    strategy: Option<Box<dyn Strategy>>,
    /// Index of the plan running now, and how many schedules it has had.
    plan: Option<usize>,
    runs_here: usize,
    share: usize,
    pub runs: usize,
    pub scenarios_run: usize,
    pub exhausted: usize,
    pub unknown: usize,
    pub failure: Option<Failure<R::Op>>,
    /// The scenario the next execution runs, and what the harness saw of the last one.
    scenario: NextScenario<R::Op>,
    outcome: Arc<Mutex<Outcome<R>>>,
    /// The last execution's record, emptied and reused so that recording does not allocate.
    spare: Option<ExecutionRecord>,
    /// Runnable task ids of the current scheduling point, reused.
    ids: Vec<usize>,
    /// Histories of the current scenario already found linearizable: the order of op begins and
    /// ends, with the outputs. Most schedules of a small scenario repeat one of a few histories.
    passed: HashMap<Vec<u32>, Vec<Outputs<R>>, BuildHasherDefault<FxHasher>>,
    /// The order of op begins and ends of the execution being judged, reused.
    order: Vec<u32>,
    /// By task id: the accesses each task made in the last execution of the current scenario,
    /// from which event-aware strategies estimate what a thread will do before it announces it.
    profile: Vec<Vec<Access>>,
    /// The upcoming accesses and remaining counts of the current scheduling point, reused.
    next_accesses: Vec<Option<Access>>,
    remaining: Vec<usize>,
    /// The `Model::partition` group of each operation of the current scenario, by op index.
    groups: Vec<Option<u64>>,
    /// The lock-order graph and the contention figures over every execution.
    watch: LockWatch,
    /// The report of the first lock-order cycle: the run's failure if nothing worse is found.
    inversion: Option<Failure<R::Op>>,
    /// The hang watchdog's heartbeat and the nondeterminism check's traces (see `guarded.rs`).
    guard: guarded::Guarded,
}

/// What each operation of a scenario returned (`None`: it did not return).
type Outputs<R> = Vec<Option<<R as Resource>::Output>>;

/// Distinct passed histories remembered per scenario.
const PASSED_CACHE: usize = 4096;

impl<R: Resource> State<R> {
    pub(crate) fn new(plans: Vec<Plan<R::Op>>, settings: RunSettings, make_strategy: StrategyFactory) -> Self {
        State {
            watch: LockWatch::new(settings.lock_order),
            inversion: None,
            guard: guarded::Guarded::new(),
            plans,
            settings,
            make_strategy,
            strategy: None,
            plan: None,
            runs_here: 0,
            share: 0,
            runs: 0,
            scenarios_run: 0,
            exhausted: 0,
            unknown: 0,
            failure: None,
            scenario: Arc::new(Mutex::new(None)),
            outcome: Arc::new(Mutex::new(Outcome::default())),
            spare: None,
            ids: Vec::new(),
            passed: HashMap::default(),
            order: Vec::new(),
            profile: Vec::new(),
            next_accesses: Vec::new(),
            remaining: Vec::new(),
            groups: Vec::new(),
        }
    }

    /// Moves on to the next execution: evaluates the one that ended, then picks the scenario and
    /// prepares the strategy. `false` ends the run.
    fn next_execution(&mut self) -> bool {
        self.evaluate_finished();
        if self.second_run() {
            return true;
        }
        loop {
            if (self.failure.is_some() && !self.settings.keep_going) || self.runs >= self.settings.budget {
                return false;
            }
            let need_plan = match self.plan {
                None => true,
                Some(_) => self.runs_here >= self.share,
            };
            if need_plan {
                let next = self.plan.map_or(0, |p| p + 1);
                if next >= self.plans.len() {
                    return false;
                }
                self.plan = Some(next);
                self.runs_here = 0;
                // Each scenario gets an equal part of what is left, so budget a systematic search
                // did not need flows to the scenarios after it.
                let left = self.settings.budget - self.runs;
                self.share = match &self.settings.shares {
                    Some(shares) => shares[next],
                    None => (left / (self.plans.len() - next)).max(1),
                };
                self.strategy = Some((self.make_strategy)(next));
                self.passed.clear();
                self.profile.iter_mut().for_each(Vec::clear);
                let scenario = &self.plans[next].scenario;
                self.groups.clear();
                self.groups.extend(
                    scenario
                        .init
                        .iter()
                        .chain(scenario.threads.iter().flatten())
                        .chain(&scenario.post)
                        .map(<R::Model as Model>::partition),
                );
            }
            let strategy = self.strategy.as_mut().expect("a plan has a strategy");
            if !strategy.new_execution() {
                if strategy.exhausted() {
                    self.exhausted += 1;
                }
                self.runs_here = self.share;
                continue;
            }
            break;
        }
        if self.runs_here == 0 {
            self.scenarios_run += 1;
            crate::progress::scenario_started();
        }
        self.runs_here += 1;
        self.runs += 1;
        crate::progress::executed();
        self.start_execution();
        true
    }

    /// Prepares the record and the harness for an execution of the current plan.
    fn start_execution(&mut self) {
        let plan = &self.plans[self.plan.expect("a plan was picked")];
        harness::reset(&mut lock(&self.outcome), &plan.scenario);
        *lock(&self.scenario) = Some(Arc::clone(&plan.scenario));
        runtime::begin_execution(self.spare.take());
        if self.strategy.as_ref().is_some_and(|s| s.wants_steps()) {
            runtime::with_record(|rec| rec.track_steps = true);
        }
        let spurious = self.settings.spurious;
        runtime::with_record(|rec| rec.surprises_on = spurious);
    }

    /// Hands the step that just ended to the strategy, if it keeps footprints.
    fn deliver_step(&mut self, step: Option<Footprint>) {
        let (Some(mut step), Some(strategy)) = (step, self.strategy.as_mut()) else {
            return;
        };
        for b in &mut step.boundaries {
            b.group = self.groups.get(b.op).copied().flatten();
        }
        strategy.stepped(&step);
    }

    fn next_task(&mut self, runnable: &[&Task], current: Option<TaskId>, yielding: bool) -> Option<TaskId> {
        let mut ids = std::mem::take(&mut self.ids);
        ids.clear();
        ids.extend(runnable.iter().map(|t| usize::from(t.id())));
        runtime::sit_out(&mut ids, current.map(usize::from));
        let choice = self.choose(&ids, current.map(usize::from), yielding);
        self.ids = ids;
        choice.map(TaskId::from)
    }

    fn choose(&mut self, ids: &[usize], current: Option<usize>, yielding: bool) -> Option<usize> {
        let (max_steps, livelock_steps) = (self.settings.max_steps, self.settings.livelock_steps);
        let (proceed, spawning) = runtime::with_record(|rec| {
            if rec.abort.is_some() {
                return (false, false);
            }
            rec.steps += 1;
            runtime::locks::note_blocked(rec, ids);
            if let Some(abort) = runtime::livelock::stalled(rec, max_steps, livelock_steps) {
                rec.abort = Some(abort);
                return (false, false);
            }
            (true, rec.spawning)
        })
        .unwrap_or((true, false));
        if !proceed {
            return None;
        }
        let ended = runtime::with_record(|rec| rec.step.take()).flatten();
        self.deliver_step(ended);
        let choice = if ids.len() == 1 {
            ids[0]
        } else if spawning && ids.contains(&0) {
            0
        } else {
            let strategy = self.strategy.as_mut().expect("a plan has a strategy");
            if strategy.wants_upcoming() {
                self.next_accesses.clear();
                self.remaining.clear();
                let profile = &self.profile;
                let (accesses, remaining) = (&mut self.next_accesses, &mut self.remaining);
                runtime::with_record(|rec| {
                    for &t in ids {
                        let done = rec.accesses.get(t).map_or(0, Vec::len);
                        let announced = rec.upcoming.get(t).copied().flatten();
                        let expected = profile.get(t).map_or(&[][..], Vec::as_slice);
                        accesses.push(announced);
                        remaining.push(expected.len().saturating_sub(done) + usize::from(announced.is_some()));
                    }
                });
                strategy.upcoming(&Upcoming {
                    accesses: &self.next_accesses,
                    remaining: &self.remaining,
                });
            }
            match strategy.next(ids, current, yielding) {
                Some(c) => c,
                None => {
                    let message = strategy.divergence().unwrap_or_else(|| "the scheduler stopped".into());
                    runtime::with_record(|rec| rec.abort = Some(Abort::Diverged { message }));
                    return None;
                }
            }
        };
        let chose = ids.len() > 1 && !(spawning && choice == 0);
        let preempted = chose && is_preemption(ids, current, yielding, choice);
        if let Some(strategy) = self.strategy.as_mut().filter(|s| s.wants_upcoming()) {
            let step = runtime::with_record(|rec| {
                let access = rec.upcoming.get(choice).copied().flatten()?;
                Some((access, rec.accesses[choice].len() - 1))
            })
            .flatten();
            strategy.ran(choice, step);
        }
        let guard = &mut self.guard;
        runtime::with_record(|rec| {
            guard.chose(ids, choice, current, rec);
            if rec.track_steps {
                runtime::steps::open(rec, choice);
            }
            rec.running = choice;
            if chose {
                rec.choices.push(Choice::Thread(choice));
            }
            if preempted {
                rec.preemptions += 1;
            }
            if let Some(from) = current.filter(|&c| c != choice) {
                rec.events.push(Event {
                    thread: choice,
                    kind: EventKind::SwitchedTo { from, preempted },
                });
            }
        });
        Some(choice)
    }

    /// Answers the facade's pending choice point (see [`runtime::choose`]): asks the strategy and
    /// records the answer in the schedule.
    fn choose_alternative(&mut self) {
        let Some(point) = runtime::with_record(|rec| rec.pending.take()).flatten() else {
            return;
        };
        let strategy = self.strategy.as_mut().expect("a plan has a strategy");
        match strategy.choose(&point) {
            Some(k) => {
                let k = k.min(point.count - 1);
                runtime::with_record(|rec| {
                    rec.choices.push(Choice::Alternative(k));
                    rec.surprises += usize::from(k != 0);
                    rec.answer = Some(k);
                });
            }
            None => {
                let message = strategy.divergence().unwrap_or_else(|| "the scheduler stopped".into());
                runtime::with_record(|rec| {
                    if rec.abort.is_none() {
                        rec.abort = Some(Abort::Diverged { message });
                    }
                });
            }
        }
    }

    /// Evaluates the execution that just ended, if one did.
    fn evaluate_finished(&mut self) {
        let Some(mut record) = runtime::take_record() else {
            return;
        };
        let last = record.step.take();
        self.deliver_step(last);
        let Some((record, trace)) = self.second_run_ended(record) else {
            return;
        };
        if record.abort.is_none() && self.strategy.as_ref().is_some_and(|s| s.wants_upcoming()) {
            if self.profile.len() < record.accesses.len() {
                self.profile.resize_with(record.accesses.len(), Vec::new);
            }
            for (kept, made) in self.profile.iter_mut().zip(&record.accesses) {
                kept.clone_from(made);
            }
        }
        if let Some(strategy) = self.strategy.as_mut().filter(|s| s.wants_upcoming()) {
            strategy.finished(&record.events);
        }
        let judged = self.judge(&record);
        if judged.is_none() {
            self.note_lock_order(&record);
        }
        match judged {
            Some(judged) => self.fail(judged, record),
            None => self.passed_run(record, trace),
        }
    }

    /// Adds a passing execution to the lock-order graph and the contention figures; the first
    /// cycle it closes is kept as a failure, reported if the run finds nothing worse.
    fn note_lock_order(&mut self, record: &ExecutionRecord) {
        let plan = self.plan.unwrap_or(0).min(self.plans.len().saturating_sub(1));
        let scenario = Arc::clone(&self.plans[plan].scenario);
        let Some(closed) = self.watch.absorb::<R>(record, &scenario) else {
            return;
        };
        let mut inversion = self.build_failure(closed.kind.into(), record);
        if !closed.within_one_execution {
            // The edges came from several executions: no single schedule shows them all.
            super::locks::forget_schedule(&mut inversion);
        }
        self.inversion = Some(inversion);
    }

    /// After a panic escaped the runner: turns it into a failure of the execution that ran.
    pub(crate) fn evaluate_panic(&mut self, message: String) {
        let record = runtime::take_record().unwrap_or_default();
        self.guard.finish_trace(&record);
        let kind = if message.starts_with("deadlock!") {
            FailureKind::Deadlock {
                cycle: vec![
                    "every thread is blocked (on a condition variable, a join, or a lock), and none can wake \
                     the others"
                        .to_string(),
                    format!("shuttle reports: {message}"),
                ],
            }
        } else {
            FailureKind::Internal {
                message: format!("the execution engine panicked: {message}"),
            }
        };
        self.fail(kind.into(), record);
    }

    fn judge(&mut self, record: &ExecutionRecord) -> Option<Judged> {
        if let Some(abort) = &record.abort {
            let names = lock(&self.scenario)
                .as_ref()
                .map(|s| report::op_texts::<R>(s, &[]).0)
                .unwrap_or_default();
            return Some(judge::abort_kind_named(abort, &names).into());
        }
        if let Some(message) = self.strategy.as_ref().and_then(|s| s.divergence()) {
            return Some(judge::replay_diverged(&message).into());
        }
        let scenario = lock(&self.scenario).clone()?;
        let outcome = lock(&self.outcome);
        if let Some(kind) = judge::panic_kind::<R>(&record.labels, &scenario, &outcome) {
            return Some(kind.into());
        }
        let invariant = || judge::invariant_kind(&outcome).map(Judged::from);
        if judge::in_return_order::<R>(&record.events, &scenario, &outcome.outputs) {
            return invariant();
        }
        let mut order = std::mem::take(&mut self.order);
        order.clear();
        order.extend(record.events.iter().filter_map(|e| match e.kind {
            EventKind::OpBegin { op } => Some(2 * op as u32),
            EventKind::OpEnd { op } => Some(2 * op as u32 + 1),
            _ => None,
        }));
        self.order = order;
        let seen = self
            .passed
            .get(self.order.as_slice())
            .is_some_and(|outputs| outputs.iter().any(|o| o == &outcome.outputs));
        if seen {
            // The same history passed before; only the invariant can differ.
            return invariant();
        }
        let (judged, unknown) = judge::judge::<R>(
            &record.events,
            &record.labels,
            &scenario,
            &outcome,
            Consistency::Linearizable,
            self.settings.check_budget,
        );
        if unknown {
            self.unknown += 1;
        }
        let consistent = judged.as_ref().is_none_or(|j| j.evidence.is_none());
        if consistent && !unknown && self.passed.len() < PASSED_CACHE {
            self.passed
                .entry(self.order.clone())
                .or_default()
                .push(outcome.outputs.clone());
        }
        judged
    }

    fn fail(&mut self, judged: Judged, record: ExecutionRecord) {
        let switches = failure::switches(&record);
        let cost = (
            record.preemptions + record.surprises,
            record.preemptions,
            switches,
            record.steps,
        );
        if let Some(best) = &self.failure {
            let data = best.data();
            if (
                data.preemptions + data.surprises,
                data.preemptions,
                data.switches,
                data.steps,
            ) <= cost
            {
                return;
            }
        }
        self.failure = Some(self.build_failure(judged, &record));
    }
}

/// The note on a failure of a pinned scenario, whose token names the scenario by a fingerprint.
pub(crate) const PINNED_NOTE: &str =
    "this scenario was pinned with Checker::scenario: replay the token with the same .scenario(..)";

/// The shuttle scheduler crosscheck hands the runner: a thin handle on the shared [`State`].
pub(crate) struct Driver<R: Resource>(pub Rc<RefCell<State<R>>>);

impl<R: Resource> shuttle::scheduler::Scheduler for Driver<R> {
    fn new_execution(&mut self) -> Option<Schedule> {
        let mut state = self.0.borrow_mut();
        state.guard.beat(false);
        let next = state.next_execution();
        state.guard.beat(next);
        next.then(|| Schedule::new(0))
    }

    fn next_task(&mut self, runnable: &[&Task], current: Option<TaskId>, is_yielding: bool) -> Option<TaskId> {
        let mut state = self.0.borrow_mut();
        state.guard.beat(false);
        let next = state.next_task(runnable, current, is_yielding);
        state.guard.beat(true);
        next
    }

    fn next_u64(&mut self) -> u64 {
        // crosscheck's facade asks through here for its choice points (see `runtime::choose`); the
        // answer travels in the record. Any other request gets a constant, which keeps whatever
        // shuttle's own primitives ask for deterministic.
        self.0.borrow_mut().choose_alternative();
        0
    }
}

/// Runs `plans` under the strategies `make_strategy` makes, `settings.budget` schedules in all,
/// and returns the report or the first failure (with `keep_going`, the simplest failure of the
/// whole budget).
pub(crate) fn run<R: Resource>(
    plans: Vec<Plan<R::Op>>,
    make_strategy: StrategyFactory,
    settings: RunSettings,
) -> Result<Report, Failure<R::Op>> {
    let started = Instant::now();
    let keep_going = settings.keep_going;
    let scheduler = settings.scheduler.clone();
    let state = Rc::new(RefCell::new(State::<R>::new(plans, settings, make_strategy)));
    let (scenario, outcome) = {
        let s = state.borrow();
        (Arc::clone(&s.scenario), Arc::clone(&s.outcome))
    };
    let _watched = state.borrow_mut().guard.watch(Arc::clone(&scenario));
    let body = move || {
        let scenario = lock(&scenario)
            .clone()
            .expect("the driver picks a scenario before each execution");
        harness::run::<R, harness::ShuttleThreads>(&outcome, &scenario);
    };

    let _quiet = panics::Quiet::new();
    let _backend = BackendGuard::set(Backend::Shuttle);
    let mut config = shuttle::Config::new();
    config.max_steps = shuttle::MaxSteps::None;
    config.failure_persistence = shuttle::FailurePersistence::None;
    config.silence_warnings = true;
    // The size the check asked for (see `Checker::stack_size`), with the overflow guard ready.
    config.stack_size = runtime::stack::size();
    runtime::stack::prepare();
    let runner = shuttle::Runner::new(Driver(Rc::clone(&state)), config);
    let ran = catch_unwind(AssertUnwindSafe(|| runner.run(body)));
    let mut state = state.borrow_mut();
    if let Err(payload) = ran {
        state.evaluate_panic(panics::message(&*payload));
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
    let mut report = Report::new(std::any::type_name::<R>(), scheduler, started);
    report.lock_stats = state.watch.stats();
    report.scenarios = state.scenarios_run;
    report.schedules = state.runs;
    report.exhausted = state.exhausted;
    report.unknown = state.unknown;
    Ok(report)
}
