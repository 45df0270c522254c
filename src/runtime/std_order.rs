//! The lock-order analysis on real threads (`Scheduler::Stress`). std's locks record nothing, so
//! each facade lock keeps its class (kind, creation site, name) and each stress thread its own
//! stack of the locks it holds; a blocking acquisition while holding others adds the order edges
//! to the check's [`StdOrder`], which the stress backend reads after every iteration. Only threads
//! the stress backend registered with [`watch`] (and threads they spawn through the facade)
//! record anything: a lock used outside a check costs one thread-local read.
//!
//! The same hooks measure contention on real threads, in time: each acquisition counts, one that
//! found the lock taken (a `try_lock` first tells) counts as waited, with how long it waited and
//! how many threads waited at once; each release, how long the lock was held. Counts and holds
//! stay in the thread until it stops watching; waits go to the shared figures as they happen.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::{Arc, LockResult, Mutex, TryLockError, TryLockResult};
use std::time::{Duration, Instant};

use super::locks::{Figures, Site};
use crate::record::ObjectKind;

/// A lock as the analysis knows it on real threads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StdClass {
    pub kind: ObjectKind,
    pub site: Site,
    pub name: Option<Cow<'static, str>>,
    pub value_type: &'static str,
}

/// One order edge seen on a real thread: it took `took` at `took_site` while holding `held`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StdEdge {
    /// 0 for the harness's thread, t + 1 for the scenario's thread t.
    pub thread: usize,
    /// The operation it was running (its index in the scenario).
    pub op: Option<usize>,
    pub held: StdClass,
    pub held_site: Site,
    pub took: StdClass,
    pub took_site: Site,
}

/// The edges and figures of a stress check, gathered from every thread.
#[derive(Default)]
pub(crate) struct StdOrder {
    edges: Mutex<Vec<StdEdge>>,
    figures: Mutex<Shared>,
}

/// The figures per class, in microseconds; and per lock (by address), the threads waiting for it
/// now.
type Shared = (Vec<(StdClass, Figures)>, HashMap<usize, usize>);

impl StdOrder {
    /// The edges recorded since the last call.
    pub(crate) fn take(&self) -> Vec<StdEdge> {
        std::mem::take(&mut *self.edges.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// The figures recorded since the last call, per class.
    pub(crate) fn take_figures(&self) -> Vec<(StdClass, Figures)> {
        std::mem::take(&mut self.figures.lock().unwrap_or_else(|e| e.into_inner()).0)
    }

    fn with_figures<T>(&self, f: impl FnOnce(&mut Vec<(StdClass, Figures)>, &mut HashMap<usize, usize>) -> T) -> T {
        let mut guard = self.figures.lock().unwrap_or_else(|e| e.into_inner());
        let (figures, waiting) = &mut *guard;
        f(figures, waiting)
    }
}

/// The figures of `class` in `all`.
fn figures_of<'a>(all: &'a mut Vec<(StdClass, Figures)>, class: &StdClass) -> &'a mut Figures {
    let i = match all.iter().position(|(c, _)| c == class) {
        Some(i) => i,
        None => {
            all.push((class.clone(), Figures::default()));
            all.len() - 1
        }
    };
    &mut all[i].1
}

fn micros(d: Duration) -> u64 {
    d.as_micros().try_into().unwrap_or(u64::MAX)
}

thread_local! {
    /// The order this thread records into, and its thread number.
    static WATCH: RefCell<Option<(Arc<StdOrder>, usize)>> = const { RefCell::new(None) };
    /// The locks this thread holds: (lock address, class, where it was taken, since when).
    static HELD: RefCell<Vec<(usize, StdClass, Site, Instant)>> = const { RefCell::new(Vec::new()) };
    /// This thread's acquisitions and longest holds per class, not yet handed to the check.
    static LOCAL: RefCell<Vec<(StdClass, Figures)>> = const { RefCell::new(Vec::new()) };
    /// The operation this thread runs.
    static OP: Cell<Option<usize>> = const { Cell::new(None) };
}

/// Records this thread's lock order into `order` (as thread `thread`) until the guard drops.
pub(crate) fn watch(order: Option<Arc<StdOrder>>, thread: usize) -> Watching {
    let on = order.is_some();
    WATCH.with(|w| *w.borrow_mut() = order.map(|o| (o, thread)));
    HELD.with(|h| h.borrow_mut().clear());
    Watching(on)
}

/// Stops the recording of [`watch`] when dropped.
pub(crate) struct Watching(bool);

