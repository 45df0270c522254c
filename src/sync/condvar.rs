use std::time::Duration;

use super::mutex::{GuardInner, MutexGuard};
use super::{map_result, LockResult, PoisonError};
use crate::runtime::{self, locks, Backend, EventKind, ObjectKind};
use crate::scheduler::ChoiceKind;

/// A condition variable: `std::sync::Condvar`'s API, scheduled and recorded under a check.
///
/// Under shuttle and loom, `wait_timeout` never times out: time does not pass in a controlled execution, so
/// a thread waits until it is notified (or the execution is reported as a deadlock).
///
/// Spurious wakeups: std lets `wait` return without a notification, and real machines do it (a
/// futex woken by a signal, a wake meant for another waiter). Under the controlled schedulers each
/// wait is a choice point: the scheduler may make it return spuriously, releasing the lock and
/// taking it again with a scheduling point between, then returning normally. A wakeup that comes
/// later (after other threads ran) is the same as that spurious return with the waiter not
/// scheduled until then, so deciding at the wait loses no behaviour. After a thread's wait
/// returned spuriously, its next wait is not offered the surprise, so a `while` loop cannot spin
/// on spurious returns forever. [`Checker::spurious`](crate::Checker::spurious) turns them off;
/// loom never produces them; under `Scheduler::Stress`, whatever the OS does.
pub struct Condvar {
    id: Option<usize>,
    inner: Inner,
}

enum Inner {
    Std(std::sync::Condvar),
    Shuttle(shuttle::sync::Condvar),
    Loom(loom::sync::Condvar),
}

/// Whether a timed wait returned because its time ran out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitTimeoutResult(bool);

impl WaitTimeoutResult {
    /// True if the wait ended because the timeout elapsed.
    pub fn timed_out(&self) -> bool {
        self.0
    }
}

impl Default for Condvar {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Condvar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Condvar").finish_non_exhaustive()
    }
}

impl Condvar {
    /// A new condition variable.
    pub fn new() -> Self {
        match runtime::backend() {
            Backend::Std => Condvar {
                id: None,
                inner: Inner::Std(std::sync::Condvar::new()),
            },
            Backend::Shuttle => Condvar {
                id: runtime::new_object(ObjectKind::Condvar),
                inner: Inner::Shuttle(shuttle::sync::Condvar::new()),
            },
            Backend::Loom => Condvar {
                id: runtime::new_object(ObjectKind::Condvar),
                inner: Inner::Loom(loom::sync::Condvar::new()),
            },
        }
    }

    /// Releases the guard's lock, waits for a notification, and takes the lock again.
    pub fn wait<'a, T>(&self, mut guard: MutexGuard<'a, T>) -> LockResult<MutexGuard<'a, T>> {
        let lock = guard.lock;
        match (&self.inner, guard.inner.take().expect("guard is present until drop")) {
            (Inner::Std(cv), GuardInner::Std(g)) => map_result(cv.wait(g), |g| lock.guard(GuardInner::Std(g))),
            (Inner::Shuttle(cv), GuardInner::Shuttle(g)) => {
                if let Some(obj) = self.id {
                    runtime::record(EventKind::Wait { obj });
                }
                if runtime::choose(ChoiceKind::SpuriousWake, 2) == 1 {
                    if let Some(obj) = self.id {
                        runtime::record(EventKind::WokeSpuriously { obj });
                    }
                    // Dropping the guard releases the lock (a scheduling point, as a wait's release
                    // is); taking it again is the reacquisition every wakeup ends with.
                    guard.inner = Some(GuardInner::Shuttle(g));
                    drop(guard);
                    return lock.lock();
                }
                locks::released(lock.id());
                let result = cv.wait(g);
                locks::acquired(lock.id(), false);
                map_result(result, |g| lock.guard(GuardInner::Shuttle(g)))
            }
            (Inner::Loom(cv), GuardInner::Loom(g)) => {
                if let Some(obj) = self.id {
                    runtime::record(EventKind::Wait { obj });
                }
                locks::released(lock.id());
                let result = cv.wait(g);
                locks::acquired(lock.id(), false);
                map_result(result, |g| lock.guard(GuardInner::Loom(g)))
            }
            _ => panic!("crosscheck: a Condvar and a Mutex from different backends were used together"),
        }
    }

    /// Waits while `condition` holds for the guarded value.
    pub fn wait_while<'a, T, F>(&self, mut guard: MutexGuard<'a, T>, mut condition: F) -> LockResult<MutexGuard<'a, T>>
    where
        F: FnMut(&mut T) -> bool,
    {
        while condition(&mut *guard) {
            guard = self.wait(guard)?;
        }
        Ok(guard)
    }

    /// Like [`Condvar::wait`], but gives up after `dur` (never, under shuttle or loom).
    pub fn wait_timeout<'a, T>(
        &self,
        mut guard: MutexGuard<'a, T>,
        dur: Duration,
    ) -> LockResult<(MutexGuard<'a, T>, WaitTimeoutResult)> {
        let lock = guard.lock;
        match &self.inner {
            Inner::Std(cv) => match guard.inner.take().expect("guard is present until drop") {
                GuardInner::Std(g) => match cv.wait_timeout(g, dur) {
                    Ok((g, r)) => Ok((lock.guard(GuardInner::Std(g)), WaitTimeoutResult(r.timed_out()))),
                    Err(p) => {
                        let (g, r) = p.into_inner();
                        Err(PoisonError::new((
                            lock.guard(GuardInner::Std(g)),
                            WaitTimeoutResult(r.timed_out()),
                        )))
                    }
                },
                GuardInner::Shuttle(_) | GuardInner::Loom(_) => {
                    panic!("crosscheck: a Condvar and a Mutex from different backends were used together")
                }
            },
            // Time does not pass in a controlled execution: wait until notified.
            Inner::Shuttle(_) | Inner::Loom(_) => match self.wait(guard) {
                Ok(g) => Ok((g, WaitTimeoutResult(false))),
                Err(p) => Err(PoisonError::new((p.into_inner(), WaitTimeoutResult(false)))),
            },
        }
    }

    /// Wakes one waiting thread.
    pub fn notify_one(&self) {
        match &self.inner {
            Inner::Std(cv) => cv.notify_one(),
            Inner::Shuttle(cv) => {
                if let Some(obj) = self.id {
                    runtime::record(EventKind::Notify { obj, all: false });
                }
                cv.notify_one()
            }
            Inner::Loom(cv) => {
                if let Some(obj) = self.id {
                    runtime::record(EventKind::Notify { obj, all: false });
                }
                cv.notify_one()
            }
        }
    }

    /// Wakes every waiting thread.
    pub fn notify_all(&self) {
        match &self.inner {
            Inner::Std(cv) => cv.notify_all(),
            Inner::Shuttle(cv) => {
                if let Some(obj) = self.id {
                    runtime::record(EventKind::Notify { obj, all: true });
                }
                cv.notify_all()
            }
            Inner::Loom(cv) => {
                if let Some(obj) = self.id {
                    runtime::record(EventKind::Notify { obj, all: true });
                }
                cv.notify_all()
            }
        }
    }
}
