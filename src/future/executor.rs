//! The `block_on`s crosscheck drives itself: outside the controlled schedulers (no check, or
//! `Scheduler::Stress`) poll the future and park the OS thread until its waker unparks it; under
//! loom, the same with a loom notification.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;

/// Wakes the thread blocked in [`block_on`].
struct Unparker {
    thread: Thread,
    /// Set by a wake, taken before each poll: a wake that comes while the future is being polled
    /// is not lost, and a spurious unpark does not poll again for nothing.
    woken: AtomicBool,
}

impl Wake for Unparker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.thread.unpark();
    }
}

pub(super) fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let unparker = Arc::new(Unparker {
        thread: std::thread::current(),
        woken: AtomicBool::new(false),
    });
    let waker = Waker::from(Arc::clone(&unparker));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        while !unparker.woken.swap(false, Ordering::Acquire) {
            std::thread::park();
        }
    }
}

/// Wakes the loom thread blocked in [`loom_block_on`].
struct LoomNotify(loom::sync::Notify);

impl Wake for LoomNotify {
    fn wake(self: Arc<Self>) {
        self.0.notify();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.notify();
    }
}

/// `loom::future::block_on`, with the waker's count kept in a std `Arc`: loom's own block_on keeps
/// it in a loom `Arc`, whose drop is a loom operation, and when loom reports a deadlock from inside
/// the wait, that drop runs during the unwinding and aborts the process. Dropping a std `Arc` asks
/// nothing of loom, so the deadlock reaches crosscheck's harness like any other.
pub(super) fn loom_block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let notify = Arc::new(LoomNotify(loom::sync::Notify::new()));
    let waker = Waker::from(Arc::clone(&notify));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        notify.0.wait();
    }
}