impl Drop for Watching {
    fn drop(&mut self) {
        if self.0 {
            let local = LOCAL.with(|l| std::mem::take(&mut *l.borrow_mut()));
            if let Some((order, _)) = inherited() {
                order.with_figures(|all, _| {
                    for (class, f) in local {
                        let total = figures_of(all, &class);
                        total.acquisitions += f.acquisitions;
                        total.longest_hold = total.longest_hold.max(f.longest_hold);
                    }
                });
            }
            WATCH.with(|w| *w.borrow_mut() = None);
            HELD.with(|h| h.borrow_mut().clear());
            OP.with(|o| o.set(None));
        }
    }
}

/// The order and thread number of this thread, for a thread it spawns.
pub(crate) fn inherited() -> Option<(Arc<StdOrder>, usize)> {
    WATCH.with(|w| w.borrow().clone())
}

/// Sets the operation this thread runs.
pub(crate) fn set_op(op: Option<usize>) {
    OP.with(|o| o.set(op));
}

/// Whether this thread records (it runs a stress iteration).
pub(crate) fn watching() -> bool {
    WATCH.with(|w| w.borrow().is_some())
}

/// A blocking acquisition of the lock at `addr` (of class `class`) on a watched thread: a
/// `try_take` first, and if the lock was taken, the wait for `take`, counted and timed.
pub(crate) fn contended<G>(
    addr: usize,
    class: &StdClass,
    try_take: impl FnOnce() -> TryLockResult<G>,
    take: impl FnOnce() -> LockResult<G>,
) -> LockResult<G> {
    match try_take() {
        Ok(g) => return Ok(g),
        Err(TryLockError::Poisoned(p)) => return Err(p),
        Err(TryLockError::WouldBlock) => {}
    }
    let Some((order, _)) = inherited() else { return take() };
    order.with_figures(|all, waiting| {
        let now = waiting.entry(addr).or_insert(0);
        *now += 1;
        let f = figures_of(all, class);
        f.max_waiters = f.max_waiters.max(*now);
    });
    let started = Instant::now();
    let result = take();
    let waited = micros(started.elapsed());
    order.with_figures(|all, waiting| {
        if let Some(now) = waiting.get_mut(&addr) {
            *now = now.saturating_sub(1);
        }
        let f = figures_of(all, class);
        f.contended += 1;
        f.longest_wait = f.longest_wait.max(waited);
    });
    result
}

/// This thread took the lock at `addr` (of class `class`) at `site`; `blocking` when the
/// acquisition could have waited (only those order the lock after the ones held, as in lockdep).
pub(crate) fn acquired(addr: usize, class: impl FnOnce() -> StdClass, site: Site, blocking: bool) {
    if !watching() {
        return;
    }
    let class = class();
    LOCAL.with(|l| figures_of(&mut l.borrow_mut(), &class).acquisitions += 1);
    HELD.with(|h| {
        let mut held = h.borrow_mut();
        let again = held.iter().any(|(a, _, _, _)| *a == addr);
        if blocking && !again && !held.is_empty() {
            WATCH.with(|w| {
                let w = w.borrow();
                let Some((order, thread)) = w.as_ref() else { return };
                let op = OP.with(Cell::get);
                let mut edges = order.edges.lock().unwrap_or_else(|e| e.into_inner());
                for (_, held_class, held_site, _) in held.iter().filter(|(_, c, _, _)| *c != class) {
                    let edge = StdEdge {
                        thread: *thread,
                        op,
                        held: held_class.clone(),
                        held_site,
                        took: class.clone(),
                        took_site: site,
                    };
                    let seen = edges.iter().any(|e| {
                        (&e.held, e.held_site, &e.took, e.took_site) == (&edge.held, edge.held_site, &edge.took, site)
                    });
                    if !seen {
                        edges.push(edge);
                    }
                }
            });
        }
        held.push((addr, class, site, Instant::now()));
    });
}

/// This thread let go of the lock at `addr`.
pub(crate) fn released(addr: usize) {
    if !watching() {
        return;
    }
    HELD.with(|h| {
        let mut held = h.borrow_mut();
        if let Some(i) = held.iter().rposition(|(a, _, _, _)| *a == addr) {
            let (_, class, _, since) = held.remove(i);
            let hold = micros(since.elapsed());
            LOCAL.with(|l| {
                let mut local = l.borrow_mut();
                let f = figures_of(&mut local, &class);
                f.longest_hold = f.longest_hold.max(hold);
            });
        }
    });
}
