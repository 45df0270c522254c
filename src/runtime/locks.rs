//! Who holds and who waits for each facade lock, so that a lock-ordering deadlock is caught the
//! moment its cycle closes, with the cycle in hand, instead of by shuttle's "no runnable task"
//! panic that names no locks. The same table notes, for the whole check, the order in which each
//! thread takes locks (the lockdep edges, see [`crate::lock_order`]) and how contended each lock
//! was (see [`crate::lock_stats`]).

use std::panic::Location;

use super::{Abort, ExecutionRecord};
use crate::record::{thread_label, EventKind, ObjectName};

/// Where a lock was taken: the `lock()` call in the resource (`#[track_caller]`).
pub(crate) type Site = &'static Location<'static>;

/// A thread took `took` (at `took_site`) while holding `held` (taken at `held_site`), with an
/// acquisition that can block: in some other schedule it waits for `took` while holding `held`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct OrderEdge {
    pub task: usize,
    pub held: usize,
    pub held_site: Site,
    pub took: usize,
    pub took_site: Site,
    /// How many events the execution had recorded when the lock was taken.
    pub event: usize,
}

/// One lock's contention in one execution, in scheduling steps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Figures {
    pub acquisitions: u64,
    /// Acquisitions that found the lock taken and had to wait (or time out).
    pub contended: u64,
    pub max_waiters: usize,
    pub longest_wait: u64,
    pub longest_hold: u64,
}

/// Object ids and task ids are small and dense, so the table is indexed vectors: taking and
/// releasing a lock allocates nothing once the table has grown.
#[derive(Default)]
pub(crate) struct LockTable {
    /// lock id -> (task, shared?, step it was taken at) for each current holder.
    holders: Vec<Vec<(usize, bool, usize)>>,
    /// task -> (lock id, shared?, step it started waiting at) it is waiting for.
    waiting: Vec<Option<(usize, bool, usize)>>,
    /// task -> whether its current wait found the lock taken (it was blocked at some point).
    blocked: Vec<bool>,
    /// How many tasks wait for a lock and are not marked blocked yet: the only ones
    /// [`note_blocked`] can change, so at most scheduling points it has nothing to look at.
    unsettled: usize,
    /// task -> the locks it holds, in the order it took them, with where.
    held: Vec<Vec<(usize, Site)>>,
    /// The lock-order edges this execution showed, each once.
    pub edges: Vec<OrderEdge>,
    /// lock id -> its figures in this execution.
    pub figures: Vec<Figures>,
    /// The task that just backed off (`thread::sleep`, `yield_now`), until the next scheduling point.
    slept: Option<usize>,
    /// task -> 1 + the step of its last back-off (0: none).
    backed_off: Vec<usize>,
    /// Whether the execution is in its fair tail (see [`after_backoff`]), and the threads asleep
    /// in it, in the order they backed off.
    fair: bool,
    asleep: Vec<usize>,
}

#[inline]
fn slot<T: Default>(v: &mut Vec<T>, i: usize) -> &mut T {
    if v.len() <= i {
        grow(v, i);
    }
    &mut v[i]
}

/// [`slot`]'s growth, out of line: most calls find their slot (the table keeps its size from one
/// execution to the next; only `figures` starts empty each time).
#[inline(never)]
fn grow<T: Default>(v: &mut Vec<T>, i: usize) {
    v.resize_with(i + 1, T::default);
}

impl LockTable {
    /// Whether every runnable thread takes part in this scheduling point's decision: the execution
    /// is not in its fair tail (see [`after_backoff`]). If so, clears what `after_backoff` would
    /// have cleared. (A thread waiting for a lock needs no list: [`note_blocked`] asks the
    /// scheduler's runnable set about it.)
    pub(crate) fn nobody_sits_out(&mut self) -> bool {
        if self.fair {
            return false;
        }
        // What `after_backoff` does outside the fair tail.
        self.slept = None;
        true
    }

    pub(crate) fn clear(&mut self) {
        self.holders.iter_mut().for_each(Vec::clear);
        self.waiting.iter_mut().for_each(|w| *w = None);
        self.blocked.iter_mut().for_each(|b| *b = false);
        self.unsettled = 0;
        self.held.iter_mut().for_each(Vec::clear);
        self.edges.clear();
        self.figures.clear();
        self.slept = None;
        self.backed_off.clear();
        self.fair = false;
        self.asleep.clear();
    }

    /// Whether `task` backed off at or after `step`.
    pub(crate) fn backed_off_since(&self, task: usize, step: usize) -> bool {
        self.backed_off.get(task).is_some_and(|&s| s > step)
    }

