use crate::future::{self, Mutex};
use crate::resources::{CounterModel, CounterOp};
use crate::AsyncResource;

/// BUGGY: an async counter that reads the count under its async lock, lets the lock go, yields,
/// and takes the lock again to write what it read plus one: two tasks that both read before
/// either writes lose an update, although every access is under the lock.
#[derive(Debug)]
pub struct RacyAsyncCounter(Mutex<u64>);

impl AsyncResource for RacyAsyncCounter {
    type Op = CounterOp;
    type Output = Option<u64>;
    type Model = CounterModel;

    fn new() -> Self {
        RacyAsyncCounter(Mutex::new(0).named("count"))
    }

    async fn apply(&self, op: &CounterOp) -> Option<u64> {
        match op {
            CounterOp::Inc => {
                let seen = *self.0.lock().await;
                future::yield_now().await;
                *self.0.lock().await = seen + 1;
                None
            }
            CounterOp::Get => Some(*self.0.lock().await),
        }
    }
}

/// Correct: the same increment with the guard held across the `.await`, so no other task runs
/// an increment in between.
#[derive(Debug)]
pub struct LockedAsyncCounter(Mutex<u64>);

impl AsyncResource for LockedAsyncCounter {
    type Op = CounterOp;
    type Output = Option<u64>;
    type Model = CounterModel;

    fn new() -> Self {
        LockedAsyncCounter(Mutex::new(0).named("count"))
    }

    async fn apply(&self, op: &CounterOp) -> Option<u64> {
        let mut count = self.0.lock().await;
        match op {
            CounterOp::Inc => {
                let seen = *count;
                future::yield_now().await;
                *count = seen + 1;
                None
            }
            CounterOp::Get => Some(*count),
        }
    }
}
