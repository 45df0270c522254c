//! Telling a livelock from a spin loop when an execution stops making progress: threads that keep
//! taking steps while no operation completes.
//!
//! When no operation has completed for the livelock bound (or the step limit is reached), the
//! steps since the last completed operation are read back. If two or more threads are inside an
//! operation and at least one of them keeps taking and releasing locks, the threads are undoing
//! each other's work (the classic back-off without back-off): a livelock, reported with each
//! thread's operation and the locks it churns. Anything else (one thread spinning alone, threads
//! spinning on atomics) stays a step-limit failure, whose hint points at spin loops.
//!
//! Threads that back off (`thread::sleep` or `yield_now` between their attempts) are not reported
//! at the first bound: under logical time a scheduler can time every back-off so that the threads
//! collide again, forever, which no real machine keeps up (back-off works because the sleeper is
//! away while the other finishes). The execution goes on under a fair tail instead (see
//! [`super::locks::after_backoff`]): a thread that backs off does not run again until another
//! completes an operation or nothing else can run, and sleepers wake one at a time. Only if that
//! does not bring progress within another bound is it a livelock. Everything before the bound is
//! scheduled as the strategy chooses, so no schedule a bug needs is lost.

use super::{Abort, ExecutionRecord};
use crate::record::{thread_label, EventKind, ObjectName};

/// One thread of a livelocked execution, as the report describes it.
#[derive(Clone, Debug)]
pub(crate) struct LiveThread {
    pub label: String,
    /// The operation it is inside (an index into the scenario), if any.
    pub op: Option<usize>,
    /// Locks it took and released again since the last completed operation, with how often.
    pub churn: Vec<(String, usize)>,
    /// Locks it holds now.
    pub held: Vec<String>,
    /// Whether it backed off (slept or yielded) since the last completed operation.
    pub backed_off: bool,
}

/// A thread releases a lock at least this often without progress before it counts as churning.
const CHURN: usize = 2;

/// Whether the execution so far, stopped after `steps` steps without progress, is a livelock.
pub(crate) fn diagnose(rec: &ExecutionRecord, steps: usize) -> Option<Abort> {
    let mut inside: Vec<(usize, Option<usize>)> = Vec::new();
    for e in &rec.events {
        match e.kind {
            EventKind::OpBegin { op } => match inside.iter_mut().find(|(t, _)| *t == e.thread) {
                Some(slot) => slot.1 = Some(op),
                None => inside.push((e.thread, Some(op))),
            },
            EventKind::OpEnd { .. } => inside.retain(|(t, _)| *t != e.thread),
            _ => {}
        }
    }
    if inside.len() < 2 {
        return None;
    }
    let window = &rec.events[rec.progress_event.min(rec.events.len())..];
    let since = rec.progress_step;
    let mut threads = Vec::with_capacity(inside.len());
    let mut churning = false;
    for &(task, op) in &inside {
        let mut churn: Vec<(usize, usize)> = Vec::new();
        for e in window.iter().filter(|e| e.thread == task) {
            if let EventKind::LockReleased { obj } = e.kind {
                match churn.iter_mut().find(|(o, _)| *o == obj) {
                    Some(c) => c.1 += 1,
                    None => churn.push((obj, 1)),
                }
            }
        }
        churn.retain(|&(_, n)| n >= CHURN);
        churning |= !churn.is_empty();
        threads.push(LiveThread {
            label: thread_label(&rec.labels, task),
            op,
            churn: churn
                .iter()
                .map(|&(o, n)| (ObjectName(&rec.objects, o).to_string(), n))
                .collect(),
            held: rec
                .locks
                .held_by(task)
                .iter()
                .map(|&(o, _)| ObjectName(&rec.objects, o).to_string())
                .collect(),
            backed_off: rec.locks.backed_off_since(task, since),
        });
    }
    churning.then_some(Abort::Livelock { steps, threads })
}

/// One line per thread: what it runs and what it keeps doing.
pub(crate) fn describe(threads: &[LiveThread], op_name: impl Fn(usize) -> String) -> Vec<String> {
    threads
        .iter()
        .map(|t| {
            let op = t.op.map(&op_name).unwrap_or_else(|| "its thread".into());
            let held = if t.held.is_empty() {
                String::new()
            } else {
                format!(", holding {}", t.held.join(", "))
            };
            if t.churn.is_empty() {
                format!("{} is in {op}{held} and cannot finish", t.label)
            } else {
                let churn: Vec<String> = t.churn.iter().map(|(name, n)| format!("{name} ({n} times)")).collect();
                format!(
                    "{} is in {op} and keeps taking and releasing {}{held}",
                    t.label,
                    churn.join(", ")
                )
            }
        })
        .collect()
}

/// An operation just completed: the livelock bound starts again, and any fair tail ends.
pub(crate) fn progressed(rec: &mut ExecutionRecord) {
    rec.progress_step = rec.steps;
    rec.progress_event = rec.events.len();
    rec.locks.end_fair_tail();
}

/// After a step: the abort if the execution reached its step limit (a livelock if the steps since
/// the last completed operation are one, see [`diagnose`]), or a livelock once no operation has
/// completed for `livelock_steps` steps. Threads that churn locks while backing off get a fair
/// tail first (see the module's docs).
#[inline]
pub(crate) fn stalled(rec: &mut ExecutionRecord, max_steps: usize, livelock_steps: usize) -> Option<Abort> {
    let since = rec.steps - rec.progress_step.min(rec.steps);
    // Checked at every scheduling point: the common answer inline, the diagnosis out of line.
    if rec.steps <= max_steps && since != livelock_steps {
        return None;
    }
    stalled_slow(rec, since, max_steps)
}

/// [`stalled`] once the execution reached its step limit or its livelock bound.
#[cold]
#[inline(never)]
fn stalled_slow(rec: &mut ExecutionRecord, since: usize, max_steps: usize) -> Option<Abort> {
    if rec.steps > max_steps {
        return Some(diagnose(rec, since).unwrap_or(Abort::StepLimit { steps: max_steps }));
    }
    let found = diagnose(rec, since)?;
    let backing_off = match &found {
        Abort::Livelock { threads, .. } => threads.iter().filter(|t| !t.churn.is_empty()).all(|t| t.backed_off),
        _ => false,
    };
    if backing_off && rec.locks.start_fair_tail() {
        rec.progress_step = rec.steps;
        rec.progress_event = rec.events.len();
        return None;
    }
    Some(found)
}
