//! Linearizability checking of a [`History`] against a sequential [`Model`].
//!
//! [`check`] searches for a total order of the operations that respects real time (an operation
//! that returned before another was invoked comes first) and that the model accepts with the
//! recorded outputs. The search is Wing & Gong's algorithm with Lowe's memoization, in the style of
//! porcupine, applied separately to each partition given by [`Model::partition`].

pub(crate) mod cache;
mod page;
mod search;
mod sequential;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::history::{History, OpId};
use crate::Model;
pub(crate) use page::placement;
pub use page::{page, write_page};
use search::{Limits, Outcome};

pub use sequential::check_sequential;

/// Bound on the number of memo table entries per partition, to bound memory.
const MAX_CACHE_ENTRIES: usize = 4_000_000;
/// Bound on the 64-bit words of all bitsets in a memo table (256 MiB).
const MAX_CACHE_WORDS: usize = 32 << 20;
/// Below this many operations, threads cost more than they save.
const PARALLEL_MIN_OPS: usize = 1024;
/// Search steps per group in the first round when there are several groups (about a millisecond).
const FIRST_ROUND_STEPS: u64 = 1 << 13;

/// The outcome of [`check`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Verdict {
    /// The history is linearizable; here is an order that shows it.
    Linearizable(Witness),
    /// The history is not linearizable; here is where the search got stuck.
    NotLinearizable(Evidence),
    /// The checker gave up (time budget or memory bound); nothing is known.
    Unknown(Unknown),
}

impl Verdict {
    /// Whether the verdict is [`Verdict::Linearizable`].
    pub fn is_linearizable(&self) -> bool {
        matches!(self, Verdict::Linearizable(_))
    }

    /// Whether the verdict is [`Verdict::Unknown`].
    pub fn is_unknown(&self) -> bool {
        matches!(self, Verdict::Unknown(_))
    }
}

/// A linearization: a total order of all completed operations plus the pending operations that
/// were taken to have happened.
///
/// It respects real-time order, and replaying the operations of each partition, in this order,
/// on a fresh `M::default()` with [`Model::step_matches`] accepts every completed operation's
/// recorded output (pending operations are applied with [`Model::step`], output unchecked).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Witness {
    /// The operations, in linearization order.
    pub order: Vec<OpId>,
}

/// Why a history is not linearizable, for one failing partition (chosen deterministically, see
/// [`check`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    /// The failing partition's key, as given by [`Model::partition`].
    pub partition: Option<u64>,
    /// The longest linearizable prefix found: operations of that partition, in an order that
    /// respects real time and replays on a fresh model with the recorded outputs.
    pub prefix: Vec<OpId>,
    /// The operations that could come next after `prefix` in real time (not yet linearized and
    /// invoked before the earliest return outside the prefix), none of which the model accepts
    /// there. Never empty; disjoint from `prefix`.
    pub unplaceable: Vec<OpId>,
}

/// Why the checker could not decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unknown {
    /// A human-readable explanation (budget exhausted, memory bound reached, ...).
    pub reason: String,
}

impl fmt::Display for Witness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "linearization of {} operations: ", self.order.len())?;
        write_ids(f, &self.order)
    }
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.partition {
            Some(key) => write!(f, "in partition {key}, ")?,
            None => write!(f, "in the partition of operations without a key, ")?,
        }
        write!(
            f,
            "the longest linearizable prefix has {} operations (",
            self.prefix.len()
        )?;
        write_ids(f, &self.prefix)?;
        write!(f, ") and none of the operations that could come next (")?;
        write_ids(f, &self.unplaceable)?;
        write!(f, ") is accepted by the model after it")
    }
}

impl fmt::Display for Unknown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Linearizable(w) => write!(f, "linearizable: {w}"),
            Verdict::NotLinearizable(e) => write!(f, "not linearizable: {e}"),
            Verdict::Unknown(u) => write!(f, "unknown: {u}"),
        }
    }
}

fn write_ids(f: &mut fmt::Formatter<'_>, ids: &[OpId]) -> fmt::Result {
    const SHOWN: usize = 32;
    for (i, id) in ids.iter().take(SHOWN).enumerate() {
        if i > 0 {
            f.write_str(" ")?;
        }
        write!(f, "{id}")?;
    }
    if ids.len() > SHOWN {
        write!(f, " ... ({} more)", ids.len() - SHOWN)?;
    }
    Ok(())
}

