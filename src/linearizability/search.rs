//! Wing & Gong's search with Lowe's memoization, for the operations of one partition.
//!
//! The history is a doubly linked list of call and return entries in real-time order (as in
//! porcupine). An operation may be linearized next exactly when its call comes before the first
//! return entry still in the list: that return belongs to an operation that must be linearized
//! before anything invoked after it. Linearizing an operation "lifts" its entries out of the
//! list; backtracking puts them back (dancing links, so undo is O(1)). Operations that never
//! returned have no return entry: they never force a backtrack and may be left out, and the search
//! succeeds as soon as every completed operation is linearized.

use std::time::Instant;

use super::cache::{hash_state, mix, Cache};
use crate::history::History;
use crate::Model;

/// The head of the circular list; also the "end of list" marker.
const HEAD: usize = 0;
/// How many search steps between two looks at the clock and the cancellation flag (a power of 2).
const CHECK_EVERY: u64 = 1024;

/// Resource limits of one search.
pub(super) struct Limits<'a> {
    /// Give up with [`Outcome::Unknown`] after this instant (`None`: never).
    pub deadline: Option<Instant>,
    /// Give up when the memo table holds more entries than this.
    pub max_cache_entries: usize,
    /// Give up when the memo table's bitsets would need more 64-bit words than this.
    pub max_cache_words: usize,
    /// Polled now and then; `true` means the result is no longer needed.
    pub cancelled: &'a (dyn Fn() -> bool + Sync),
    /// Stop with [`Outcome::OutOfSteps`] after about this many search steps.
    pub max_steps: u64,
}

/// Result of checking one partition; op indices are indices into the history's operations.
#[derive(Debug)]
pub(super) enum Outcome {
    Linearizable(Vec<usize>),
    NotLinearizable {
        prefix: Vec<usize>,
        unplaceable: Vec<usize>,
    },
    Unknown(String),
    /// `max_steps` was reached; a run with a larger allowance will get further.
    OutOfSteps,
}

struct List {
    next: Vec<usize>,
    prev: Vec<usize>,
    /// For each list node (node 0 is the head), the local op index it belongs to.
    op: Vec<usize>,
    /// Whether the node is a call entry (else a return entry).
    is_call: Vec<bool>,
    /// For each local op, its return node, or `HEAD` when it never returned.
    ret_node: Vec<usize>,
}

impl List {
    fn new<Op, Output>(history: &History<Op, Output>, members: &[usize]) -> List {
        let ops = history.operations();
        // (event position, local op, is_call): positions are unique, so sorting yields real time.
        let mut events: Vec<(usize, usize, bool)> = Vec::with_capacity(members.len() * 2);
        for (local, &global) in members.iter().enumerate() {
            events.push((ops[global].invoked, local, true));
            if let Some(r) = ops[global].returned {
                events.push((r, local, false));
            }
        }
        events.sort_unstable();
        let nodes = events.len() + 1;
        let mut list = List {
            next: (1..=nodes).map(|n| n % nodes).collect(),
            prev: (0..nodes).map(|n| (n + nodes - 1) % nodes).collect(),
            op: vec![usize::MAX; nodes],
            is_call: vec![false; nodes],
            ret_node: vec![HEAD; members.len()],
        };
        for (k, &(_, local, is_call)) in events.iter().enumerate() {
            let node = k + 1;
            list.op[node] = local;
            list.is_call[node] = is_call;
            if !is_call {
                list.ret_node[local] = node;
            }
        }
        list
    }

    #[inline]
    fn unlink(&mut self, node: usize) {
        let (p, n) = (self.prev[node], self.next[node]);
        self.next[p] = n;
        self.prev[n] = p;
    }

    #[inline]
    fn relink(&mut self, node: usize) {
        let (p, n) = (self.prev[node], self.next[node]);
        self.next[p] = node;
        self.prev[n] = node;
    }

