//! The engine room: which backend runs the current thread, and the per-execution record of events
//! and lock ownership that the facade writes into and reports read from.
//!
//! Every controlled execution of a scenario runs on one OS thread (crosscheck's engine switches
//! tasks on the thread that called it, and loom 0.7 runs its threads as coroutines on the thread
//! that called `Builder::check`), so the state lives in thread-locals shared by every thread of the
//! execution. No borrow of it is ever held across a scheduling point: a switch runs the scheduler,
//! which records into the same state. Under the engine the driver says which task runs; under loom
//! the record asks loom for the current thread at each event (see [`with_record`]).
//!
//! `Backend::Shuttle` names the engine's backend: its scheduling is shuttle 0.9's, point for point
//! (see `crate::engine`).

pub(crate) mod awaits;
pub(crate) mod clocks;
pub(crate) mod livelock;
pub(crate) mod locks;
pub(crate) mod panics;
pub(crate) mod park;
pub(crate) mod stack;
pub(crate) mod std_order;
pub(crate) mod steps;
pub(crate) mod waits;

use std::cell::{Cell, RefCell};

pub(crate) use crate::record::{Access, AccessKind, Event, EventKind, Label, ObjectInfo, ObjectKind, Value};
use crate::scheduler::{Alternatives, Choice, ChoiceKind};
use locks::LockTable;
pub(crate) use waits::name_of as name_of_thread;

/// Which implementation the facade's objects use when they are created on this thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Backend {
    /// Plain `std`: outside any check, or under the stress backend.
    Std,
    /// shuttle's primitives: inside a check run by a shuttle scheduler.
    Shuttle,
    /// loom's primitives: inside a check run by `Scheduler::Loom`.
    Loom,
}

/// The unwinding payload that stops one loom thread's operation when its execution was aborted
/// (a deadlock cycle closed, the step limit was reached). Loom cannot abandon an execution the way
/// shuttle can, so the thread unwinds out of the resource (releasing its guards) to the harness,
/// which catches exactly this payload. Raised with `resume_unwind`, so no panic hook sees it.
pub(crate) struct LoomStop;

/// Why an execution was stopped before its threads finished.
#[derive(Clone, Debug)]
pub(crate) enum Abort {
    Deadlock {
        cycle: Vec<String>,
    },
    StepLimit {
        steps: usize,
    },
    /// No operation completed for `steps` steps while threads kept taking and releasing locks.
    Livelock {
        steps: usize,
        threads: Vec<livelock::LiveThread>,
    },
    Diverged {
        message: String,
    },
    /// The check cannot go on as configured (under loom: a resource spawned more threads than
    /// loom can model).
    Usage {
        message: String,
    },
    /// Two accesses to an `UnsafeCell`, at least one a write, not ordered by happens-before.
    DataRace(clocks::Race),
}

