//! crosscheck's own table of waits that are not for a lock: a condition variable's wait and a
//! join. With the lock table (see [`super::locks`]) it is a wait-for graph of the whole execution,
//! so every deadlock under shuttle (a lock cycle, a wait nobody will notify, a join of a thread
//! that never finishes, any mix) is caught by crosscheck the moment the last thread that could
//! run stops, and described: who holds what, who waits on which condition variable or thread.
//! Shuttle's own deadlock panic (and the line it prints on stderr) is then never reached.
//!
//! The table errs on the side of "can still run": a thread blocked in something crosscheck does
//! not model (a shuttle primitive used directly) counts as running, so a deadlock is only
//! reported when it is certain; what the table misses, shuttle still catches.
//!
//! Condition variables follow shuttle's semantics exactly: `notify_one` signals every current
//! waiter with one epoch, and the first waiter that wakes consumes it for all; `notify_all`
//! wakes every current waiter. Waits are tracked under shuttle only (loom reports its own).

use super::{Abort, ExecutionRecord};
use crate::record::{thread_label, ObjectName};

/// A thread spawned in this execution, by spawn order.
#[derive(Clone, Copy, Debug, Default)]
struct Spawned {
    /// The task that spawned it.
    parent: usize,
    /// Its task, once it started.
    task: Option<usize>,
    finished: bool,
}

/// A thread waiting on a condition variable.
#[derive(Clone, Debug)]
struct CvWait {
    obj: usize,
    /// The mutex it let go of, which it takes again once woken.
    mutex: Option<usize>,
    /// The `notify_one` epochs that signalled it and were not consumed yet.
    epochs: Vec<usize>,
    broadcast: bool,
}

/// The waits of one execution.
#[derive(Default)]
pub(crate) struct WaitTable {
    threads: Vec<Spawned>,
    /// By task: the condition variable it waits on.
    cv: Vec<Option<CvWait>>,
    /// By task: the spawn index of the thread it joins.
    joining: Vec<Option<usize>>,
    next_epoch: usize,
    /// Threads spawned and not started yet: while there is one, nothing is deadlocked.
    unstarted: usize,
    /// Every thread spawned before this spawn index has finished: where the search for a thread
    /// that can still run starts, so that the check at each thread's end does not walk the
    /// finished ones again (it would be quadratic in the number of threads).
    first_live: usize,
}

fn slot<T: Default>(v: &mut Vec<T>, i: usize) -> &mut T {
    if v.len() <= i {
        v.resize_with(i + 1, T::default);
    }
    &mut v[i]
}

impl WaitTable {
    pub(crate) fn clear(&mut self) {
        self.threads.clear();
        self.cv.iter_mut().for_each(|w| *w = None);
        self.joining.iter_mut().for_each(|j| *j = None);
        self.next_epoch = 0;
        self.unstarted = 0;
        self.first_live = 0;
    }
}

/// Whether waits are tracked in this execution: under shuttle, while recording.
fn tracked() -> bool {
    super::backend() == super::Backend::Shuttle && super::recording()
}

/// A thread is being spawned: its spawn index, for [`started`], [`finished`] and joins.
pub(crate) fn spawned() -> Option<usize> {
    if !tracked() {
        return None;
    }
    super::with_record(|rec| {
        let parent = rec.running;
        // What the child does is the parent operation's doing: the operation has begun.
        super::steps::flush_begin(rec, parent);
        rec.waits.threads.push(Spawned {
            parent,
            ..Spawned::default()
        });
        rec.waits.unstarted += 1;
        let k = rec.waits.threads.len() - 1;
        super::clocks::spawned(rec, k);
        k
    })
}

/// The spawned thread `k` runs its first step (on its own task).
pub(crate) fn started(k: Option<usize>) {
    super::stack::enter();
    let Some(k) = k else { return };
    super::with_record(|rec| {
        let task = rec.running;
        let spawned = slot(&mut rec.waits.threads, k);
        if spawned.task.is_none() && !spawned.finished {
            rec.waits.unstarted = rec.waits.unstarted.saturating_sub(1);
        }
        spawned.task = Some(task);
        super::clocks::started(rec, k);
    });
}

/// Marks the spawned thread `k` finished when dropped (also when its closure unwinds).
pub(crate) struct Finish(pub Option<usize>);

