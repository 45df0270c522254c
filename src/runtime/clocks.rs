//! Happens-before, for data-race detection on [`crate::cell::UnsafeCell`] under the controlled
//! schedulers (shuttle has no race detector: this is crosscheck's own).
//!
//! Vector clocks (one component per thread) follow every synchronising facade operation:
//! - a lock's release stores the releasing thread's clock in the lock, its next acquisition joins
//!   it (mutexes, read-write locks, and through them condition variables, channels, barriers and
//!   the `Once` family);
//! - an atomic store with `Release` (or stronger) stores the thread's clock in the atomic, a
//!   load with `Acquire` (or stronger) that reads it joins it; a read-modify-write continues the
//!   release sequence (it joins rather than replaces); a `Relaxed` store carries the clock of the
//!   thread's last release fence, a `Relaxed` load keeps what it read for a later acquire fence
//!   (C11's fence rules). shuttle runs atomics sequentially consistently, so a load reads the
//!   latest store and its clock is the atomic's;
//! - spawning gives the child the parent's clock; joining gives the joiner the child's last one;
//!   an `unpark` stores the unparker's clock in the token and the `park` that takes it joins it.
//!
//! A cell remembers its last write and, per thread, its last read since, each as (thread, the
//! thread's own clock component then, site). An access races with a remembered one of another
//! thread (at least one a write) if the current thread's clock has not caught up with it: nothing
//! orders them, whatever the interleaving that ran.
//!
//! Tracking starts with the execution's first cell (made in `Resource::new`, before any scenario
//! thread exists), so resources without cells pay only a flag test per operation. A cell made
//! later by a running thread is still judged soundly: its accesses come after its creation, and
//! every edge between them is recorded from then on.

use std::cell::Cell;
use std::panic::Location;
use std::sync::atomic::Ordering;

use super::{name_of_thread, with_record, ExecutionRecord};
use crate::record::ObjectName;

/// One component per task id.
#[derive(Clone, Debug, Default)]
struct VClock(Vec<u32>);

impl VClock {
    fn get(&self, t: usize) -> u32 {
        self.0.get(t).copied().unwrap_or(0)
    }

    fn join(&mut self, other: &VClock) {
        if self.0.len() < other.0.len() {
            self.0.resize(other.0.len(), 0);
        }
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a = (*a).max(*b);
        }
    }

    fn tick(&mut self, t: usize) {
        if self.0.len() <= t {
            self.0.resize(t + 1, 0);
        }
        self.0[t] += 1;
    }
}

/// One remembered access to a cell.
#[derive(Clone, Copy, Debug)]
struct Access {
    thread: usize,
    epoch: u32,
    site: &'static Location<'static>,
}

#[derive(Default, Debug)]
struct CellState {
    write: Option<Access>,
    reads: Vec<Access>,
}

/// The happens-before state of one execution.
#[derive(Default, Debug)]
pub(crate) struct Clocks {
    /// By task id.
    threads: Vec<VClock>,
    /// By task id: the clock at the thread's last release fence.
    fenced: Vec<VClock>,
    /// By task id: what its `Relaxed` loads read, for its next acquire fence.
    acquirable: Vec<VClock>,
    /// By object id: the clock a lock's releases or an atomic's release sequence left.
    objects: Vec<VClock>,
    /// By spawn index (see `waits::spawned`): the parent's clock at the spawn, then the child's
    /// last clock once it finished.
    spawned: Vec<VClock>,
    /// By object id of a cell.
    cells: Vec<CellState>,
}

/// A race found: the cell and the two accesses, earlier first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Race {
    /// The cell as reports name objects: `cell "slot" (src/queue.rs:12)`.
    pub cell: String,
    pub first: String,
    pub second: String,
}

thread_local! {
    /// Whether the current execution tracks clocks: the test every facade operation makes.
    static ON: Cell<bool> = const { Cell::new(false) };
}

fn slot<T: Default>(v: &mut Vec<T>, i: usize) -> &mut T {
    if v.len() <= i {
        v.resize_with(i + 1, T::default);
    }
    &mut v[i]
}

impl Clocks {
    fn thread(&mut self, t: usize) -> &mut VClock {
        let c = slot(&mut self.threads, t);
        if c.get(t) == 0 {
            // A thread's own component starts at 1, so that 0 means "knows nothing of it".
            c.tick(t);
        }
        c
    }