/// What one execution leaves behind, whatever the resource type.
#[derive(Default)]
pub(crate) struct ExecutionRecord {
    pub events: Vec<Event>,
    pub locks: LockTable,
    pub waits: waits::WaitTable,
    pub abort: Option<Abort>,
    pub objects: Vec<ObjectInfo>,
    /// Task ids of the scenario's worker threads, in scenario order (task id -> label).
    pub labels: Vec<(usize, Label)>,
    /// Every decision of the execution in order: the thread chosen where several could run, and
    /// the alternative taken at each choice point. The replayable schedule.
    pub choices: Vec<Choice>,
    pub preemptions: usize,
    /// Choice points that took a surprising alternative (not 0).
    pub surprises: usize,
    /// Whether this execution offers the surprises std permits (spurious wakeups, spurious
    /// weak-CAS failures) as choices: set by the driver from `Checker::spurious` or the token.
    pub surprises_on: bool,
    /// Whether this execution offers short file writes as choices (`Checker::short_writes`).
    pub short_writes_on: bool,
    /// The choice point the facade is asking the driver about, and the driver's answer: they meet
    /// here because the facade reaches the driver through the engine (see [`choose`]).
    pub pending: Option<Alternatives>,
    pub answer: Option<usize>,
    /// (thread, kind) pairs whose last choice point of that kind was a surprise: their next point
    /// of the kind is not offered, so a retry loop cannot be surprised forever.
    pub just_surprised: Vec<(usize, ChoiceKind)>,
    pub steps: usize,
    /// The step at which an operation last completed, and the number of events then: where the
    /// livelock diagnosis starts reading.
    pub progress_step: usize,
    pub progress_event: usize,
    /// While the harness spawns the scenario's threads it keeps running, so that every thread
    /// starts from the same point and spawning is never part of a schedule.
    pub spawning: bool,
    /// The task the scheduler chose last, which is the one running (cheaper than asking the engine).
    /// Under loom: the current loom thread's index in `loom_threads`, refreshed at each event.
    pub running: usize,
    /// Loom threads in the order they were first seen (index 0 is the harness's main thread).
    pub loom_threads: Vec<loom::thread::ThreadId>,
    /// True while a loom execution's body runs, the only time loom can be asked which thread runs.
    pub in_loom: bool,
    /// Threads the resource or harness spawned under loom (loom models at most 4 besides main).
    pub loom_spawned: usize,
    /// The step limit of this execution (enforced by the record under loom).
    pub max_steps: usize,
    /// Steps without a completed operation before a livelock is diagnosed (under loom).
    pub livelock_steps: usize,
    /// A plain scheduling point for file operations under loom.
    pub loom_switch: Option<std::sync::Arc<loom::sync::atomic::AtomicBool>>,
    /// By task id: the access the task announced and has not performed yet (it is waiting at the
    /// scheduling point before it).
    pub upcoming: Vec<Option<Access>>,
    /// By task id: every access the task announced in this execution, in order.
    pub accesses: Vec<Vec<Access>>,
    /// By task id: the operation the task invoked and has not yet made an access in (see
    /// [`steps`]).
    pub pending_begin: Vec<Option<usize>>,
    /// Whether the current step's footprint is kept (for the partial-order reduction).
    pub track_steps: bool,
    /// The footprint of the step running now, when `track_steps`.
    pub step: Option<crate::record::Footprint>,
    /// Lock releases recorded before the scheduling point that precedes them, by thread.
    pub deferred: Vec<(usize, Access)>,
    /// Each thread's park token, by task id (made on first use, or by the spawning thread).
    pub parkers: Vec<(usize, std::sync::Arc<park::Parker>)>,
    /// The thread whose `park_timeout` is yielding: the next decision runs another thread.
    pub timed_parker: Option<usize>,
    /// Happens-before for the data-race check, from the execution's first `UnsafeCell` on.
    pub clocks: Option<Box<clocks::Clocks>>,
    /// Async locks held and awaited (see [`awaits`]).
    pub awaits: awaits::AwaitTable,
}

impl ExecutionRecord {
    /// Empties the record for the next execution, keeping its allocations.
    fn reset(&mut self) {
        self.events.clear();
        self.locks.clear();
        self.waits.clear();
        self.abort = None;
        self.objects.clear();
        self.labels.clear();
        self.choices.clear();
        self.preemptions = 0;
        self.surprises = 0;
        self.surprises_on = false;
        self.short_writes_on = false;
        self.pending = None;
        self.answer = None;
        self.just_surprised.clear();
        self.steps = 0;
        self.progress_step = 0;
        self.progress_event = 0;
        self.spawning = false;
        self.running = 0;
        self.loom_threads.clear();
        self.in_loom = false;
        self.loom_spawned = 0;
        self.max_steps = usize::MAX;
        self.livelock_steps = usize::MAX;
        self.loom_switch = None;
        self.upcoming.clear();
        // Keep the inner allocations: the same scenario runs again with the same threads.
        self.accesses.iter_mut().for_each(Vec::clear);
        self.pending_begin.clear();
        self.track_steps = false;
        self.step = None;
        self.deferred.clear();
        self.parkers.clear();
        self.timed_parker = None;
        self.awaits.clear();
    }

    /// The task has performed the access it announced.
    pub(crate) fn performed(&mut self, task: usize) {
        if let Some(slot) = self.upcoming.get_mut(task) {
            *slot = None;
        }
    }
}

thread_local! {
    static BACKEND: Cell<Backend> = const { Cell::new(Backend::Std) };
    // Boxed: the record is large, and moves between the driver and here at every execution.
    static RECORD: RefCell<Option<Box<ExecutionRecord>>> = const { RefCell::new(None) };
}

