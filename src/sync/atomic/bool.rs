//! The atomic boolean: the common operations plus the logical read-modify-writes.

use super::{cas_clocks, record, Ordering};
use crate::runtime::clocks::AtomicAccess;
use crate::runtime::{self, AccessKind, Backend, EventKind, ObjectKind, Value};
use crate::scheduler::ChoiceKind;

type StdAtomic = std::sync::atomic::AtomicBool;
type ShuttleAtomic = crate::engine::atomic::AtomicBool;
type LoomAtomic = loom::sync::atomic::AtomicBool;

enum Inner {
    Std(StdAtomic),
    Shuttle(ShuttleAtomic),
    Loom(LoomAtomic),
}

atomic_type!(
    /// An atomic `bool`: `std::sync::atomic::AtomicBool`'s API, scheduled and recorded under a check.
    AtomicBool, bool, Value::Bool, false
);

impl AtomicBool {
    /// Logical "and" with `value`; returns the previous value.
    pub fn fetch_and(&self, value: bool, order: Ordering) -> bool {
        rmw!(self, order, |a| a.fetch_and(value, order), |old| old & value)
    }

    /// Logical "nand" with `value`; returns the previous value.
    pub fn fetch_nand(&self, value: bool, order: Ordering) -> bool {
        rmw!(self, order, |a| a.fetch_nand(value, order), |old| !(old & value))
    }

    /// Logical "or" with `value`; returns the previous value.
    pub fn fetch_or(&self, value: bool, order: Ordering) -> bool {
        rmw!(self, order, |a| a.fetch_or(value, order), |old| old | value)
    }

    /// Logical "xor" with `value`; returns the previous value.
    pub fn fetch_xor(&self, value: bool, order: Ordering) -> bool {
        rmw!(self, order, |a| a.fetch_xor(value, order), |old| old ^ value)
    }

    /// Logical "not": flips the value and returns the previous one.
    pub fn fetch_not(&self, order: Ordering) -> bool {
        // loom has no `fetch_not`; "xor true" is the same operation.
        self.fetch_xor(true, order)
    }
}
