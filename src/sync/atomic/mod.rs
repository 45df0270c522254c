//! Atomic integers and booleans: std's API, each operation a scheduling point under a check, with
//! the value read or written recorded for the report.
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

use crate::runtime::{self, AccessKind, Backend, EventKind, ObjectKind, Value};
use crate::scheduler::ChoiceKind;

fn record(id: Option<usize>, kind: impl FnOnce(usize) -> EventKind) {
    if let Some(obj) = id {
        runtime::record(kind(obj));
    }
}

macro_rules! atomic_int {
    ($(#[$doc:meta])* $name:ident, $int:ty, $value:ident, $cast:ty) => {
        $(#[$doc])*
        pub struct $name {
            id: Option<usize>,
            inner: Inner,
        }

        enum Inner {
            Std(std::sync::atomic::$name),
            Shuttle(shuttle::sync::atomic::$name),
            Loom(loom::sync::atomic::$name),
        }

        impl $name {
            /// A new atomic holding `value`. Reports name it by where it was created.
            #[track_caller]
            pub fn new(value: $int) -> Self {
                match runtime::backend() {
                    Backend::Std => $name { id: None, inner: Inner::Std(std::sync::atomic::$name::new(value)) },
                    Backend::Shuttle => $name {
                        id: runtime::new_sited::<$name>(ObjectKind::Atomic),
                        inner: Inner::Shuttle(shuttle::sync::atomic::$name::new(value)),
                    },
                    Backend::Loom => $name {
                        id: runtime::new_sited::<$name>(ObjectKind::Atomic),
                        inner: Inner::Loom(loom::sync::atomic::$name::new(value)),
                    },
                }
            }

            /// Gives the atomic the name reports use for it (`atomic "ready" (src/flag.rs:12)`).
            pub fn named(self, name: impl Into<std::borrow::Cow<'static, str>>) -> Self {
                runtime::name_object(self.id, name.into());
                self
            }

            fn v(x: $int) -> Value {
                Value::$value(x as $cast)
            }

            /// Reads the value.
            pub fn load(&self, order: Ordering) -> $int {
                runtime::announce(self.id, AccessKind::Read);
                let value = match &self.inner {
                    Inner::Std(a) => return a.load(order),
                    Inner::Shuttle(a) => a.load(order),
                    Inner::Loom(a) => a.load(order),
                };
                record(self.id, |obj| EventKind::Load { obj, value: Self::v(value) });
                value
            }

            /// Writes the value.
            pub fn store(&self, value: $int, order: Ordering) {
                runtime::announce(self.id, AccessKind::Write);
                match &self.inner {
                    Inner::Std(a) => return a.store(value, order),
                    Inner::Shuttle(a) => a.store(value, order),
                    Inner::Loom(a) => a.store(value, order),
                }
                record(self.id, |obj| EventKind::Store { obj, value: Self::v(value) });
            }

            /// Writes `value` and returns the previous value.
            pub fn swap(&self, value: $int, order: Ordering) -> $int {
                runtime::announce(self.id, AccessKind::Write);
                let old = match &self.inner {
                    Inner::Std(a) => return a.swap(value, order),
                    Inner::Shuttle(a) => a.swap(value, order),
                    Inner::Loom(a) => a.swap(value, order),
                };
                record(self.id, |obj| EventKind::Rmw { obj, old: Self::v(old), new: Self::v(value) });
                old
            }

            /// Writes `new` if the value is `current`; returns the previous value either way.
            pub fn compare_exchange(&self, current: $int, new: $int, success: Ordering, failure: Ordering) -> Result<$int, $int> {
                runtime::announce(self.id, AccessKind::Write);
                let result = match &self.inner {
                    Inner::Std(a) => return a.compare_exchange(current, new, success, failure),
                    Inner::Shuttle(a) => a.compare_exchange(current, new, success, failure),
                    Inner::Loom(a) => a.compare_exchange(current, new, success, failure),
                };
                match result {
                    Ok(old) => record(self.id, |obj| EventKind::Rmw { obj, old: Self::v(old), new: Self::v(new) }),
                    Err(now) => record(self.id, |obj| EventKind::CasFailed { obj, current: Self::v(now) }),
                }
                result
            }

            /// Like `compare_exchange`, but may fail even when the value is `current` (returning
            /// `Err(current)`): under the controlled schedulers, when the scheduler chooses so (see
            /// the module docs); under loom, never.
            pub fn compare_exchange_weak(&self, current: $int, new: $int, success: Ordering, failure: Ordering) -> Result<$int, $int> {
                match &self.inner {
                    Inner::Std(a) => a.compare_exchange_weak(current, new, success, failure),
                    Inner::Loom(_) => self.compare_exchange(current, new, success, failure),
                    Inner::Shuttle(a) => {
                        let mut spurious = false;
                        // One atomic step, like `compare_exchange`: the closure runs once, after
                        // the scheduling point, and offers the choice only when the value matched.
                        let result = a.fetch_update(success, failure, |now| {
                            if now != current {
                                return None;
                            }
                            spurious = runtime::choose(ChoiceKind::SpuriousCasFailure, 2) == 1;
                            (!spurious).then_some(new)
                        });
                        match result {
                            Ok(old) => record(self.id, |obj| EventKind::Rmw { obj, old: Self::v(old), new: Self::v(new) }),
                            Err(now) if spurious => record(self.id, |obj| EventKind::CasFailedSpuriously { obj, current: Self::v(now) }),
                            Err(now) => record(self.id, |obj| EventKind::CasFailed { obj, current: Self::v(now) }),
                        }
                        result
                    }
                }
            }

            /// Adds to the value (wrapping) and returns the previous value.
            pub fn fetch_add(&self, value: $int, order: Ordering) -> $int {
                runtime::announce(self.id, AccessKind::Write);
                let old = match &self.inner {
                    Inner::Std(a) => return a.fetch_add(value, order),
                    Inner::Shuttle(a) => a.fetch_add(value, order),
                    Inner::Loom(a) => a.fetch_add(value, order),
                };
                record(self.id, |obj| EventKind::Rmw { obj, old: Self::v(old), new: Self::v(old.wrapping_add(value)) });
                old
            }

            /// Subtracts from the value (wrapping) and returns the previous value.
            pub fn fetch_sub(&self, value: $int, order: Ordering) -> $int {
                runtime::announce(self.id, AccessKind::Write);
                let old = match &self.inner {
                    Inner::Std(a) => return a.fetch_sub(value, order),
                    Inner::Shuttle(a) => a.fetch_sub(value, order),
                    Inner::Loom(a) => a.fetch_sub(value, order),
                };
                record(self.id, |obj| EventKind::Rmw { obj, old: Self::v(old), new: Self::v(old.wrapping_sub(value)) });
                old
            }

            /// Stores the maximum of the value and `value`; returns the previous value.
            pub fn fetch_max(&self, value: $int, order: Ordering) -> $int {
                runtime::announce(self.id, AccessKind::Write);
                let old = match &self.inner {
                    Inner::Std(a) => return a.fetch_max(value, order),
                    Inner::Shuttle(a) => a.fetch_max(value, order),
                    Inner::Loom(a) => a.fetch_max(value, order),
                };
                record(self.id, |obj| EventKind::Rmw { obj, old: Self::v(old), new: Self::v(old.max(value)) });
                old
            }

            /// Stores the minimum of the value and `value`; returns the previous value.
            pub fn fetch_min(&self, value: $int, order: Ordering) -> $int {
                runtime::announce(self.id, AccessKind::Write);
                let old = match &self.inner {
                    Inner::Std(a) => return a.fetch_min(value, order),
                    Inner::Shuttle(a) => a.fetch_min(value, order),
                    Inner::Loom(a) => a.fetch_min(value, order),
                };
                record(self.id, |obj| EventKind::Rmw { obj, old: Self::v(old), new: Self::v(old.min(value)) });
                old
            }

            /// Consumes the atomic and returns the value.
            pub fn into_inner(self) -> $int {
                match self.inner {
                    Inner::Std(a) => a.into_inner(),
                    Inner::Shuttle(a) => a.into_inner(),
                    Inner::Loom(a) => a.into_inner(),
                }
            }
        }

        impl Default for $name {
            #[track_caller]
            fn default() -> Self {
                Self::new(0)
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match &self.inner {
                    Inner::Std(a) => std::fmt::Debug::fmt(a, f),
                    Inner::Shuttle(_) | Inner::Loom(_) => f.write_str(stringify!($name)),
                }
            }
        }
    };
}

mod usize_impl {
    use super::*;
    atomic_int!(
        /// An atomic `usize`.
        AtomicUsize, usize, Unsigned, u64
    );
}
mod u64_impl {
    use super::*;
    atomic_int!(
        /// An atomic `u64`.
        AtomicU64, u64, Unsigned, u64
    );
}
mod i64_impl {
    use super::*;
    atomic_int!(
        /// An atomic `i64`.
        AtomicI64, i64, Signed, i64
    );
}

pub use i64_impl::AtomicI64;
pub use u64_impl::AtomicU64;
pub use usize_impl::AtomicUsize;

/// An atomic `bool`.
pub struct AtomicBool {
    id: Option<usize>,
    inner: BoolInner,
}

enum BoolInner {
    Std(std::sync::atomic::AtomicBool),
    Shuttle(shuttle::sync::atomic::AtomicBool),
    Loom(loom::sync::atomic::AtomicBool),
}

impl AtomicBool {
    /// A new atomic holding `value`. Reports name it by where it was created.
    #[track_caller]
    pub fn new(value: bool) -> Self {
        match runtime::backend() {
            Backend::Std => AtomicBool {
                id: None,
                inner: BoolInner::Std(std::sync::atomic::AtomicBool::new(value)),
            },
            Backend::Shuttle => AtomicBool {
                id: runtime::new_sited::<AtomicBool>(ObjectKind::Atomic),
                inner: BoolInner::Shuttle(shuttle::sync::atomic::AtomicBool::new(value)),
            },
            Backend::Loom => AtomicBool {
                id: runtime::new_sited::<AtomicBool>(ObjectKind::Atomic),
                inner: BoolInner::Loom(loom::sync::atomic::AtomicBool::new(value)),
            },
        }
    }

    /// Gives the atomic the name reports use for it (`atomic "ready" (src/flag.rs:12)`).
    pub fn named(self, name: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        runtime::name_object(self.id, name.into());
        self
    }

    /// Reads the value.
    pub fn load(&self, order: Ordering) -> bool {
        runtime::announce(self.id, AccessKind::Read);
        let value = match &self.inner {
            BoolInner::Std(a) => return a.load(order),
            BoolInner::Shuttle(a) => a.load(order),
            BoolInner::Loom(a) => a.load(order),
        };
        record(self.id, |obj| EventKind::Load {
            obj,
            value: Value::Bool(value),
        });
        value
    }

    /// Writes the value.
    pub fn store(&self, value: bool, order: Ordering) {
        runtime::announce(self.id, AccessKind::Write);
        match &self.inner {
            BoolInner::Std(a) => return a.store(value, order),
            BoolInner::Shuttle(a) => a.store(value, order),
            BoolInner::Loom(a) => a.store(value, order),
        }
        record(self.id, |obj| EventKind::Store {
            obj,
            value: Value::Bool(value),
        });
    }

    /// Writes `value` and returns the previous value.
    pub fn swap(&self, value: bool, order: Ordering) -> bool {
        runtime::announce(self.id, AccessKind::Write);
        let old = match &self.inner {
            BoolInner::Std(a) => return a.swap(value, order),
            BoolInner::Shuttle(a) => a.swap(value, order),
            BoolInner::Loom(a) => a.swap(value, order),
        };
        record(self.id, |obj| EventKind::Rmw {
            obj,
            old: Value::Bool(old),
            new: Value::Bool(value),
        });
        old
    }

    /// Writes `new` if the value is `current`; returns the previous value either way.
    pub fn compare_exchange(
        &self,
        current: bool,
        new: bool,
        success: Ordering,
        failure: Ordering,
    ) -> Result<bool, bool> {
        runtime::announce(self.id, AccessKind::Write);
        let result = match &self.inner {
            BoolInner::Std(a) => return a.compare_exchange(current, new, success, failure),
            BoolInner::Shuttle(a) => a.compare_exchange(current, new, success, failure),
            BoolInner::Loom(a) => a.compare_exchange(current, new, success, failure),
        };
        match result {
            Ok(old) => record(self.id, |obj| EventKind::Rmw {
                obj,
                old: Value::Bool(old),
                new: Value::Bool(new),
            }),
            Err(now) => record(self.id, |obj| EventKind::CasFailed {
                obj,
                current: Value::Bool(now),
            }),
        }
        result
    }

    /// Like `compare_exchange`, but may fail even when the value is `current` (returning
    /// `Err(current)`): under the controlled schedulers, when the scheduler chooses so (see the
    /// module docs); under loom, never.
    pub fn compare_exchange_weak(
        &self,
        current: bool,
        new: bool,
        success: Ordering,
        failure: Ordering,
    ) -> Result<bool, bool> {
        match &self.inner {
            BoolInner::Std(a) => a.compare_exchange_weak(current, new, success, failure),
            BoolInner::Loom(_) => self.compare_exchange(current, new, success, failure),
            BoolInner::Shuttle(a) => {
                let mut spurious = false;
                // One atomic step, like `compare_exchange` (see the integers' version).
                let result = a.fetch_update(success, failure, |now| {
                    if now != current {
                        return None;
                    }
                    spurious = runtime::choose(ChoiceKind::SpuriousCasFailure, 2) == 1;
                    (!spurious).then_some(new)
                });
                let value = |v| Value::Bool(v);
                match result {
                    Ok(old) => record(self.id, |obj| EventKind::Rmw {
                        obj,
                        old: value(old),
                        new: value(new),
                    }),
                    Err(now) if spurious => record(self.id, |obj| EventKind::CasFailedSpuriously {
                        obj,
                        current: value(now),
                    }),
                    Err(now) => record(self.id, |obj| EventKind::CasFailed {
                        obj,
                        current: value(now),
                    }),
                }
                result
            }
        }
    }

    /// Consumes the atomic and returns the value.
    pub fn into_inner(self) -> bool {
        match self.inner {
            BoolInner::Std(a) => a.into_inner(),
            BoolInner::Shuttle(a) => a.into_inner(),
            BoolInner::Loom(a) => a.into_inner(),
        }
    }
}

impl Default for AtomicBool {
    #[track_caller]
    fn default() -> Self {
        Self::new(false)
    }
}

impl std::fmt::Debug for AtomicBool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.inner {
            BoolInner::Std(a) => std::fmt::Debug::fmt(a, f),
            BoolInner::Shuttle(_) | BoolInner::Loom(_) => f.write_str("AtomicBool"),
        }
    }
}
