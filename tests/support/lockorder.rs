//! Resources whose operations take locks in given orders, for the lock-order analysis: a test pins
//! a scenario, so that what it runs (and what deadlocks or not) is exact.

use crosscheck::arbitrary; // the derive below names `arbitrary::`
use crosscheck::sync::{Mutex, RwLock};
use crosscheck::{Model, Resource};

/// Take the locks with these indexes, nested, in this order (`Nest(0, 1)`: 0, then 1 inside it);
/// `Apart(0, 1)`: take 0, release it, then take 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, arbitrary::Arbitrary)]
pub enum LockOp {
    Nest(u8, u8),
    Apart(u8, u8),
    /// Read 0 then read 1, nested (RwLocks only).
    ReadNest(u8, u8),
    /// Hold 0, try 1 with a timeout.
    TryNest(u8, u8),
}

/// Every operation returns `()`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Unit;

impl Model for Unit {
    type Op = LockOp;
    type Output = ();
    fn step(&mut self, _: &LockOp) {}
}

/// Three mutexes, "a", "b" and "c".
pub struct ThreeLocks([Mutex<u64>; 3]);

impl Resource for ThreeLocks {
    type Op = LockOp;
    type Output = ();
    type Model = Unit;

    fn new() -> Self {
        ThreeLocks([
            Mutex::new(0).named("a"),
            Mutex::new(0).named("b"),
            Mutex::new(0).named("c"),
        ])
    }

    fn apply(&self, op: &LockOp) {
        let lock = |i: u8| &self.0[usize::from(i) % 3];
        match *op {
            LockOp::Nest(i, j) | LockOp::ReadNest(i, j) => {
                let mut first = lock(i).lock().unwrap();
                let mut second = lock(j).lock().unwrap();
                *first += 1;
                *second += 1;
            }
            LockOp::Apart(i, j) => {
                *lock(i).lock().unwrap() += 1;
                *lock(j).lock().unwrap() += 1;
            }
            LockOp::TryNest(i, j) => {
                let mut first = lock(i).lock().unwrap();
                if let Some(mut second) = lock(j).try_lock_for(std::time::Duration::from_millis(1)) {
                    *second += 1;
                }
                *first += 1;
            }
        }
    }
}

/// Two reader-writer locks, "x" and "y".
pub struct TwoRwLocks([RwLock<u64>; 2]);

impl Resource for TwoRwLocks {
    type Op = LockOp;
    type Output = ();
    type Model = Unit;

    fn new() -> Self {
        TwoRwLocks([RwLock::new(0).named("x"), RwLock::new(0).named("y")])
    }

    fn apply(&self, op: &LockOp) {
        let lock = |i: u8| &self.0[usize::from(i) % 2];
        match *op {
            LockOp::ReadNest(i, j) => {
                let first = lock(i).read().unwrap();
                let second = lock(j).read().unwrap();
                let _ = *first + *second;
            }
            LockOp::Nest(i, j) => {
                let mut first = lock(i).write().unwrap();
                let mut second = lock(j).write().unwrap();
                *first += 1;
                *second += 1;
            }
            LockOp::Apart(i, j) => {
                *lock(i).write().unwrap() += 1;
                *lock(j).write().unwrap() += 1;
            }
            LockOp::TryNest(i, j) => {
                let first = lock(i).read().unwrap();
                let second = lock(j).try_read_for(std::time::Duration::from_millis(1));
                let _ = *first + second.map_or(0, |g| *g);
            }
        }
    }
}
