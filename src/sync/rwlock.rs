use std::fmt;
use std::ops::{Deref, DerefMut};
use std::panic::Location;
use std::time::Duration;

use super::{map_result, map_try, LockResult, TryLockResult};
use crate::runtime::locks::{self, Acquire};
use crate::runtime::std_order::{self, StdClass};
use crate::runtime::{self, Backend, ObjectKind};

/// A reader-writer lock: `std::sync::RwLock`'s API, scheduled and recorded under a check.
pub struct RwLock<T> {
    id: Option<usize>,
    /// Where it was created and its name: its lock class on real threads (see `runtime::std_order`).
    site: &'static Location<'static>,
    name: Option<std::borrow::Cow<'static, str>>,
    inner: Inner<T>,
}

enum Inner<T> {
    Std(std::sync::RwLock<T>),
    Shuttle(crate::engine::sync::RwLock<T>),
    Loom(loom::sync::RwLock<T>),
}

/// Shared access to a [`RwLock`]'s value; released on drop.
pub struct RwLockReadGuard<'a, T> {
    id: Option<usize>,
    /// The lock's address, which names it in this thread's held locks on real threads.
    addr: usize,
    inner: ReadInner<'a, T>,
}

enum ReadInner<'a, T> {
    Std(std::sync::RwLockReadGuard<'a, T>),
    Shuttle(crate::engine::sync::RwLockReadGuard<'a, T>),
    Loom(loom::sync::RwLockReadGuard<'a, T>),
}

/// Exclusive access to a [`RwLock`]'s value; released on drop.
pub struct RwLockWriteGuard<'a, T> {
    id: Option<usize>,
    /// The lock's address, which names it in this thread's held locks on real threads.
    addr: usize,
    inner: WriteInner<'a, T>,
}

enum WriteInner<'a, T> {
    Std(std::sync::RwLockWriteGuard<'a, T>),
    Shuttle(crate::engine::sync::RwLockWriteGuard<'a, T>),
    Loom(loom::sync::RwLockWriteGuard<'a, T>),
}

impl<T> RwLock<T> {
    /// A new unlocked lock holding `value`. Reports name it by where it was created;
    /// [`RwLock::named`] gives it a name as well.
    #[track_caller]
    pub fn new(value: T) -> Self {
        let site = Location::caller();
        let (id, inner) = match runtime::backend() {
            Backend::Std => (None, Inner::Std(std::sync::RwLock::new(value))),
            Backend::Shuttle => (
                runtime::new_sited::<T>(ObjectKind::RwLock),
                Inner::Shuttle(crate::engine::sync::RwLock::new(value)),
            ),
            Backend::Loom => (
                runtime::new_sited::<T>(ObjectKind::RwLock),
                Inner::Loom(loom::sync::RwLock::new(value)),
            ),
        };
        RwLock {
            id,
            site,
            name: None,
            inner,
        }
    }

    /// Gives the lock the name reports use for it: `rwlock "index" (src/map.rs:20)`.
    pub fn named(mut self, name: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        let name = name.into();
        runtime::name_object(self.id, name.clone());
        self.name = Some(name);
        self
    }

    /// On real threads: notes for the lock-order analysis that this thread took the lock (a read
    /// lock orders like a write lock, see [`RwLock::read`]).
    fn std_acquired(&self, site: &'static Location<'static>, blocking: bool) {
        std_order::acquired(self as *const Self as usize, || self.std_class(), site, blocking);
    }

    fn std_class(&self) -> StdClass {
        StdClass {
            kind: ObjectKind::RwLock,
            site: self.site,
            name: self.name.clone(),
            value_type: std::any::type_name::<T>(),
        }
    }

    /// Takes shared access, blocking while a writer holds the lock.
    ///
    /// For the lock-order analysis a read acquisition orders locks like a write: std's `RwLock`
    /// may make a reader wait behind a queued writer, so holding a read lock of A while taking B,
    /// and elsewhere B while reading A, can deadlock. Re-reading a lock the thread already reads
    /// adds no edge (it is one lock class).
    #[track_caller]
    pub fn read(&self) -> LockResult<RwLockReadGuard<'_, T>> {
        let site = Location::caller();
        let (id, addr) = (self.id, self as *const Self as usize);
        match &self.inner {
            Inner::Std(l) => {
                let result = match std_order::watching() {
                    true => std_order::contended(addr, &self.std_class(), || l.try_read(), || l.read()),
                    false => l.read(),
                };
                self.std_acquired(site, true);
                map_result(result, |g| RwLockReadGuard {
                    id,
                    addr,
                    inner: ReadInner::Std(g),
                })
            }
            Inner::Shuttle(l) => {
                locks::before_lock(id, true);
                let result = l.read();
                locks::acquired(id, true, site, Acquire::Blocking);
                map_result(result, |g| RwLockReadGuard {
                    id,
                    addr,
                    inner: ReadInner::Shuttle(g),
                })
            }
            Inner::Loom(l) => {
                locks::before_lock(id, true);
                let result = l.read();
                locks::acquired(id, true, site, Acquire::Blocking);
                map_result(result, |g| RwLockReadGuard {
                    id,
                    addr,
                    inner: ReadInner::Loom(g),
                })
            }
        }
    }

    /// Takes exclusive access, blocking while anyone holds the lock.
    #[track_caller]
    pub fn write(&self) -> LockResult<RwLockWriteGuard<'_, T>> {
        let site = Location::caller();
        let (id, addr) = (self.id, self as *const Self as usize);
        match &self.inner {
            Inner::Std(l) => {
                let result = match std_order::watching() {
                    true => std_order::contended(addr, &self.std_class(), || l.try_write(), || l.write()),
                    false => l.write(),
                };
                self.std_acquired(site, true);
                map_result(result, |g| RwLockWriteGuard {
                    id,
                    addr,
                    inner: WriteInner::Std(g),
                })
            }
            Inner::Shuttle(l) => {
                locks::before_lock(id, false);
                let result = l.write();
                locks::acquired(id, false, site, Acquire::Blocking);
                map_result(result, |g| RwLockWriteGuard {
                    id,
                    addr,
                    inner: WriteInner::Shuttle(g),
                })
            }
            Inner::Loom(l) => {
                locks::before_lock(id, false);
                let result = l.write();
                locks::acquired(id, false, site, Acquire::Blocking);
                map_result(result, |g| RwLockWriteGuard {
                    id,
                    addr,
                    inner: WriteInner::Loom(g),
                })
            }
        }
    }

    /// Takes shared access if no writer holds the lock right now.
    #[track_caller]
    pub fn try_read(&self) -> TryLockResult<RwLockReadGuard<'_, T>> {
        self.try_read_located(Location::caller())
    }

    fn try_read_located(&self, site: &'static Location<'static>) -> TryLockResult<RwLockReadGuard<'_, T>> {
        let (id, addr) = (self.id, self as *const Self as usize);
        match &self.inner {
            Inner::Std(l) => {
                let result = l.try_read();
                if !matches!(result, Err(std::sync::TryLockError::WouldBlock)) {
                    self.std_acquired(site, false);
                }
                map_try(result, |g| RwLockReadGuard {
                    id,
                    addr,
                    inner: ReadInner::Std(g),
                })
            }
            Inner::Shuttle(l) => {
                let result = l.try_read();
                if !matches!(result, Err(std::sync::TryLockError::WouldBlock)) {
                    locks::acquired(id, true, site, Acquire::Trying);
                }
                map_try(result, |g| RwLockReadGuard {
                    id,
                    addr,
                    inner: ReadInner::Shuttle(g),
                })
            }
            Inner::Loom(l) => {
                runtime::loom_point();
                let result = l.try_read();
                if !matches!(result, Err(std::sync::TryLockError::WouldBlock)) {
                    locks::acquired(id, true, site, Acquire::Trying);
                }
                map_try(result, |g| RwLockReadGuard {
                    id,
                    addr,
                    inner: ReadInner::Loom(g),
                })
            }
        }
    }

    /// Takes exclusive access if nobody holds the lock right now.
    #[track_caller]
    pub fn try_write(&self) -> TryLockResult<RwLockWriteGuard<'_, T>> {
        self.try_write_located(Location::caller())
    }

    fn try_write_located(&self, site: &'static Location<'static>) -> TryLockResult<RwLockWriteGuard<'_, T>> {
        let (id, addr) = (self.id, self as *const Self as usize);
        match &self.inner {
            Inner::Std(l) => {
                let result = l.try_write();
                if !matches!(result, Err(std::sync::TryLockError::WouldBlock)) {
                    self.std_acquired(site, false);
                }
                map_try(result, |g| RwLockWriteGuard {
                    id,
                    addr,
                    inner: WriteInner::Std(g),
                })
            }
            Inner::Shuttle(l) => {
                let result = l.try_write();
                if !matches!(result, Err(std::sync::TryLockError::WouldBlock)) {
                    locks::acquired(id, false, site, Acquire::Trying);
                }
                map_try(result, |g| RwLockWriteGuard {
                    id,
                    addr,
                    inner: WriteInner::Shuttle(g),
                })
            }
            Inner::Loom(l) => {
                runtime::loom_point();
                let result = l.try_write();
                if !matches!(result, Err(std::sync::TryLockError::WouldBlock)) {
                    locks::acquired(id, false, site, Acquire::Trying);
                }
                map_try(result, |g| RwLockWriteGuard {
                    id,
                    addr,
                    inner: WriteInner::Loom(g),
                })
            }
        }
    }

    /// Takes shared access, waiting at most `timeout` (parking_lot's signature); `None` when the
    /// time ran out. Logical time under the controlled schedulers, as in
    /// [`Mutex::try_lock_for`](super::Mutex::try_lock_for); adds no lock-order edge.
    #[track_caller]
    pub fn try_read_for(&self, timeout: Duration) -> Option<RwLockReadGuard<'_, T>> {
        let site = Location::caller();
        timed(self.controlled(), self.id, timeout, || self.try_read_at(site))
    }

    /// Takes exclusive access, waiting at most `timeout`; `None` when the time ran out. See
    /// [`RwLock::try_read_for`].
    #[track_caller]
    pub fn try_write_for(&self, timeout: Duration) -> Option<RwLockWriteGuard<'_, T>> {
        let site = Location::caller();
        timed(self.controlled(), self.id, timeout, || self.try_write_at(site))
    }

    fn controlled(&self) -> bool {
        !matches!(self.inner, Inner::Std(_))
    }

    fn try_read_at(&self, site: &'static Location<'static>) -> Option<RwLockReadGuard<'_, T>> {
        match self.try_read_located(site) {
            Ok(g) => Some(g),
            Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => None,
        }
    }

    fn try_write_at(&self, site: &'static Location<'static>) -> Option<RwLockWriteGuard<'_, T>> {
        match self.try_write_located(site) {
            Ok(g) => Some(g),
            Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => None,
        }
    }

    /// Consumes the lock and returns the value.
    pub fn into_inner(self) -> LockResult<T> {
        match self.inner {
            Inner::Std(l) => l.into_inner(),
            Inner::Shuttle(l) => l.into_inner(),
            Inner::Loom(l) => l.into_inner(),
        }
    }

    /// A mutable reference to the value; no locking needed, since the borrow is exclusive.
    pub fn get_mut(&mut self) -> LockResult<&mut T> {
        match &mut self.inner {
            Inner::Std(l) => l.get_mut(),
            Inner::Shuttle(l) => l.get_mut(),
            Inner::Loom(l) => l.get_mut(),
        }
    }
}

