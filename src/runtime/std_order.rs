//! The lock-order analysis on real threads (`Scheduler::Stress`). std's locks record nothing, so
//! each facade lock keeps its class (kind, creation site, name) and each stress thread its own
//! stack of the locks it holds; a blocking acquisition while holding others adds the order edges
//! to the check's [`StdOrder`], which the stress backend reads after every iteration. Only threads
//! the stress backend registered with [`watch`] (and threads they spawn through the facade)
//! record anything: a lock used outside a check costs one thread-local read.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::sync::{Arc, Mutex};

use super::locks::Site;
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

/// The edges of a stress check, gathered from every thread.
#[derive(Default)]
pub(crate) struct StdOrder {
    edges: Mutex<Vec<StdEdge>>,
}

impl StdOrder {
    /// The edges recorded since the last call.
    pub(crate) fn take(&self) -> Vec<StdEdge> {
        std::mem::take(&mut *self.edges.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

thread_local! {
    /// The order this thread records into, and its thread number.
    static WATCH: RefCell<Option<(Arc<StdOrder>, usize)>> = const { RefCell::new(None) };
    /// The locks this thread holds: (lock address, class, where it was taken).
    static HELD: RefCell<Vec<(usize, StdClass, Site)>> = const { RefCell::new(Vec::new()) };
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

fn watching() -> bool {
    WATCH.with(|w| w.borrow().is_some())
}

/// This thread took the lock at `addr` (of class `class`) at `site`; `blocking` when the
/// acquisition could have waited (only those order the lock after the ones held, as in lockdep).
pub(crate) fn acquired(addr: usize, class: impl FnOnce() -> StdClass, site: Site, blocking: bool) {
    if !watching() {
        return;
    }
    let class = class();
    HELD.with(|h| {
        let mut held = h.borrow_mut();
        let again = held.iter().any(|(a, _, _)| *a == addr);
        if blocking && !again && !held.is_empty() {
            WATCH.with(|w| {
                let w = w.borrow();
                let Some((order, thread)) = w.as_ref() else { return };
                let op = OP.with(Cell::get);
                let mut edges = order.edges.lock().unwrap_or_else(|e| e.into_inner());
                for (_, held_class, held_site) in held.iter().filter(|(_, c, _)| *c != class) {
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
        held.push((addr, class, site));
    });
}

/// This thread let go of the lock at `addr`.
pub(crate) fn released(addr: usize) {
    if !watching() {
        return;
    }
    HELD.with(|h| {
        let mut held = h.borrow_mut();
        if let Some(i) = held.iter().rposition(|(a, _, _)| *a == addr) {
            held.remove(i);
        }
    });
}
