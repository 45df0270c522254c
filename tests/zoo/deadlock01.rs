//! deadlock01: two threads take two locks in opposite orders.

use crosscheck::arbitrary;
use crosscheck::sync::Mutex;
use crosscheck::{Resource, Scenario};

#[derive(Clone, Debug, PartialEq, Eq, Hash, arbitrary::Arbitrary)]
pub enum Op {
    AThenB,
    BThenA,
}

pub struct Deadlock01 {
    a: Mutex<u32>,
    b: Mutex<u32>,
}

impl Resource for Deadlock01 {
    type Op = Op;
    type Output = ();
    type Model = super::Anything<Op>;
    fn new() -> Self {
        Deadlock01 {
            a: Mutex::new(0),
            b: Mutex::new(0),
        }
    }
    fn apply(&self, op: &Op) {
        let (first, second) = match op {
            Op::AThenB => (&self.a, &self.b),
            Op::BThenA => (&self.b, &self.a),
        };
        let mut x = first.lock().unwrap();
        let mut y = second.lock().unwrap();
        *x += 1;
        *y += 1;
    }
}

pub fn scenario() -> Scenario<Op> {
    super::threads_of(1, Op::AThenB, 1, Op::BThenA)
}
