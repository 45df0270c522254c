//! The async locks of an execution ([`crate::future::Mutex`]): who holds each, which task awaits
//! which, recorded as lock events for the interleaving and kept for the report of a deadlock.
//!
//! An async lock is held by a future, not by a thread: two futures joined on one task can hold and
//! await locks independently, so a task that awaits a lock its own task holds is not stuck. The
//! wait-for graph of [`super::locks`] would call that a deadlock; async locks therefore stay out
//! of it (and out of the lock-order analysis). A deadlock among tasks is the engine's certain one
//! instead (every task asleep, none left to wake another: shuttle's and loom's own panic), and
//! [`describe`] names what each task was awaiting when it went to sleep.

use super::{record, with_record, EventKind, ExecutionRecord};
use crate::record::ObjectName;

/// By async lock: the task holding it; by task: the async lock it awaits.
#[derive(Default)]
pub(crate) struct AwaitTable {
    held: Vec<(usize, usize)>,
    awaiting: Vec<(usize, usize)>,
}

impl AwaitTable {
    pub(crate) fn clear(&mut self) {
        self.held.clear();
        self.awaiting.clear();
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
            lines.push(format!(
                "{} holds {} and is suspended at an .await that nothing will wake",
                who(holder),
                name(obj)
            ));
        }
    }
    lines
}
