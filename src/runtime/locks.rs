//! Who holds and who waits for each facade lock, so that a lock-ordering deadlock is caught the
//! moment its cycle closes, with the cycle in hand, instead of by shuttle's "no runnable task"
//! panic that names no locks.

use super::{Abort, ExecutionRecord};
use crate::record::{thread_label, EventKind, ObjectName};

/// Object ids and task ids are small and dense, so the table is indexed vectors: taking and
/// releasing a lock allocates nothing once the table has grown.
#[derive(Default)]
pub(crate) struct LockTable {
    /// lock id -> (task, shared?) for each current holder.
    holders: Vec<Vec<(usize, bool)>>,
    /// task -> (lock id, shared?) it is waiting for.
    waiting: Vec<Option<(usize, bool)>>,
}

impl LockTable {
    pub(crate) fn clear(&mut self) {
        self.holders.iter_mut().for_each(Vec::clear);
        self.waiting.iter_mut().for_each(|w| *w = None);
    }

    fn wait(&mut self, task: usize, on: Option<(usize, bool)>) {
        if self.waiting.len() <= task {
            self.waiting.resize(task + 1, None);
        }
        self.waiting[task] = on;
    }

    fn holders_of(&mut self, obj: usize) -> &mut Vec<(usize, bool)> {
        if self.holders.len() <= obj {
            self.holders.resize_with(obj + 1, Vec::new);
        }
        &mut self.holders[obj]
    }

    /// Holders of `obj` that stop `task` from taking it in the given mode.
    fn blockers(&self, obj: usize, task: usize, shared: bool) -> Vec<usize> {
        self.holders
            .get(obj)
            .map(|hs| {
                hs.iter()
                    .filter(|&&(t, s)| t != task && !(shared && s))
                    .map(|&(t, _)| t)
                    .collect()
            })
            .unwrap_or_default()
    }

    fn holds(&self, obj: usize, task: usize) -> bool {
        self.holders
            .get(obj)
            .is_some_and(|hs| hs.iter().any(|&(t, _)| t == task))
    }

    /// Follows wait-for edges from the holders of `obj`; returns the cycle back to `task` if one
    /// exists, as (task, lock it waits for) pairs starting with `task`.
    fn cycle_from(&self, task: usize, obj: usize, shared: bool) -> Option<Vec<(usize, usize)>> {
        let mut path = vec![(task, obj)];
        let mut visited = vec![task];
        self.search(task, obj, shared, &mut path, &mut visited).then_some(path)
    }

    fn search(
        &self,
        origin: usize,
        obj: usize,
        shared: bool,
        path: &mut Vec<(usize, usize)>,
        visited: &mut Vec<usize>,
    ) -> bool {
        let waiter = path.last().map(|p| p.0).unwrap_or(origin);
        for holder in self.blockers(obj, waiter, shared) {
            if holder == origin {
                return true;
            }
            if visited.contains(&holder) {
                continue;
            }
            visited.push(holder);
            if let Some(&Some((next, next_shared))) = self.waiting.get(holder) {
                path.push((holder, next));
                if self.search(origin, next, next_shared, path, visited) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
}

/// Called before the current task tries to take lock `obj`. Records a blocked event when the lock
/// is taken by someone else and stops the execution with a deadlock if waiting would close a cycle.
pub(crate) fn before_lock(obj: Option<usize>, shared: bool) {
    let Some(obj) = obj else { return };
    super::announce(
        Some(obj),
        if shared {
            super::AccessKind::SharedLock
        } else {
            super::AccessKind::Lock
        },
    );
    super::loom_point();
    let cycle = super::with_record(|rec| {
        let task = rec.running;
        if rec.locks.holds(obj, task) && !shared {
            // Re-locking a lock one holds: a deadlock of one thread.
            return Some(vec![(task, obj)]);
        }
        let blockers = rec.locks.blockers(obj, task, shared);
        if !blockers.is_empty() {
            super::steps::push(
                rec,
                task,
                EventKind::LockBlocked {
                    obj,
                    holder: blockers.first().copied(),
                },
            );
        }
        rec.locks.wait(task, Some((obj, shared)));
        if blockers.is_empty() {
            None
        } else {
            rec.locks.cycle_from(task, obj, shared)
        }
    })
    .flatten();
    if let Some(cycle) = cycle {
        let described = super::with_record(|rec| describe_cycle(rec, &cycle)).unwrap_or_default();
        super::abort(Abort::Deadlock { cycle: described });
    }
}

/// Called once the current task holds lock `obj`.
pub(crate) fn acquired(obj: Option<usize>, shared: bool) {
    let Some(obj) = obj else { return };
    super::with_record(|rec| {
        let task = rec.running;
        rec.locks.wait(task, None);
        rec.locks.holders_of(obj).push((task, shared));
        super::steps::push(rec, task, EventKind::LockAcquired { obj, shared });
    });
}

/// Called as the current task lets go of lock `obj`.
pub(crate) fn released(obj: Option<usize>) {
    let Some(obj) = obj else { return };
    super::with_record(|rec| {
        let task = rec.running;
        let hs = rec.locks.holders_of(obj);
        if let Some(i) = hs.iter().position(|&(t, _)| t == task) {
            hs.remove(i);
        }
        super::steps::push(rec, task, EventKind::LockReleased { obj });
    });
}

fn describe_cycle(rec: &ExecutionRecord, cycle: &[(usize, usize)]) -> Vec<String> {
    let name = |obj: usize| match rec.objects.get(obj) {
        Some(&kind) => ObjectName(kind, obj).to_string(),
        None => format!("lock#{obj}"),
    };
    let label = |task: usize| thread_label(&rec.labels, task);
    cycle
        .iter()
        .map(|&(task, obj)| {
            let held: Vec<String> = rec
                .locks
                .holders
                .iter()
                .enumerate()
                .filter(|(_, hs)| hs.iter().any(|&(t, _)| t == task))
                .map(|(o, _)| name(o))
                .collect();
            let holder = rec
                .locks
                .holders
                .get(obj)
                .and_then(|hs| hs.first())
                .map(|&(t, _)| label(t))
                .unwrap_or_else(|| "?".into());
            format!(
                "{} holds {} and waits for {} (held by {})",
                label(task),
                if held.is_empty() {
                    "nothing".to_string()
                } else {
                    held.join(", ")
                },
                name(obj),
                holder
            )
        })
        .collect()
}
