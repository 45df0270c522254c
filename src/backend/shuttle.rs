//! Runs scenarios under shuttle's execution engine, with crosscheck's own strategies choosing the
//! threads, and evaluates each execution as it ends.
//!
//! One `shuttle::Runner` runs every scenario of a check (a runner per execution is ~7x slower).
//! The [`Driver`] is the runner's scheduler: it picks the scenario for each execution, records the
//! schedule, counts preemptions, enforces the step limit, and stops the runner at the first
//! failure. Failures never travel as panics through shuttle, except shuttle's own deadlock report
//! for waits crosscheck does not track (condition variables, joins), which the caller catches.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use shuttle::scheduler::{Schedule, Task, TaskId};

pub(crate) use super::verdict::short_name;
use super::verdict::{self, build_history, Outcome, PartsInput};
use crate::linearizability::cache::FxHasher;
use crate::lock_order::LockOrder;
use crate::lock_stats::Contention;
use crate::plan::{Plan, StrategyFactory};
use crate::report::{self, Failure, FailureData, FailureKind};
use crate::resource::Resource;
use crate::runtime::{self, panics, Abort, EventKind, ExecutionRecord};
use crate::scenario::Scenario;
use crate::scheduler::{is_preemption, Strategy};
use crate::token::{Token, TokenScenario};

/// Settings the driver needs from the checker.
pub(crate) struct RunSettings {
    pub budget: usize,
    pub max_steps: usize,
    /// Steps without a completed operation before the execution is examined for a livelock.
    pub livelock_steps: usize,
    pub check_budget: Duration,
    pub scheduler: String,
    pub seed: Option<u64>,
    pub type_name: &'static str,
    /// Keep running after a failure and keep the simplest failing schedule (fewest preemptions,
    /// then context switches, then steps) instead of the first: how shrinking polishes a schedule.
    pub keep_going: bool,
    /// Run the lock-order analysis over the executions (see [`crate::lock_order`]).
    pub lock_order: bool,
}

/// What the execution body writes while it runs (inside shuttle's tasks).
pub(crate) struct Shared<R: Resource> {
    scenario: Option<Arc<Scenario<R::Op>>>,
    outputs: Vec<Option<R::Output>>,
    /// The first panic: (task, op index or None for `Resource::new`/`invariant`, message).
    panic: Option<(usize, Option<usize>, String)>,
    invariant: Option<Result<(), String>>,
    completed: bool,
}

impl<R: Resource> Default for Shared<R> {
    fn default() -> Self {
        Shared {
            scenario: None,
            outputs: Vec::new(),
            panic: None,
            invariant: None,
            completed: false,
        }
    }
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
    shared: Arc<Mutex<Shared<R>>>,
    /// The last execution's record, emptied and reused so that recording does not allocate.
    spare: Option<ExecutionRecord>,
    /// Runnable task ids of the current scheduling point, reused.
    ids: Vec<usize>,
    /// Histories of the current scenario already found linearizable: the order of op begins and
    /// ends, with the outputs. Most schedules of a small scenario repeat one of a few histories.
    passed: HashMap<Vec<u32>, Vec<Outputs<R>>, BuildHasherDefault<FxHasher>>,
    /// The order of op begins and ends of the execution being judged, reused.
    order: Vec<u32>,
    /// The lock-order graph over every execution, when the analysis is on.
    lock_order: Option<LockOrder>,
    /// How contended each lock was, over every execution.
    pub contention: Contention,
    /// The report of the first lock-order cycle: the check's failure if nothing worse is found.
    pub inversion: Option<Failure<R::Op>>,
}

/// What each operation of a scenario returned (`None`: it did not return).
type Outputs<R> = Vec<Option<<R as Resource>::Output>>;

/// Interleaving lines a livelock's report shows (the first and last half).
const LIVELOCK_LINES: usize = 60;

/// Distinct passed histories remembered per scenario.
const PASSED_CACHE: usize = 4096;

