//! Drop-in replacements for `std::thread`'s `spawn`, [`scope`], [`Builder`], `yield_now`, `sleep`,
//! `current`, `park`, `park_timeout`, [`Thread::unpark`] and `thread_local!` (as
//! [`crate::thread_local!`], with its [`LocalKey`]), following the backend of the current check
//! like [`crate::sync`].
//!
//! # Parking
//!
//! std lets `park` return without an `unpark` ("it may also return spuriously"), so code that
//! parks must re-check its condition in a loop. Under the controlled schedulers an early return is
//! a choice point like a condition variable's spurious wakeup: offered when the token is absent,
//! recorded in the schedule and the token, shrunk away when a failure does not need it, and marked
//! in the report ("T1's park returned early"). A thread's next `park` after an early return is not
//! offered the surprise, so a loop always gets its unpark in the end. `park_timeout` runs in
//! logical time: it returns after letting every other thread run (see [`park_timeout`]).
//! [`Checker::spurious(false)`](crate::Checker::spurious) turns the early returns off; loom does
//! not produce them; under `Scheduler::Stress` they are whatever the OS does.

use std::sync::Arc;
use std::time::Duration;

mod local;
mod scope;

pub use local::LocalKey;
pub use scope::{scope, Scope, ScopedJoinHandle};

use crate::runtime::park::{self, Parker};
use crate::runtime::{self, Backend};

/// A handle to join a thread spawned with [`spawn`].
pub struct JoinHandle<T> {
    inner: Inner<T>,
    thread: Thread,
    /// The thread's spawn index in crosscheck's wait table (under shuttle).
    spawned: Option<usize>,
}

enum Inner<T> {
    Std(std::thread::JoinHandle<T>),
    Shuttle(crate::engine::thread::JoinHandle<T>),
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

    /// The spawned thread's handle, to unpark it.
    pub fn thread(&self) -> &Thread {
        &self.thread
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
    spawn_with(Builder::new(), f).expect("failed to spawn thread")
}

/// Spawns `f` as `builder` says (its name and stack size).
fn spawn_with<F, T>(builder: Builder, f: F) -> std::io::Result<JoinHandle<T>>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let Builder { name, stack_size } = builder;
    Ok(match runtime::backend() {
        Backend::Std => {
            // A thread of a stress iteration records its lock order like the one spawning it.
            let watched = runtime::std_order::inherited();
            let mut b = std::thread::Builder::new();
            if let Some(name) = name {
                b = b.name(name);
            }
            if let Some(size) = stack_size {
                b = b.stack_size(size);
            }
            let h = b.spawn(move || {
                let _watching = watched.map(|(order, thread)| runtime::std_order::watch(Some(order), thread));
                f()
            })?;
            let thread = Thread {
                inner: ThreadInner::Std(h.thread().clone()),
            };
            JoinHandle {
                inner: Inner::Std(h),
                thread,
                spawned: None,
            }
        }
        Backend::Shuttle => {
            // The child's token exists before the child runs, so the parent can unpark it at once.
            let parker = Parker::for_child();
            let child = Arc::clone(&parker);
            let spawned = runtime::waits::spawned();
            let mut b = crate::engine::thread::Builder::new();
            if let Some(name) = &name {
                b = b.name(name.clone());
            }
            if let Some(size) = stack_size {
                b = b.stack_size(size);
            }
            let handle = b.spawn(move || {
                park::adopt(child);
                runtime::waits::started(spawned);
                let _finish = runtime::waits::Finish(spawned);
                f()
            })?;
            let id = handle.thread().id();
            JoinHandle {
                inner: Inner::Shuttle(handle),
                thread: Thread {
                    inner: ThreadInner::Shuttle { parker, name, id },
                },
                spawned,
            }
        }
        Backend::Loom => {
            runtime::loom_spawning();
            let mut b = loom::thread::Builder::new();
            if let Some(name) = name {
                b = b.name(name);
            }
            if let Some(size) = stack_size {
                b = b.stack_size(size);
            }
            let h = b.spawn(f)?;
            let thread = Thread {
                inner: ThreadInner::Loom(h.thread().clone()),
            };
            JoinHandle {
                inner: Inner::Loom(h),
                thread,
                spawned: None,
            }
        }
    })
}

/// A thread's settings before it is spawned: `std::thread::Builder`'s API.
#[derive(Debug, Default)]
pub struct Builder {
    name: Option<String>,
    stack_size: Option<usize>,
}

