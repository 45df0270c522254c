//! Futures on the engine: [`block_on`] polls a future on the running task, sleeping while it is
//! pending; [`spawn`] makes a task that polls one to completion. A task's waker makes it runnable
//! again and, if it was not sleeping yet, keeps it from sleeping once.

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

use super::{me, serial, switch};

/// Wakes one task of one execution.
struct TaskWaker {
    serial: u64,
    task: usize,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        super::wake_in(self.serial, self.task);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        super::wake_in(self.serial, self.task);
    }
}

/// The running task's waker.
fn waker() -> Waker {
    Waker::from(Arc::new(TaskWaker {
        serial: serial(),
        task: me(),
    }))
}

/// Polls `future` on the running task until it is ready.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let waker = waker();
    let mut cx = Context::from_waker(&waker);
    loop {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(output) => return output,
            Poll::Pending => {
                super::sleep_unless_woken();
                switch();
            }
        }
    }
}

struct Shared<T> {
    result: Option<T>,
    waker: Option<Waker>,
}

/// Awaits a task made by [`spawn`]; dropping it detaches the task.
pub(crate) struct JoinHandle<T> {
    task: usize,
    shared: Arc<Mutex<Shared<T>>>,
}

/// Spawns a task that polls `future` to completion.
pub(crate) fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    switch();
    let shared = Arc::new(Mutex::new(Shared {
        result: None,
        waker: None,
    }));
    let filled = Arc::clone(&shared);
    let body = Box::new(move || {
        let output = {
            let mut future = pin!(future);
            let waker = waker();
            let mut cx = Context::from_waker(&waker);
            loop {
                if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                    break output;
                }
                super::sleep_unless_woken();
                switch();
            }
        };
        // Nobody awaits a task whose handle is gone: its output is dropped first.
        let output = (Arc::strong_count(&filled) > 1).then_some(output);
        super::thread::drop_locals();
        let waker = {
            let mut shared = filled.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(output) = output {
                shared.result = Some(output);
            }
            shared.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    });
    let task = super::spawn(body, None, None);
    JoinHandle { task, shared }
}

impl<T> Future for JoinHandle<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        match shared.result.take() {
            Some(result) => Poll::Ready(result),
            None => {
                shared.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        super::detach(self.task);
    }
}

/// Pending once, waking itself: a yield of the task that polls it.
pub(crate) async fn yield_now() {
    struct YieldNow(bool);

    impl Future for YieldNow {
        type Output = ();

        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if self.0 {
                return Poll::Ready(());
            }
            self.0 = true;
            cx.waker().wake_by_ref();
            super::request_yield();
            Poll::Pending
        }
    }

    YieldNow(false).await
}
