//! Async code under a check: [`spawn`], [`block_on`], [`yield_now`], [`JoinHandle`], and an
//! async-aware [`Mutex`], following the backend of the current check like [`crate::sync`].
//!
//! | backend | [`block_on`] | [`spawn`] |
//! |---|---|---|
//! | a controlled scheduler | the engine's: the task sleeps while its future is pending | an engine future task, scheduled like a thread |
//! | `Scheduler::Loom` | the thread waits on a loom notification (as loom's own `block_on`) | a loom thread running the future with `block_on` (loom has no task executor) |
//! | `Scheduler::Stress`, or outside a check | a small executor: poll, park the OS thread until woken | an OS thread running the future with `block_on` |
//!
//! Under the controlled schedulers every step a future takes through the facade (an async lock,
//! a [`yield_now`], a `crosscheck::sync` object) is a scheduling point and is recorded, and a task
//! that sleeps for good is a deadlock: when every task is asleep waiting on a future nobody will
//! wake, the check fails with [`FailureKind::Deadlock`](crate::FailureKind::Deadlock), naming the
//! async locks awaited and who holds them.
//!
//! A resource whose operations are `async fn`s implements [`AsyncResource`](crate::AsyncResource)
//! and is checked like any other: each scenario thread drives its operation with [`block_on`].
//!
//! # Example
//!
//! ```
//! use crosscheck::future::{self, Mutex};
//! use crosscheck::sync::Arc;
//!
//! let count = Arc::new(Mutex::new(0));
//! let total = future::block_on(async {
//!     let handles: Vec<_> = (0..2)
//!         .map(|_| {
//!             let count = Arc::clone(&count);
//!             future::spawn(async move {
//!                 let mut n = count.lock().await;
//!                 future::yield_now().await; // other tasks may run; the lock stays held
//!                 *n += 1;
//!             })
//!         })
//!         .collect();
//!     for h in handles {
//!         h.await.unwrap();
//!     }
//!     *count.lock().await
//! });
//! assert_eq!(total, 2);
//! ```

mod executor;
mod join;
mod mutex;
mod watched;

pub use join::{spawn, JoinError, JoinHandle};
pub use mutex::{Lock, Mutex, MutexGuard};

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::runtime::{self, Backend};

/// Runs `future` to completion on the current thread, and returns its output.
///
/// Under a check the thread's task sleeps while the future is pending and runs again once it is
/// woken; elsewhere the OS thread parks. Like every executor's `block_on`, do not call it from
/// inside a future: the outer task would stop until the inner future is done.
pub fn block_on<F: Future>(future: F) -> F::Output {
    match runtime::backend() {
        Backend::Std => executor::block_on(future),
        Backend::Shuttle => crate::engine::future::block_on(watched::Watched::root(future)),
        Backend::Loom => executor::loom_block_on(future),
    }
}

/// Lets other tasks run: the current task is suspended once, and scheduled again right away.
///
/// Under a check this is a scheduling point where schedulers deprioritise the task, as
/// [`crate::thread::yield_now`] does for a thread.
pub async fn yield_now() {
    match runtime::backend() {
        Backend::Shuttle => {
            runtime::locks::note_backoff();
            runtime::record(runtime::EventKind::Yielded);
            crate::engine::future::yield_now().await
        }
        Backend::Loom => {
            runtime::record(runtime::EventKind::Yielded);
            YieldNow { yielded: false }.await
        }
        Backend::Std => YieldNow { yielded: false }.await,
    }
}

/// Pending once, after a yield of the thread (a scheduling point under loom), waking itself.
struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        crate::thread::yield_now();
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
