//! The atomic integers, one per width std has (128-bit ones are unstable in std and absent from
//! loom): the common operations plus the arithmetic and bitwise read-modify-writes.

macro_rules! atomic_int {
    ($module:ident, $name:ident, $int:ty, $value:ident, $cast:ty) => {
        mod $module {
            use super::super::{cas_clocks, record, Ordering};
            use crate::runtime::clocks::AtomicAccess;
            use crate::runtime::{self, AccessKind, Backend, EventKind, ObjectKind, Value};
            use crate::scheduler::ChoiceKind;

            type StdAtomic = std::sync::atomic::$name;
            type ShuttleAtomic = crate::engine::atomic::$name;
            type LoomAtomic = loom::sync::atomic::$name;

            enum Inner {
                Std(StdAtomic),
                Shuttle(ShuttleAtomic),
                Loom(LoomAtomic),
            }

            atomic_type!(
                #[doc = concat!("An atomic `", stringify!($int), "`: `std::sync::atomic::", stringify!($name), "`'s API, scheduled and recorded under a check.")]
                $name, $int, |x: $int| Value::$value(x as $cast), 0
            );

            impl $name {
                /// Adds to the value (wrapping) and returns the previous value.
                pub fn fetch_add(&self, value: $int, order: Ordering) -> $int {
                    rmw!(self, order, |a| a.fetch_add(value, order), |old| old.wrapping_add(value))
                }

                /// Subtracts from the value (wrapping) and returns the previous value.
                pub fn fetch_sub(&self, value: $int, order: Ordering) -> $int {
                    rmw!(self, order, |a| a.fetch_sub(value, order), |old| old.wrapping_sub(value))
                }

                /// Stores the maximum of the value and `value`; returns the previous value.
                pub fn fetch_max(&self, value: $int, order: Ordering) -> $int {
                    rmw!(self, order, |a| a.fetch_max(value, order), |old| old.max(value))
                }

                /// Stores the minimum of the value and `value`; returns the previous value.
                pub fn fetch_min(&self, value: $int, order: Ordering) -> $int {
                    rmw!(self, order, |a| a.fetch_min(value, order), |old| old.min(value))
                }

                /// Bitwise "and" with `value`; returns the previous value.
                pub fn fetch_and(&self, value: $int, order: Ordering) -> $int {
                    rmw!(self, order, |a| a.fetch_and(value, order), |old| old & value)
                }

                /// Bitwise "nand" with `value`; returns the previous value.
                pub fn fetch_nand(&self, value: $int, order: Ordering) -> $int {
                    rmw!(self, order, |a| a.fetch_nand(value, order), |old| !(old & value))
                }

                /// Bitwise "or" with `value`; returns the previous value.
                pub fn fetch_or(&self, value: $int, order: Ordering) -> $int {
                    rmw!(self, order, |a| a.fetch_or(value, order), |old| old | value)
                }

                /// Bitwise "xor" with `value`; returns the previous value.
                pub fn fetch_xor(&self, value: $int, order: Ordering) -> $int {
                    rmw!(self, order, |a| a.fetch_xor(value, order), |old| old ^ value)
                }
            }
        }
        pub use $module::$name;
    };
}

atomic_int!(i8_impl, AtomicI8, i8, Signed, i64);
atomic_int!(i16_impl, AtomicI16, i16, Signed, i64);
atomic_int!(i32_impl, AtomicI32, i32, Signed, i64);
atomic_int!(i64_impl, AtomicI64, i64, Signed, i64);
atomic_int!(isize_impl, AtomicIsize, isize, Signed, i64);
atomic_int!(u8_impl, AtomicU8, u8, Unsigned, u64);
atomic_int!(u16_impl, AtomicU16, u16, Unsigned, u64);
atomic_int!(u32_impl, AtomicU32, u32, Unsigned, u64);
atomic_int!(u64_impl, AtomicU64, u64, Unsigned, u64);
atomic_int!(usize_impl, AtomicUsize, usize, Unsigned, u64);
