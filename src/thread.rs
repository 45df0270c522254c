//! Drop-in replacements for `std::thread`'s `spawn`, `yield_now` and `sleep`, following the backend
//! of the current check like [`crate::sync`].

use crate::runtime::{self, Backend};

/// A handle to join a thread spawned with [`spawn`].
pub struct JoinHandle<T> {
    inner: Inner<T>,
    /// The thread's spawn index in crosscheck's wait table (under shuttle).
    spawned: Option<usize>,
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
            Inner::Shuttle(h) => {
                runtime::waits::before_join(self.spawned);
                let joined = h.join();
                runtime::waits::after_join();
                joined
            }
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
        Backend::Std => {
            // A thread of a stress iteration records its lock order like the one spawning it.
            let watched = runtime::std_order::inherited();
            JoinHandle {
                inner: Inner::Std(std::thread::spawn(move || {
                    let _watching = watched.map(|(order, thread)| runtime::std_order::watch(Some(order), thread));
                    f()
                })),
                spawned: None,
            }
        }
        Backend::Shuttle => {
            let spawned = runtime::waits::spawned();
            JoinHandle {
                inner: Inner::Shuttle(shuttle::thread::spawn(move || {
                    runtime::waits::started(spawned);
                    let _finish = runtime::waits::Finish(spawned);
                    f()
                })),
                spawned,
            }
        }
        Backend::Loom => {
            runtime::loom_spawning();
            JoinHandle {
                inner: Inner::Loom(loom::thread::spawn(f)),
                spawned: None,
            }
        }
    }
}

/// Lets other threads run. Under a check this is a yield: schedulers deprioritise the thread, which
/// is what a spin loop wants.
pub fn yield_now() {
    match runtime::backend() {
        Backend::Std => std::thread::yield_now(),
        Backend::Shuttle => {
            runtime::locks::note_backoff();
            shuttle::thread::yield_now()
        }
        Backend::Loom => {
            runtime::loom_point();
            loom::thread::yield_now()
        }
    }
}

/// Sleeps for `dur`: for real outside the controlled schedulers (std, stress). Under shuttle and
/// loom time is logical, so a sleep is a yield (a scheduling point where another thread may run),
/// and a check's duration never depends on the durations a resource sleeps. A sleep (or a yield)
/// is what tells a back-off loop from a livelock: see
/// [`FailureKind::Livelock`](crate::FailureKind::Livelock).
pub fn sleep(dur: std::time::Duration) {
    match runtime::backend() {
        Backend::Std => std::thread::sleep(dur),
        Backend::Shuttle | Backend::Loom => yield_now(),
    }
}
