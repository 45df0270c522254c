use std::collections::BTreeMap;
use std::fmt;

use crate::arbitrary::{Arbitrary, Result, Unstructured};
use crate::sync::Mutex;
use crate::{Model, Resource};

/// A map key from a small set (0..4), so that threads often use the same one.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key(pub u8);

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "k{}", self.0)
    }
}

impl<'a> Arbitrary<'a> for Key {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(Key(u8::arbitrary(u)? % 4))
    }

    fn size_hint(_depth: usize) -> (usize, Option<usize>) {
        (1, Some(1))
    }
}

/// A map's operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MapOp {
    /// Insert the value unless the key is present; returns the value already there (`None`: this
    /// call inserted).
    InsertIfAbsent(Key, u8),
    /// The key's value.
    Get(Key),
}

impl<'a> Arbitrary<'a> for MapOp {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let pick = u8::arbitrary(u)?;
        let key = Key::arbitrary(u)?;
        Ok(if pick % 4 == 3 {
            MapOp::Get(key)
        } else {
            MapOp::InsertIfAbsent(key, u8::arbitrary(u)? % 10)
        })
    }

    fn size_hint(_depth: usize) -> (usize, Option<usize>) {
        (3, Some(3))
    }
}

/// The map's specification.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct MapModel(BTreeMap<Key, u8>);

impl Model for MapModel {
    type Op = MapOp;
    type Output = Option<u8>;

    fn step(&mut self, op: &MapOp) -> Option<u8> {
        match *op {
            MapOp::InsertIfAbsent(k, v) => match self.0.get(&k) {
                Some(&old) => Some(old),
                None => {
                    self.0.insert(k, v);
                    None
                }
            },
            MapOp::Get(k) => self.0.get(&k).copied(),
        }
    }

    fn partition(op: &MapOp) -> Option<u64> {
        match op {
            MapOp::InsertIfAbsent(k, _) | MapOp::Get(k) => Some(u64::from(k.0)),
        }
    }
}

/// BUGGY: checks for the key under the lock, lets go, then takes the lock again to insert, so two
/// threads can both see the key absent and both "win".
#[derive(Debug)]
pub struct CheckThenInsertMap(Mutex<BTreeMap<Key, u8>>);

impl Resource for CheckThenInsertMap {
    type Op = MapOp;
    type Output = Option<u8>;
    type Model = MapModel;

    fn new() -> Self {
        CheckThenInsertMap(Mutex::new(BTreeMap::new()))
    }

    fn apply(&self, op: &MapOp) -> Option<u8> {
        match *op {
            MapOp::InsertIfAbsent(k, v) => {
                if let Some(&old) = self.0.lock().unwrap().get(&k) {
                    return Some(old);
                }
                self.0.lock().unwrap().insert(k, v);
                None
            }
            MapOp::Get(k) => self.0.lock().unwrap().get(&k).copied(),
        }
    }
}

/// Correct: the check and the insert in one critical section.
#[derive(Debug)]
pub struct LockedMap(Mutex<BTreeMap<Key, u8>>);

impl Resource for LockedMap {
    type Op = MapOp;
    type Output = Option<u8>;
    type Model = MapModel;

    fn new() -> Self {
        LockedMap(Mutex::new(BTreeMap::new()))
    }

    fn apply(&self, op: &MapOp) -> Option<u8> {
        let mut map = self.0.lock().unwrap();
        match *op {
            MapOp::InsertIfAbsent(k, v) => match map.get(&k) {
                Some(&old) => Some(old),
                None => {
                    map.insert(k, v);
                    None
                }
            },
            MapOp::Get(k) => map.get(&k).copied(),
        }
    }
}

/// Correct, with fine-grained locking: one lock per key (the keys are 0..4), so operations on
/// different keys never wait for each other. Same verdict as [`LockedMap`], far less contention
/// (compare their [`Report::lock_stats`](crate::Report::lock_stats)).
#[derive(Debug)]
pub struct ShardedMap([Mutex<Option<u8>>; 4]);

impl Resource for ShardedMap {
    type Op = MapOp;
    type Output = Option<u8>;
    type Model = MapModel;

    fn new() -> Self {
        ShardedMap(std::array::from_fn(|_| Mutex::new(None)))
    }

    fn apply(&self, op: &MapOp) -> Option<u8> {
        match *op {
            MapOp::InsertIfAbsent(k, v) => {
                let mut slot = self.0[usize::from(k.0) % 4].lock().unwrap();
                match *slot {
                    Some(old) => Some(old),
                    None => {
                        *slot = Some(v);
                        None
                    }
                }
            }
            MapOp::Get(k) => *self.0[usize::from(k.0) % 4].lock().unwrap(),
        }
    }
}
