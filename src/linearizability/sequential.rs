//! Sequential consistency: the check for histories without a global clock.
//!
//! Loom models no global clock: two threads' operations are ordered only by synchronisation the
//! resource does itself, so the order loom happened to run them in is not a real-time order, and a
//! load may legally return an older value. What can be asserted is sequential consistency: some
//! total order of the operations that keeps each client's own order explains every output. The
//! harness's main thread (client 0) runs the init part before it spawns the other clients and the
//! post part after it joins them, so its operations are also ordered in real time against every
//! other operation.
//!
//! The search is a depth-first search over how far each client has got, memoized on (progress,
//! model state), one partition of [`Model::partition`] at a time (a projection of a valid order
//! onto one partition is valid for it, so a failing partition is a real failure). It returns the
//! same [`Verdict`] as [`check`](super::check), with the same evidence: the longest explainable
//! prefix and the operations none of which can follow it.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use super::{Evidence, Unknown, Verdict, Witness};
use crate::history::{History, OpId};
use crate::Model;

/// How many search steps between two looks at the clock.
const CHECK_EVERY: u64 = 1024;

/// Checks `history` for sequential consistency against `M` (see the module docs), within `budget`.
///
/// Operations that never returned constrain nothing and are left out.
///
/// ```
/// use std::time::Duration;
/// use crosscheck::history::History;
/// use crosscheck::linearizability::{check, check_sequential};
/// # use crosscheck::Model;
/// # #[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
/// # struct Register(u8);
/// # #[derive(Clone, Debug)]
/// # enum Op { Write(u8), Read }
/// # impl Model for Register {
/// #     type Op = Op;
/// #     type Output = Option<u8>;
/// #     fn step(&mut self, op: &Op) -> Option<u8> {
/// #         match op { Op::Write(v) => { self.0 = *v; None } Op::Read => Some(self.0) }
/// #     }
/// # }
/// // Client 1 writes 1 and returns; then client 2 reads the old value 0.
/// let mut h = History::new();
/// let w = h.invoke(1, Op::Write(1));
/// h.ret(w, None).unwrap();
/// let r = h.invoke(2, Op::Read);
/// h.ret(r, Some(0)).unwrap();
/// // Not linearizable (the read began after the write returned) ...
/// assert!(!check::<Register>(&h, Duration::from_secs(1)).is_linearizable());
/// // ... but sequentially consistent: the read may be ordered first.
/// assert!(check_sequential::<Register>(&h, Duration::from_secs(1)).is_linearizable());
/// ```
pub fn check_sequential<M: Model>(history: &History<M::Op, M::Output>, budget: Duration) -> Verdict {
    if let Some(nothing) = super::zero_budget(history, budget) {
        return nothing;
    }
    let deadline = Instant::now().checked_add(budget);
    let groups = super::partitions::<M>(history, |o| o.is_complete());
    let mut order = Vec::new();
    for (key, ops) in groups {
        let mut search = Search::<M>::new(history, &ops, deadline);
        let mut progress = vec![0; search.clients.len()];
        match search.dfs(&mut progress, &M::default()) {
            Some(true) => order.extend(search.order.iter().map(|&i| OpId(ops[i]))),
            Some(false) => {
                let (prefix, stuck) = search.best;
                return Verdict::NotLinearizable(Evidence {
                    partition: key,
                    prefix: prefix.into_iter().map(|i| OpId(ops[i])).collect(),
                    unplaceable: stuck.into_iter().map(|i| OpId(ops[i])).collect(),
                });
            }
            None => {
                let reason = "the time budget ran out before the sequential-consistency search finished";
                let reason = match key {
                    Some(k) => format!("partition {k}: {reason}"),
                    None => reason.to_string(),
                };
                return Verdict::Unknown(Unknown { reason });
            }
        }
    }
    Verdict::Linearizable(Witness { order })
}

/// The search over one partition; ops are local indices into `ops`.
struct Search<'a, M: Model> {
    history: &'a History<M::Op, M::Output>,
    ops: &'a [usize],
    /// Each client's ops, in its own order.
    clients: Vec<Vec<usize>>,
    /// For each op, the ops that must come before it besides its client's earlier ones: real-time
    /// predecessors where one of the two is the harness's main thread.
    after: Vec<Vec<usize>>,
    placed: Vec<bool>,
    seen: HashSet<(Vec<usize>, M)>,
    order: Vec<usize>,
    /// The longest explainable prefix, and the ops none of which could follow it.
    best: (Vec<usize>, Vec<usize>),
    deadline: Option<Instant>,
    steps: u64,
}

impl<'a, M: Model> Search<'a, M> {
    fn new(history: &'a History<M::Op, M::Output>, ops: &'a [usize], deadline: Option<Instant>) -> Self {
        let operations = history.operations();
        let mut ids: Vec<usize> = Vec::new();
        let mut clients: Vec<Vec<usize>> = Vec::new();
        for (local, &op) in ops.iter().enumerate() {
            let client = operations[op].client;
            let c = match ids.iter().position(|&id| id == client) {
                Some(c) => c,
                None => {
                    ids.push(client);
                    clients.push(Vec::new());
                    ids.len() - 1
                }
            };
            clients[c].push(local);
        }
        let after = ops
            .iter()
            .map(|&b| {
                let b = &operations[b];
                ops.iter()
                    .enumerate()
                    .filter(|&(_, &a)| {
                        let a = &operations[a];
                        a.client != b.client && (a.client == 0 || b.client == 0) && a.precedes(b)
                    })
                    .map(|(local, _)| local)
                    .collect()
            })
            .collect();
        Search {
            history,
            ops,
            clients,
            after,
            placed: vec![false; ops.len()],
            seen: HashSet::new(),
            order: Vec::new(),
            best: (Vec::new(), Vec::new()),
            deadline,
            steps: 0,
        }
    }

    /// `Some(true)`: the rest can be ordered; `Some(false)`: it cannot; `None`: out of time.
    fn dfs(&mut self, progress: &mut Vec<usize>, model: &M) -> Option<bool> {
        self.steps += 1;
        if self.steps % CHECK_EVERY == 0 && self.deadline.is_some_and(|d| Instant::now() >= d) {
            return None;
        }
        if !self.seen.insert((progress.clone(), model.clone())) {
            return Some(false);
        }
        let mut stuck = Vec::new();
        let mut any = false;
        for c in 0..self.clients.len() {
            let Some(&op) = self.clients[c].get(progress[c]) else {
                continue;
            };
            if self.after[op].iter().any(|&a| !self.placed[a]) {
                continue;
            }
            any = true;
            let operation = &self.history.operations()[self.ops[op]];
            let mut next = model.clone();
            let output = operation.output.as_ref().expect("only completed ops are searched");
            if !next.step_matches(&operation.op, output) {
                stuck.push(op);
                continue;
            }
            progress[c] += 1;
            self.placed[op] = true;
            self.order.push(op);
            let found = self.dfs(progress, &next);
            if found != Some(false) {
                return found;
            }
            self.order.pop();
            self.placed[op] = false;
            progress[c] -= 1;
        }
        if !any {
            // Every client is done (an op waits only for ops of earlier real time, which exist).
            return Some(true);
        }
        if !stuck.is_empty() && self.order.len() >= self.best.0.len() {
            self.best = (self.order.clone(), stuck);
        }
        Some(false)
    }
}