impl Drop for Finish {
    fn drop(&mut self) {
        let Some(k) = self.0 else { return };
        let stuck = super::with_record(|rec| {
            slot(&mut rec.waits.threads, k).finished = true;
            let waits = &mut rec.waits;
            while waits.threads.get(waits.first_live).is_some_and(|t| t.finished) {
                waits.first_live += 1;
            }
            super::clocks::finished(rec, k);
            // This thread is done: if every other one now waits for good, nothing will run again.
            (rec.abort.is_none()).then(|| deadlock(rec, None)).flatten()
        })
        .flatten();
        if let Some(cycle) = stuck {
            if !std::thread::panicking() {
                super::abort(Abort::Deadlock { cycle });
            }
        }
    }
}

/// Before the running thread joins the spawned thread `k`: stops the execution with a deadlock if
/// it never finishes because every other thread waits for good.
pub(crate) fn before_join(k: Option<usize>) {
    let Some(k) = k else { return };
    let stuck = super::with_record(|rec| {
        if rec.waits.threads.get(k).is_some_and(|t| t.finished) {
            return None;
        }
        let task = rec.running;
        *slot(&mut rec.waits.joining, task) = Some(k);
        deadlock(rec, Some(task))
    })
    .flatten();
    if let Some(cycle) = stuck {
        super::abort(Abort::Deadlock { cycle });
    }
}

/// The running thread's join returned.
pub(crate) fn after_join() {
    if !tracked() {
        return;
    }
    super::with_record(|rec| {
        let task = rec.running;
        if let Some(j) = rec.waits.joining.get_mut(task).and_then(Option::take) {
            super::clocks::joined(rec, j);
        }
    });
}

/// The spawned async task `k` finished. Unlike a thread's [`Finish`], no deadlock is looked for
/// here: the task that awaits it is woken only after this (by the executor, once the task's future
/// is done), so it still looks asleep. A deadlock left behind is found by the next thread that
/// waits, or by shuttle.
pub(crate) fn task_finished(k: Option<usize>) {
    let Some(k) = k else { return };
    super::with_record(|rec| {
        slot(&mut rec.waits.threads, k).finished = true;
        super::clocks::finished(rec, k);
    });
}

/// The running thread awaited the spawned task `k` to its end (`future::JoinHandle`): what the
/// task did happens before what the thread does next.
pub(crate) fn joined_task(k: Option<usize>) {
    let Some(k) = k else { return };
    super::with_record(|rec| super::clocks::joined(rec, k));
}

/// Before the running thread blocks on condition variable `obj` (its mutex already released in
/// the lock table): stops the execution with a deadlock if nothing can notify it.
pub(crate) fn before_wait(obj: Option<usize>, mutex: Option<usize>) {
    let (Some(obj), true) = (obj, tracked()) else { return };
    let stuck = super::with_record(|rec| {
        let task = rec.running;
        *slot(&mut rec.waits.cv, task) = Some(CvWait {
            obj,
            mutex,
            epochs: Vec::new(),
            broadcast: false,
        });
        deadlock(rec, Some(task))
    })
    .flatten();
    if let Some(cycle) = stuck {
        super::abort(Abort::Deadlock { cycle });
    }
}

/// The running thread's wait on a condition variable returned: the signal it consumed wakes no
/// other waiter.
pub(crate) fn after_wait() {
    if !tracked() {
        return;
    }
    super::with_record(|rec| {
        let task = rec.running;
        let Some(w) = rec.waits.cv.get_mut(task).and_then(Option::take) else {
            return;
        };
        if w.broadcast {
            return;
        }
        let Some(&consumed) = w.epochs.first() else { return };
        for other in rec.waits.cv.iter_mut().flatten() {
            other.epochs.retain(|&e| e != consumed);
        }
    });
}

/// Condition variable `obj` is notified (`all`: every waiter).
pub(crate) fn notified(obj: Option<usize>, all: bool) {
    let (Some(obj), true) = (obj, tracked()) else { return };
    super::with_record(|rec| {
        let epoch = rec.waits.next_epoch;
        rec.waits.next_epoch += 1;
        for w in rec.waits.cv.iter_mut().flatten().filter(|w| w.obj == obj) {
            if all {
                w.broadcast = true;
            } else {
                w.epochs.push(epoch);
            }
        }
    });
}

