use std::panic::Location;
use std::time::Duration;

use super::mutex::{GuardInner, MutexGuard};
use super::{map_result, LockResult, PoisonError};
use crate::runtime::locks::{self, Acquire};
use crate::runtime::{self, Backend, EventKind, ObjectKind};
use crate::scheduler::ChoiceKind;

/// A condition variable: `std::sync::Condvar`'s API, scheduled and recorded under a check.
///
/// Under shuttle and loom, time is logical: `wait_timeout` times out whenever the scheduler runs
/// the waiter again before a notification (see [`Condvar::wait_timeout`]).
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
    Shuttle(crate::engine::sync::Condvar),
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
    #[track_caller]
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
    /// A new condition variable. Reports name it by where it was created; [`Condvar::named`]
    /// gives it a name as well.
    #[track_caller]
    pub fn new() -> Self {
        match runtime::backend() {
            Backend::Std => Condvar {
                id: None,
                inner: Inner::Std(std::sync::Condvar::new()),
            },
            Backend::Shuttle => Condvar {
                id: runtime::new_sited::<()>(ObjectKind::Condvar),
                inner: Inner::Shuttle(crate::engine::sync::Condvar::new()),
            },
            Backend::Loom => Condvar {
                id: runtime::new_sited::<()>(ObjectKind::Condvar),
                inner: Inner::Loom(loom::sync::Condvar::new()),
            },
        }
    }

    /// Gives the condition variable the name reports use for it: `condvar "not_empty" (..)`.
    pub fn named(self, name: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        runtime::name_object(self.id, name.into());
        self
    }

    /// Releases the guard's lock, waits for a notification, and takes the lock again.
    #[track_caller]
    pub fn wait<'a, T>(&self, mut guard: MutexGuard<'a, T>) -> LockResult<MutexGuard<'a, T>> {
        let site = Location::caller();
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
                    return lock.lock_at(site);
                }
                locks::released(lock.id());
                runtime::waits::before_wait(self.id, lock.id());
                let result = cv.wait(g);
                runtime::waits::after_wait();
                locks::acquired(lock.id(), false, site, Acquire::Blocking);
                map_result(result, |g| lock.guard(GuardInner::Shuttle(g)))
            }
            (Inner::Loom(cv), GuardInner::Loom(g)) => {
                if let Some(obj) = self.id {
                    runtime::record(EventKind::Wait { obj });
                }
                locks::released(lock.id());
                let result = cv.wait(g);
                locks::acquired(lock.id(), false, site, Acquire::Blocking);
                map_result(result, |g| lock.guard(GuardInner::Loom(g)))
            }
            _ => panic!("crosscheck: a Condvar and a Mutex from different backends were used together"),
        }
    }

    /// Waits while `condition` holds for the guarded value.
    #[track_caller]
    pub fn wait_while<'a, T, F>(&self, mut guard: MutexGuard<'a, T>, mut condition: F) -> LockResult<MutexGuard<'a, T>>
    where
        F: FnMut(&mut T) -> bool,
    {
        while condition(&mut *guard) {
            guard = self.wait(guard)?;
        }
        Ok(guard)
    }

    /// Like [`Condvar::wait`], but gives up after `dur`.
    ///
    /// Under shuttle and loom time is logical and nothing sleeps: the waiter lets go of the lock
    /// and stays runnable; when the scheduler runs it again it has been notified if a notification
    /// came meanwhile, and has timed out otherwise. Whether it times out is a scheduling choice,
    /// recorded in the schedule and replayed by its token, and `dur` does not matter. A timed
    /// waiter is not in the condition variable's queue, so a `notify_one` meant for another waiter
    /// may wake it as well: a spurious wakeup, which std's contract allows.
    #[track_caller]
    pub fn wait_timeout<'a, T>(
        &self,
        mut guard: MutexGuard<'a, T>,
        dur: Duration,
    ) -> LockResult<(MutexGuard<'a, T>, WaitTimeoutResult)> {
        let site = Location::caller();
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
            Inner::Shuttle(_) | Inner::Loom(_) => {
                if matches!(guard.inner, Some(GuardInner::Std(_))) {
                    panic!("crosscheck: a Condvar and a Mutex from different backends were used together");
                }
                let before = runtime::notifications(self.id);
                if let Some(obj) = self.id {
                    runtime::record(EventKind::Wait { obj });
                }
                drop(guard);
                runtime::switch();
                let timed_out = runtime::notifications(self.id) == before;
                if let (true, Some(obj)) = (timed_out, self.id) {
                    runtime::record(EventKind::WaitTimedOut { obj });
                }
                match lock.lock_at(site) {
                    Ok(g) => Ok((g, WaitTimeoutResult(timed_out))),
                    Err(p) => Err(PoisonError::new((p.into_inner(), WaitTimeoutResult(timed_out)))),
                }
            }
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
                runtime::waits::notified(self.id, false);
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
                runtime::waits::notified(self.id, true);
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
