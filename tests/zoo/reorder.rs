//! reorder_N: setters store `a = 1` then `b = -1`; checkers load `a` then `b` and fail on a mixed
//! state, `(1, 0)` (a setter is between its stores) or `(0, -1)` (a whole setter ran between the
//! checker's loads).

use crosscheck::arbitrary;
use crosscheck::sync::atomic::{AtomicI64, Ordering::SeqCst};
use crosscheck::{Resource, Scenario};

#[derive(Clone, Debug, PartialEq, Eq, Hash, arbitrary::Arbitrary)]
pub enum Op {
    Set,
    Check,
}

pub struct Reorder {
    a: AtomicI64,
    b: AtomicI64,
}

impl Resource for Reorder {
    type Op = Op;
    type Output = ();
    type Model = super::Anything<Op>;
    fn new() -> Self {
        Reorder {
            a: AtomicI64::new(0),
            b: AtomicI64::new(0),
        }
    }
    fn apply(&self, op: &Op) {
        match op {
            Op::Set => {
                self.a.store(1, SeqCst);
                self.b.store(-1, SeqCst);
            }
            Op::Check => {
                let a = self.a.load(SeqCst);
                let b = self.b.load(SeqCst);
                assert!(!matches!((a, b), (1, 0) | (0, -1)), "reordered: a = {a}, b = {b}");
            }
        }
    }
}

/// `setters` setter threads and `checkers` checker threads.
pub fn scenario(setters: usize, checkers: usize) -> Scenario<Op> {
    super::threads_of(setters, Op::Set, checkers, Op::Check)
}
