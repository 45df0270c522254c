//! The engine's atomics: std's, with a scheduling point before every access.
//!
//! [`Atomic`] dereferences to the std atomic it wraps, and the dereference is the scheduling point:
//! every method call (`load`, `fetch_add`, `compare_exchange`, `fetch_update`, ...) goes through
//! exactly one, as each of shuttle's atomic operations switches once. The value itself needs no
//! more than the std atomic: every task runs on one OS thread, in the order the scheduler picks.

use std::ops::Deref;
use std::sync::atomic;

pub(crate) struct Atomic<A>(A);

impl<A> Deref for Atomic<A> {
    type Target = A;

    fn deref(&self) -> &A {
        super::switch();
        &self.0
    }
}

macro_rules! atomics {
    ($($name:ident: $t:ty),* $(,)?) => {$(
        pub(crate) type $name = Atomic<atomic::$name>;

        impl Atomic<atomic::$name> {
            pub(crate) const fn new(value: $t) -> Self {
                Atomic(atomic::$name::new(value))
            }

            pub(crate) fn into_inner(self) -> $t {
                self.0.into_inner()
            }
        }
    )*};
}

atomics! {
    AtomicBool: bool,
    AtomicI8: i8, AtomicI16: i16, AtomicI32: i32, AtomicI64: i64, AtomicIsize: isize,
    AtomicU8: u8, AtomicU16: u16, AtomicU32: u32, AtomicU64: u64, AtomicUsize: usize,
}

pub(crate) type AtomicPtr<T> = Atomic<atomic::AtomicPtr<T>>;

impl<T> Atomic<atomic::AtomicPtr<T>> {
    pub(crate) const fn new(value: *mut T) -> Self {
        Atomic(atomic::AtomicPtr::new(value))
    }

    pub(crate) fn into_inner(self) -> *mut T {
        self.0.into_inner()
    }
}