    fn acquire(&mut self, t: usize, obj: usize) {
        let from = std::mem::take(slot(&mut self.objects, obj));
        self.thread(t).join(&from);
        self.objects[obj] = from;
    }

    fn release(&mut self, t: usize, obj: usize, replace: bool) {
        let clock = self.thread(t).clone();
        let into = slot(&mut self.objects, obj);
        if replace {
            *into = clock;
        } else {
            into.join(&clock);
        }
        self.thread(t).tick(t);
    }
}

/// Starts tracking for this execution (at its first cell), and clears the flag when a new
/// execution begins (`reset`).
pub(crate) fn start(rec: &mut ExecutionRecord) {
    if rec.clocks.is_none() {
        rec.clocks = Some(Box::default());
        ON.with(|on| on.set(true));
    }
}

pub(crate) fn reset(rec: &mut ExecutionRecord) {
    rec.clocks = None;
    ON.with(|on| on.set(false));
}

fn on() -> bool {
    ON.with(Cell::get)
}

/// Runs `f` on the clocks and the running task, if tracking.
fn with_clocks(f: impl FnOnce(&mut Clocks, usize)) {
    if !on() {
        return;
    }
    with_record(|rec| {
        let t = rec.running;
        if let Some(c) = rec.clocks.as_mut() {
            f(c, t);
        }
    });
}

/// A lock was acquired (called from inside the record: see `locks::acquired`).
pub(crate) fn lock_acquired(rec: &mut ExecutionRecord, obj: usize) {
    let t = rec.running;
    if let Some(c) = rec.clocks.as_mut() {
        c.acquire(t, obj);
    }
}

/// A lock was released. Releases join rather than replace, so a write lock acquired after several
/// read locks were released is ordered after all of them.
pub(crate) fn lock_released(rec: &mut ExecutionRecord, obj: usize) {
    let t = rec.running;
    if let Some(c) = rec.clocks.as_mut() {
        c.release(t, obj, false);
    }
}

/// What an atomic operation did, for its happens-before edges.
#[derive(Clone, Copy)]
pub(crate) enum AtomicAccess {
    Load,
    Store,
    Rmw,
}

fn acquires(order: Ordering) -> bool {
    matches!(order, Ordering::Acquire | Ordering::AcqRel | Ordering::SeqCst)
}

fn releases(order: Ordering) -> bool {
    matches!(order, Ordering::Release | Ordering::AcqRel | Ordering::SeqCst)
}

/// An atomic operation on `obj` with `order` (the failure ordering for a failed compare-exchange,
/// which is a load).
pub(crate) fn atomic(obj: Option<usize>, access: AtomicAccess, order: Ordering) {
    let Some(obj) = obj else { return };
    with_clocks(|c, t| {
        if matches!(access, AtomicAccess::Load | AtomicAccess::Rmw) {
            if acquires(order) {
                c.acquire(t, obj);
            } else {
                let read = slot(&mut c.objects, obj).clone();
                slot(&mut c.acquirable, t).join(&read);
            }
        }
        if matches!(access, AtomicAccess::Store | AtomicAccess::Rmw) {
            let rmw = matches!(access, AtomicAccess::Rmw);
            if releases(order) {
                c.release(t, obj, !rmw);
            } else {
                let fenced = slot(&mut c.fenced, t).clone();
                let into = slot(&mut c.objects, obj);
                if rmw {
                    // A read-modify-write continues the release sequence it reads from.
                    into.join(&fenced);
                } else {
                    *into = fenced;
                }
            }
        }
    });
}

/// A fence with `order`.
pub(crate) fn fence(order: Ordering) {
    with_clocks(|c, t| {
        if acquires(order) {
            let read = std::mem::take(slot(&mut c.acquirable, t));
            c.thread(t).join(&read);
        }
        if releases(order) {
            let now = c.thread(t).clone();
            *slot(&mut c.fenced, t) = now;
            c.thread(t).tick(t);
        }
    });
}

/// The running thread spawns the thread with spawn index `k`.
pub(crate) fn spawned(rec: &mut ExecutionRecord, k: usize) {
    let t = rec.running;
    if let Some(c) = rec.clocks.as_mut() {
        let now = c.thread(t).clone();
        *slot(&mut c.spawned, k) = now;
        c.thread(t).tick(t);
    }
}

