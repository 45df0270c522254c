//! A future polled under the engine, watched so that crosscheck knows when its task is asleep: pending
//! and not woken since (see `runtime::awaits`). Every waker the future hands out is wrapped, so a
//! wake from any task is seen, and a task that sleeps for good while every other thread waits too
//! is reported as a deadlock by crosscheck, naming what it awaits.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use crate::runtime;

pub(super) struct Watched<F> {
    future: Pin<Box<F>>,
    /// The wrapped waker, kept while the task's own waker stays the same (so that a lock's list
    /// of waiters recognises a task that polls again).
    waker: Option<(Waker, Waker)>,
    /// For a spawned task: its spawn index in the wait table, and whether it has started.
    spawned: Option<(Option<usize>, bool)>,
}

impl<F: Future> Watched<F> {
    /// The root future of a `block_on`.
    pub(super) fn root(future: F) -> Self {
        Watched {
            future: Box::pin(future),
            waker: None,
            spawned: None,
        }
    }

    /// A spawned task's future, registered as spawn `k` (it starts at its first poll and finishes
    /// when it is ready).
    pub(super) fn spawned(future: F, k: Option<usize>) -> Self {
        Watched {
            future: Box::pin(future),
            waker: None,
            spawned: Some((k, false)),
        }
    }

    fn waker(&mut self, task: usize, outer: &Waker) -> Waker {
        match &self.waker {
            Some((from, wrapped)) if from.will_wake(outer) => wrapped.clone(),
            _ => {
                let wrapped = Waker::from(Arc::new(TaskWaker {
                    task,
                    inner: outer.clone(),
                }));
                self.waker = Some((outer.clone(), wrapped.clone()));
                wrapped
            }
        }
    }
}

impl<F: Future> Future for Watched<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        if let Some((k, started)) = &mut this.spawned {
            if !*started {
                *started = true;
                runtime::waits::started(*k);
            }
        }
        let task = runtime::awaits::begin_poll();
        let output = match task {
            Some(task) => {
                let waker = this.waker(task, cx.waker());
                this.future.as_mut().poll(&mut Context::from_waker(&waker))
            }
            None => this.future.as_mut().poll(cx),
        };
        if output.is_ready() {
            if let Some((k, _)) = this.spawned {
                // Only a task that completed is finished: one torn down with its execution is not.
                runtime::waits::task_finished(k);
            }
        }
        runtime::awaits::end_poll(task, output.is_pending());
        output
    }
}

/// Notes the wake for crosscheck, then wakes the task as the engine's waker does.
struct TaskWaker {
    task: usize,
    inner: Waker,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        runtime::awaits::woken(self.task);
        self.inner.wake_by_ref();
    }
}
