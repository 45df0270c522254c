//! Drop-in replacements for `std::thread`'s `spawn`, `yield_now`, `current`, `park` and
//! `park_timeout`, following the backend of the current check like [`crate::sync`].
//!
//! std lets `park` return without an `unpark` ("may wake spuriously"). Under the controlled
//! schedulers each `park` is a choice point: the scheduler may make it return early, leaving the
//! token as it was; the report marks it. After a thread's park returned early its next park is not
//! offered the surprise, so a `while` loop around `park` cannot spin forever.
//! [`Checker::spurious`](crate::Checker::spurious) turns crosscheck's choice off, but shuttle's own
//! `park` may still return without an unpark, so code that parks must loop whatever the setting;
//! loom never produces it.

use std::time::Duration;

use crate::runtime::{self, Backend, EventKind};
use crate::scheduler::ChoiceKind;

/// A handle to join a thread spawned with [`spawn`].
pub struct JoinHandle<T> {
    inner: Inner<T>,
}

enum Inner<T> {
    Std(std::thread::JoinHandle<T>),
    Shuttle(shuttle::thread::JoinHandle<T>),
    Loom(loom::thread::JoinHandle<T>),
}

impl<T> JoinHandle<T> {
    /// Waits for the thread to finish; `Err` carries its panic payload.
    pub fn join(self) -> std::thread::Result<T> {
        match self.inner {
            Inner::Std(h) => h.join(),
            Inner::Shuttle(h) => h.join(),
            Inner::Loom(h) => h.join(),
        }
    }
}

impl<T> std::fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JoinHandle").finish_non_exhaustive()
    }
}

/// Spawns a thread: a scheduled task under a check, an OS thread elsewhere.
pub fn spawn<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    match runtime::backend() {
        Backend::Std => JoinHandle {
            inner: Inner::Std(std::thread::spawn(f)),
        },
        Backend::Shuttle => JoinHandle {
            inner: Inner::Shuttle(shuttle::thread::spawn(f)),
        },
        Backend::Loom => {
            runtime::loom_spawning();
            JoinHandle {
                inner: Inner::Loom(loom::thread::spawn(f)),
            }
        }
    }
}

/// Lets other threads run. Under a check this is a yield: schedulers deprioritise the thread, which
/// is what a spin loop wants.
pub fn yield_now() {
    match runtime::backend() {
        Backend::Std => std::thread::yield_now(),
        Backend::Shuttle => shuttle::thread::yield_now(),
        Backend::Loom => {
            runtime::loom_point();
            loom::thread::yield_now()
        }
    }
}

/// A handle to a thread, from [`current`]: what [`Thread::unpark`] wakes.
#[derive(Clone, Debug)]
pub struct Thread {
    inner: ThreadInner,
}

#[derive(Clone, Debug)]
enum ThreadInner {
    Std(std::thread::Thread),
    Shuttle(shuttle::thread::Thread),
    Loom(loom::thread::Thread),
}

impl Thread {
    /// Makes the thread's park token available if it is not already: its next [`park`] (or the
    /// one it is blocked in) returns.
    pub fn unpark(&self) {
        match &self.inner {
            ThreadInner::Std(t) => t.unpark(),
            ThreadInner::Shuttle(t) => {
                // shuttle's unpark is a scheduling point first: record it once it happened.
                t.unpark();
                runtime::record(EventKind::Unpark {
                    target: Some(usize::from(t.id())),
                });
            }
            ThreadInner::Loom(t) => {
                t.unpark();
                runtime::record(EventKind::Unpark { target: None });
            }
        }
    }
}

/// The handle of the calling thread.
pub fn current() -> Thread {
    let inner = match runtime::backend() {
        Backend::Std => ThreadInner::Std(std::thread::current()),
        Backend::Shuttle => ThreadInner::Shuttle(shuttle::thread::current()),
        Backend::Loom => ThreadInner::Loom(loom::thread::current()),
    };
    Thread { inner }
}

/// Blocks until the thread's park token is available (made so by [`Thread::unpark`]), and consumes
/// it; may return earlier, as std's may (see the module docs).
pub fn park() {
    match runtime::backend() {
        Backend::Std => std::thread::park(),
        Backend::Shuttle => {
            runtime::record(EventKind::Park);
            if runtime::choose(ChoiceKind::EarlyParkReturn, 2) == 1 {
                runtime::record(EventKind::ParkReturnedEarly);
                // Returning is still a point where other threads may run.
                runtime::switch();
                return;
            }
            shuttle::thread::park();
        }
        Backend::Loom => {
            runtime::record(EventKind::Park);
            loom::thread::park();
        }
    }
}

/// Like [`park`], but gives up after `dur`. Under shuttle and loom time does not pass, so it never
/// times out: it returns on an unpark, or early when the scheduler chooses (shuttle only).
pub fn park_timeout(dur: Duration) {
    match runtime::backend() {
        Backend::Std => std::thread::park_timeout(dur),
        Backend::Shuttle | Backend::Loom => park(),
    }
}