/// The thread with spawn index `k` starts running as the running task.
pub(crate) fn started(rec: &mut ExecutionRecord, k: usize) {
    let t = rec.running;
    if let Some(c) = rec.clocks.as_mut() {
        let parent = std::mem::take(slot(&mut c.spawned, k));
        c.thread(t).join(&parent);
    }
}

/// The thread with spawn index `k` (the running task) finishes.
pub(crate) fn finished(rec: &mut ExecutionRecord, k: usize) {
    let t = rec.running;
    if let Some(c) = rec.clocks.as_mut() {
        let last = c.thread(t).clone();
        *slot(&mut c.spawned, k) = last;
    }
}

/// The running thread joined the thread with spawn index `k`.
pub(crate) fn joined(rec: &mut ExecutionRecord, k: usize) {
    let t = rec.running;
    if let Some(c) = rec.clocks.as_mut() {
        let child = slot(&mut c.spawned, k).clone();
        c.thread(t).join(&child);
    }
}

/// An `unpark` of the token `obj` (a release), or a `park` that consumed it (an acquire).
pub(crate) fn token(obj: Option<usize>, unpark: bool) {
    let Some(obj) = obj else { return };
    with_clocks(|c, t| {
        if unpark {
            c.release(t, obj, false);
        } else {
            c.acquire(t, obj);
        }
    });
}

/// Checks an access to cell `cell` by the running thread against the accesses the cell
/// remembers, then remembers it. Tracking starts here if it has not yet.
pub(crate) fn cell_access(cell: usize, write: bool, site: &'static Location<'static>) -> Option<Race> {
    with_record(|rec| {
        start(rec);
        let t = rec.running;
        let c = rec.clocks.as_mut().expect("started above");
        let now = c.thread(t).clone();
        let state = slot(&mut c.cells, cell);
        let unordered = |a: &Access| a.thread != t && a.epoch > now.get(a.thread);
        let conflict = state.write.filter(unordered).map(|w| (w, true)).or_else(|| {
            if write {
                state.reads.iter().find(|r| unordered(r)).map(|r| (*r, false))
            } else {
                None
            }
        });
        let me = Access {
            thread: t,
            epoch: now.get(t),
            site,
        };
        if write {
            state.write = Some(me);
            state.reads.clear();
        } else {
            match state.reads.iter_mut().find(|r| r.thread == t) {
                Some(r) => *r = me,
                None => state.reads.push(me),
            }
        }
        let (other, other_wrote) = conflict?;
        let describe = |a: &Access, wrote: bool| describe(rec, a.thread, wrote, a.site);
        Some(Race {
            cell: ObjectName(&rec.objects, cell).to_string(),
            first: describe(&other, other_wrote),
            second: describe(&me, write),
        })
    })
    .flatten()
}

/// The race loom reported (`Causality violation: ...`), named from the record: the last cell
/// access (the one loom stopped) and the latest earlier access to the same cell by another thread
/// that conflicts with it.
pub(crate) fn loom_race(rec: &ExecutionRecord, message: &str) -> Race {
    use crate::record::EventKind::CellAccess;
    let accesses: Vec<_> = rec
        .events
        .iter()
        .filter_map(|e| match e.kind {
            CellAccess { obj, write, site } => Some((e.thread, obj, write, site)),
            _ => None,
        })
        .collect();
    let describe = |&(thread, _, write, site): &(usize, usize, bool, &'static Location<'static>)| {
        describe(rec, thread, write, site)
    };
    let loom_says = format!("(loom: {})", message.lines().next().unwrap_or(message));
    let Some(last) = accesses.last() else {
        return Race {
            cell: "an UnsafeCell".into(),
            first: loom_says,
            second: String::new(),
        };
    };
    let other = accesses
        .iter()
        .rev()
        .find(|a| a.0 != last.0 && a.1 == last.1 && (a.2 || last.2));
    Race {
        cell: ObjectName(&rec.objects, last.1).to_string(),
        first: other.map(describe).unwrap_or(loom_says.clone()),
        second: format!(
            "{} {}",
            describe(last),
            if other.is_some() { loom_says } else { String::new() }
        )
        .trim_end()
        .to_string(),
    }
}

/// One access of a race, as the report names it: `T1 writes it at src/queue.rs:30`.
fn describe(rec: &ExecutionRecord, thread: usize, write: bool, site: &Location<'static>) -> String {
    format!(
        "{} {} it at {}:{}",
        name_of_thread(rec, thread),
        if write { "writes" } else { "reads" },
        site.file(),
        site.line()
    )
}
