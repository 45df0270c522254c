//! The lock-order analysis (lockdep's idea): across all executions of a check, which lock class a
//! thread took while holding which, and whether those edges form a cycle. A cycle is a potential
//! deadlock even when no explored schedule deadlocked: it needs only that the threads taking the
//! locks in opposite orders run at the same time.
//!
//! A lock class is a lock's creation site and name, not the lock object: the objects are created
//! anew in every execution, and, as in lockdep, the same field of many instances is one class.
//! Two locks of one class taken together are not analysed (their order cannot be told from the
//! class); give them different names with `.named(..)` to have them checked.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use crate::record::{thread_label, EventKind, ObjectKind};
use crate::runtime::locks::{OrderEdge, Site};
use crate::runtime::ExecutionRecord;

/// What makes locks one class: where they were created, and their name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct LockClass {
    pub kind: ObjectKind,
    pub site: Option<Site>,
    pub name: Option<Cow<'static, str>>,
}

impl LockClass {
    pub(crate) fn of(rec: &ExecutionRecord, obj: usize) -> Option<LockClass> {
        rec.objects.get(obj).map(|info| LockClass {
            kind: info.kind,
            site: info.site,
            name: info.name.clone(),
        })
    }
}

impl fmt::Display for LockClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.prefix())?;
        if let Some(name) = &self.name {
            write!(f, " {name:?}")?;
        }
        if let Some(site) = self.site {
            write!(f, " ({}:{})", site.file(), site.line())?;
        }
        Ok(())
    }
}

/// The first time an order edge between two classes was seen.
#[derive(Clone, Debug)]
struct Witness {
    thread: String,
    op: Option<String>,
    held_site: Site,
    took_site: Site,
    /// The execution (counted over the check) that showed it.
    execution: usize,
}

/// The order graph of one check.
#[derive(Default)]
pub(crate) struct LockOrder {
    classes: Vec<LockClass>,
    ids: HashMap<LockClass, usize>,
    /// class -> classes taken while holding it, with the first witness of each edge.
    next: Vec<Vec<(usize, Witness)>>,
    executions: usize,
    found: Option<Inversion>,
}

/// A cycle in the lock order.
#[derive(Clone, Debug)]
pub(crate) struct Inversion {
    /// One line per edge, in cycle order.
    pub edges: Vec<String>,
    /// Whether the execution that closed the cycle showed every edge of it by itself (then its
    /// schedule reproduces the finding).
    pub within_one_execution: bool,
}

impl LockOrder {
    fn class_id(&mut self, class: LockClass) -> usize {
        if let Some(&id) = self.ids.get(&class) {
            return id;
        }
        self.classes.push(class.clone());
        self.next.push(Vec::new());
        self.ids.insert(class, self.classes.len() - 1);
        self.classes.len() - 1
    }

    /// Adds the edges of the execution that just ended; `true` when they close the first cycle.
    /// `op_name` names an operation of the execution's scenario by its index.
    pub(crate) fn absorb(&mut self, rec: &ExecutionRecord, op_name: impl Fn(usize) -> String) -> bool {
        self.executions += 1;
        if self.found.is_some() {
            return false;
        }
        for edge in &rec.locks.edges {
            let (Some(held), Some(took)) = (LockClass::of(rec, edge.held), LockClass::of(rec, edge.took)) else {
                continue;
            };
            if held == took {
                continue;
            }
            let (from, to) = (self.class_id(held), self.class_id(took));
            if self.next[from].iter().any(|(t, _)| *t == to) {
                continue;
            }
            let witness = Witness {
                thread: thread_label(&rec.labels, edge.task),
                op: current_op(rec, edge).map(&op_name),
                held_site: edge.held_site,
                took_site: edge.took_site,
                execution: self.executions,
            };
            self.next[from].push((to, witness));
            if let Some(path) = self.path(to, from) {
                self.found = Some(self.describe(&path, from, to));
                return true;
            }
        }
        false
    }

    /// The cycle found, if any.
    pub(crate) fn inversion(&self) -> Option<&Inversion> {
        self.found.as_ref()
    }

    /// A path of classes from `from` to `to` along the edges (breadth first: the shortest).
    fn path(&self, from: usize, to: usize) -> Option<Vec<usize>> {
        let mut parent: Vec<Option<usize>> = vec![None; self.classes.len()];
        let mut queue = std::collections::VecDeque::from([from]);
        let mut seen = vec![false; self.classes.len()];
        seen[from] = true;
        while let Some(c) = queue.pop_front() {
            if c == to {
                let mut path = vec![c];
                let mut at = c;
                while let Some(p) = parent[at] {
                    path.push(p);
                    at = p;
                }
                path.reverse();
                return Some(path);
            }
            for &(n, _) in &self.next[c] {
                if !seen[n] {
                    seen[n] = true;
                    parent[n] = Some(c);
                    queue.push_back(n);
                }
            }
        }
        None
    }

    /// The cycle `from -> to -> ... -> from`, one line per edge.
    fn describe(&self, path: &[usize], from: usize, to: usize) -> Inversion {
        let mut cycle = vec![from];
        cycle.extend(path.iter().copied());
        debug_assert_eq!(cycle.get(1), Some(&to));
        let mut edges = Vec::new();
        let mut within = true;
        for pair in cycle.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            let Some((_, w)) = self.next[a].iter().find(|(t, _)| *t == b) else {
                continue;
            };
            within &= w.execution == self.executions;
            let op = w.op.as_ref().map(|op| format!(" in {op}")).unwrap_or_default();
            edges.push(format!(
                "{}{op} took {} at {}:{} while holding {}, taken at {}:{}",
                w.thread,
                self.classes[b],
                w.took_site.file(),
                w.took_site.line(),
                self.classes[a],
                w.held_site.file(),
                w.held_site.line(),
            ));
        }
        Inversion {
            edges,
            within_one_execution: within,
        }
    }
}

/// The operation the edge's thread was running when it took the lock: its last `OpBegin` before
/// the acquisition.
fn current_op(rec: &ExecutionRecord, edge: &OrderEdge) -> Option<usize> {
    rec.events[..edge.event.min(rec.events.len())]
        .iter()
        .rev()
        .filter(|e| e.thread == edge.task)
        .find_map(|e| match e.kind {
            EventKind::OpBegin { op } => Some(op),
            _ => None,
        })
}