impl Builder {
    /// Settings for a thread with std's defaults.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Names the thread (reports and [`Thread::name`] show it).
    pub fn name(mut self, name: String) -> Builder {
        self.name = Some(name);
        self
    }

    /// Sets the thread's stack size in bytes (under shuttle, the size of its coroutine stack).
    pub fn stack_size(mut self, size: usize) -> Builder {
        self.stack_size = Some(size);
        self
    }

    /// Spawns the thread.
    pub fn spawn<F, T>(self, f: F) -> std::io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        spawn_with(self, f)
    }
}

/// A handle to a thread, to unpark it: `std::thread::Thread`'s role.
#[derive(Clone)]
pub struct Thread {
    inner: ThreadInner,
}

#[derive(Clone)]
enum ThreadInner {
    Std(std::thread::Thread),
    Shuttle {
        parker: Arc<Parker>,
        name: Option<String>,
        id: crate::engine::thread::ThreadId,
    },
    Loom(loom::thread::Thread),
}

/// A thread's identifier ([`Thread::id`]), as std's `ThreadId`: equal for the same thread,
/// different for two threads alive at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ThreadId(IdInner);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum IdInner {
    Std(std::thread::ThreadId),
    Shuttle(crate::engine::thread::ThreadId),
    Loom(loom::thread::ThreadId),
}

impl Thread {
    /// Makes the thread's park token available: its current or next [`park`] returns.
    pub fn unpark(&self) {
        match &self.inner {
            ThreadInner::Std(t) => t.unpark(),
            ThreadInner::Shuttle { parker, .. } => parker.unpark(),
            ThreadInner::Loom(t) => {
                runtime::loom_point();
                t.unpark()
            }
        }
    }

    /// The thread's identifier: unique among the threads of one execution under a check, of the
    /// process outside one, as std's.
    pub fn id(&self) -> ThreadId {
        ThreadId(match &self.inner {
            ThreadInner::Std(t) => IdInner::Std(t.id()),
            ThreadInner::Shuttle { id, .. } => IdInner::Shuttle(*id),
            ThreadInner::Loom(t) => IdInner::Loom(t.id()),
        })
    }

    /// The thread's name, if it has one.
    pub fn name(&self) -> Option<&str> {
        match &self.inner {
            ThreadInner::Std(t) => t.name(),
            ThreadInner::Shuttle { name, .. } => name.as_deref(),
            ThreadInner::Loom(t) => t.name(),
        }
    }
}

impl std::fmt::Debug for Thread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Thread")
            .field("id", &self.id())
            .field("name", &self.name())
            .finish_non_exhaustive()
    }
}

/// The handle of the thread that calls it.
pub fn current() -> Thread {
    let inner = match runtime::backend() {
        Backend::Std => ThreadInner::Std(std::thread::current()),
        Backend::Shuttle => {
            let me = crate::engine::thread::current();
            ThreadInner::Shuttle {
                parker: park::current(),
                name: me.name().map(str::to_owned),
                id: me.id(),
            }
        }
        Backend::Loom => ThreadInner::Loom(loom::thread::current()),
    };
    Thread { inner }
}

/// Blocks until the thread's token is available, and consumes it. May return without one (std
/// allows it, and under a check the scheduler may choose it: see the module docs), so call it in
/// a loop that re-checks what you wait for.
pub fn park() {
    match runtime::backend() {
        Backend::Std => std::thread::park(),
        Backend::Shuttle => park::current().park(),
        Backend::Loom => {
            runtime::loom_point();
            loom::thread::park()
        }
    }
}

/// Like [`park`], but gives up after `dur`.
///
/// Under shuttle time is logical and `dur` is not used: the call consumes the token if it is
/// there, and otherwise lets every other thread run first and returns (with the token, if it came
/// meanwhile). That is every behaviour a timeout allows, since staying parked longer is the same
/// as not being scheduled again yet, and it never reports a deadlock that the timeout would have
/// ended. loom has no timed park: under loom this is a yield, the same model.
pub fn park_timeout(dur: Duration) {
    match runtime::backend() {
        Backend::Std => std::thread::park_timeout(dur),
        Backend::Shuttle => park::current().park_timeout(),
        Backend::Loom => {
            runtime::loom_point();
            loom::thread::yield_now()
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
            crate::engine::thread::yield_now()
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
