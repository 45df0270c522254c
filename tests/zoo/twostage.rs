//! twostage_N: writers publish `d1` under one lock, then derive `d2 = d1 + 1` under another; a
//! reader that sees `d1` set under the first lock and then reads `d2` under the second fails if
//! `d2` is not yet derived.

use crosscheck::arbitrary;
use crosscheck::sync::atomic::{AtomicI64, Ordering::SeqCst};
use crosscheck::sync::Mutex;
use crosscheck::{Resource, Scenario};

#[derive(Clone, Debug, PartialEq, Eq, Hash, arbitrary::Arbitrary)]
pub enum Op {
    Write,
    Read,
}

pub struct TwoStage {
    l1: Mutex<()>,
    l2: Mutex<()>,
    d1: AtomicI64,
    d2: AtomicI64,
}

impl Resource for TwoStage {
    type Op = Op;
    type Output = ();
    type Model = super::Anything<Op>;
    fn new() -> Self {
        TwoStage {
            l1: Mutex::new(()),
            l2: Mutex::new(()),
            d1: AtomicI64::new(0),
            d2: AtomicI64::new(0),
        }
    }
    fn apply(&self, op: &Op) {
        match op {
            Op::Write => {
                {
                    let _g = self.l1.lock().unwrap();
                    self.d1.store(1, SeqCst);
                }
                let _g = self.l2.lock().unwrap();
                self.d2.store(self.d1.load(SeqCst) + 1, SeqCst);
            }
            Op::Read => {
                let t1 = {
                    let _g = self.l1.lock().unwrap();
                    let d1 = self.d1.load(SeqCst);
                    if d1 == 0 {
                        return;
                    }
                    d1
                };
                let t2 = {
                    let _g = self.l2.lock().unwrap();
                    self.d2.load(SeqCst)
                };
                assert_eq!(t2, t1 + 1, "d2 read before it was derived from d1");
            }
        }
    }
}

/// `writers` writer threads and `readers` reader threads.
pub fn scenario(writers: usize, readers: usize) -> Scenario<Op> {
    super::threads_of(writers, Op::Write, readers, Op::Read)
}
