//! The engine's locks and condition variables, scheduled as shuttle schedules its own.
//!
//! A lock is an unfair semaphore ([`Permits`]): taking a free lock is a scheduling point before
//! it is taken; a thread that finds it taken waits (no scheduling point before it starts
//! waiting); releasing is a scheduling point and then wakes every waiter the freed permits could
//! satisfy, which race for them: the winner blocks the others again. A waiter whose waker was
//! called since it last slept (a yield calls it) skips one sleep and tries again. A condition
//! variable's `notify_one` wakes every waiter with a claim on the signal, and the first to run
//! takes it.
//!
//! Their state is kept behind a `std::sync::Mutex`, never contended (every task runs on one OS
//! thread), so the types are `Send` and `Sync` the ordinary way.

use std::collections::VecDeque;
use std::ops::{Deref, DerefMut};
use std::sync::{LockResult, PoisonError, TryLockError, TryLockResult};

use super::{me, running, serial, stopping, switch};

fn guard<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The guard of the std lock inside, taken once this task holds the engine lock's permits (so it
/// is free, if maybe poisoned), wrapped in the engine's guard.
fn wrapped<G, W>(taken: TryLockResult<G>, wrap: impl Fn(G) -> W) -> TryLockResult<W> {
    match taken {
        Ok(inner) => Ok(wrap(inner)),
        Err(TryLockError::Poisoned(p)) => Err(TryLockError::Poisoned(PoisonError::new(wrap(p.into_inner())))),
        Err(TryLockError::WouldBlock) => unreachable!("the std lock is free once the permits are held"),
    }
}

/// [`wrapped`] for a blocking lock, whose only error is poison.
fn blocking<W>(taken: TryLockResult<W>) -> LockResult<W> {
    taken.map_err(|e| match e {
        TryLockError::Poisoned(p) => p,
        TryLockError::WouldBlock => unreachable!("the std lock is free once the permits are held"),
    })
}

/// The permits of a lock, and the tasks waiting for them.
struct Permits {
    /// The execution whose tasks `waiters` names: waiters of another one are stale.
    serial: u64,
    available: usize,
    /// (task, permits it needs), in the order they started waiting.
    waiters: Vec<(usize, usize)>,
}

struct Semaphore(std::sync::Mutex<Permits>);

impl Semaphore {
    const fn new(permits: usize) -> Self {
        Semaphore(std::sync::Mutex::new(Permits {
            serial: 0,
            available: permits,
            waiters: Vec::new(),
        }))
    }

    fn state(&self) -> std::sync::MutexGuard<'_, Permits> {
        let mut state = guard(&self.0);
        let now = serial();
        if state.serial != now {
            state.serial = now;
            state.waiters.clear();
        }
        state
    }

    /// Takes `need` permits, waiting for them as long as it takes.
    fn acquire(&self, need: usize) {
        if self.state().available >= need {
            switch();
        }
        let me = me();
        let mut queued = false;
        loop {
            {
                let mut state = self.state();
                if state.available >= need {
                    state.available -= need;
                    if queued {
                        state.waiters.retain(|&(task, _)| task != me);
                    }
                    reblock(&state, me);
                    return;
                }
                if !queued {
                    state.waiters.push((me, need));
                    queued = true;
                }
            }
            assert!(
                !stopping(),
                "crosscheck: a destructor waited for a lock while the execution was being torn down"
            );
            super::sleep_unless_woken();
            switch();
        }
    }

    /// Takes `need` permits if they are free now (after a scheduling point).
    fn try_acquire(&self, need: usize) -> bool {
        switch();
        let mut state = self.state();
        if state.available < need {
            return false;
        }
        state.available -= need;
        if let Some(me) = running().filter(|_| !stopping()) {
            reblock(&state, me);
        }
        true
    }

    /// Gives back `count` permits (after a scheduling point) and wakes the waiters they satisfy.
    fn release(&self, count: usize) {
        switch();
        let mut state = self.state();
        state.available += count;
        if stopping() {
            state.waiters.clear();
            return;
        }
        let available = state.available;
        for &(task, need) in &state.waiters {
            if need <= available && !super::finished(task) {
                super::unblock(task);
                super::wake(task);
            }
        }
    }
}

/// Blocks again every waiter (but `me`) that the permits left cannot satisfy: the race is lost.
fn reblock(state: &Permits, me: usize) {
    for &(task, need) in &state.waiters {
        if need > state.available && task != me && !super::finished(task) {
            super::block(task);
        }
    }
}

/// A mutex of the engine, over a `std::sync::Mutex` that holds the data and its poison.
pub(crate) struct Mutex<T> {
    permits: Semaphore,
    holder: std::sync::Mutex<Option<usize>>,
    inner: std::sync::Mutex<T>,
}

