//! Resources that misbehave in ways no model check sees: they spin, or wait forever on a condition
//! variable. Shared by the tests of every backend.

use crosscheck::arbitrary; // the derive below names `arbitrary::`
use crosscheck::sync::atomic::{AtomicBool, Ordering};
use crosscheck::sync::{Condvar, Mutex};
use crosscheck::{Model, Resource};

#[derive(Clone, Debug, PartialEq, Eq, Hash, arbitrary::Arbitrary)]
pub enum Op {
    Poke,
}

/// A specification that allows everything: these resources fail by hanging, not by returning.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Nothing;

impl Model for Nothing {
    type Op = Op;
    type Output = ();
    fn step(&mut self, _: &Op) {}
}

/// Waits for a flag nobody sets.
pub struct Spinner(AtomicBool);

impl Resource for Spinner {
    type Op = Op;
    type Output = ();
    type Model = Nothing;
    fn new() -> Self {
        Spinner(AtomicBool::new(false))
    }
    fn apply(&self, _: &Op) {
        while !self.0.load(Ordering::SeqCst) {
            crosscheck::thread::yield_now();
        }
    }
}

/// Every thread waits on a condition variable nobody signals: a deadlock no lock table shows.
pub struct Waiter(Mutex<bool>, Condvar);

impl Resource for Waiter {
    type Op = Op;
    type Output = ();
    type Model = Nothing;
    fn new() -> Self {
        Waiter(Mutex::new(false), Condvar::new())
    }
    fn apply(&self, _: &Op) {
        let mut ready = self.0.lock().unwrap();
        while !*ready {
            ready = self.1.wait(ready).unwrap();
        }
    }
}