impl<R: Resource> State<R> {
    pub(crate) fn new(plans: Vec<Plan<R::Op>>, settings: RunSettings, make_strategy: StrategyFactory) -> Self {
        let settings_lock_order = settings.lock_order;
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
            shared: Arc::new(Mutex::new(Shared::default())),
            spare: None,
            ids: Vec::new(),
            passed: HashMap::default(),
            order: Vec::new(),
            lock_order: settings_lock_order.then(LockOrder::default),
            inversion: None,
            contention: Contention::default(),
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
                self.share = (left / (self.plans.len() - next)).max(1);
                self.strategy = Some((self.make_strategy)(next));
                self.passed.clear();
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
        }
        self.runs_here += 1;
        self.runs += 1;
        let plan = &self.plans[self.plan.expect("a plan was picked")];
        let mut shared = self.shared.lock().expect("crosscheck's own lock");
        shared.outputs.clear();
        shared.outputs.resize(plan.scenario.len(), None);
        shared.scenario = Some(Arc::clone(&plan.scenario));
        shared.panic = None;
        shared.invariant = None;
        shared.completed = false;
        drop(shared);
        runtime::begin_execution(self.spare.take());
        true
    }

    fn next_task(&mut self, runnable: &[&Task], current: Option<TaskId>, yielding: bool) -> Option<TaskId> {
        let mut ids = std::mem::take(&mut self.ids);
        ids.clear();
        ids.extend(runnable.iter().map(|t| usize::from(t.id())));
        if let Some(c) = current.map(usize::from).filter(|_| yielding && ids.len() > 1) {
            // A yield (or a logical sleep) lets another thread run before the yielder goes on, as
            // under loom: otherwise a back-off loop could be scheduled forever against a thread
            // that holds what it waits for, an unfair schedule no real scheduler keeps up.
            ids.retain(|&t| t != c);
        }
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
            if let Some(abort) = runtime::stalled(rec, max_steps, livelock_steps) {
                rec.abort = Some(abort);
                return (false, false);
            }
            (true, rec.spawning)
        })
        .unwrap_or((true, false));
        if !proceed {
            return None;
        }
        let choice = if ids.len() == 1 {
            ids[0]
        } else if spawning && ids.contains(&0) {
            0
        } else {
            let strategy = self.strategy.as_mut().expect("a plan has a strategy");
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
        runtime::with_record(|rec| {
            rec.running = choice;
            if chose {
                rec.choices.push(choice);
            }
            if preempted {
                rec.preemptions += 1;
            }
            if let Some(from) = current.filter(|&c| c != choice) {
                rec.events.push(runtime::Event {
                    thread: choice,
                    kind: EventKind::SwitchedTo { from, preempted },
                });
            }
        });
        Some(choice)
    }

    /// Evaluates the execution that just ended, if one did.
    fn evaluate_finished(&mut self) {
        let Some(record) = runtime::take_record() else {
            return;
        };
        let kind = self.judge(&record);
        self.note_lock_order(&record);
        self.contention.absorb(&record);
        match kind {
            Some(kind) => self.fail(kind, record),
            None => self.spare = Some(record),
        }
    }

    /// Adds the execution's lock-order edges to the check's graph; the first cycle they close is
    /// kept as a failure, reported if the check finds nothing worse.
    fn note_lock_order(&mut self, record: &ExecutionRecord) {
        let Some(order) = self.lock_order.as_mut() else { return };
        if record.locks.edges.is_empty() {
            order.absorb(record, |_| String::new());
            return;
        }
        let plan = &self.plans[self.plan.unwrap_or(0).min(self.plans.len().saturating_sub(1))];
        let names = verdict::op_texts::<R>(&plan.scenario, &[]).0;
        if !order.absorb(record, |op| names.get(op).cloned().unwrap_or_default()) {
            return;
        }
        let Some(inversion) = order.inversion().cloned() else {
            return;
        };
        let kind = FailureKind::LockOrderInversion {
            edges: inversion.edges,
            deadlock: None,
        };
        let mut failure = self.build_failure(kind, record);
        if !inversion.within_one_execution {
            // The edges came from several executions: no single schedule shows them all.
            let data = failure.data_mut();
            data.token = None;
            if let Some(parts) = data.parts.as_mut() {
                parts.token = None;
                parts.interleaving.clear();
            }
        }
        self.inversion = Some(failure);
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
        self.fail(kind, record);
    }

    fn judge(&mut self, record: &ExecutionRecord) -> Option<FailureKind> {
        if let Some(Abort::Livelock { steps, threads }) = &record.abort {
            let shared = self.shared.lock().expect("crosscheck's own lock");
            let names = shared
                .scenario
                .as_ref()
                .map(|s| verdict::op_texts::<R>(s, &shared.outputs).0)
                .unwrap_or_default();
            let name = |op: usize| names.get(op).cloned().unwrap_or_else(|| format!("operation #{op}"));
            return Some(FailureKind::Livelock {
                steps: *steps,
                threads: runtime::livelock::describe(threads, name),
            });
        }
        if let Some(abort) = &record.abort {
            return Some(verdict::abort_kind(abort));
        }
        if let Some(message) = self.strategy.as_ref().and_then(|s| s.divergence()) {
            return Some(verdict::replay_diverged(&message));
        }
        let shared = self.shared.lock().expect("crosscheck's own lock");
        let scenario = shared.scenario.clone()?;
        let outcome = Outcome::<R> {
            scenario: &scenario,
            outputs: &shared.outputs,
            panic: shared.panic.as_ref(),
            invariant: shared.invariant.as_ref(),
            completed: shared.completed,
        };
        if let Some(kind) = verdict::panic_kind(&record.labels, &outcome) {
            return Some(kind);
        }
        let invariant = || match &shared.invariant {
            Some(Err(message)) => Some(FailureKind::InvariantViolated {
                message: message.clone(),
            }),
            _ => None,
        };
        if verdict::in_return_order::<R>(&record.events, &scenario, &shared.outputs) {
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
            .is_some_and(|outputs| outputs.iter().any(|o| o == &shared.outputs));
        if seen {
            // The same history passed before; only the invariant can differ.
            return invariant();
        }
        let (kind, unknown) = verdict::judge(&record.events, &record.labels, &outcome, self.settings.check_budget);
        if unknown {
            self.unknown += 1;
        }
        let linearizable = !matches!(kind, Some(FailureKind::NotLinearizable { .. }));
        if linearizable && !unknown && self.passed.len() < PASSED_CACHE {
            self.passed
                .entry(self.order.clone())
                .or_default()
                .push(shared.outputs.clone());
        }
        kind
    }

    fn fail(&mut self, kind: FailureKind, record: ExecutionRecord) {
        let cost = (record.preemptions, switches(&record), record.steps);
        if let Some(best) = &self.failure {
            let data = best.data();
            if (data.preemptions, data.switches, data.steps) <= cost {
                return;
            }
        }
        self.failure = Some(self.build_failure(kind, &record));
    }

    /// The failure `kind` shown by the execution `record` describes.
    fn build_failure(&self, kind: FailureKind, record: &ExecutionRecord) -> Failure<R::Op> {
        let switches = switches(record);
        let plan = &self.plans[self.plan.unwrap_or(0).min(self.plans.len().saturating_sub(1))];
        let scenario = Arc::clone(&plan.scenario);
        let shared = self.shared.lock().expect("crosscheck's own lock");
        let (history, index) = build_history::<R>(&record.events, &scenario, &shared.outputs);
        let (names, outputs) = verdict::op_texts::<R>(&scenario, &shared.outputs);
        let member = self.strategy.as_ref().and_then(|s| s.describe());
        let mut interleaving = report::interleaving(&record.events, &record.labels, &record.objects, &names, &outputs);
        if matches!(kind, FailureKind::Livelock { .. }) && interleaving.len() > LIVELOCK_LINES {
            // The livelock repeats itself: its start shows how it began, its end what repeats.
            let skipped = interleaving.len() - LIVELOCK_LINES;
            interleaving.drain(LIVELOCK_LINES / 2..LIVELOCK_LINES / 2 + skipped);
            interleaving.insert(
                LIVELOCK_LINES / 2,
                format!("      ... {skipped} more lines like the ones around ..."),
            );
        }
        let mut parts = verdict::report_parts::<R>(PartsInput {
            kind: &kind,
            scenario: &scenario,
            outputs: &shared.outputs,
            history: &history,
            index: &index,
            interleaving,
            type_name: self.settings.type_name,
            scheduler: match member {
                Some(member) => format!("{}; {member} found it", self.settings.scheduler),
                None => self.settings.scheduler.clone(),
            },
            seed: self.settings.seed,
            preemptions: record.preemptions,
            check_budget: self.settings.check_budget,
            expected: None,
        });
        drop(shared);
        let replayable = !matches!(kind, FailureKind::Usage { .. } | FailureKind::Internal { .. });
        let token = replayable.then(|| {
            Token {
                type_name: short_name(self.settings.type_name).to_string(),
                type_hash: crate::token::fnv32(self.settings.type_name.as_bytes()),
                scenario: plan.source.clone(),
                schedule: record.choices.clone(),
                loom: None,
            }
            .encode()
        });
        parts.token = token.clone();
        parts.note = matches!(plan.source, TokenScenario::Pinned(_)).then(|| {
            "this scenario was pinned with Checker::scenario: replay the token with the same .scenario(..)".to_string()
        });
        Failure::new(FailureData {
            kind,
            scenario: (*scenario).clone(),
            token,
            preemptions: record.preemptions,
            schedules: self.runs,
            parts: Some(parts),
            source: Some(plan.source.clone()),
            choices: record.choices.clone(),
            switches,
            steps: record.steps,
        })
    }
}