/// Checks whether `history` is linearizable with respect to the model `M`, giving up with
/// [`Verdict::Unknown`] once `budget` has elapsed (or the memo table grows too large).
///
/// Operations are grouped by [`Model::partition`] and each group is checked against a fresh
/// `M::default()`. Operations whose key is `None` form a group of their own (so if every key is
/// `None`, the whole history is one group). Groups are checked in parallel when the history is
/// large.
///
/// The result does not depend on thread timing. With several groups, the search proceeds in
/// rounds that give each undecided group a growing number of search steps (so one group that is
/// very hard to decide cannot hide a failure that is cheap to find in another). A
/// non-linearizable history is reported for the group with the smallest key (`None` first) among
/// those that fail in the earliest round in which any group fails; this is the smallest failing
/// key whenever the groups are quick to decide, and is in any case a deterministic choice.
///
/// Operations that never returned may be linearized anywhere after their invocation, or left out;
/// their output is not checked.
///
/// # Example
///
/// ```
/// use crosscheck::history::History;
/// use crosscheck::linearizability::{check, Verdict};
/// use crosscheck::Model;
/// use std::time::Duration;
///
/// #[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
/// struct Register(u32);
///
/// #[derive(Clone, Debug)]
/// enum Op { Read, Write(u32) }
///
/// impl Model for Register {
///     type Op = Op;
///     type Output = Option<u32>;
///     fn step(&mut self, op: &Op) -> Option<u32> {
///         match op {
///             Op::Read => Some(self.0),
///             Op::Write(v) => { self.0 = *v; None }
///         }
///     }
/// }
///
/// // Client 0 writes 1 while client 1 reads twice: reading 1 then 0 is impossible.
/// let mut h = History::new();
/// let w = h.invoke(0, Op::Write(1));
/// let r1 = h.invoke(1, Op::Read);
/// h.ret(r1, Some(1)).unwrap();
/// let r2 = h.invoke(1, Op::Read);
/// h.ret(r2, Some(0)).unwrap();
/// h.ret(w, None).unwrap();
/// let verdict = check::<Register>(&h, Duration::from_secs(1));
/// assert!(matches!(verdict, Verdict::NotLinearizable(_)));
///
/// // Reading 0 then 1 is fine: the write took effect between the reads.
/// let mut h = History::new();
/// let w = h.invoke(0, Op::Write(1));
/// let r1 = h.invoke(1, Op::Read);
/// h.ret(r1, Some(0)).unwrap();
/// let r2 = h.invoke(1, Op::Read);
/// h.ret(r2, Some(1)).unwrap();
/// h.ret(w, None).unwrap();
/// match check::<Register>(&h, Duration::from_secs(1)) {
///     Verdict::Linearizable(witness) => assert_eq!(witness.order, vec![r1, w, r2]),
///     other => panic!("unexpected verdict: {other}"),
/// }
/// ```
pub fn check<M: Model>(history: &History<M::Op, M::Output>, budget: Duration) -> Verdict {
    if let Some(nothing) = zero_budget(history, budget) {
        return nothing;
    }
    let deadline = Instant::now().checked_add(budget);
    let groups = partitions::<M>(history, |_| true);
    let parallel = groups.len() > 1 && history.len() >= PARALLEL_MIN_OPS;

    // With several groups, a hard but linearizable group (or a hard failing one) must not delay
    // the report of a failure that is cheap to find elsewhere. So groups are searched in rounds
    // with a growing step allowance, and the reported group is the first one, in key order, of
    // those that fail in the earliest round where any fails. Step counts do not depend on
    // timing, so the choice is deterministic.
    let mut allowance = if groups.len() > 1 { FIRST_ROUND_STEPS } else { u64::MAX };
    let mut outcomes: Vec<Option<Outcome>> = (0..groups.len()).map(|_| None).collect();
    loop {
        let undecided: Vec<usize> = (0..groups.len())
            .filter(|&i| matches!(outcomes[i], None | Some(Outcome::OutOfSteps)))
            .collect();
        if undecided.is_empty() {
            break;
        }
        let round = if parallel && undecided.len() > 1 {
            round_parallel::<M>(history, &groups, &undecided, deadline, allowance)
        } else {
            round_sequential::<M>(history, &groups, &undecided, deadline, allowance)
        };
        for (i, outcome) in round {
            if let Outcome::NotLinearizable { prefix, unplaceable } = outcome {
                return Verdict::NotLinearizable(Evidence {
                    partition: groups[i].0,
                    prefix: prefix.into_iter().map(OpId).collect(),
                    unplaceable: unplaceable.into_iter().map(OpId).collect(),
                });
            }
            outcomes[i] = Some(outcome);
        }
        allowance = allowance.saturating_mul(4);
    }

    let mut orders = Vec::with_capacity(groups.len());
    for ((key, _), outcome) in groups.iter().zip(outcomes) {
        match outcome {
            Some(Outcome::Linearizable(order)) => orders.push(order),
            Some(Outcome::Unknown(reason)) => {
                let reason = match key {
                    Some(k) => format!("partition {k}: {reason}"),
                    None => reason,
                };
                return Verdict::Unknown(Unknown { reason });
            }
            other => unreachable!("undecided group after the last round: {other:?}"),
        }
    }
    Verdict::Linearizable(merge_orders(history, orders))
}

