use crate::arbitrary::Arbitrary;
use crate::sync::atomic::{AtomicU64, Ordering};
use crate::sync::Mutex;
use crate::{Model, Resource};

/// A counter's operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Arbitrary)]
pub enum CounterOp {
    /// Add one; returns `None`.
    Inc,
    /// Read the count; returns `Some(count)`.
    Get,
}

/// The counter's specification: a number that `Inc` raises by one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct CounterModel(u64);

impl Model for CounterModel {
    type Op = CounterOp;
    type Output = Option<u64>;

    fn step(&mut self, op: &CounterOp) -> Option<u64> {
        match op {
            CounterOp::Inc => {
                self.0 += 1;
                None
            }
            CounterOp::Get => Some(self.0),
        }
    }
}

/// BUGGY: increments with a load and a separate store, so two threads that both load before
/// either stores lose an update.
#[derive(Debug)]
pub struct RacyCounter(AtomicU64);

impl Resource for RacyCounter {
    type Op = CounterOp;
    type Output = Option<u64>;
    type Model = CounterModel;

    fn new() -> Self {
        RacyCounter(AtomicU64::new(0))
    }

    fn apply(&self, op: &CounterOp) -> Option<u64> {
        match op {
            CounterOp::Inc => {
                let seen = self.0.load(Ordering::SeqCst);
                self.0.store(seen + 1, Ordering::SeqCst);
                None
            }
            CounterOp::Get => Some(self.0.load(Ordering::SeqCst)),
        }
    }
}

/// Correct: the whole increment happens under a lock.
#[derive(Debug)]
pub struct LockedCounter(Mutex<u64>);

impl Resource for LockedCounter {
    type Op = CounterOp;
    type Output = Option<u64>;
    type Model = CounterModel;

    fn new() -> Self {
        LockedCounter(Mutex::new(0))
    }

    fn apply(&self, op: &CounterOp) -> Option<u64> {
        let mut count = self.0.lock().unwrap();
        match op {
            CounterOp::Inc => {
                *count += 1;
                None
            }
            CounterOp::Get => Some(*count),
        }
    }
}

/// Correct: one atomic read-modify-write per increment.
#[derive(Debug)]
pub struct AtomicCounter(AtomicU64);

impl Resource for AtomicCounter {
    type Op = CounterOp;
    type Output = Option<u64>;
    type Model = CounterModel;

    fn new() -> Self {
        AtomicCounter(AtomicU64::new(0))
    }

    fn apply(&self, op: &CounterOp) -> Option<u64> {
        match op {
            CounterOp::Inc => {
                self.0.fetch_add(1, Ordering::SeqCst);
                None
            }
            CounterOp::Get => Some(self.0.load(Ordering::SeqCst)),
        }
    }
}