/// The guard of an engine [`Mutex`].
pub(crate) struct MutexGuard<'a, T> {
    inner: Option<std::sync::MutexGuard<'a, T>>,
    lock: &'a Mutex<T>,
}

impl<T> Mutex<T> {
    pub(crate) const fn new(value: T) -> Self {
        Mutex {
            permits: Semaphore::new(1),
            holder: std::sync::Mutex::new(None),
            inner: std::sync::Mutex::new(value),
        }
    }

    pub(crate) fn lock(&self) -> LockResult<MutexGuard<'_, T>> {
        let me = me();
        assert!(
            *guard(&self.holder) != Some(me),
            "deadlock! task {me} tried to acquire a Mutex it already holds"
        );
        self.permits.acquire(1);
        *guard(&self.holder) = Some(me);
        blocking(self.wrap(self.inner.try_lock()))
    }

    pub(crate) fn try_lock(&self) -> TryLockResult<MutexGuard<'_, T>> {
        if !self.permits.try_acquire(1) {
            return Err(TryLockError::WouldBlock);
        }
        *guard(&self.holder) = running();
        self.wrap(self.inner.try_lock())
    }

    fn wrap<'a>(&'a self, taken: TryLockResult<std::sync::MutexGuard<'a, T>>) -> TryLockResult<MutexGuard<'a, T>> {
        wrapped(taken, |inner| MutexGuard {
            inner: Some(inner),
            lock: self,
        })
    }

    pub(crate) fn into_inner(self) -> LockResult<T> {
        self.inner.into_inner()
    }

    pub(crate) fn get_mut(&mut self) -> LockResult<&mut T> {
        self.inner.get_mut()
    }
}

impl<'a, T> MutexGuard<'a, T> {
    /// Releases the lock and returns it (a condition variable's wait).
    fn unlock(self) -> &'a Mutex<T> {
        self.lock
    }
}

impl<T> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        let lock = self.lock;
        lock.permits.release(1);
        release_inner(&mut self.inner, || lock.inner.clear_poison());
        *guard(&lock.holder) = None;
    }
}

/// Drops a guard of the std lock inside; a guard dropped while a torn-down execution unwinds
/// poisons nothing (no resource panicked).
fn release_inner<G>(inner: &mut Option<G>, clear_poison: impl FnOnce()) {
    let unwound = std::thread::panicking() && stopping();
    drop(inner.take());
    if unwound {
        clear_poison();
    }
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.inner.as_ref().expect("a live guard holds the lock")
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.inner.as_mut().expect("a live guard holds the lock")
    }
}

/// Permits of a write: every read's.
const MAX_READS: usize = (u32::MAX >> 3) as usize;

/// A reader-writer lock of the engine: a read takes one permit, a write all of them.
pub(crate) struct RwLock<T> {
    permits: Semaphore,
    /// The writer, or the readers.
    holders: std::sync::Mutex<(Option<usize>, Vec<usize>)>,
    inner: std::sync::RwLock<T>,
}

pub(crate) struct RwLockReadGuard<'a, T> {
    inner: Option<std::sync::RwLockReadGuard<'a, T>>,
    lock: &'a RwLock<T>,
    me: usize,
}

pub(crate) struct RwLockWriteGuard<'a, T> {
    inner: Option<std::sync::RwLockWriteGuard<'a, T>>,
    lock: &'a RwLock<T>,
}

impl<T> RwLock<T> {
    pub(crate) const fn new(value: T) -> Self {
        RwLock {
            permits: Semaphore::new(MAX_READS),
            holders: std::sync::Mutex::new((None, Vec::new())),
            inner: std::sync::RwLock::new(value),
        }
    }

    fn check_not_holding(&self, me: usize) {
        let holders = guard(&self.holders);
        assert!(
            holders.0 != Some(me) && !holders.1.contains(&me),
            "deadlock! task {me} tried to acquire a RwLock it already holds"
        );
    }

    pub(crate) fn read(&self) -> LockResult<RwLockReadGuard<'_, T>> {
        let me = me();
        self.check_not_holding(me);
        self.permits.acquire(1);
        guard(&self.holders).1.push(me);
        blocking(self.read_guard(me))
    }

    pub(crate) fn write(&self) -> LockResult<RwLockWriteGuard<'_, T>> {
        let me = me();
        self.check_not_holding(me);
        self.permits.acquire(MAX_READS);
        guard(&self.holders).0 = Some(me);
        blocking(self.write_guard())
    }

    pub(crate) fn try_read(&self) -> TryLockResult<RwLockReadGuard<'_, T>> {
        if !self.permits.try_acquire(1) {
            return Err(TryLockError::WouldBlock);
        }
        let me = running().unwrap_or(usize::MAX);
        guard(&self.holders).1.push(me);
        self.read_guard(me)
    }

    pub(crate) fn try_write(&self) -> TryLockResult<RwLockWriteGuard<'_, T>> {
        if !self.permits.try_acquire(MAX_READS) {
            return Err(TryLockError::WouldBlock);
        }
        guard(&self.holders).0 = running();
        self.write_guard()
    }

    /// The read guard of task `me`, which holds a read permit.
    fn read_guard(&self, me: usize) -> TryLockResult<RwLockReadGuard<'_, T>> {
        wrapped(self.inner.try_read(), |inner| RwLockReadGuard {
            inner: Some(inner),
            lock: self,
            me,
        })
    }

    /// The write guard of the running task, which holds every permit.
    fn write_guard(&self) -> TryLockResult<RwLockWriteGuard<'_, T>> {
        wrapped(self.inner.try_write(), |inner| RwLockWriteGuard {
            inner: Some(inner),
            lock: self,
        })
    }

    pub(crate) fn into_inner(self) -> LockResult<T> {
        self.inner.into_inner()
    }

    pub(crate) fn get_mut(&mut self) -> LockResult<&mut T> {
        self.inner.get_mut()
    }
}