/// What `task` waits for, if it waits for good as things stand: a line for the report.
fn stuck(rec: &ExecutionRecord, task: usize) -> Option<String> {
    if let Some(line) = super::awaits::stuck(rec, task) {
        return Some(line);
    }
    let label = |t: usize| name_of(rec, t);
    let name = |o: usize| ObjectName(&rec.objects, o).to_string();
    // Formatted only for a thread that is stuck: most calls are for one that can still run.
    let holds = || {
        let held: Vec<String> = rec.locks.held_by(task).iter().map(|&(o, _)| name(o)).collect();
        if held.is_empty() {
            "holds nothing".to_string()
        } else {
            format!("holds {}", held.join(", "))
        }
    };
    if let Some(w) = rec.waits.cv.get(task).and_then(Option::as_ref) {
        if w.epochs.is_empty() && !w.broadcast {
            return Some(format!(
                "{} {} and waits on {}, which no thread is left to notify",
                label(task),
                holds(),
                name(w.obj)
            ));
        }
        // Notified: it goes on once it has its mutex back.
        let mutex = w.mutex?;
        let holders: Vec<String> = rec.locks.blockers(mutex, task, false).into_iter().map(label).collect();
        return (!holders.is_empty()).then(|| {
            format!(
                "{} was notified on {} and waits to take {} back (held by {})",
                label(task),
                name(w.obj),
                name(mutex),
                holders.join(", ")
            )
        });
    }
    if let Some(k) = rec.waits.joining.get(task).copied().flatten() {
        let target = rec.waits.threads.get(k).copied().unwrap_or_default();
        if target.finished {
            return None;
        }
        let whom = target.task.map_or_else(|| format!("thread #{k}"), label);
        return Some(format!(
            "{} {} and waits for {whom} to finish (join)",
            label(task),
            holds()
        ));
    }
    let (obj, holders) = rec.locks.blocked_on(task)?;
    let holders: Vec<String> = holders.into_iter().map(label).collect();
    Some(format!(
        "{} {} and waits for {} (held by {})",
        label(task),
        holds(),
        name(obj),
        holders.join(", ")
    ))
}

/// A thread as the report names it: the scenario's `T1`, `main`, or a thread a resource spawned,
/// by who spawned it (`T1's thread`).
pub(crate) fn name_of(rec: &ExecutionRecord, task: usize) -> String {
    if task == 0 || rec.labels.iter().any(|(t, _)| *t == task) {
        return thread_label(&rec.labels, task);
    }
    match rec.waits.threads.iter().find(|t| t.task == Some(task)) {
        Some(t) if t.parent != task => format!("{}'s thread", name_of(rec, t.parent)),
        _ => thread_label(&rec.labels, task),
    }
}

/// If every live thread (main, and each spawned thread that started and has not finished) waits
/// for good, one line per thread saying what it holds and waits for; `current` (the thread about
/// to block) first.
///
/// Called at every thread's end, join and wait: it first looks for one thread that can still run,
/// allocating nothing, and only describes the threads once it found none.
pub(crate) fn deadlock(rec: &ExecutionRecord, current: Option<usize>) -> Option<Vec<String>> {
    if !tracked() {
        // Under loom the threads are not in the table: loom reports its own deadlocks.
        return None;
    }
    let waits = &rec.waits;
    if waits.unstarted > 0 {
        // A thread spawned and not started yet can still run.
        return None;
    }
    let started = waits.threads.get(waits.first_live..).unwrap_or_default();
    let others = started.iter().filter(|t| !t.finished).filter_map(|t| t.task);
    // At most points one of the spawned threads can still run: look for it before describing
    // anyone (a thread that can run costs `stuck` no allocation).
    if others.clone().any(|t| Some(t) != current && stuck(rec, t).is_none()) {
        return None;
    }
    // Main (task 0) runs the harness until the execution ends: it is always live.
    let mut live = vec![0];
    live.extend(others);
    if let Some(c) = current {
        if let Some(i) = live.iter().position(|&t| t == c) {
            live.remove(i);
            live.insert(0, c);
        }
    }
    let lines: Option<Vec<String>> = live.iter().map(|&t| stuck(rec, t)).collect();
    lines.filter(|l| !l.is_empty())
}