    /// Removes an operation's call node and its return node, if any.
    #[inline]
    fn lift(&mut self, call: usize) {
        self.unlink(call);
        let ret = self.ret_node[self.op[call]];
        if ret != HEAD {
            self.unlink(ret);
        }
    }

    /// Undoes [`List::lift`]; must be applied in reverse order of the lifts.
    #[inline]
    fn unlift(&mut self, call: usize) {
        let ret = self.ret_node[self.op[call]];
        if ret != HEAD {
            self.relink(ret);
        }
        self.relink(call);
    }
}

/// Checks whether the operations `members` (indices into `history`, in invocation order) can be
/// linearized against a fresh `M::default()`.
pub(super) fn search<M: Model>(history: &History<M::Op, M::Output>, members: &[usize], limits: &Limits<'_>) -> Outcome {
    let all = history.operations();
    let n = members.len();
    let ops: Vec<&M::Op> = members.iter().map(|&g| &all[g].op).collect();
    // Only ops that returned have their output checked.
    let outputs: Vec<Option<&M::Output>> = members
        .iter()
        .map(|&g| all[g].returned.and(all[g].output.as_ref()))
        .collect();
    let mut remaining = outputs.iter().filter(|o| o.is_some()).count();
    if remaining == 0 {
        // Nothing to check: every op is pending and may be left out.
        return Outcome::Linearizable(Vec::new());
    }

    let mut list = List::new(history, members);
    let words = n.div_ceil(64);
    if limits.max_cache_words / words.max(1) < 2 {
        return Outcome::Unknown(format!(
            "a partition of {n} operations is too large for the memo table's memory bound"
        ));
    }
    let max_entries = limits.max_cache_entries.min(limits.max_cache_words / words.max(1));
    // Zobrist hashing: the set's hash is the xor of its members' keys, updated in O(1) per step.
    let zobrist: Vec<u64> = (0..n as u64).map(|i| mix(i ^ 0x00c0_ffee_d00d)).collect();
    let mut bits = vec![0u64; words];
    let mut set_hash = 0u64;
    let initial = M::default();
    let initial_hash = hash_state(&initial);
    let mut cache = Cache::new(words, initial, initial_hash);
    let mut current: u32 = 0;
    // For each linearized op, in order: its call node and the cache index of the state before it.
    let mut stack: Vec<(usize, u32)> = Vec::with_capacity(n);
    let mut longest: Vec<usize> = Vec::new();
    let mut entry = list.next[HEAD];
    let mut steps: u64 = 0;
    // Each window of candidates is scanned twice: completed ops first, then pending ones. A
    // pending op is always accepted (its output is unchecked), so trying it early would commit to
    // effects that often did not happen, and the search would wander among them.
    let has_pending = remaining < n;
    let mut pending_pass = false;

    loop {
        if remaining == 0 {
            let order = stack.iter().map(|&(node, _)| members[list.op[node]]).collect();
            return Outcome::Linearizable(order);
        }
        if steps & (CHECK_EVERY - 1) == 0 {
            if steps >= limits.max_steps {
                return Outcome::OutOfSteps;
            }
            if let Some(reason) = over_limits(limits, &cache, max_entries) {
                return Outcome::Unknown(format!(
                    "{reason} after {steps} search steps ({} states cached, {n} operations, \
                     longest linearizable prefix so far: {} operations)",
                    cache.len(),
                    longest.len()
                ));
            }
        }
        steps += 1;

        if entry != HEAD && list.is_call[entry] {
            let local = list.op[entry];
            if outputs[local].is_none() != pending_pass {
                entry = list.next[entry];
                continue;
            }
            let mut state = cache.state(current).clone();
            let accepted = match outputs[local] {
                Some(output) => state.step_matches(ops[local], output),
                None => {
                    state.step(ops[local]);
                    true
                }
            };
            if accepted {
                let (word, bit) = (local / 64, 1u64 << (local % 64));
                bits[word] |= bit;
                let new_set_hash = set_hash ^ zobrist[local];
                let hash = new_set_hash ^ hash_state(&state);
                if let Some(index) = cache.insert(hash, &bits, state) {
                    stack.push((entry, current));
                    current = index;
                    set_hash = new_set_hash;
                    list.lift(entry);
                    if outputs[local].is_some() {
                        remaining -= 1;
                    }
                    if stack.len() > longest.len() {
                        longest.clear();
                        longest.extend(stack.iter().map(|&(node, _)| list.op[node]));
                    }
                    entry = list.next[HEAD];
                    pending_pass = false;
                    continue;
                }
                // Already explored from an equivalent configuration, which failed.
                bits[word] &= !bit;
            }
            entry = list.next[entry];
        } else if has_pending && !pending_pass {
            pending_pass = true;
            entry = list.next[HEAD];
        } else {
            // A return entry: its op had to be linearized by now; undo the last choice.
            let Some((node, previous)) = stack.pop() else {
                return not_linearizable::<M>(history, members, &outputs, &longest);
            };
            let local = list.op[node];
            bits[local / 64] &= !(1u64 << (local % 64));
            set_hash ^= zobrist[local];
            current = previous;
            list.unlift(node);
            if outputs[local].is_some() {
                remaining += 1;
            }
            entry = list.next[node];
            // Resume the pass that chose this op, right after it.
            pending_pass = outputs[local].is_none();
        }
    }
}

