//! Thread-local storage that follows the backend: under shuttle and loom every scheduled thread
//! (a coroutine on one OS thread) gets its own value, which std's `thread_local!` would share
//! between them all.

use std::cell::{Cell, RefCell};

use crate::runtime::{self, Backend};

/// A key to a thread-local value, made by [`crate::thread_local!`]: `std::thread::LocalKey`'s
/// role.
pub struct LocalKey<T: 'static> {
    std: &'static std::thread::LocalKey<T>,
    shuttle: &'static crate::engine::thread::LocalKey<T>,
    loom: &'static loom::thread::LocalKey<T>,
}

impl<T: 'static> LocalKey<T> {
    #[doc(hidden)]
    pub const fn __new(
        std: &'static std::thread::LocalKey<T>,
        shuttle: &'static crate::engine::thread::LocalKey<T>,
        loom: &'static loom::thread::LocalKey<T>,
    ) -> LocalKey<T> {
        LocalKey { std, shuttle, loom }
    }

    /// Runs `f` on this thread's value, making it first if this is the thread's first use.
    pub fn with<F, R>(&'static self, f: F) -> R
    where
        F: FnOnce(&T) -> R,
    {
        match runtime::backend() {
            Backend::Std => self.std.with(f),
            Backend::Shuttle => self.shuttle.with(f),
            Backend::Loom => self.loom.with(f),
        }
    }
}

impl<T: Copy + 'static> LocalKey<Cell<T>> {
    /// This thread's value.
    pub fn get(&'static self) -> T {
        self.with(Cell::get)
    }

    /// Sets this thread's value.
    pub fn set(&'static self, value: T) {
        self.with(|c| c.set(value))
    }
}

impl<T: 'static> LocalKey<Cell<T>> {
    /// Replaces this thread's value, returning the old one.
    pub fn replace(&'static self, value: T) -> T {
        self.with(|c| c.replace(value))
    }

    /// Takes this thread's value, leaving `Default::default()`.
    pub fn take(&'static self) -> T
    where
        T: Default,
    {
        self.with(Cell::take)
    }
}

impl<T: 'static> LocalKey<RefCell<T>> {
    /// Runs `f` on a shared borrow of this thread's value.
    pub fn with_borrow<F, R>(&'static self, f: F) -> R
    where
        F: FnOnce(&T) -> R,
    {
        self.with(|c| f(&c.borrow()))
    }

    /// Runs `f` on a mutable borrow of this thread's value.
    pub fn with_borrow_mut<F, R>(&'static self, f: F) -> R
    where
        F: FnOnce(&mut T) -> R,
    {
        self.with(|c| f(&mut c.borrow_mut()))
    }

    /// Sets this thread's value.
    pub fn set(&'static self, value: T) {
        self.with(|c| *c.borrow_mut() = value)
    }

    /// Replaces this thread's value, returning the old one.
    pub fn replace(&'static self, value: T) -> T {
        self.with(|c| c.replace(value))
    }

    /// Takes this thread's value, leaving `Default::default()`.
    pub fn take(&'static self) -> T
    where
        T: Default,
    {
        self.with(RefCell::take)
    }
}

impl<T: 'static> std::fmt::Debug for LocalKey<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalKey").finish_non_exhaustive()
    }
}

/// `std::thread_local!` for code under check: declares `static NAME: crosscheck::thread::LocalKey<T>`
/// whose value is per thread under every backend (per scheduled thread under shuttle and loom,
/// where std's would be shared by all of them).
///
/// ```
/// use std::cell::Cell;
///
/// crosscheck::thread_local! {
///     static DEPTH: Cell<u32> = Cell::new(0);
/// }
///
/// DEPTH.set(DEPTH.get() + 1);
/// assert_eq!(DEPTH.get(), 1);
/// ```
#[macro_export]
macro_rules! thread_local {
    () => {};
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = const { $init:expr }; $($rest:tt)*) => (
        $crate::__thread_local_inner!($(#[$attr])* $vis $name, $t, $init);
        $crate::thread_local!($($rest)*);
    );
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = const { $init:expr }) => (
        $crate::__thread_local_inner!($(#[$attr])* $vis $name, $t, $init);
    );
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = $init:expr; $($rest:tt)*) => (
        $crate::__thread_local_inner!($(#[$attr])* $vis $name, $t, $init);
        $crate::thread_local!($($rest)*);
    );
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = $init:expr) => (
        $crate::__thread_local_inner!($(#[$attr])* $vis $name, $t, $init);
    );
}

#[doc(hidden)]
#[macro_export]
macro_rules! __thread_local_inner {
    ($(#[$attr:meta])* $vis:vis $name:ident, $t:ty, $init:expr) => {
        $(#[$attr])* $vis static $name: $crate::thread::LocalKey<$t> = {
            ::std::thread_local!(static STD: $t = $init);
            static SHUTTLE: $crate::__private::LocalKey<$t> = $crate::__private::LocalKey::new({
                fn init() -> $t {
                    $init
                }
                init
            });
            $crate::__private::loom::thread_local!(static LOOM: $t = $init);
            $crate::thread::LocalKey::__new(&STD, &SHUTTLE, &LOOM)
        };
    };
}
