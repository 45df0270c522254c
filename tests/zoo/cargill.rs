//! Cargill's bounded buffer: one mutex and ONE condition variable for both "not full" and "not
//! empty", woken with `notify_one`, a buffer of one slot, two readers taking 5 items each and one
//! writer putting 10. A reader's notification can wake the other reader instead of the writer, and
//! then every thread waits.

use crosscheck::arbitrary;
use crosscheck::sync::{Condvar, Mutex};
use crosscheck::{Resource, Scenario};

#[derive(Clone, Debug, PartialEq, Eq, Hash, arbitrary::Arbitrary)]
pub enum Op {
    Put,
    Take,
}

pub struct Cargill {
    slot: Mutex<Option<u32>>,
    changed: Condvar,
}

impl Resource for Cargill {
    type Op = Op;
    type Output = ();
    type Model = super::Anything<Op>;
    fn new() -> Self {
        Cargill {
            slot: Mutex::new(None),
            changed: Condvar::new(),
        }
    }
    fn apply(&self, op: &Op) {
        let mut slot = self.slot.lock().unwrap();
        match op {
            Op::Put => {
                while slot.is_some() {
                    slot = self.changed.wait(slot).unwrap();
                }
                *slot = Some(1);
            }
            Op::Take => {
                while slot.is_none() {
                    slot = self.changed.wait(slot).unwrap();
                }
                *slot = None;
            }
        }
        self.changed.notify_one();
    }
}

pub fn scenario() -> Scenario<Op> {
    Scenario {
        threads: vec![vec![Op::Put; 10], vec![Op::Take; 5], vec![Op::Take; 5]],
        ..Scenario::default()
    }
}
