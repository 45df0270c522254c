//! What the controlled backends note about locks over a whole check, execution by execution: the
//! lock-order graph (see [`crate::lock_order`]) and the contention figures (see
//! [`crate::lock_stats`]). Shuttle and loom feed it the same records, so both find the same
//! inversions and print the same figures.

use crate::lock_order::LockOrder;
use crate::lock_stats::{Contention, LockStats};
use crate::report::{self, Failure, FailureKind};
use crate::resource::Resource;
use crate::runtime::ExecutionRecord;
use crate::scenario::Scenario;

/// The lock-order graph (when the analysis is on) and the figures of one check.
#[derive(Default)]
pub(crate) struct LockWatch {
    order: Option<LockOrder>,
    contention: Contention,
}

/// A lock-order cycle an execution closed: the failure kind, and whether that execution showed
/// every edge of it (then its schedule reproduces the finding).
pub(crate) struct Closed {
    pub kind: FailureKind,
    pub within_one_execution: bool,
}

impl LockWatch {
    /// A watch for one check; `lock_order` turns the lock-order analysis on.
    pub(crate) fn new(lock_order: bool) -> Self {
        LockWatch {
            order: lock_order.then(LockOrder::default),
            contention: Contention::default(),
        }
    }

    /// Adds the execution that just ended (of `scenario`); returns the inversion when its edges
    /// closed the check's first lock-order cycle.
    pub(crate) fn absorb<R: Resource>(
        &mut self,
        record: &ExecutionRecord,
        scenario: &Scenario<R::Op>,
    ) -> Option<Closed> {
        self.contention.absorb(record);
        let order = self.order.as_mut()?;
        if record.locks.edges.is_empty() {
            order.absorb(record, |_| String::new());
            return None;
        }
        let names = report::op_texts::<R>(scenario, &[]).0;
        if !order.absorb(record, |op| names.get(op).cloned().unwrap_or_default()) {
            return None;
        }
        let inversion = order.inversion()?.clone();
        Some(Closed {
            kind: FailureKind::LockOrderInversion {
                edges: inversion.edges,
                deadlock: None,
            },
            within_one_execution: inversion.within_one_execution,
        })
    }

    /// The contention figures gathered so far, per lock class.
    pub(crate) fn stats(&mut self) -> Vec<LockStats> {
        std::mem::take(&mut self.contention).into_stats()
    }
}

/// Drops a failure's token and interleaving: for a lock-order cycle whose edges came from several
/// executions, no single schedule shows them all.
pub(crate) fn forget_schedule<Op>(failure: &mut Failure<Op>) {
    let data = failure.data_mut();
    data.token = None;
    data.page = None;
    if let Some(parts) = data.parts.as_mut() {
        parts.token = None;
        parts.page = None;
        parts.interleaving.clear();
    }
}

/// Interleaving lines a livelock's report shows (the first and last half).
const LIVELOCK_LINES: usize = 60;

/// A livelock repeats itself: its report shows how it began and what repeats, not every step.
pub(crate) fn trim_livelock(kind: &FailureKind, interleaving: &mut Vec<String>) {
    if !matches!(kind, FailureKind::Livelock { .. }) || interleaving.len() <= LIVELOCK_LINES {
        return;
    }
    let skipped = interleaving.len() - LIVELOCK_LINES;
    interleaving.drain(LIVELOCK_LINES / 2..LIVELOCK_LINES / 2 + skipped);
    interleaving.insert(
        LIVELOCK_LINES / 2,
        format!("      ... {skipped} more lines like the ones around ..."),
    );
}
