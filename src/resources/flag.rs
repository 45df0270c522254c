use crate::arbitrary::Arbitrary;
use crate::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use crate::{Model, Resource};

/// The value a publisher publishes: never the initial 0, so a reader that gets 0 read stale memory.
pub const PUBLISHED: u64 = 42;

/// A one-shot publication's operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Arbitrary)]
pub enum FlagOp {
    /// Write the data ([`PUBLISHED`]), then raise the flag; returns `None`.
    Publish,
    /// If the flag is up, read the data: `Some(data)`; else `None`.
    Read,
}

/// The specification: a reader that sees the flag sees the data, and only once it was published.
///
/// A reader may still miss a publication that has already returned (`None`): a `Release` store
/// can sit in the writer's store buffer after the call returns, so on real hardware the flag
/// promises order, not promptness. [`Model::step_matches`] says so; `step` gives the prompt answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct FlagModel(bool);

impl Model for FlagModel {
    type Op = FlagOp;
    type Output = Option<u64>;

    fn step(&mut self, op: &FlagOp) -> Option<u64> {
        match op {
            FlagOp::Publish => {
                self.0 = true;
                None
            }
            FlagOp::Read => self.0.then_some(PUBLISHED),
        }
    }

    fn step_matches(&mut self, op: &FlagOp, actual: &Option<u64>) -> bool {
        match (op, actual) {
            (FlagOp::Read, None) => true,
            _ => &self.step(op) == actual,
        }
    }
}

/// The data and the flag that says it is ready.
#[derive(Debug)]
struct Publication {
    data: AtomicU64,
    ready: AtomicBool,
}

impl Publication {
    fn new() -> Self {
        Publication {
            data: AtomicU64::new(0),
            ready: AtomicBool::new(false),
        }
    }

    fn apply(&self, op: &FlagOp, publish: Ordering, observe: Ordering) -> Option<u64> {
        match op {
            FlagOp::Publish => {
                self.data.store(PUBLISHED, Ordering::Relaxed);
                self.ready.store(true, publish);
                None
            }
            FlagOp::Read => self.ready.load(observe).then(|| self.data.load(Ordering::Relaxed)),
        }
    }
}

/// BUGGY, on weak memory only: raises the flag with a `Relaxed` store and reads it with a `Relaxed`
/// load, so nothing orders the data write before the flag for the reader: a reader that sees the
/// flag may still read the data's old value (0). Every sequentially consistent interleaving is
/// correct, so shuttle's schedulers never see this bug; `Scheduler::Loom` does.
#[derive(Debug)]
pub struct RelaxedFlag(Publication);

impl Resource for RelaxedFlag {
    type Op = FlagOp;
    type Output = Option<u64>;
    type Model = FlagModel;

    fn new() -> Self {
        RelaxedFlag(Publication::new())
    }

    fn apply(&self, op: &FlagOp) -> Option<u64> {
        self.0.apply(op, Ordering::Relaxed, Ordering::Relaxed)
    }
}

/// Correct: the flag is raised with `Release` and read with `Acquire`, so a reader that sees it
/// also sees the data written before it.
#[derive(Debug)]
pub struct ReleaseAcquireFlag(Publication);

impl Resource for ReleaseAcquireFlag {
    type Op = FlagOp;
    type Output = Option<u64>;
    type Model = FlagModel;

    fn new() -> Self {
        ReleaseAcquireFlag(Publication::new())
    }

    fn apply(&self, op: &FlagOp) -> Option<u64> {
        self.0.apply(op, Ordering::Release, Ordering::Acquire)
    }
}