impl<T> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        let lock = self.lock;
        lock.permits.release(1);
        drop(self.inner.take());
        let mut holders = guard(&lock.holders);
        if let Some(i) = holders.1.iter().position(|&t| t == self.me) {
            holders.1.swap_remove(i);
        }
    }
}

impl<T> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        let lock = self.lock;
        lock.permits.release(MAX_READS);
        release_inner(&mut self.inner, || lock.inner.clear_poison());
        guard(&lock.holders).0 = None;
    }
}

impl<T> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.inner.as_ref().expect("a live guard holds the lock")
    }
}

impl<T> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.inner.as_ref().expect("a live guard holds the lock")
    }
}

impl<T> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.inner.as_mut().expect("a live guard holds the lock")
    }
}

/// What a waiter of a condition variable has been sent.
enum Status {
    Waiting,
    /// Claims on these `notify_one` signals (by number); the first claimant to run takes one.
    Signal(VecDeque<usize>),
    Broadcast,
}

struct Waiters {
    serial: u64,
    waiters: Vec<(usize, Status)>,
    next_signal: usize,
}

/// A condition variable of the engine. It never wakes a waiter spuriously: the facade offers
/// std's spurious wakeups as choices of its own.
pub(crate) struct Condvar(std::sync::Mutex<Waiters>);

impl Condvar {
    pub(crate) const fn new() -> Self {
        Condvar(std::sync::Mutex::new(Waiters {
            serial: 0,
            waiters: Vec::new(),
            next_signal: 0,
        }))
    }

    fn state(&self) -> std::sync::MutexGuard<'_, Waiters> {
        let mut state = guard(&self.0);
        let now = serial();
        if state.serial != now {
            state.serial = now;
            state.waiters.clear();
        }
        state
    }

    /// Releases `mutex_guard`'s lock, waits for a notification, and takes the lock again.
    pub(crate) fn wait<'a, T>(&self, mutex_guard: MutexGuard<'a, T>) -> LockResult<MutexGuard<'a, T>> {
        let me = me();
        let mutex = mutex_guard.unlock();
        self.state().waiters.push((me, Status::Waiting));
        super::block_current();
        switch();
        {
            let mut state = self.state();
            let at = state.waiters.iter().position(|(t, _)| *t == me);
            let (_, status) = state.waiters.remove(at.expect("a woken waiter is still listed"));
            match status {
                Status::Broadcast => {}
                Status::Signal(mut signals) => {
                    // This waiter takes the oldest signal it has a claim on; the others' claims on
                    // it lapse, and a waiter left with none waits again.
                    let taken = signals.pop_front().expect("a signalled waiter has a signal");
                    for (task, status) in state.waiters.iter_mut() {
                        if let Status::Signal(claims) = status {
                            if let Some(i) = claims.iter().position(|&s| s == taken) {
                                claims.remove(i);
                                if claims.is_empty() {
                                    *status = Status::Waiting;
                                    super::block(*task);
                                }
                            }
                        }
                    }
                }
                Status::Waiting => panic!("crosscheck's engine: a waiter woke up without a notification"),
            }
        }
        mutex.lock()
    }

    /// Wakes one waiter (every waiter may take the signal; the first to run does).
    pub(crate) fn notify_one(&self) {
        switch();
        let mut state = self.state();
        let signal = state.next_signal;
        state.next_signal += 1;
        for (task, status) in state.waiters.iter_mut() {
            match status {
                Status::Waiting => *status = Status::Signal(VecDeque::from([signal])),
                Status::Signal(claims) => claims.push_back(signal),
                Status::Broadcast => {}
            }
            super::unblock(*task);
        }
    }

    /// Wakes every waiter.
    pub(crate) fn notify_all(&self) {
        switch();
        let mut state = self.state();
        for (task, status) in state.waiters.iter_mut() {
            *status = Status::Broadcast;
            super::unblock(*task);
        }
    }
}