fn over_limits<M: Eq>(limits: &Limits<'_>, cache: &Cache<M>, max_entries: usize) -> Option<String> {
    if limits.deadline.is_some_and(|d| Instant::now() >= d) {
        return Some("time budget exhausted".to_string());
    }
    if cache.len() > max_entries {
        return Some(format!("memo table exceeded its bound of {max_entries} entries"));
    }
    if (limits.cancelled)() {
        return Some("cancelled".to_string());
    }
    None
}

/// Builds the evidence from the longest linearizable prefix found (local op indices).
///
/// After that prefix, the ops that may come next are those invoked before the earliest return of
/// an op outside the prefix. Since the search was exhaustive, none of them can be stepped with its
/// recorded output (otherwise a longer prefix would have been found); we replay to report exactly
/// those that fail.
fn not_linearizable<M: Model>(
    history: &History<M::Op, M::Output>,
    members: &[usize],
    outputs: &[Option<&M::Output>],
    longest: &[usize],
) -> Outcome {
    let all = history.operations();
    let mut in_prefix = vec![false; members.len()];
    let mut state = M::default();
    for &local in longest {
        in_prefix[local] = true;
        let op = &all[members[local]].op;
        match outputs[local] {
            Some(output) => {
                let ok = state.step_matches(op, output);
                debug_assert!(ok, "the longest prefix must replay");
            }
            None => {
                state.step(op);
            }
        }
    }
    let horizon = (0..members.len())
        .filter(|&l| !in_prefix[l])
        .filter_map(|l| all[members[l]].returned)
        .min()
        .unwrap_or(usize::MAX);
    let candidates: Vec<usize> = (0..members.len())
        .filter(|&l| !in_prefix[l] && all[members[l]].invoked < horizon)
        .collect();
    let failing: Vec<usize> = candidates
        .iter()
        .copied()
        .filter(|&l| {
            let mut s = state.clone();
            match outputs[l] {
                Some(output) => !s.step_matches(&all[members[l]].op, output),
                None => false,
            }
        })
        .collect();
    // Defensive: should the model be nondeterministic, still name every candidate that was tried.
    let unplaceable = if failing.is_empty() { candidates } else { failing };
    Outcome::NotLinearizable {
        prefix: longest.iter().map(|&l| members[l]).collect(),
        unplaceable: unplaceable.into_iter().map(|l| members[l]).collect(),
    }
}
