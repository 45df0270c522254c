//! The engine room: which backend runs the current thread, and the per-execution record of events
//! and lock ownership that the facade writes into and reports read from.
//!
//! Every controlled execution of a scenario runs on one OS thread (shuttle switches tasks on the
//! thread that called it), so the state lives in thread-locals. No borrow of it is ever held across
//! a scheduling point: a switch runs the scheduler, which records into the same state.

pub(crate) mod events;
pub(crate) mod locks;
pub(crate) mod panics;

use std::cell::{Cell, RefCell};

pub(crate) use events::{Event, EventKind, ObjectKind, Value};
use locks::LockTable;

/// Which implementation the facade's objects use when they are created on this thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Backend {
    /// Plain `std`: outside any check, or under the stress backend.
    Std,
    /// shuttle's primitives: inside a check run by a shuttle scheduler.
    Shuttle,
}

/// Why an execution was stopped before its threads finished.
#[derive(Clone, Debug)]
pub(crate) enum Abort {
    Deadlock { cycle: Vec<String> },
    StepLimit { steps: usize },
    Diverged { message: String },
}

/// What one execution leaves behind, whatever the resource type.
#[derive(Default)]
pub(crate) struct ExecutionRecord {
    pub events: Vec<Event>,
    pub locks: LockTable,
    pub abort: Option<Abort>,
    pub objects: Vec<ObjectKind>,
    /// Task ids of the scenario's worker threads, in scenario order (task id -> label).
    pub labels: Vec<(usize, String)>,
    /// A plain (non-yield) scheduling point for the facade's operations that have no shuttle
    /// primitive of their own (file writes).
    pub switch_point: Option<std::sync::Arc<shuttle::sync::atomic::AtomicBool>>,
    /// The thread chosen at each scheduling point where several could run: the replayable schedule.
    pub choices: Vec<usize>,
    pub preemptions: usize,
    pub steps: usize,
    /// While the harness spawns the scenario's threads it keeps running, so that every thread
    /// starts from the same point and spawning is never part of a schedule.
    pub spawning: bool,
    /// The task the scheduler chose last, which is the one running (cheaper than asking shuttle).
    pub running: usize,
}

impl ExecutionRecord {
    /// Empties the record for the next execution, keeping its allocations.
    fn reset(&mut self) {
        self.events.clear();
        self.locks.clear();
        self.abort = None;
        self.objects.clear();
        self.labels.clear();
        self.switch_point = None;
        self.choices.clear();
        self.preemptions = 0;
        self.steps = 0;
        self.spawning = false;
        self.running = 0;
    }
}

thread_local! {
    static BACKEND: Cell<Backend> = const { Cell::new(Backend::Std) };
    static RECORD: RefCell<Option<ExecutionRecord>> = const { RefCell::new(None) };
}

pub(crate) fn backend() -> Backend {
    BACKEND.with(|b| b.get())
}

/// Sets the backend for this OS thread until the guard drops.
pub(crate) struct BackendGuard(Backend);

impl BackendGuard {
    pub(crate) fn set(backend: Backend) -> Self {
        BackendGuard(BACKEND.with(|b| b.replace(backend)))
    }
}

impl Drop for BackendGuard {
    fn drop(&mut self) {
        BACKEND.with(|b| b.set(self.0));
        RECORD.with(|r| r.borrow_mut().take());
    }
}

/// Starts a fresh record for the execution about to run on this thread, reusing `recycled`'s
/// allocations if given.
pub(crate) fn begin_execution(recycled: Option<ExecutionRecord>) {
    let mut record = recycled.unwrap_or_default();
    record.reset();
    RECORD.with(|r| *r.borrow_mut() = Some(record));
}

/// Takes the record of the execution that just ended.
pub(crate) fn take_record() -> Option<ExecutionRecord> {
    RECORD.with(|r| r.borrow_mut().take())
}

/// Runs `f` on the current execution's record, if this thread is running one.
pub(crate) fn with_record<T>(f: impl FnOnce(&mut ExecutionRecord) -> T) -> Option<T> {
    RECORD.with(|r| match r.try_borrow_mut() {
        Ok(mut rec) => rec.as_mut().map(f),
        // Only reachable if a destructor runs inside a record borrow; recording is best effort.
        Err(_) => None,
    })
}

/// The shuttle task running now (0 is the harness's main thread).
pub(crate) fn current_task() -> usize {
    with_record(|rec| rec.running).unwrap_or(0)
}

/// Records `kind` for the current task, if an execution is being recorded.
pub(crate) fn record(kind: EventKind) {
    if backend() != Backend::Shuttle {
        return;
    }
    with_record(|rec| {
        let thread = rec.running;
        rec.events.push(Event { thread, kind })
    });
}

/// A new object id for the facade object being created.
pub(crate) fn new_object(kind: ObjectKind) -> Option<usize> {
    if backend() != Backend::Shuttle {
        return None;
    }
    with_record(|rec| {
        rec.objects.push(kind);
        rec.objects.len() - 1
    })
}

/// Asks the scheduler to stop this execution, and does not return.
pub(crate) fn abort(reason: Abort) -> ! {
    with_record(|rec| {
        if rec.abort.is_none() {
            rec.abort = Some(reason);
        }
    });
    // The driver sees the abort at this scheduling point and stops the execution; shuttle
    // abandons the stopped execution's stacks, so this task never resumes.
    shuttle::thread::yield_now();
    unreachable!("crosscheck: a stopped execution was resumed")
}

/// A scheduling point that is not a yield, for operations with no shuttle primitive.
pub(crate) fn switch() {
    if backend() != Backend::Shuttle {
        return;
    }
    let point = with_record(|rec| {
        rec.switch_point
            .get_or_insert_with(|| std::sync::Arc::new(shuttle::sync::atomic::AtomicBool::new(false)))
            .clone()
    });
    if let Some(point) = point {
        point.load(std::sync::atomic::Ordering::SeqCst);
    }
}