/// With no time at all, nothing can be decided, however small the history.
fn zero_budget<Op, Out>(history: &History<Op, Out>, budget: Duration) -> Option<Verdict> {
    (budget.is_zero() && !history.is_empty()).then(|| {
        Verdict::Unknown(Unknown {
            reason: "the time budget is zero".to_string(),
        })
    })
}

/// The ids of the operations `keep` keeps, grouped by [`Model::partition`], in key order.
fn partitions<M: Model>(
    history: &History<M::Op, M::Output>,
    keep: impl Fn(&crate::history::Operation<M::Op, M::Output>) -> bool,
) -> Vec<(Option<u64>, Vec<usize>)> {
    let mut groups: BTreeMap<Option<u64>, Vec<usize>> = BTreeMap::new();
    for operation in history.operations().iter().filter(|o| keep(o)) {
        groups
            .entry(M::partition(&operation.op))
            .or_default()
            .push(operation.id.0);
    }
    groups.into_iter().collect()
}

fn limits(deadline: Option<Instant>, cancelled: &(dyn Fn() -> bool + Sync), max_steps: u64) -> Limits<'_> {
    Limits {
        deadline,
        max_cache_entries: MAX_CACHE_ENTRIES,
        max_cache_words: MAX_CACHE_WORDS,
        cancelled,
        max_steps,
    }
}

/// Searches the groups `undecided` (in key order) with `allowance` steps each. Returns their
/// outcomes in key order, stopping after the first failure: later groups cannot be reported.
fn round_sequential<M: Model>(
    history: &History<M::Op, M::Output>,
    groups: &[(Option<u64>, Vec<usize>)],
    undecided: &[usize],
    deadline: Option<Instant>,
    allowance: u64,
) -> Vec<(usize, Outcome)> {
    let never = || false;
    let limits = limits(deadline, &never, allowance);
    let mut outcomes = Vec::with_capacity(undecided.len());
    for &i in undecided {
        let outcome = search::search::<M>(history, &groups[i].1, &limits);
        let failed = matches!(outcome, Outcome::NotLinearizable { .. });
        outcomes.push((i, outcome));
        if failed {
            break;
        }
    }
    outcomes
}

/// Like [`round_sequential`], with the groups spread over worker threads. A failure cancels only
/// groups after it in key order, so the result is the same as sequentially.
fn round_parallel<M: Model>(
    history: &History<M::Op, M::Output>,
    groups: &[(Option<u64>, Vec<usize>)],
    undecided: &[usize],
    deadline: Option<Instant>,
    allowance: u64,
) -> Vec<(usize, Outcome)> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(undecided.len());
    let next = AtomicUsize::new(0);
    let first_failure = AtomicUsize::new(usize::MAX);
    let results: Mutex<Vec<(usize, Outcome)>> = Mutex::new(Vec::with_capacity(undecided.len()));
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                if k >= undecided.len() || k > first_failure.load(Ordering::Relaxed) {
                    break;
                }
                let cancelled = || first_failure.load(Ordering::Relaxed) < k;
                let limits = limits(deadline, &cancelled, allowance);
                let outcome = search::search::<M>(history, &groups[undecided[k]].1, &limits);
                if matches!(outcome, Outcome::NotLinearizable { .. }) {
                    first_failure.fetch_min(k, Ordering::Relaxed);
                }
                results.lock().unwrap_or_else(|e| e.into_inner()).push((k, outcome));
            });
        }
    });
    let first = first_failure.into_inner();
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    // What was computed (or cancelled) after the first failure is dropped, as sequentially.
    results.retain(|(k, _)| *k <= first);
    results.sort_unstable_by_key(|(k, _)| *k);
    results
        .into_iter()
        .map(|(k, outcome)| (undecided[k], outcome))
        .collect()
}

/// Interleaves the groups' linearizations into one order that respects real time.
///
/// Within a group, the op at position `k` gets the linearization point `max(invoked of ops
/// 0..=k)`. That point is at most the op's own return (an earlier op invoked after this op
/// returned would violate real time within the group), and points are non-decreasing along the
/// group, so sorting all ops by point keeps each group's order; and if `a` returned before `b`
/// was invoked, `point(a) <= returned(a) < invoked(b) <= point(b)`.
fn merge_orders<Op, Output>(history: &History<Op, Output>, orders: Vec<Vec<usize>>) -> Witness {
    let ops = history.operations();
    let mut keyed: Vec<(usize, usize, usize, usize)> = Vec::new();
    for (group, order) in orders.iter().enumerate() {
        let mut point = 0;
        for (position, &op) in order.iter().enumerate() {
            point = point.max(ops[op].invoked);
            keyed.push((point, group, position, op));
        }
    }
    keyed.sort_unstable();
    Witness {
        order: keyed.into_iter().map(|(_, _, _, op)| OpId(op)).collect(),
    }
}