/// A timed acquisition: real time under std, else two attempts around a scheduling point (see
/// [`Mutex::try_lock_for`](super::Mutex::try_lock_for)).
fn timed<G>(
    controlled: bool,
    id: Option<usize>,
    timeout: Duration,
    mut attempt: impl FnMut() -> Option<G>,
) -> Option<G> {
    if !controlled {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Some(g) = attempt() {
                return Some(g);
            }
            if std::time::Instant::now() >= deadline {
                return None;
            }
            std::thread::yield_now();
        }
    }
    for round in 0..2 {
        if let Some(g) = attempt() {
            return Some(g);
        }
        locks::timed_wait(id, round == 1);
    }
    None
}

impl<T: Default> Default for RwLock<T> {
    #[track_caller]
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

impl<T> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RwLock").finish_non_exhaustive()
    }
}

impl<T> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        match &self.inner {
            ReadInner::Std(g) => g,
            ReadInner::Shuttle(g) => g,
            ReadInner::Loom(g) => g,
        }
    }
}

impl<T> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        match &self.inner {
            ReadInner::Shuttle(_) | ReadInner::Loom(_) => locks::released(self.id),
            ReadInner::Std(_) => std_order::released(self.addr),
        }
    }
}

impl<T> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        match &self.inner {
            WriteInner::Std(g) => g,
            WriteInner::Shuttle(g) => g,
            WriteInner::Loom(g) => g,
        }
    }
}

impl<T> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        match &mut self.inner {
            WriteInner::Std(g) => g,
            WriteInner::Shuttle(g) => g,
            WriteInner::Loom(g) => g,
        }
    }
}

impl<T> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        match &self.inner {
            WriteInner::Shuttle(_) | WriteInner::Loom(_) => locks::released(self.id),
            WriteInner::Std(_) => std_order::released(self.addr),
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