#[inline]
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
pub(crate) fn begin_execution(recycled: Option<Box<ExecutionRecord>>) {
    let mut record = recycled.unwrap_or_default();
    record.reset();
    clocks::reset(&mut record);
    RECORD.with(|r| *r.borrow_mut() = Some(record));
}

/// Takes the record of the execution that just ended.
pub(crate) fn take_record() -> Option<Box<ExecutionRecord>> {
    RECORD.with(|r| r.borrow_mut().take())
}

/// Runs `f` on the current execution's record, if this thread is running one.
///
/// Under loom, `rec.running` is first set to the loom thread running now: loom's threads share
/// this OS thread, so the record cannot tell them apart by itself.
pub(crate) fn with_record<T>(f: impl FnOnce(&mut ExecutionRecord) -> T) -> Option<T> {
    // One thread-local access on shuttle's path: this runs at every facade call and scheduling
    // point. The backend is read only where a loom body set `in_loom` (a panic out of that body can
    // leave it set until the next execution begins).
    RECORD.with(|r| match r.try_borrow_mut() {
        Ok(mut rec) => rec.as_mut().map(|rec| {
            if rec.in_loom && backend() == Backend::Loom {
                set_loom_thread(rec);
            }
            f(rec)
        }),
        // Only reachable if a destructor runs inside a record borrow; recording is best effort.
        Err(_) => None,
    })
}

/// Points `rec.running` at the loom thread running now.
#[cold]
#[inline(never)]
fn set_loom_thread(rec: &mut ExecutionRecord) {
    let id = loom::thread::current().id();
    rec.running = match rec.loom_threads.iter().position(|&t| t == id) {
        Some(i) => i,
        None => {
            rec.loom_threads.push(id);
            rec.loom_threads.len() - 1
        }
    };
}

/// Whether events are recorded for the current backend.
#[inline]
fn recording() -> bool {
    matches!(backend(), Backend::Shuttle | Backend::Loom)
}

/// The shuttle task running now (0 is the harness's main thread).
pub(crate) fn current_task() -> usize {
    with_record(|rec| rec.running).unwrap_or(0)
}

/// Records `kind` for the current task, if an execution is being recorded.
pub(crate) fn record(kind: EventKind) {
    if !recording() {
        return;
    }
    let stop = with_record(|rec| {
        let thread = rec.running;
        let progress = matches!(kind, EventKind::OpEnd { .. });
        steps::push(rec, thread, kind);
        if progress {
            livelock::progressed(rec);
        }
        loom_step(rec)
    })
    .flatten();
    if let Some(reason) = stop {
        abort(reason);
    }
}

/// Under loom, counts a step and says whether the execution must stop: the step limit was reached
/// (loom would otherwise panic at its own branch limit), or another thread already aborted it.
fn loom_step(rec: &mut ExecutionRecord) -> Option<Abort> {
    if !rec.in_loom || std::thread::panicking() {
        return None;
    }
    rec.steps += 1;
    if let Some(abort) = &rec.abort {
        return Some(abort.clone());
    }
    livelock::stalled(rec, rec.max_steps, rec.livelock_steps)
}

/// A scheduling point of the facade under loom that records nothing (a yield): counts a step.
pub(crate) fn loom_point() {
    // Every facade call passes here: under shuttle, skip the record's borrow.
    if backend() != Backend::Loom {
        return;
    }
    if let Some(reason) = with_record(loom_step).flatten() {
        abort(reason);
    }
}

/// Announces the access the current thread is about to make to object `obj` (if it has an id), so
/// that the scheduling point before it knows what the thread will do. Under shuttle only: loom
/// explores by itself.
pub(crate) fn announce(obj: Option<usize>, kind: AccessKind) {
    let Some(obj) = obj else { return };
    if backend() != Backend::Shuttle {
        return;
    }
    with_record(|rec| announce_in(rec, obj, kind));
}

