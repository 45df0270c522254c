use std::fmt;
use std::ops::{Deref, DerefMut};

use super::{map_result, map_try, LockResult, TryLockResult};
use crate::runtime::{self, locks, Backend, ObjectKind};

/// A mutual-exclusion lock: `std::sync::Mutex`'s API, scheduled and recorded under a check.
pub struct Mutex<T> {
    id: Option<usize>,
    inner: Inner<T>,
}

enum Inner<T> {
    Std(std::sync::Mutex<T>),
    Shuttle(shuttle::sync::Mutex<T>),
    Loom(loom::sync::Mutex<T>),
}

/// The guard of a locked [`Mutex`]; the lock is released when it drops.
pub struct MutexGuard<'a, T> {
    pub(super) lock: &'a Mutex<T>,
    pub(super) inner: Option<GuardInner<'a, T>>,
}

pub(super) enum GuardInner<'a, T> {
    Std(std::sync::MutexGuard<'a, T>),
    Shuttle(shuttle::sync::MutexGuard<'a, T>),
    Loom(loom::sync::MutexGuard<'a, T>),
}

impl<T> Mutex<T> {
    /// A new unlocked mutex holding `value`.
    pub fn new(value: T) -> Self {
        match runtime::backend() {
            Backend::Std => Mutex {
                id: None,
                inner: Inner::Std(std::sync::Mutex::new(value)),
            },
            Backend::Shuttle => Mutex {
                id: runtime::new_object(ObjectKind::Mutex),
                inner: Inner::Shuttle(shuttle::sync::Mutex::new(value)),
            },
            Backend::Loom => Mutex {
                id: runtime::new_object(ObjectKind::Mutex),
                inner: Inner::Loom(loom::sync::Mutex::new(value)),
            },
        }
    }

    /// Acquires the lock, blocking until it is free.
    pub fn lock(&self) -> LockResult<MutexGuard<'_, T>> {
        match &self.inner {
            Inner::Std(m) => map_result(m.lock(), |g| self.guard(GuardInner::Std(g))),
            Inner::Shuttle(m) => {
                locks::before_lock(self.id, false);
                let result = m.lock();
                locks::acquired(self.id, false);
                map_result(result, |g| self.guard(GuardInner::Shuttle(g)))
            }
            Inner::Loom(m) => {
                locks::before_lock(self.id, false);
                let result = m.lock();
                locks::acquired(self.id, false);
                map_result(result, |g| self.guard(GuardInner::Loom(g)))
            }
        }
    }

    /// Acquires the lock if it is free right now.
    pub fn try_lock(&self) -> TryLockResult<MutexGuard<'_, T>> {
        match &self.inner {
            Inner::Std(m) => map_try(m.try_lock(), |g| self.guard(GuardInner::Std(g))),
            Inner::Shuttle(m) => {
                let result = m.try_lock();
                if result.is_ok() || matches!(result, Err(std::sync::TryLockError::Poisoned(_))) {
                    locks::acquired(self.id, false);
                }
                map_try(result, |g| self.guard(GuardInner::Shuttle(g)))
            }
            Inner::Loom(m) => {
                runtime::loom_point();
                let result = m.try_lock();
                if result.is_ok() || matches!(result, Err(std::sync::TryLockError::Poisoned(_))) {
                    locks::acquired(self.id, false);
                }
                map_try(result, |g| self.guard(GuardInner::Loom(g)))
            }
        }
    }

    /// Consumes the mutex and returns the value.
    pub fn into_inner(self) -> LockResult<T> {
        match self.inner {
            Inner::Std(m) => m.into_inner(),
            Inner::Shuttle(m) => m.into_inner(),
            Inner::Loom(m) => m.into_inner(),
        }
    }

    /// A mutable reference to the value; no locking needed, since the borrow is exclusive.
    pub fn get_mut(&mut self) -> LockResult<&mut T> {
        match &mut self.inner {
            Inner::Std(m) => m.get_mut(),
            Inner::Shuttle(m) => m.get_mut(),
            Inner::Loom(m) => m.get_mut(),
        }
    }

    pub(super) fn id(&self) -> Option<usize> {
        self.id
    }

    pub(super) fn guard<'a>(&'a self, inner: GuardInner<'a, T>) -> MutexGuard<'a, T> {
        MutexGuard {
            lock: self,
            inner: Some(inner),
        }
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T: fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish_non_exhaustive()
    }
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        match self.inner.as_ref().expect("guard is present until drop") {
            GuardInner::Std(g) => g,
            GuardInner::Shuttle(g) => g,
            GuardInner::Loom(g) => g,
        }
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        match self.inner.as_mut().expect("guard is present until drop") {
            GuardInner::Std(g) => g,
            GuardInner::Shuttle(g) => g,
            GuardInner::Loom(g) => g,
        }
    }
}

impl<T> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        if let Some(GuardInner::Shuttle(_) | GuardInner::Loom(_)) = &self.inner {
            // Record the release before shuttle's release, which is a scheduling point.
            locks::released(self.lock.id);
        }
        self.inner = None;
    }
}

impl<T: fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
