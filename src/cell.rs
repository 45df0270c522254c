//! `UnsafeCell` with data-race detection, in loom's API: code reaches the value only through
//! [`UnsafeCell::with`] (a read) and [`UnsafeCell::with_mut`] (a write), so every access can be
//! checked.
//!
//! Under the controlled schedulers each access is checked against the cell's earlier accesses by
//! happens-before, computed by crosscheck from every facade operation (locks, atomics with their
//! orderings, fences, spawns, joins, park tokens): two accesses, at least one a write, that nothing
//! orders fail the check with [`FailureKind::DataRace`](crate::FailureKind::DataRace), naming both
//! sites and threads, even if the schedule that ran kept them far apart. shuttle has no such
//! check; under `Scheduler::Loom` it is loom's own (which also knows weak memory). Outside a check,
//! and under `Scheduler::Stress`, it is a plain `std::cell::UnsafeCell` (a race there is undefined
//! behaviour that no check sees; run the controlled schedulers).
//!
//! ```
//! use crosscheck::cell::UnsafeCell;
//! use crosscheck::sync::Mutex;
//!
//! /// A slot written under a lock: every access is ordered by the lock.
//! struct Slot {
//!     lock: Mutex<()>,
//!     value: UnsafeCell<u64>,
//! }
//!
//! // SAFETY: `value` is only reached while `lock` is held (see `set` and `get`).
//! unsafe impl Sync for Slot {}
//!
//! impl Slot {
//!     fn set(&self, v: u64) {
//!         let _held = self.lock.lock().unwrap();
//!         // SAFETY: the lock is held, so no other access to the cell runs.
//!         self.value.with_mut(|p| unsafe { *p = v });
//!     }
//!     fn get(&self) -> u64 {
//!         let _held = self.lock.lock().unwrap();
//!         // SAFETY: as above.
//!         self.value.with(|p| unsafe { *p })
//!     }
//! }
//! # let s = Slot { lock: Mutex::new(()), value: UnsafeCell::new(0) };
//! # s.set(3);
//! # assert_eq!(s.get(), 3);
//! ```

use std::panic::Location;

use crate::runtime::{self, clocks, Abort, Backend, EventKind, ObjectKind};

/// A cell whose value is reached through checked accesses: see the [module docs](self).
pub struct UnsafeCell<T> {
    id: Option<usize>,
    inner: Inner<T>,
}

enum Inner<T> {
    Std(std::cell::UnsafeCell<T>),
    Loom(loom::cell::UnsafeCell<T>),
}

impl<T> UnsafeCell<T> {
    /// A cell holding `value`. Reports name it by where it was created.
    #[track_caller]
    pub fn new(value: T) -> UnsafeCell<T> {
        match runtime::backend() {
            Backend::Std => UnsafeCell {
                id: None,
                inner: Inner::Std(std::cell::UnsafeCell::new(value)),
            },
            Backend::Shuttle => UnsafeCell {
                id: runtime::new_sited::<T>(ObjectKind::Cell),
                inner: Inner::Std(std::cell::UnsafeCell::new(value)),
            },
            Backend::Loom => UnsafeCell {
                id: runtime::new_sited::<T>(ObjectKind::Cell),
                inner: Inner::Loom(loom::cell::UnsafeCell::new(value)),
            },
        }
    }

    /// Gives the cell the name reports use for it (`cell "head" (src/list.rs:12)`).
    pub fn named(self, name: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        runtime::name_object(self.id, name.into());
        self
    }

    /// Reads: calls `f` with a pointer to the value. Dereferencing it is the caller's `unsafe`
    /// promise that no write races with this read, which the check then holds it to.
    #[track_caller]
    pub fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        match &self.inner {
            Inner::Std(c) => {
                self.check(false, Location::caller());
                f(c.get())
            }
            Inner::Loom(c) => {
                self.check(false, Location::caller());
                c.with(f)
            }
        }
    }

    /// Writes: calls `f` with a mutable pointer to the value. Dereferencing it is the caller's
    /// `unsafe` promise that no other access races with this one, which the check then holds it
    /// to.
    #[track_caller]
    pub fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        match &self.inner {
            Inner::Std(c) => {
                self.check(true, Location::caller());
                f(c.get())
            }
            Inner::Loom(c) => {
                self.check(true, Location::caller());
                c.with_mut(f)
            }
        }
    }

    /// The value, through an exclusive borrow (no check needed: nothing else can access it).
    pub fn get_mut(&mut self) -> &mut T {
        match &mut self.inner {
            Inner::Std(c) => c.get_mut(),
            // SAFETY: `&mut self` excludes every other access to the cell, so the pointer loom
            // hands out is the only one for the closure's duration, and the borrow it makes
            // lives as long as `&mut self`.
            Inner::Loom(c) => c.with_mut(|p| unsafe { &mut *p }),
        }
    }

    /// The value, consuming the cell.
    pub fn into_inner(self) -> T {
        match self.inner {
            Inner::Std(c) => c.into_inner(),
            Inner::Loom(c) => c.into_inner(),
        }
    }

    /// Records the access; under the controlled schedulers, fails the execution on a race.
    fn check(&self, write: bool, site: &'static Location<'static>) {
        let Some(obj) = self.id else { return };
        runtime::record(EventKind::CellAccess { obj, write, site });
        if runtime::backend() != Backend::Shuttle {
            return;
        }
        if let Some(race) = clocks::cell_access(obj, write, site) {
            runtime::abort(Abort::DataRace(race));
        }
    }
}

impl<T: Default> Default for UnsafeCell<T> {
    #[track_caller]
    fn default() -> Self {
        UnsafeCell::new(T::default())
    }
}

impl<T> std::fmt::Debug for UnsafeCell<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnsafeCell").finish_non_exhaustive()
    }
}
