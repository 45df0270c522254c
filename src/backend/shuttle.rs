//! Runs scenarios on crosscheck's engine (see [`crate::engine`]), with crosscheck's own strategies
//! choosing the threads, and judges each execution as it ends.
//!
//! The [`Driver`] is the engine's scheduler: it picks the scenario for each execution, records the
//! schedule, counts preemptions, enforces the step limit, and stops the run at the first failure.
//! Failures never travel as panics through the engine, except a deadlock of waits crosscheck does
//! not track (condition variables, joins), which the engine reports as the run's end. [`run`] is
//! the one way anything runs under the controlled schedulers: checks, replays, shrinking, the
//! reproduction of loom and stress failures, and fuzzing all come through it. (The module keeps
//! the name of the runtime it was first built on: shuttle, whose scheduling points the engine
//! takes one for one.)

mod failure;
mod guarded;
mod point;

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::harness::{self, lock, Outcomes, ThreadOutcome};
use super::judge::{self, Consistency, Judged, Outcome};
use super::locks::LockWatch;
use crate::engine;
use crate::linearizability::cache::FxHasher;
use crate::plan::{Plan, StrategyFactory};
use crate::record::{short_name, Access, EventKind, Footprint};
use crate::report::{self, Failure, Report};
use crate::resource::{Model, Resource};
use crate::runtime::{self, panics, Abort, Backend, BackendGuard, ExecutionRecord};
use crate::scenario::Scenario;
use crate::scheduler::{Choice, Strategy};
pub(crate) use failure::PINNED_NOTE;

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
    /// Offer std's surprises (spurious wakeups, weak-CAS failures, early park returns) as choices.
    pub spurious: bool,
    /// Offer short file writes as choices (`Checker::short_writes`).
    pub short_writes: bool,
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
    outcome: ThreadOutcome<R>,
    /// The last execution's record, emptied and reused so that recording does not allocate.
    spare: Option<Box<ExecutionRecord>>,
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
    /// The operations of the current scenario, by op index.
    ops: Vec<R::Op>,
    /// The models of the return-order check, reused.
    models: Vec<(Option<u64>, R::Model)>,
    /// The lock-order graph and the contention figures over every execution.
    watch: LockWatch,
    /// The report of the first lock-order cycle: the run's failure if nothing worse is found.
    inversion: Option<Failure<R::Op>>,
    /// The hang watchdog's heartbeat and the nondeterminism check's traces (see `guarded.rs`).
    guard: guarded::Guarded,
    /// The record of the execution that just ended, taken when it ended.
    ended: Option<Box<ExecutionRecord>>,
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
            ended: None,
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
            outcome: ThreadOutcome::new(),
            spare: None,
            ids: Vec::new(),
            passed: HashMap::default(),
            order: Vec::new(),
            profile: Vec::new(),
            next_accesses: Vec::new(),
            remaining: Vec::new(),
            groups: Vec::new(),
            ops: Vec::new(),
            models: Vec::new(),
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
                self.ops.clear();
                self.ops.extend(
                    scenario
                        .init
                        .iter()
                        .chain(scenario.threads.iter().flatten())
                        .chain(&scenario.post)
                        .cloned(),
                );
                self.groups.clear();
                self.groups.extend(self.ops.iter().map(<R::Model as Model>::partition));
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
        let plan = &self.plans[self.plan.expect("a plan was picked")];
        if self.runs_here == 0 {
            self.scenarios_run += 1;
            crate::progress::scenario_started();
            // The body reads the scenario from here; it changes with the plan only.
            *lock(&self.scenario) = Some(Arc::clone(&plan.scenario));
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
        self.outcome.with(|outcome| harness::reset(outcome, &plan.scenario));
        runtime::begin_execution(self.spare.take());
        let track_steps = self.strategy.as_ref().is_some_and(|s| s.wants_steps());
        let (spurious, short_writes) = (self.settings.spurious, self.settings.short_writes);
        runtime::with_record(|rec| {
            (rec.track_steps, rec.surprises_on, rec.short_writes_on) = (track_steps, spurious, short_writes)
        });
    }

    /// Hands the step that just ended to the strategy, if it keeps footprints.
    fn deliver_step(&mut self, step: Option<Footprint>) {
        if let Some(step) = step {
            point::deliver(&mut self.strategy, &self.groups, step);
        }
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

    /// The record of the execution that ended last, if it was not judged yet.
    pub(super) fn ended_record(&mut self) -> Option<Box<ExecutionRecord>> {
        self.ended.take().or_else(runtime::take_record)
    }

    /// Evaluates the execution that just ended, if one did.
    fn evaluate_finished(&mut self) {
        let Some(mut record) = self.ended_record() else {
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
        // The plan's scenario is the one that ran: no lock on the harness's copy needed.
        let scenario = Arc::clone(&self.plans.get(self.plan?)?.scenario);
        let outcome = self.outcome;
        outcome.with(|outcome| self.judge_outcome(record, &scenario, outcome))
    }

    /// Judges an execution that ran to its end from what the harness saw of it.
    fn judge_outcome(
        &mut self,
        record: &ExecutionRecord,
        scenario: &Scenario<R::Op>,
        outcome: &Outcome<R>,
    ) -> Option<Judged> {
        if let Some(kind) = judge::panic_kind::<R>(&record.labels, scenario, outcome) {
            return Some(kind.into());
        }
        let invariant = || judge::invariant_kind(outcome).map(Judged::from);
        if judge::in_return_order::<R>(
            &record.events,
            &self.ops,
            &self.groups,
            &outcome.outputs,
            &mut self.models,
        ) {
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
            scenario,
            outcome,
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
}

/// The body of every execution: the harness runs the scenario the driver picked.
fn body<R: Resource>(state: &State<R>) -> Rc<dyn Fn()> {
    let (scenario, outcome) = (Arc::clone(&state.scenario), state.outcome);
    Rc::new(move || {
        let scenario = lock(&scenario)
            .clone()
            .expect("the driver picks a scenario before each execution");
        harness::run::<R, harness::ShuttleThreads>(&outcome, &scenario);
    })
}

/// The scheduler crosscheck hands the engine: a thin handle on the shared [`State`].
pub(crate) struct Driver<R: Resource>(pub Rc<RefCell<State<R>>>);

impl<R: Resource> engine::Scheduler for Driver<R> {
    fn new_execution(&mut self) -> bool {
        let mut state = self.0.borrow_mut();
        state.guard.beat(false);
        let next = state.next_execution();
        state.guard.beat(next);
        next
    }

    fn next_task(&mut self, runnable: &[usize], current: Option<usize>, yielding: bool) -> Option<usize> {
        let mut state = self.0.borrow_mut();
        state.guard.beat(false);
        let next = state.next_task(runnable, current, yielding);
        state.guard.beat(true);
        next
    }

    fn execution_ended(&mut self) {
        // Taken before the engine unwinds the threads left unfinished: their guards' releases
        // are not part of the execution.
        self.0.borrow_mut().ended = runtime::take_record();
    }

    fn next_u64(&mut self) -> u64 {
        // crosscheck's facade asks through here for its choice points (see `runtime::choose`); the
        // answer travels in the record.
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
    let state = Rc::new(RefCell::new(State::<R>::new(plans, settings, make_strategy)));
    let body = body(&state.borrow());
    let scenario = Arc::clone(&state.borrow().scenario);
    let _watched = state.borrow_mut().guard.watch(scenario);
    let _quiet = panics::Quiet::new();
    let _backend = BackendGuard::set(Backend::Shuttle);
    // The size the check asked for (see `Checker::stack_size`), with the overflow guard ready.
    runtime::stack::prepare();
    let driver = Box::new(Driver(Rc::clone(&state)));
    let (_, ended) = engine::run(driver, body, runtime::stack::size());
    let mut state = state.borrow_mut();
    match ended {
        Ok(()) => {}
        Err(engine::Stopped::Deadlock(blocked)) => state.evaluate_deadlock(&blocked),
        Err(engine::Stopped::Panic(payload)) => state.evaluate_panic(panics::message(&*payload)),
    }
    failure::finish(&mut state, started)
}
