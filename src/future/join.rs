//! [`spawn`] and the [`JoinHandle`] that awaits a spawned task.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, PoisonError};
use std::task::{Context, Poll, Waker};

use crate::runtime::{self, Backend};

/// Spawns a task that runs `future` to completion, and returns a handle that awaits its output.
///
/// Under a controlled scheduler the task is scheduled like a thread (and named after the thread that
/// spawned it in reports: `T1's thread`); under loom it is a loom thread running the future with
/// [`block_on`](super::block_on), and counts against loom's thread limit; elsewhere it is an OS
/// thread doing the same. Dropping the handle detaches the task: it still runs to completion.
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let inner = match runtime::backend() {
        Backend::Shuttle => {
            // Registered like a thread, so that crosscheck's deadlock detection counts it as
            // live while it can still run, and a join orders its accesses before the joiner's.
            let spawned = runtime::waits::spawned();
            let handle = crate::engine::future::spawn(super::watched::Watched::spawned(future, spawned));
            Inner::Shuttle { handle, spawned }
        }
        backend @ (Backend::Std | Backend::Loom) => {
            let slot = crate::sync::Mutex::new(Slot::<F::Output> {
                result: None,
                waker: None,
            });
            // What the interleaving shows of it is the task's end and the join.
            runtime::mark_internal(slot.object_id());
            let slot = Arc::new(slot);
            let filled = Arc::clone(&slot);
            // Under loom a panic must reach loom (and crosscheck's own stop must unwind to the
            // harness): only a real thread's panic is caught and handed to the awaiting task.
            let catch = backend == Backend::Std;
            drop(crate::thread::spawn(move || {
                let result = if catch {
                    catch_unwind(AssertUnwindSafe(|| super::block_on(future))).map_err(JoinError::panicked)
                } else {
                    Ok(super::block_on(future))
                };
                let waker = {
                    let mut slot = filled.lock().unwrap_or_else(PoisonError::into_inner);
                    slot.result = Some(result);
                    slot.waker.take()
                };
                if let Some(waker) = waker {
                    waker.wake();
                }
            }));
            Inner::Thread { slot, done: false }
        }
    };
    JoinHandle { inner }
}

/// An owned permission to await a task spawned with [`spawn`]: a future of the task's output.
///
/// `Err` when the task panicked (outside the controlled schedulers: under them a panic in any task
/// fails the check, with the panic's message) or was cancelled (when its execution ended first).
pub struct JoinHandle<T> {
    inner: Inner<T>,
}

enum Inner<T> {
    Shuttle {
        handle: crate::engine::future::JoinHandle<T>,
        /// The task's spawn index in crosscheck's wait table.
        spawned: Option<usize>,
    },
    /// A loom or OS thread fills the slot.
    Thread {
        slot: Arc<crate::sync::Mutex<Slot<T>>>,
        done: bool,
    },
}

struct Slot<T> {
    result: Option<Result<T, JoinError>>,
    waker: Option<Waker>,
}

impl<T> JoinHandle<T> {
    /// Blocks the current thread until the task is done: `block_on(handle)`.
    pub fn join(self) -> Result<T, JoinError> {
        super::block_on(self)
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.inner {
            Inner::Shuttle { handle, spawned } => match Pin::new(handle).poll(cx) {
                Poll::Ready(output) => {
                    runtime::waits::joined_task(*spawned);
                    Poll::Ready(Ok(output))
                }
                Poll::Pending => Poll::Pending,
            },
            Inner::Thread { slot, done } => {
                assert!(
                    !*done,
                    "crosscheck::future::JoinHandle polled after it returned its output"
                );
                let mut slot = slot.lock().unwrap_or_else(PoisonError::into_inner);
                match slot.result.take() {
                    Some(result) => {
                        *done = true;
                        Poll::Ready(result)
                    }
                    None => {
                        slot.waker = Some(cx.waker().clone());
                        Poll::Pending
                    }
                }
            }
        }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle").finish_non_exhaustive()
    }
}

/// Why a task spawned with [`spawn`] did not return its output.
pub struct JoinError {
    repr: Repr,
}

enum Repr {
    /// No task ends this way today: a task's execution waits for it, or drops its handle with it.
    /// Kept so that `is_cancelled` and `try_into_panic` keep their meaning for code that asks.
    #[allow(dead_code)]
    Cancelled,
    Panic(Box<dyn Any + Send + 'static>),
}

impl JoinError {
    fn panicked(payload: Box<dyn Any + Send + 'static>) -> JoinError {
        JoinError {
            repr: Repr::Panic(payload),
        }
    }

    /// The task was cancelled: its execution ended before it did.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// The task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(_))
    }

    /// The task's panic payload, to `std::panic::resume_unwind` it; `Err(self)` if it was
    /// cancelled instead.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.repr {
            Repr::Panic(payload) => Ok(payload),
            Repr::Cancelled => Err(self),
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => write!(f, "task was cancelled"),
            Repr::Panic(payload) => write!(f, "task panicked: {}", runtime::panics::payload_message(&**payload)),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JoinError({self})")
    }
}

impl std::error::Error for JoinError {}
