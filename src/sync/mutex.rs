use std::fmt;
use std::ops::{Deref, DerefMut};
use std::panic::Location;
use std::time::Duration;

use super::{map_result, map_try, LockResult, TryLockResult};
use crate::runtime::locks::{self, Acquire};
use crate::runtime::std_order::{self, StdClass};
use crate::runtime::{self, Backend, ObjectKind};

/// A mutual-exclusion lock: `std::sync::Mutex`'s API, scheduled and recorded under a check.
pub struct Mutex<T> {
    id: Option<usize>,
    /// Where it was created and its name: its lock class on real threads, where nothing is
    /// recorded (see `runtime::std_order`).
    site: &'static Location<'static>,
    name: Option<std::borrow::Cow<'static, str>>,
    inner: Inner<T>,
}

enum Inner<T> {
    Std(std::sync::Mutex<T>),
    Shuttle(crate::engine::sync::Mutex<T>),
    Loom(loom::sync::Mutex<T>),
}

/// The guard of a locked [`Mutex`]; the lock is released when it drops.
pub struct MutexGuard<'a, T> {
    pub(super) lock: &'a Mutex<T>,
    pub(super) inner: Option<GuardInner<'a, T>>,
}

pub(super) enum GuardInner<'a, T> {
    Std(std::sync::MutexGuard<'a, T>),
    Shuttle(crate::engine::sync::MutexGuard<'a, T>),
    Loom(loom::sync::MutexGuard<'a, T>),
}

impl<T> Mutex<T> {
    /// A new unlocked mutex holding `value`. Reports name it by where it was created
    /// (`mutex#0 (src/bank.rs:14)`); [`Mutex::named`] gives it a name as well.
    #[track_caller]
    pub fn new(value: T) -> Self {
        let site = Location::caller();
        let (id, inner) = match runtime::backend() {
            Backend::Std => (None, Inner::Std(std::sync::Mutex::new(value))),
            Backend::Shuttle => (
                runtime::new_sited::<T>(ObjectKind::Mutex),
                Inner::Shuttle(crate::engine::sync::Mutex::new(value)),
            ),
            Backend::Loom => (
                runtime::new_sited::<T>(ObjectKind::Mutex),
                Inner::Loom(loom::sync::Mutex::new(value)),
            ),
        };
        Mutex {
            id,
            site,
            name: None,
            inner,
        }
    }

    /// Gives the mutex the name reports use for it: `mutex "from" (src/bank.rs:14)`. Locks
    /// with one name and creation site are one lock class for the lock-order analysis.
    pub fn named(mut self, name: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        let name = name.into();
        runtime::name_object(self.id, name.clone());
        self.name = Some(name);
        self
    }

    /// Its object in the execution's record, under a check.
    pub(crate) fn object_id(&self) -> Option<usize> {
        self.id
    }

    /// Its lock class on real threads.
    fn std_class(&self) -> StdClass {
        StdClass {
            kind: ObjectKind::Mutex,
            site: self.site,
            name: self.name.clone(),
            value_type: std::any::type_name::<T>(),
        }
    }

    /// On real threads: notes for the lock-order analysis that this thread took the lock.
    fn std_acquired(&self, site: &'static Location<'static>, blocking: bool) {
        std_order::acquired(self as *const Self as usize, || self.std_class(), site, blocking);
    }

    /// Acquires the lock, blocking until it is free.
    #[track_caller]
    pub fn lock(&self) -> LockResult<MutexGuard<'_, T>> {
        self.lock_at(Location::caller())
    }

    /// [`Mutex::lock`] called at `site`.
    pub(super) fn lock_at(&self, site: &'static Location<'static>) -> LockResult<MutexGuard<'_, T>> {
        match &self.inner {
            Inner::Std(m) => {
                let result = match std_order::watching() {
                    true => std_order::contended(
                        self as *const Self as usize,
                        &self.std_class(),
                        || m.try_lock(),
                        || m.lock(),
                    ),
                    false => m.lock(),
                };
                self.std_acquired(site, true);
                map_result(result, |g| self.guard(GuardInner::Std(g)))
            }
            Inner::Shuttle(m) => {
                locks::before_lock(self.id, false);
                let result = m.lock();
                locks::acquired(self.id, false, site, Acquire::Blocking);
                map_result(result, |g| self.guard(GuardInner::Shuttle(g)))
            }
            Inner::Loom(m) => {
                locks::before_lock(self.id, false);
                let result = m.lock();
                locks::acquired(self.id, false, site, Acquire::Blocking);
                map_result(result, |g| self.guard(GuardInner::Loom(g)))
            }
        }
    }

    /// Acquires the lock if it is free right now.
    #[track_caller]
    pub fn try_lock(&self) -> TryLockResult<MutexGuard<'_, T>> {
        let site = Location::caller();
        match &self.inner {
            Inner::Std(m) => {
                let result = m.try_lock();
                if !matches!(result, Err(std::sync::TryLockError::WouldBlock)) {
                    self.std_acquired(site, false);
                }
                map_try(result, |g| self.guard(GuardInner::Std(g)))
            }
            Inner::Shuttle(m) => {
                let result = m.try_lock();
                if !matches!(result, Err(std::sync::TryLockError::WouldBlock)) {
                    locks::acquired(self.id, false, site, Acquire::Trying);
                }
                map_try(result, |g| self.guard(GuardInner::Shuttle(g)))
            }
            Inner::Loom(m) => {
                runtime::loom_point();
                let result = m.try_lock();
                if !matches!(result, Err(std::sync::TryLockError::WouldBlock)) {
                    locks::acquired(self.id, false, site, Acquire::Trying);
                }
                map_try(result, |g| self.guard(GuardInner::Loom(g)))
            }
        }
    }

    /// Acquires the lock, waiting at most `timeout` for it (parking_lot's signature: std has no
    /// timed lock). `None` when the time ran out. A poisoned lock is returned like a healthy one.
    ///
    /// Under the controlled schedulers time is logical and nothing sleeps: if the lock is taken,
    /// the thread stays runnable, and the next time the scheduler runs it, it takes the lock if it
    /// was released meanwhile and otherwise times out. Whether it times out is thus a scheduling
    /// choice, recorded in the schedule and replayed by its token, and `timeout` itself does not
    /// matter. Like `try_lock`, it adds no lock-order edge: code that backs off on timeout cannot
    /// deadlock on this lock.
    #[track_caller]
    pub fn try_lock_for(&self, timeout: Duration) -> Option<MutexGuard<'_, T>> {
        let site = Location::caller();
        match &self.inner {
            Inner::Std(m) => {
                let deadline = std::time::Instant::now() + timeout;
                loop {
                    match m.try_lock() {
                        Ok(g) => {
                            self.std_acquired(site, false);
                            return Some(self.guard(GuardInner::Std(g)));
                        }
                        Err(std::sync::TryLockError::Poisoned(p)) => {
                            self.std_acquired(site, false);
                            return Some(self.guard(GuardInner::Std(p.into_inner())));
                        }
                        Err(std::sync::TryLockError::WouldBlock) if std::time::Instant::now() >= deadline => {
                            return None
                        }
                        Err(std::sync::TryLockError::WouldBlock) => std::thread::yield_now(),
                    }
                }
            }
            Inner::Shuttle(_) | Inner::Loom(_) => {
                // The first attempt, then one more after a scheduling point (shuttle's try_lock
                // starts with one; under loom the record's step is the point).
                for attempt in 0..2 {
                    if let Some(guard) = self.try_controlled(site) {
                        return Some(guard);
                    }
                    locks::timed_wait(self.id, attempt == 1);
                }
                None
            }
        }
    }

    /// One attempt of a timed acquisition under a controlled scheduler.
    fn try_controlled(&self, site: &'static Location<'static>) -> Option<MutexGuard<'_, T>> {
        use std::sync::TryLockError::{Poisoned, WouldBlock};
        let inner = match &self.inner {
            Inner::Std(m) => match m.try_lock() {
                Ok(g) => GuardInner::Std(g),
                Err(Poisoned(p)) => GuardInner::Std(p.into_inner()),
                Err(WouldBlock) => return None,
            },
            Inner::Shuttle(m) => match m.try_lock() {
                Ok(g) => GuardInner::Shuttle(g),
                Err(Poisoned(p)) => GuardInner::Shuttle(p.into_inner()),
                Err(WouldBlock) => return None,
            },
            Inner::Loom(m) => {
                runtime::loom_point();
                match m.try_lock() {
                    Ok(g) => GuardInner::Loom(g),
                    Err(Poisoned(p)) => GuardInner::Loom(p.into_inner()),
                    Err(WouldBlock) => return None,
                }
            }
        };
        locks::acquired(self.id, false, site, Acquire::Trying);
        Some(self.guard(inner))
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
    #[track_caller]
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
        match &self.inner {
            Some(GuardInner::Shuttle(_) | GuardInner::Loom(_)) => {
                // Record the release before shuttle's release, which is a scheduling point.
                locks::released(self.lock.id);
            }
            Some(GuardInner::Std(_)) => std_order::released(self.lock as *const Mutex<T> as usize),
            None => {}
        }
        self.inner = None;
    }
}

impl<T: fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
