//! Where events enter the record: operation invocations are recorded lazily, and each scheduling
//! step's footprint is kept for the partial-order reduction.
//!
//! An operation's invocation is recorded at its first access to a shared object, or its first
//! spawn (the child's accesses are the operation's), or at its response if it makes none; not
//! when the harness calls it. Until then the thread only computes
//! locally, so delaying that local prefix is a real schedule of the same execution with the same
//! results; its history is the strictest (fewest overlaps) of those schedules. A history that is
//! not linearizable stays so when overlaps are removed, so judging the strictest one never hides a
//! bug, and it lets the reduction treat a thread's first step (which touches nothing) as
//! independent of everything.

use super::{EventKind, ExecutionRecord};
use crate::record::{Boundary, Event, Footprint};

/// Pushes `kind` for `thread`: flushes the thread's pending invocation before its first access,
/// marks an announced access as made, and adds the event to the current step's footprint.
pub(crate) fn push(rec: &mut ExecutionRecord, thread: usize, kind: EventKind) {
    let access = kind.access();
    if access.is_some() {
        rec.performed(thread);
    }
    // A cell access is shared memory the scheduler does not order (its races are judged from
    // happens-before), but the operation has begun by then.
    if access.is_some()
        || matches!(
            kind,
            EventKind::LockBlocked { .. } | EventKind::OpEnd { .. } | EventKind::CellAccess { .. }
        )
    {
        flush_begin(rec, thread);
    }
    if rec.track_steps {
        if let (EventKind::LockReleased { .. }, Some(a)) = (&kind, access) {
            // shuttle's release is a scheduling point and lets go of the lock after it: the
            // release belongs to the thread's next step.
            rec.deferred.push((thread, a));
            rec.events.push(Event { thread, kind });
            return;
        }
        let step = step_of(rec, thread);
        if let Some(a) = access {
            step.accesses.push(a);
        }
        if matches!(
            kind,
            EventKind::Wait { .. } | EventKind::Notify { .. } | EventKind::Park { .. } | EventKind::Unpark { .. }
        ) {
            step.opaque = true;
        }
        if let EventKind::OpEnd { op } = kind {
            step.boundaries.push(Boundary {
                op,
                end: true,
                group: None,
            });
        }
    }
    rec.events.push(Event { thread, kind });
}

/// Adds an attempt to take a lock to the current step of `thread`.
pub(crate) fn note_attempt(rec: &mut ExecutionRecord, thread: usize, access: crate::record::Access) {
    flush_begin(rec, thread);
    step_of(rec, thread).accesses.push(access);
}

/// Marks the current step of `thread` as one that met a choice point.
pub(crate) fn note_choice(rec: &mut ExecutionRecord, thread: usize) {
    if rec.track_steps {
        step_of(rec, thread).chose = true;
    }
}

/// Records the thread's pending invocation now, if it has one.
#[inline]
pub(crate) fn flush_begin(rec: &mut ExecutionRecord, thread: usize) {
    // Most accesses are not an operation's first: the check inline, the recording out of line.
    if let Some(op) = rec.pending_begin.get_mut(thread).and_then(Option::take) {
        record_begin(rec, thread, op);
    }
}

/// Records that `thread` invoked operation `op`.
#[inline(never)]
fn record_begin(rec: &mut ExecutionRecord, thread: usize, op: usize) {
    if rec.track_steps {
        step_of(rec, thread).boundaries.push(Boundary {
            op,
            end: false,
            group: None,
        });
    }
    rec.events.push(Event {
        thread,
        kind: EventKind::OpBegin { op },
    });
}

/// Notes that the running thread invoked operation `op` (recorded at its first access): the
/// thread's task id (0 outside a record), or `None` if the execution was stopped, and the operation
/// must not run.
pub(crate) fn begin_op(op: usize) -> Option<usize> {
    super::with_record(|rec| {
        if rec.abort.is_some() {
            return None;
        }
        let task = rec.running;
        if rec.pending_begin.len() <= task {
            rec.pending_begin.resize(task + 1, None);
        }
        rec.pending_begin[task] = Some(op);
        Some(task)
    })
    .unwrap_or(Some(0))
}

/// Records the invocation of a running operation that panicked before its first access, so that
/// reports still show it.
pub(crate) fn flush_running() {
    super::with_record(|rec| {
        let task = rec.running;
        flush_begin(rec, task);
    });
}

/// The footprint of the step `thread` is running in: the driver opens one at every scheduling
/// point; events before the first point (the main thread starting) open their own.
fn step_of(rec: &mut ExecutionRecord, thread: usize) -> &mut Footprint {
    if rec.step.as_ref().is_none_or(|s| s.thread != thread) {
        open(rec, thread);
    }
    rec.step.as_mut().expect("just opened")
}

/// Opens the footprint of a step of `thread`, with the lock releases it makes as it resumes.
pub(crate) fn open(rec: &mut ExecutionRecord, thread: usize) {
    let mut step = Footprint {
        thread,
        ..Footprint::default()
    };
    rec.deferred.retain(|&(t, a)| {
        if t == thread {
            step.accesses.push(a);
        }
        t != thread
    });
    rec.step = Some(step);
}
