//! An async-aware lock: [`Mutex::lock`] is a future, and the guard may be held across `.await`s.

use std::cell::UnsafeCell;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::sync::PoisonError;
use std::task::{Context, Poll, Waker};

use crate::runtime::{self, awaits, ObjectKind};

/// A mutual-exclusion lock for async code (the role of `tokio::sync::Mutex` or
/// `futures::lock::Mutex`): a task that finds it taken is suspended, not its thread, and the guard
/// can be held across `.await`s.
///
/// Built on the facade's own [`crate::sync::Mutex`], held only for an instant to look at the lock,
/// so every attempt is a scheduling point under a check and orders the tasks for the data-race
/// check. The interleaving shows the async lock as `async-mutex#0 (src/file.rs:12)`: locks,
/// unlocks, and each time a task finds it taken (`blocks on ... (held by T1)`). A task that
/// awaits it forever while every other task sleeps too is reported as a deadlock naming it and its
/// holder. Releasing wakes every task waiting for it; the first to run takes it.
pub struct Mutex<T: ?Sized> {
    /// Its object in the execution's record (under a check).
    id: Option<usize>,
    state: crate::sync::Mutex<State>,
    value: UnsafeCell<T>,
}

#[derive(Default)]
struct State {
    locked: bool,
    /// The tasks that found it locked, woken when it is released.
    waiters: Vec<Waker>,
}

// SAFETY: the value is reached only through a `MutexGuard`, and at most one guard exists at a
// time (see `Lock::poll`), so sharing the mutex hands the value from thread to thread (hence
// `T: Send`) and never lets two threads reach it at once (so `T: Sync` is not needed): the same
// bounds as `std::sync::Mutex`.
unsafe impl<T: ?Sized + Send> Send for Mutex<T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}

impl<T> Mutex<T> {
    /// A new unlocked mutex holding `value`. Reports name it by where it was created
    /// (`async-mutex#0 (src/file.rs:12)`); [`Mutex::named`] gives it a name as well.
    #[track_caller]
    pub fn new(value: T) -> Self {
        let id = runtime::new_sited::<T>(ObjectKind::AsyncMutex);
        let state = crate::sync::Mutex::new(State::default());
        runtime::mark_internal(state.object_id());
        let state = match id {
            Some(id) => state.named(format!("async-mutex#{id} state")),
            None => state,
        };
        Mutex {
            id,
            state,
            value: UnsafeCell::new(value),
        }
    }

    /// Gives the mutex the name reports use for it: `async-mutex "count" (src/file.rs:12)`.
    pub fn named(mut self, name: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        let name = name.into();
        if self.id.is_some() {
            self.state = self.state.named(format!("{name} state"));
        }
        runtime::name_object(self.id, name);
        self
    }

    /// The value, consuming the mutex.
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// A future that resolves to the guard once the lock is free.
    pub fn lock(&self) -> Lock<'_, T> {
        Lock {
            mutex: self,
            waiting: false,
        }
    }

    /// The guard if the lock is free right now.
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.locked {
            return None;
        }
        state.locked = true;
        awaits::acquired(self.id);
        Some(MutexGuard {
            mutex: self,
            _value: PhantomData,
        })
    }

    /// The value, through the unique borrow of the mutex (no locking needed).
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }
}

impl<T: Default> Default for Mutex<T> {
    #[track_caller]
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T: ?Sized> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("future::Mutex").finish_non_exhaustive()
    }
}

/// The future [`Mutex::lock`] returns.
#[must_use = "a lock is taken only when the future is awaited"]
pub struct Lock<'a, T: ?Sized> {
    mutex: &'a Mutex<T>,
    /// It found the lock taken and is in its waiters.
    waiting: bool,
}

impl<'a, T: ?Sized> Future for Lock<'a, T> {
    type Output = MutexGuard<'a, T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<MutexGuard<'a, T>> {
        let mutex = self.mutex;
        let mut state = mutex.state.lock().unwrap_or_else(PoisonError::into_inner);
        if !state.locked {
            // The only place a guard is made besides `try_lock`, both with `locked` false before
            // and true after, under the state's lock: at most one guard exists at a time.
            state.locked = true;
            awaits::acquired(mutex.id);
            drop(state);
            self.waiting = false;
            return Poll::Ready(MutexGuard {
                mutex,
                _value: PhantomData,
            });
        }
        if !state.waiters.iter().any(|w| w.will_wake(cx.waker())) {
            state.waiters.push(cx.waker().clone());
        }
        awaits::blocked(mutex.id);
        drop(state);
        self.waiting = true;
        Poll::Pending
    }
}

impl<T: ?Sized> Drop for Lock<'_, T> {
    fn drop(&mut self) {
        // While unwinding, the execution is over (or the record unreachable: under loom, a panic
        // from inside loom's scheduler still holds loom's state).
        if self.waiting && !std::thread::panicking() {
            // Its waker stays among the waiters: a release wakes every waiter, so the others do
            // not depend on this one passing a wake on.
            awaits::gave_up(self.mutex.id);
        }
    }
}

impl<T: ?Sized> fmt::Debug for Lock<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock")
            .field("waiting", &self.waiting)
            .finish_non_exhaustive()
    }
}

/// The guard of a locked [`Mutex`]; the lock is released when it drops.
pub struct MutexGuard<'a, T: ?Sized> {
    mutex: &'a Mutex<T>,
    /// Send when `T` is, shared between threads only when `T: Sync` as well (it hands out `&T`).
    _value: PhantomData<&'a mut T>,
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: this guard is the only one (see `Lock::poll`), so no `&mut T` exists elsewhere;
        // the previous holder's accesses happen before this one's, through the state's lock.
        unsafe { &*self.mutex.value.get() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` makes this borrow unique among the guard's.
        unsafe { &mut *self.mutex.value.get() }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        if std::thread::panicking() && runtime::backend() == runtime::Backend::Loom {
            // Loom's execution is over (its own panic, or crosscheck stopping it), and asking loom
            // anything while it unwinds aborts the process.
            return;
        }
        let waiters = {
            let mut state = self.mutex.state.lock().unwrap_or_else(PoisonError::into_inner);
            state.locked = false;
            awaits::released(self.mutex.id);
            std::mem::take(&mut state.waiters)
        };
        for waiter in waiters {
            waiter.wake();
        }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
