//! Atomic integers of every width, booleans and pointers: std's API, each operation a scheduling
//! point under a check, with the value read or written recorded for the report.
//!
//! shuttle's schedulers are sequentially consistent: every ordering behaves like `SeqCst` under
//! them, so a bug that needs a weaker ordering is not found by them. Under `Scheduler::Loom` the
//! orderings are honoured: a `Relaxed` load may return an older value, as on real hardware.
//!
//! `compare_exchange_weak` may fail even when the value matched, as std permits (LL/SC machines
//! such as ARM do it when the reservation is lost). Under the controlled schedulers each weak CAS
//! whose value matched is a choice point: the scheduler may make it fail, returning the current
//! value (which equals the expected one). After a thread's weak CAS failed spuriously its next one
//! is not offered the surprise, so a retry loop always gets through.
//! [`Checker::spurious`](crate::Checker::spurious) turns them off; loom never produces them.

pub use std::sync::atomic::Ordering;

use crate::runtime::{self, Backend, EventKind};

#[macro_use]
mod common;
mod bool;
mod int;
mod ptr;

pub use self::bool::AtomicBool;
pub use int::{
    AtomicI16, AtomicI32, AtomicI64, AtomicI8, AtomicIsize, AtomicU16, AtomicU32, AtomicU64, AtomicU8, AtomicUsize,
};
pub use ptr::AtomicPtr;

/// A memory fence: std's outside a check, loom's under `Scheduler::Loom` (where it orders the
/// surrounding accesses as std says). shuttle's schedulers are sequentially consistent, so under
/// them it orders nothing more, but it does count for the data-race check's happens-before (a
/// release fence before a `Relaxed` store, an acquire fence after a `Relaxed` load, as C11 says).
/// It is not a scheduling point, as in shuttle.
pub fn fence(order: Ordering) {
    match runtime::backend() {
        Backend::Loom => loom::sync::atomic::fence(order),
        Backend::Shuttle => runtime::clocks::fence(order),
        Backend::Std => std::sync::atomic::fence(order),
    }
}

/// A compiler fence: std's under every backend (it emits no instruction, and no controlled
/// scheduler reorders a thread's own accesses).
pub fn compiler_fence(order: Ordering) {
    std::sync::atomic::compiler_fence(order)
}

/// A compare-exchange's happens-before edges: a read-modify-write with the success ordering, or a
/// load with the failure one.
fn cas_clocks(id: Option<usize>, succeeded: bool, success: Ordering, failure: Ordering) {
    use runtime::clocks::{atomic, AtomicAccess};
    match succeeded {
        true => atomic(id, AtomicAccess::Rmw, success),
        false => atomic(id, AtomicAccess::Load, failure),
    }
}

fn record(id: Option<usize>, kind: impl FnOnce(usize) -> EventKind) {
    if let Some(obj) = id {
        runtime::record(kind(obj));
    }
}