/// Context switches between scenario threads in an execution.
fn switches(record: &ExecutionRecord) -> usize {
    record
        .events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::SwitchedTo { from, .. } if from != 0 && e.thread != 0))
        .count()
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
        // crosscheck's facade asks for no random values; a constant keeps any that shuttle's own
        // primitives ask for deterministic.
        0
    }
}

/// Runs one operation on the current thread, recording its begin and end; `false` if it panicked.
fn run_op<R: Resource>(shared: &Mutex<Shared<R>>, resource: &R, index: usize, op: &R::Op) -> bool {
    runtime::record(EventKind::OpBegin { op: index });
    match catch_unwind(AssertUnwindSafe(|| resource.apply(op))) {
        Ok(output) => {
            runtime::record(EventKind::OpEnd { op: index });
            shared.lock().expect("crosscheck's own lock").outputs[index] = Some(output);
            true
        }
        Err(payload) => {
            note_panic(shared, Some(index), &*payload);
            false
        }
    }
}

fn note_panic<R: Resource>(shared: &Mutex<Shared<R>>, op: Option<usize>, payload: &(dyn std::any::Any + Send)) {
    let message = panics::take_last().unwrap_or_else(|| panics::payload_message(payload));
    let mut shared = shared.lock().expect("crosscheck's own lock");
    if shared.panic.is_none() {
        shared.panic = Some((runtime::current_task(), op, message));
    }
}