/// [`announce`] inside a borrow of the record the caller already holds, under shuttle.
pub(crate) fn announce_in(rec: &mut ExecutionRecord, obj: usize, kind: AccessKind) {
    let task = rec.running;
    if rec.upcoming.len() <= task {
        rec.upcoming.resize(task + 1, None);
    }
    if rec.accesses.len() <= task {
        rec.accesses.resize_with(task + 1, Vec::new);
    }
    let access = Access { obj, kind };
    rec.upcoming[task] = Some(access);
    rec.accesses[task].push(access);
    if rec.track_steps && matches!(kind, AccessKind::Lock | AccessKind::SharedLock) {
        // shuttle queues a thread on a taken lock before the scheduling point of its
        // acquisition: whether it blocks there depends on the lock, so the attempt is part of
        // the step that reaches it.
        steps::note_attempt(rec, task, access);
    }
}

/// A new object id for the facade object being created.
pub(crate) fn new_object(info: ObjectInfo) -> Option<usize> {
    if !recording() {
        return None;
    }
    with_record(|rec| {
        rec.objects.push(info);
        rec.objects.len() - 1
    })
}

/// A new object id for a facade object created by the caller of a `#[track_caller]` constructor,
/// guarding a `T`.
#[track_caller]
pub(crate) fn new_sited<T: ?Sized>(kind: ObjectKind) -> Option<usize> {
    let site = std::panic::Location::caller();
    if !recording() {
        return None;
    }
    new_object(ObjectInfo {
        kind,
        site: Some(site),
        value_type: std::any::type_name::<T>(),
        name: None,
        internal: false,
    })
}

/// Marks object `id` as part of another (see [`ObjectInfo::internal`]).
pub(crate) fn mark_internal(id: Option<usize>) {
    if let Some(id) = id {
        with_record(|rec| {
            if let Some(info) = rec.objects.get_mut(id) {
                info.internal = true;
            }
        });
    }
}

/// How many notifications condition variable `id` has had in this execution.
pub(crate) fn notifications(id: Option<usize>) -> usize {
    let Some(id) = id else { return 0 };
    with_record(|rec| {
        rec.events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Notify { obj, .. } if obj == id))
            .count()
    })
    .unwrap_or(0)
}

/// Gives object `id` the name reports use for it.
pub(crate) fn name_object(id: Option<usize>, name: std::borrow::Cow<'static, str>) {
    if let Some(id) = id {
        with_record(|rec| {
            if let Some(info) = rec.objects.get_mut(id) {
                info.name = Some(name);
            }
        });
    }
}

/// Asks the scheduler to stop this execution, and does not return.
pub(crate) fn abort(reason: Abort) -> ! {
    with_record(|rec| {
        if rec.abort.is_none() {
            rec.abort = Some(reason);
        }
    });
    if backend() == Backend::Loom {
        // Loom cannot drop an execution midway: this thread unwinds to the harness instead, and
        // the others stop at their next operation (see `loom_step`).
        std::panic::resume_unwind(Box::new(LoomStop));
    }
    // The driver sees the abort at this scheduling point and stops the execution; the engine
    // unwinds the stopped execution's threads from their last scheduling point, so this task
    // never goes on.
    crate::engine::thread::yield_now();
    unreachable!("crosscheck: a stopped execution was resumed")
}

/// Removes from `ids` (the threads that can run, `current` the one that ran last) those that sit
/// out this decision: a thread yielding in `park_timeout` while another can run (see
/// [`park`]), and the threads backing off in a livelock's fair tail (see
/// [`locks::after_backoff`]).
pub(crate) fn sit_out(rec: &mut ExecutionRecord, ids: &mut Vec<usize>, current: Option<usize>) {
    if let Some(parked) = rec.timed_parker.take() {
        if ids.len() > 1 {
            ids.retain(|&t| t != parked);
        }
    }
    locks::after_backoff(&mut rec.locks, ids, current);
}

/// [`sit_out`] for a scheduler that lists the runnable threads only where it must. At most points
/// of most executions nobody sits out (no timed park, no fair tail): then this does the point's
/// bookkeeping, leaves `ids` empty and returns `false`, and every thread of `runnable` takes part
/// in the decision. Else `ids` gets the threads of `runnable` that do, as `sit_out` leaves them.
pub(crate) fn sit_out_where_needed(
    rec: &mut ExecutionRecord,
    runnable: impl Iterator<Item = usize>,
    ids: &mut Vec<usize>,
    current: Option<usize>,
) -> bool {
    if rec.timed_parker.is_none() && rec.locks.nobody_sits_out() {
        return false;
    }
    ids.extend(runnable);
    sit_out(rec, ids, current);
    true
}

