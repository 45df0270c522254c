//! The atomic pointer: the common operations. Reports show a pointer as its address.

use super::{cas_clocks, record, Ordering};
use crate::runtime::clocks::AtomicAccess;
use crate::runtime::{self, AccessKind, Backend, EventKind, ObjectKind, Value};
use crate::scheduler::ChoiceKind;

type StdAtomic<T> = std::sync::atomic::AtomicPtr<T>;
type ShuttleAtomic<T> = crate::engine::atomic::AtomicPtr<T>;
type LoomAtomic<T> = loom::sync::atomic::AtomicPtr<T>;

enum Inner<T> {
    Std(StdAtomic<T>),
    Shuttle(ShuttleAtomic<T>),
    Loom(LoomAtomic<T>),
}

atomic_type!(
    /// An atomic raw pointer: `std::sync::atomic::AtomicPtr`'s API, scheduled and recorded under a
    /// check (reports show the address).
    AtomicPtr<T>, *mut T, |p: *mut T| Value::Unsigned(p as usize as u64), std::ptr::null_mut()
);