/// The body shuttle runs for every execution: create the resource, run init, spawn a thread per
/// scenario thread, join, run post, check the invariant.
pub(crate) fn body<R: Resource>(state: &State<R>) -> impl Fn() + Send + Sync + 'static {
    let shared = Arc::clone(&state.shared);
    move || {
        let scenario = shared
            .lock()
            .expect("crosscheck's own lock")
            .scenario
            .clone()
            .expect("the driver picks a scenario before each execution");
        let resource = match catch_unwind(R::new) {
            Ok(r) => Arc::new(r),
            Err(payload) => return note_panic(&shared, None, &*payload),
        };
        let mut index = 0;
        for op in &scenario.init {
            if !run_op(&shared, &*resource, index, op) {
                return;
            }
            index += 1;
        }
        let mut handles = Vec::with_capacity(scenario.threads.len());
        runtime::with_record(|rec| rec.spawning = true);
        for t in 0..scenario.threads.len() {
            let (shared, resource, scenario) = (Arc::clone(&shared), Arc::clone(&resource), Arc::clone(&scenario));
            let base = index;
            index += scenario.threads[t].len();
            handles.push(shuttle::thread::spawn(move || {
                let me = runtime::current_task();
                runtime::with_record(|rec| rec.labels.push((me, runtime::thread_name(t))));
                for (k, op) in scenario.threads[t].iter().enumerate() {
                    if !run_op(&shared, &*resource, base + k, op) {
                        break;
                    }
                }
            }));
        }
        runtime::with_record(|rec| rec.spawning = false);
        for h in handles {
            // Workers catch their own panics, so a join error cannot carry a resource's panic.
            let _ = h.join();
        }
        for op in &scenario.post {
            if !run_op(&shared, &*resource, index, op) {
                return;
            }
            index += 1;
        }
        let invariant = catch_unwind(AssertUnwindSafe(|| resource.invariant()));
        match invariant {
            Ok(result) => {
                let mut s = shared.lock().expect("crosscheck's own lock");
                s.invariant = Some(result);
                s.completed = true;
            }
            Err(payload) => note_panic(&shared, None, &*payload),
        }
    }
}