/// A scheduling point that is not a yield, for operations with no primitive of their own (file
/// writes).
pub(crate) fn switch() {
    if backend() == Backend::Loom {
        let point = with_record(|rec| {
            rec.in_loom.then(|| {
                rec.loom_switch
                    .get_or_insert_with(|| std::sync::Arc::new(loom::sync::atomic::AtomicBool::new(false)))
                    .clone()
            })
        })
        .flatten();
        if let Some(point) = point {
            // A write, not a load: loom only interleaves threads at accesses that conflict, and
            // loads of a value nobody stores never do.
            point.swap(true, std::sync::atomic::Ordering::SeqCst);
            loom_point();
        }
        return;
    }
    if backend() != Backend::Shuttle {
        return;
    }
    if with_record(|_| ()).is_some() {
        crate::engine::switch();
    }
}

/// The most threads loom models besides the harness's main thread (loom's `MAX_THREADS` is 5, main
/// included). Past it loom aborts the process, so crosscheck refuses first.
pub(crate) const LOOM_MAX_SPAWNED: usize = loom::MAX_THREADS - 1;

/// Called before a thread is spawned under loom: stops the execution with a usage error instead of
/// letting loom abort the process when the scenario would need more threads than loom models.
pub(crate) fn loom_spawning() {
    let too_many = with_record(|rec| {
        // What the child does is the spawning operation's doing: the operation has begun.
        let parent = rec.running;
        steps::flush_begin(rec, parent);
        rec.loom_spawned += 1;
        rec.loom_spawned > LOOM_MAX_SPAWNED
    })
    .unwrap_or(false);
    if too_many {
        abort(Abort::Usage {
            message: format!(
                "scenario too large for loom: it needs more than {} threads (the harness's main thread included), \
                 and loom models at most {}; use fewer threads (.threads(..=4), fewer threads spawned by the \
                 resource) or a controlled scheduler (Random, Pct, Dfs, ...)",
                loom::MAX_THREADS,
                loom::MAX_THREADS
            ),
        });
    }
}

/// A choice point of the facade: which of `count` alternatives this execution takes (0, the
/// unsurprising one, outside a controlled run or when the check turned surprises off).
///
/// The strategy lives in the driver, which the engine holds while the execution runs; the facade
/// reaches it through `engine::next_u64` (as shuttle's own random values reach its scheduler), with
/// the question and the answer passed in the record. The driver records the answer in the schedule.
///
/// The bound that keeps exhaustive searches finite: after a thread's choice point of some kind took
/// a surprise, that thread's next point of the same kind is not offered (it behaves normally), so a
/// `while` loop around a wait, or a retry loop around a weak CAS, meets at most one surprise per
/// two iterations, and always makes progress when the others do.
pub(crate) fn choose(kind: ChoiceKind, count: usize) -> usize {
    if backend() != Backend::Shuttle || count < 2 {
        return 0;
    }
    let offered = with_record(|rec| {
        let on = match kind {
            ChoiceKind::ShortWrite => rec.short_writes_on,
            _ => rec.surprises_on,
        };
        if !on || rec.abort.is_some() {
            return None;
        }
        let thread = rec.running;
        if let Some(i) = rec.just_surprised.iter().position(|&p| p == (thread, kind)) {
            rec.just_surprised.swap_remove(i);
            return None;
        }
        rec.pending = Some(Alternatives { kind, count, thread });
        rec.answer = None;
        steps::note_choice(rec, thread);
        Some(thread)
    })
    .flatten();
    let Some(thread) = offered else {
        return 0;
    };
    // Not a scheduling point: the engine asks the scheduler for a number and carries on.
    let _ = crate::engine::next_u64();
    with_record(|rec| {
        rec.pending = None;
        let answer = rec.answer.take().unwrap_or(0);
        if answer != 0 {
            rec.just_surprised.push((thread, kind));
        }
        answer
    })
    .unwrap_or(0)
}
