//! What every atomic type shares: its three implementations, naming, and the operations std gives
//! all of them (load, store, swap, the compare-exchanges, `fetch_update`), each announced to the
//! scheduler before and recorded after it runs. The integer, boolean and pointer files add their
//! own read-modify-writes with [`rmw!`].

/// Defines `$name` (holding a `$t`, recorded through `$value: fn($t) -> Value`) with its common
/// operations. Expects `Inner` to be free in the calling module.
macro_rules! atomic_type {
    ($(#[$doc:meta])* $name:ident $(<$g:ident>)?, $t:ty, $value:expr, $default:expr) => {
        $(#[$doc])*
        pub struct $name $(<$g>)? {
            id: Option<usize>,
            inner: Inner $(<$g>)?,
        }

        impl $(<$g>)? $name $(<$g>)? {
            /// A new atomic holding `value`. Reports name it by where it was created.
            #[track_caller]
            pub fn new(value: $t) -> Self {
                match runtime::backend() {
                    Backend::Std => $name { id: None, inner: Inner::Std(StdAtomic::new(value)) },
                    Backend::Shuttle => $name {
                        id: runtime::new_sited::<Self>(ObjectKind::Atomic),
                        inner: Inner::Shuttle(ShuttleAtomic::new(value)),
                    },
                    Backend::Loom => $name {
                        id: runtime::new_sited::<Self>(ObjectKind::Atomic),
                        inner: Inner::Loom(LoomAtomic::new(value)),
                    },
                }
            }

            /// Gives the atomic the name reports use for it (`atomic "ready" (src/flag.rs:12)`).
            pub fn named(self, name: impl Into<std::borrow::Cow<'static, str>>) -> Self {
                runtime::name_object(self.id, name.into());
                self
            }

            fn v(x: $t) -> Value {
                ($value)(x)
            }

            /// Reads the value.
            pub fn load(&self, order: Ordering) -> $t {
                runtime::announce(self.id, AccessKind::Read);
                let value = match &self.inner {
                    Inner::Std(a) => return a.load(order),
                    Inner::Shuttle(a) => a.load(order),
                    Inner::Loom(a) => a.load(order),
                };
                record(self.id, |obj| EventKind::Load { obj, value: Self::v(value) });
                runtime::clocks::atomic(self.id, AtomicAccess::Load, order);
                value
            }

            /// Writes the value.
            pub fn store(&self, value: $t, order: Ordering) {
                runtime::announce(self.id, AccessKind::Write);
                match &self.inner {
                    Inner::Std(a) => return a.store(value, order),
                    Inner::Shuttle(a) => a.store(value, order),
                    Inner::Loom(a) => a.store(value, order),
                }
                record(self.id, |obj| EventKind::Store { obj, value: Self::v(value) });
                runtime::clocks::atomic(self.id, AtomicAccess::Store, order);
            }

            /// Writes `value` and returns the previous value.
            pub fn swap(&self, value: $t, order: Ordering) -> $t {
                rmw!(self, order, |a| a.swap(value, order), |_old| value)
            }

            /// Writes `new` if the value is `current`; returns the previous value either way.
            pub fn compare_exchange(&self, current: $t, new: $t, success: Ordering, failure: Ordering) -> Result<$t, $t> {
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
                cas_clocks(self.id, result.is_ok(), success, failure);
                result
            }

            /// Like `compare_exchange`, but may fail even when the value is `current` (returning
            /// `Err(current)`): under the controlled schedulers, when the scheduler chooses so (see
            /// the module docs); under loom, never.
            pub fn compare_exchange_weak(&self, current: $t, new: $t, success: Ordering, failure: Ordering) -> Result<$t, $t> {
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
                        cas_clocks(self.id, result.is_ok(), success, failure);
                        result
                    }
                }
            }

            /// Applies `f` to the value and writes what it returns, unless it returns `None`;
            /// returns the previous value (`Err` when `f` declined). Under a check it is one atomic
            /// step: `f` runs once, on the value the step sees (std may call it several times on a
            /// contended value; the outcome is the same).
            pub fn fetch_update<F>(&self, set_order: Ordering, fetch_order: Ordering, mut f: F) -> Result<$t, $t>
            where
                F: FnMut($t) -> Option<$t>,
            {
                if let Inner::Std(a) = &self.inner {
                    return a.fetch_update(set_order, fetch_order, f);
                }
                runtime::announce(self.id, AccessKind::Write);
                let mut wrote = None;
                let g = |now| {
                    wrote = f(now);
                    wrote
                };
                let result = match &self.inner {
                    Inner::Std(_) => unreachable!("returned above"),
                    Inner::Shuttle(a) => a.fetch_update(set_order, fetch_order, g),
                    Inner::Loom(a) => a.fetch_update(set_order, fetch_order, g),
                };
                match (result, wrote) {
                    (Ok(old), Some(new)) => record(self.id, |obj| EventKind::Rmw { obj, old: Self::v(old), new: Self::v(new) }),
                    (Ok(now) | Err(now), _) => record(self.id, |obj| EventKind::CasFailed { obj, current: Self::v(now) }),
                }
                cas_clocks(self.id, result.is_ok(), set_order, fetch_order);
                result
            }

            /// Consumes the atomic and returns the value.
            pub fn into_inner(self) -> $t {
                match self.inner {
                    Inner::Std(a) => a.into_inner(),
                    Inner::Shuttle(a) => a.into_inner(),
                    Inner::Loom(a) => a.into_inner(),
                }
            }
        }

        impl $(<$g>)? Default for $name $(<$g>)? {
            #[track_caller]
            fn default() -> Self {
                Self::new($default)
            }
        }

        impl $(<$g>)? std::fmt::Debug for $name $(<$g>)? {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match &self.inner {
                    Inner::Std(a) => std::fmt::Debug::fmt(a, f),
                    Inner::Shuttle(_) | Inner::Loom(_) => f.write_str(stringify!($name)),
                }
            }
        }
    };
}

/// One read-modify-write: announced as a write, run on whichever implementation the atomic has,
/// recorded with the old value and the new one `$new(old)` computes.
macro_rules! rmw {
    ($self:ident, $order:expr, |$a:ident| $call:expr, |$old:ident| $new:expr) => {{
        runtime::announce($self.id, AccessKind::Write);
        let $old = match &$self.inner {
            Inner::Std($a) => return $call,
            Inner::Shuttle($a) => $call,
            Inner::Loom($a) => $call,
        };
        let new = $new;
        record($self.id, |obj| EventKind::Rmw {
            obj,
            old: Self::v($old),
            new: Self::v(new),
        });
        $old
    }};
}
