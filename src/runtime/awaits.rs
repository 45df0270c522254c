//! The async locks of an execution ([`crate::future::Mutex`]): who holds each, which task awaits
//! which, recorded as lock events for the interleaving and kept for the report of a deadlock.
//!
//! An async lock is held by a future, not by a thread: two futures joined on one task can hold and
//! await locks independently, so a task that awaits a lock its own task holds is not stuck. The
//! wait-for graph of [`super::locks`] would call that a deadlock; async locks therefore stay out
//! of it (and out of the lock-order analysis). What makes a task stuck is exact instead: under
//! shuttle, a task whose future returned pending without having been woken is asleep until some
//! other thread wakes it (every waker it handed out is watched, see `future`'s `Watched`), and the
//! wait table counts it as waiting for good ([`stuck`]). When every live thread is, crosscheck
//! stops the execution with a deadlock naming the async locks awaited and their holders. Under loom
//! the deadlock is loom's own, and [`explain`] adds the same names to it.

use super::{record, with_record, EventKind, ExecutionRecord};
use crate::record::ObjectName;

/// By async lock: the task holding it; by task: the async lock it awaits; the tasks asleep.
#[derive(Default)]
pub(crate) struct AwaitTable {
    held: Vec<(usize, usize)>,
    awaiting: Vec<(usize, usize)>,
    /// Tasks whose future is pending and was not woken since.
    asleep: Vec<usize>,
    /// Tasks whose future is being polled, and whether it was woken meanwhile.
    polling: Vec<(usize, bool)>,
}

impl AwaitTable {
    pub(crate) fn clear(&mut self) {
        self.held.clear();
        self.awaiting.clear();
        self.asleep.clear();
        self.polling.clear();
    }

    fn holder(&self, obj: usize) -> Option<usize> {
        self.held.iter().find(|&&(o, _)| o == obj).map(|&(_, t)| t)
    }
}

/// The running task took async lock `obj`.
pub(crate) fn acquired(obj: Option<usize>) {
    let Some(obj) = obj else { return };
    with_record(|rec| {
        let task = rec.running;
        rec.awaits.awaiting.retain(|&(t, o)| !(t == task && o == obj));
        rec.awaits.held.retain(|&(o, _)| o != obj);
        rec.awaits.held.push((obj, task));
    });
    record(EventKind::LockAcquired { obj, shared: false });
}

/// The running task found async lock `obj` taken and will sleep until it is released.
pub(crate) fn blocked(obj: Option<usize>) {
    let Some(obj) = obj else { return };
    let holder = with_record(|rec| {
        let task = rec.running;
        if !rec.awaits.awaiting.contains(&(task, obj)) {
            rec.awaits.awaiting.push((task, obj));
        }
        rec.awaits.holder(obj)
    })
    .flatten();
    record(EventKind::LockBlocked { obj, holder });
}

/// The running task stopped awaiting async lock `obj` without taking it (its future was dropped).
pub(crate) fn gave_up(obj: Option<usize>) {
    let Some(obj) = obj else { return };
    with_record(|rec| {
        let task = rec.running;
        rec.awaits.awaiting.retain(|&(t, o)| !(t == task && o == obj));
    });
}

/// Async lock `obj` was released.
pub(crate) fn released(obj: Option<usize>) {
    let Some(obj) = obj else { return };
    with_record(|rec| rec.awaits.held.retain(|&(o, _)| o != obj));
    record(EventKind::LockReleased { obj });
}

/// The running task starts polling its future (under shuttle): the task it is.
pub(crate) fn begin_poll() -> Option<usize> {
    with_record(|rec| {
        let task = rec.running;
        rec.awaits.asleep.retain(|&t| t != task);
        rec.awaits.polling.retain(|&(t, _)| t != task);
        rec.awaits.polling.push((task, false));
        task
    })
}

/// `task`'s waker was called: it runs again.
pub(crate) fn woken(task: usize) {
    with_record(|rec| {
        rec.awaits.asleep.retain(|&t| t != task);
        for entry in rec.awaits.polling.iter_mut().filter(|(t, _)| *t == task) {
            entry.1 = true;
        }
    });
}

/// `task` polled its future, which is still pending if `pending`: unless it was woken during the
/// poll it is asleep, and if every other live thread waits for good too, the execution stops with
/// a deadlock.
pub(crate) fn end_poll(task: Option<usize>, pending: bool) {
    let Some(task) = task else { return };
    let stuck = with_record(|rec| {
        let i = rec.awaits.polling.iter().position(|&(t, _)| t == task)?;
        let (_, woken) = rec.awaits.polling.swap_remove(i);
        if !pending || woken {
            return None;
        }
        rec.awaits.asleep.push(task);
        if rec.abort.is_some() {
            return None;
        }
        super::waits::deadlock(rec, Some(task))
    })
    .flatten();
    if let Some(cycle) = stuck {
        super::abort(super::Abort::Deadlock { cycle });
    }
}

/// What `task` waits for, if it is asleep: a line for a deadlock's report.
pub(crate) fn stuck(rec: &ExecutionRecord, task: usize) -> Option<String> {
    if !rec.awaits.asleep.contains(&task) {
        return None;
    }
    let name = |o: usize| ObjectName(&rec.objects, o).to_string();
    let who = |t: usize| super::name_of_thread(rec, t);
    let mut held: Vec<String> = rec.locks.held_by(task).iter().map(|&(o, _)| name(o)).collect();
    held.extend(
        rec.awaits
            .held
            .iter()
            .filter(|&&(_, t)| t == task)
            .map(|&(o, _)| name(o)),
    );
    let holds = match held.is_empty() {
        true => String::new(),
        false => format!(" holds {} and", held.join(", ")),
    };
    let awaited: Vec<String> = rec
        .awaits
        .awaiting
        .iter()
        .filter(|&&(t, _)| t == task)
        .map(|&(_, obj)| match rec.awaits.holder(obj) {
            Some(holder) => format!("{} (held by {})", name(obj), who(holder)),
            None => name(obj),
        })
        .collect();
    Some(match awaited.is_empty() {
        true => format!(
            "{}{holds} is suspended at an .await that nothing is left to wake",
            who(task)
        ),
        false => format!("{}{holds} awaits {}", who(task), awaited.join(" and ")),
    })
}

/// Puts first in `cycle`, the lines of a deadlock the engine found, what the async locks of `rec`
/// have to do with it.
pub(crate) fn explain(rec: &ExecutionRecord, cycle: &mut Vec<String>) {
    let lines = describe(rec);
    cycle.splice(0..0, lines);
}

/// One line per task that awaits an async lock, and one per task holding one that nothing will let
/// go of. Empty when no async lock is involved.
fn describe(rec: &ExecutionRecord) -> Vec<String> {
    let name = |o: usize| ObjectName(&rec.objects, o).to_string();
    let who = |t: usize| super::name_of_thread(rec, t);
    let mut lines: Vec<String> = rec
        .awaits
        .awaiting
        .iter()
        .map(|&(task, obj)| match rec.awaits.holder(obj) {
            Some(holder) => format!("{} awaits {} (held by {})", who(task), name(obj), who(holder)),
            None => format!("{} awaits {}, and nothing wakes it", who(task), name(obj)),
        })
        .collect();
    for &(obj, holder) in &rec.awaits.held {
        if !rec.awaits.awaiting.iter().any(|&(t, _)| t == holder) {
            lines.push(format!("{} holds {} and never releases it", who(holder), name(obj)));
        }
    }
    lines
}
