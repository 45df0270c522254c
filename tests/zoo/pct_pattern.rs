//! The PCT paper's pattern: one thread yields 20 times and then sets a flag under a lock; the other
//! reads the flag under the lock and fails if it is set. The bug needs the reader to wait out every
//! yield: a uniform random walk almost never does.

use crosscheck::arbitrary;
use crosscheck::sync::Mutex;
use crosscheck::{Resource, Scenario};

#[derive(Clone, Debug, PartialEq, Eq, Hash, arbitrary::Arbitrary)]
pub enum Op {
    YieldThenSet,
    Read,
}

pub struct PctPattern {
    flag: Mutex<bool>,
}

impl Resource for PctPattern {
    type Op = Op;
    type Output = ();
    type Model = super::Anything<Op>;
    fn new() -> Self {
        PctPattern {
            flag: Mutex::new(false),
        }
    }
    fn apply(&self, op: &Op) {
        match op {
            Op::YieldThenSet => {
                for _ in 0..20 {
                    crosscheck::thread::yield_now();
                }
                *self.flag.lock().unwrap() = true;
            }
            Op::Read => assert!(!*self.flag.lock().unwrap(), "the flag was set before the read"),
        }
    }
}

pub fn scenario() -> Scenario<Op> {
    super::threads_of(1, Op::YieldThenSet, 1, Op::Read)
}
