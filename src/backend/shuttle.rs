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

mod failure;

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use shuttle::scheduler::{Schedule, Task, TaskId};

use super::harness::{self, lock, Outcomes, ThreadOutcome};
use super::judge::{self, Consistency, Judged, Outcome};
use crate::linearizability::cache::FxHasher;
use crate::plan::{Plan, StrategyFactory};
use crate::record::{Access, Event, EventKind, Footprint};
use crate::report::{Failure, FailureKind, Report};
use crate::resource::{Model, Resource};
use crate::runtime::{self, panics, Abort, Backend, BackendGuard, ExecutionRecord};
use crate::scenario::Scenario;
use crate::scheduler::{is_preemption, Choice, Strategy, Upcoming};
pub(crate) use failure::PINNED_NOTE;

/// The scenario the next execution runs: set by the driver, read by the execution's body.
type NextScenario<Op> = Arc<Mutex<Option<Arc<Scenario<Op>>>>>;

/// Coroutine stack of each shuttle task.
const STACK_SIZE: usize = 0x20000;

/// Settings the driver needs from the checker.
pub(crate) struct RunSettings {
    pub budget: usize,
    pub max_steps: usize,
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
}

/// What each operation of a scenario returned (`None`: it did not return).
type Outputs<R> = Vec<Option<<R as Resource>::Output>>;

/// Distinct passed histories remembered per scenario.
const PASSED_CACHE: usize = 4096;

impl<R: Resource> State<R> {
    pub(crate) fn new(plans: Vec<Plan<R::Op>>, settings: RunSettings, make_strategy: StrategyFactory) -> Self {
        State {
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
        self.outcome.with(|outcome| harness::reset(outcome, &plan.scenario));
        runtime::begin_execution(self.spare.take());
        let track_steps = self.strategy.as_ref().is_some_and(|s| s.wants_steps());
        let spurious = self.settings.spurious;
        runtime::with_record(|rec| {
            rec.track_steps = track_steps;
            rec.surprises_on = spurious;
        });
        true
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

    /// Picks the task that runs next. Costs the strategy's decision plus a copy of the runnable
    /// ids, and not even that at the many points where nothing is chosen (one task can run, or the
    /// harness is spawning): those are most points of a wide scenario.
    fn next_task(&mut self, runnable: &[&Task], current: Option<TaskId>, yielding: bool) -> Option<TaskId> {
        let (spawning, parked) = self.begin_step()?;
        let current = current.map(usize::from);
        // A thread in `park_timeout` lets every other thread run before it returns (see
        // `runtime::park`): it sits out this one decision when another thread can run.
        let sits_out = |id: usize| runnable.len() > 1 && Some(id) == parked;
        let eligible = || {
            runnable
                .iter()
                .map(|t| usize::from(t.id()))
                .filter(move |&id| !sits_out(id))
        };
        let mut first_two = eligible();
        let forced = match (first_two.next(), first_two.next()) {
            (Some(only), None) => Some(only),
            _ if spawning && eligible().any(|id| id == 0) => Some(0),
            _ => None,
        };
        let (choice, preempted) = match forced {
            Some(choice) => (choice, false),
            None => {
                let mut ids = std::mem::take(&mut self.ids);
                ids.clear();
                ids.extend(eligible());
                let choice = self.choose(&ids, current, yielding);
                let preempted = choice.is_some_and(|c| is_preemption(&ids, current, yielding, c));
                self.ids = ids;
                (choice?, preempted)
            }
        };
        self.end_step(choice, current, forced.is_none(), preempted);
        Some(TaskId::from(choice))
    }

    /// Counts the scheduling point and hands the step that ended to the strategy; `None` if the
    /// execution must stop, else whether the harness is spawning its threads, and the thread that
    /// waits in `park_timeout`, if one does.
    fn begin_step(&mut self) -> Option<(bool, Option<usize>)> {
        let max_steps = self.settings.max_steps;
        let (proceed, spawning, parked, ended) = runtime::with_record(|rec| {
            let parked = rec.timed_parker.take();
            if rec.abort.is_some() {
                return (false, false, parked, None);
            }
            rec.steps += 1;
            if rec.steps > max_steps {
                rec.abort = Some(Abort::StepLimit { steps: max_steps });
                return (false, false, parked, None);
            }
            (true, rec.spawning, parked, rec.step.take())
        })
        .unwrap_or((true, false, None, None));
        if !proceed {
            return None;
        }
        self.deliver_step(ended);
        Some((spawning, parked))
    }

    /// Asks the strategy which of `ids` (more than one, none of them forced) runs next.
    fn choose(&mut self, ids: &[usize], current: Option<usize>, yielding: bool) -> Option<usize> {
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
            Some(c) => Some(c),
            None => {
                let message = strategy.divergence().unwrap_or_else(|| "the scheduler stopped".into());
                runtime::with_record(|rec| rec.abort = Some(Abort::Diverged { message }));
                None
            }
        }
    }

    /// Records the decision: in the schedule if `chose` (the strategy made it), and the switch.
    fn end_step(&mut self, choice: usize, current: Option<usize>, chose: bool, preempted: bool) {
        if let Some(strategy) = self.strategy.as_mut().filter(|s| s.wants_upcoming()) {
            let step = runtime::with_record(|rec| {
                let access = rec.upcoming.get(choice).copied().flatten()?;
                Some((access, rec.accesses[choice].len() - 1))
            })
            .flatten();
            strategy.ran(choice, step);
        }
        runtime::with_record(|rec| {
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
        if record.abort.is_none() && self.strategy.as_ref().is_some_and(|s| s.wants_upcoming()) {
            if self.profile.len() < record.accesses.len() {
                self.profile.resize_with(record.accesses.len(), Vec::new);
            }
            for (kept, made) in self.profile.iter_mut().zip(&record.accesses) {
                kept.clone_from(made);
            }
        }
        match self.judge(&record) {
            Some(judged) => self.fail(judged, record),
            None => self.spare = Some(record),
        }
    }

    /// After a panic escaped the runner: turns it into a failure of the execution that ran.
    pub(crate) fn evaluate_panic(&mut self, message: String) {
        let record = runtime::take_record().unwrap_or_default();
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
            return Some(judge::abort_kind(abort).into());
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

/// The shuttle scheduler crosscheck hands the runner: a thin handle on the shared [`State`].
pub(crate) struct Driver<R: Resource>(pub Rc<RefCell<State<R>>>);

impl<R: Resource> shuttle::scheduler::Scheduler for Driver<R> {
    fn new_execution(&mut self) -> Option<Schedule> {
        self.0.borrow_mut().next_execution().then(|| Schedule::new(0))
    }

    fn next_task(&mut self, runnable: &[&Task], current: Option<TaskId>, is_yielding: bool) -> Option<TaskId> {
        self.0.borrow_mut().next_task(runnable, current, is_yielding)
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
        (Arc::clone(&s.scenario), s.outcome)
    };
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
    config.stack_size = STACK_SIZE;
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
    let mut report = Report::new(std::any::type_name::<R>(), scheduler, started);
    report.scenarios = state.scenarios_run;
    report.schedules = state.runs;
    report.exhausted = state.exhausted;
    report.unknown = state.unknown;
    Ok(report)
}