    /// Starts the fair tail; `false` if it is on already (since the last completed operation: it
    /// did not help).
    pub(crate) fn start_fair_tail(&mut self) -> bool {
        !std::mem::replace(&mut self.fair, true)
    }

    /// Ends the fair tail (an operation completed): the strategy chooses freely again.
    pub(crate) fn end_fair_tail(&mut self) {
        self.fair = false;
        self.asleep.clear();
    }

    /// The first of [`Self::blockers`], without collecting them.
    pub(crate) fn first_blocker(&self, obj: usize, task: usize, shared: bool) -> Option<usize> {
        self.holders
            .get(obj)?
            .iter()
            .find(|&&(t, s, _)| t != task && !(shared && s))
            .map(|&(t, _, _)| t)
    }

    /// Holders of `obj` that stop `task` from taking it in the given mode.
    pub(crate) fn blockers(&self, obj: usize, task: usize, shared: bool) -> Vec<usize> {
        self.holders
            .get(obj)
            .map(|hs| {
                hs.iter()
                    .filter(|&&(t, s, _)| t != task && !(shared && s))
                    .map(|&(t, _, _)| t)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Sets what `task` waits for and whether it is blocked, keeping `unsettled` in step; returns
    /// what they were.
    fn set_wait(
        &mut self,
        task: usize,
        wait: Option<(usize, bool, usize)>,
        blocked: bool,
    ) -> (Option<(usize, bool, usize)>, bool) {
        let was = std::mem::replace(slot(&mut self.waiting, task), wait);
        let was_blocked = std::mem::replace(slot(&mut self.blocked, task), blocked);
        self.unsettled -= usize::from(was.is_some() && !was_blocked);
        self.unsettled += usize::from(wait.is_some() && !blocked);
        (was, was_blocked)
    }

    /// The count `unsettled` keeps, recounted (for the debug check in [`note_blocked`]).
    fn count_unsettled(&self) -> usize {
        (self.waiting.iter().enumerate())
            .filter(|&(t, w)| w.is_some() && !self.blocked.get(t).copied().unwrap_or(false))
            .count()
    }

    fn holds(&self, obj: usize, task: usize) -> bool {
        self.holders
            .get(obj)
            .is_some_and(|hs| hs.iter().any(|&(t, _, _)| t == task))
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
            if let Some(&Some((next, next_shared, _))) = self.waiting.get(holder) {
                path.push((holder, next));
                if self.search(origin, next, next_shared, path, visited) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }

    /// The lock `task` waits for, and who stops it from taking it, if it is blocked now.
    pub(crate) fn blocked_on(&self, task: usize) -> Option<(usize, Vec<usize>)> {
        let (obj, shared, _) = self.waiting.get(task).copied().flatten()?;
        let blockers = self.blockers(obj, task, shared);
        (!blockers.is_empty()).then_some((obj, blockers))
    }

    /// The locks `task` holds now, in the order it took them.
    pub(crate) fn held_by(&self, task: usize) -> &[(usize, Site)] {
        self.held.get(task).map_or(&[], Vec::as_slice)
    }
}

/// Called before the current task tries to take lock `obj` with an acquisition that blocks. Records
/// a blocked event when the lock is taken by someone else and stops the execution with a deadlock
/// if waiting would close a cycle.
pub(crate) fn before_lock(obj: Option<usize>, shared: bool) {
    let Some(obj) = obj else { return };
    let kind = if shared {
        super::AccessKind::SharedLock
    } else {
        super::AccessKind::Lock
    };
    let shuttle = super::backend() == super::Backend::Shuttle;
    super::loom_point();
    // One borrow of the record for the announcement and the wait: this runs at every lock.
    let cycle = super::with_record(|rec| {
        if shuttle {
            super::announce_in(rec, obj, kind);
        }
        let task = rec.running;
        if rec.locks.holds(obj, task) && !shared {
            // Re-locking a lock one holds: a deadlock of one thread.
            return Some(Err(vec![(task, obj)]));
        }
        let holder = rec.locks.first_blocker(obj, task, shared);
        let steps = rec.steps;
        rec.locks.set_wait(task, Some((obj, shared, steps)), holder.is_some());
        holder.and_then(|holder| wait_for(rec, task, obj, shared, holder))
    })
    .flatten();
    match cycle {
        Some(Err(cycle)) => {
            let described = super::with_record(|rec| describe_cycle(rec, &cycle)).unwrap_or_default();
            super::abort(Abort::Deadlock { cycle: described });
        }
        Some(Ok(described)) => super::abort(Abort::Deadlock { cycle: described }),
        None => {}
    }
}

/// A deadlock that a wait closes: `Ok`, threads that wait for good (described); `Err`, a lock
/// cycle as (task, lock it waits for) pairs, to describe.
type Closed = Result<Vec<String>, Vec<(usize, usize)>>;

/// [`before_lock`] when `task` finds `obj` held by `holder`: records the wait and its figures, and
/// returns the deadlock it closes (a lock cycle, or else threads that wait for good), if any. Out
/// of line: the free lock is the common case, and its path stays short.
#[inline(never)]
fn wait_for(rec: &mut ExecutionRecord, task: usize, obj: usize, shared: bool, holder: usize) -> Option<Closed> {
    super::steps::push(
        rec,
        task,
        EventKind::LockBlocked {
            obj,
            holder: Some(holder),
        },
    );
    let waiters = rec
        .locks
        .waiting
        .iter()
        .filter(|w| w.is_some_and(|(o, _, _)| o == obj))
        .count();
    let figures = slot(&mut rec.locks.figures, obj);
    figures.max_waiters = figures.max_waiters.max(waiters);
    if let Some(cycle) = rec.locks.cycle_from(task, obj, shared) {
        return Some(Err(cycle));
    }
    // No lock cycle, but the threads it waits for may wait for good on something else.
    super::waits::deadlock(rec, Some(task)).map(Ok)
}

/// How a lock was taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Acquire {
    /// `lock()`, `read()`, `write()`, or a condition variable's wait taking its mutex back: it
    /// could have waited, so it orders the lock after every lock the thread holds.
    Blocking,
    /// `try_lock` and the timed acquisitions: they give up instead of waiting, so (as in lockdep)
    /// they add no order edge.
    Trying,
}

/// Called once the current task holds lock `obj`, taken at `site`.
pub(crate) fn acquired(obj: Option<usize>, shared: bool, site: Site, how: Acquire) {
    let Some(obj) = obj else { return };
    super::with_record(|rec| {
        let task = rec.running;
        let steps = rec.steps;
        let (wait, blocked) = rec.locks.set_wait(task, None, false);
        let waited = wait
            .filter(|&(o, _, _)| o == obj && blocked)
            .map(|(_, _, since)| steps.saturating_sub(since));
        slot(&mut rec.locks.holders, obj).push((task, shared, steps));
        super::clocks::lock_acquired(rec, obj);
        if how == Acquire::Blocking {
            let already = rec.locks.held_by(task).iter().any(|&(o, _)| o == obj);
            for i in 0..rec.locks.held_by(task).len() {
                let (held, held_site) = rec.locks.held[task][i];
                let seen =
                    rec.locks.edges.iter().any(|e| {
                        (e.task, e.held, e.held_site, e.took, e.took_site) == (task, held, held_site, obj, site)
                    });
                if held != obj && !already && !seen {
                    rec.locks.edges.push(OrderEdge {
                        task,
                        held,
                        held_site,
                        took: obj,
                        took_site: site,
                        event: rec.events.len(),
                    });
                }
            }
        }
        slot(&mut rec.locks.held, task).push((obj, site));
        let figures = slot(&mut rec.locks.figures, obj);
        figures.acquisitions += 1;
        figures.contended += u64::from(waited.is_some());
        figures.longest_wait = figures.longest_wait.max(waited.unwrap_or(0) as u64);
        super::steps::push(rec, task, EventKind::LockAcquired { obj, shared });
    });
}

/// Called at each scheduling point under shuttle with the threads that can run: a thread waiting
/// for a lock that cannot run is blocked on it. The facade records a release just before the
/// release's own scheduling point, so the table alone cannot see that a thread preempted there
/// still holds the lock; the scheduler's runnable set can.
#[inline]
pub(crate) fn note_blocked(rec: &mut ExecutionRecord, runnable: impl Fn(usize) -> bool) {
    debug_assert_eq!(
        rec.locks.unsettled,
        rec.locks.count_unsettled(),
        "the lock table's count drifted"
    );
    if rec.locks.unsettled > 0 {
        note_unsettled(&mut rec.locks, runnable);
    }
}

/// [`note_blocked`] when some thread waits for a lock and is not marked blocked yet.
#[inline(never)]
fn note_unsettled(table: &mut LockTable, runnable: impl Fn(usize) -> bool) {
    let mut changed = false;
    for (task, wait) in table.waiting.iter().enumerate() {
        if wait.is_some() && !table.blocked.get(task).copied().unwrap_or(false) && !runnable(task) {
            *slot(&mut table.blocked, task) = true;
            table.unsettled -= 1;
            changed = true;
        }
    }
    if !changed {
        return;
    }
    for (task, wait) in table.waiting.iter().enumerate() {
        let Some((obj, _, _)) = *wait else { continue };
        if !table.blocked.get(task).copied().unwrap_or(false) {
            continue;
        }
        let waiters = table
            .waiting
            .iter()
            .enumerate()
            .filter(|&(t, w)| w.is_some_and(|(o, _, _)| o == obj) && table.blocked.get(t).copied().unwrap_or(false))
            .count();
        let figures = slot(&mut table.figures, obj);
        figures.max_waiters = figures.max_waiters.max(waiters);
    }
}

/// Called when a timed acquisition of `obj` found it taken: it counts as contended; `gave_up`
/// when its (logical) time ran out and it returns without the lock.
pub(crate) fn timed_wait(obj: Option<usize>, gave_up: bool) {
    let Some(obj) = obj else { return };
    super::with_record(|rec| {
        let task = rec.running;
        let figures = slot(&mut rec.locks.figures, obj);
        if gave_up {
            super::steps::push(rec, task, EventKind::LockTimedOut { obj });
        } else {
            figures.contended += 1;
            figures.max_waiters = figures.max_waiters.max(1);
        }
    });
}

/// Called as the current task lets go of lock `obj`.
pub(crate) fn released(obj: Option<usize>) {
    let Some(obj) = obj else { return };
    super::with_record(|rec| {
        super::clocks::lock_released(rec, obj);
        let task = rec.running;
        let steps = rec.steps;
        let hs = slot(&mut rec.locks.holders, obj);
        let since = hs.iter().position(|&(t, _, _)| t == task).map(|i| hs.remove(i).2);
        if let Some(since) = since {
            let figures = slot(&mut rec.locks.figures, obj);
            figures.longest_hold = figures.longest_hold.max(steps.saturating_sub(since) as u64);
        }
        let held = slot(&mut rec.locks.held, task);
        if let Some(i) = held.iter().rposition(|&(o, _)| o == obj) {
            held.remove(i);
        }
        super::steps::push(rec, task, EventKind::LockReleased { obj });
    });
}

fn describe_cycle(rec: &ExecutionRecord, cycle: &[(usize, usize)]) -> Vec<String> {
    let name = |obj: usize| ObjectName(&rec.objects, obj).to_string();
    let label = |task: usize| thread_label(&rec.labels, task);
    cycle
        .iter()
        .map(|&(task, obj)| {
            let held: Vec<String> = rec.locks.held_by(task).iter().map(|&(o, _)| name(o)).collect();
            let holder = rec
                .locks
                .holders
                .get(obj)
                .and_then(|hs| hs.first())
                .map(|&(t, _, _)| label(t))
                .unwrap_or_else(|| "?".into());
            if rec.locks.holds(obj, task) && cycle.len() == 1 {
                return format!(
                    "{} waits for {}, which it holds itself (it took it again without releasing it)",
                    label(task),
                    name(obj)
                );
            }
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

/// Called by `thread::sleep` and `thread::yield_now` under shuttle, just before their yield.
pub(crate) fn note_backoff() {
    super::with_record(|rec| {
        let task = rec.running;
        rec.locks.slept = Some(task);
        *slot(&mut rec.locks.backed_off, task) = rec.steps + 1;
    });
}

/// At each scheduling point under shuttle, in the fair tail of an execution whose threads kept
/// colliding while backing off (see [`super::livelock`]): a thread that backed off does not run
/// again until another completes an operation or nothing else can run; then the sleepers wake one
/// at a time, in the order they went to sleep, as back-offs of different lengths would. Outside
/// the tail the strategy chooses among every runnable thread.
pub(crate) fn after_backoff(table: &mut LockTable, ids: &mut Vec<usize>, current: Option<usize>) {
    let slept = table.slept.take();
    if !table.fair {
        return;
    }
    if let Some(c) = current.filter(|&c| slept == Some(c) && !table.asleep.contains(&c)) {
        table.asleep.push(c);
    }
    if ids.iter().any(|t| !table.asleep.contains(t)) {
        ids.retain(|t| !table.asleep.contains(t));
        return;
    }
    if let Some(i) = table.asleep.iter().position(|t| ids.contains(t)) {
        let first = table.asleep.remove(i);
        ids.clear();
        ids.push(first);
    }
}
