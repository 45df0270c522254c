//! The uneven workload: one thread stores 0 once, another stores 1 twenty-five times; the final
//! value must not be 0, so the bug is the single store coming after all 25 others.

use crosscheck::arbitrary;
use crosscheck::sync::atomic::{AtomicU64, Ordering::SeqCst};
use crosscheck::{Resource, Scenario};

#[derive(Clone, Debug, PartialEq, Eq, Hash, arbitrary::Arbitrary)]
pub enum Op {
    StoreZero,
    StoreOnes,
}

pub struct Uneven(AtomicU64);

impl Resource for Uneven {
    type Op = Op;
    type Output = ();
    type Model = super::Anything<Op>;
    fn new() -> Self {
        Uneven(AtomicU64::new(2))
    }
    fn apply(&self, op: &Op) {
        match op {
            Op::StoreZero => self.0.store(0, SeqCst),
            Op::StoreOnes => (0..25).for_each(|_| self.0.store(1, SeqCst)),
        }
    }
    fn invariant(&self) -> Result<(), String> {
        match self.0.load(SeqCst) {
            0 => Err("the single store of 0 came last".into()),
            _ => Ok(()),
        }
    }
}

pub fn scenario() -> Scenario<Op> {
    super::threads_of(1, Op::StoreZero, 1, Op::StoreOnes)
}
