//! The two traits a user implements: the concurrent object under test ([`Resource`]) and its
//! sequential specification ([`Model`]).

use std::fmt::Debug;
use std::hash::Hash;

use arbitrary::Arbitrary;

/// A shared resource under test: a concurrent object and the operations threads perform on it.
///
/// crosscheck creates a fresh resource for every execution with [`Resource::new`], runs the
/// scenario's operations on it from several threads through [`Resource::apply`], records what each
/// call returned, and checks the history against [`Resource::Model`]. Write the resource against
/// [`crate::sync`], [`crate::thread`] and [`crate::fs`] instead of `std`: every operation on them is
/// a point where the scheduler may switch threads, which is what lets crosscheck find races.
///
/// Pick an `Op` type whose values collide often: a small enum, keys drawn from `u8 % 4`. Two
/// threads only race on a key if they use the same one, and arbitrary `u64` keys almost never do.
///
/// # Example
///
/// ```
/// use crosscheck::arbitrary; // no need to depend on `arbitrary` yourself
/// use crosscheck::{Model, Resource};
/// use crosscheck::sync::Mutex;
///
/// #[derive(Clone, Debug, arbitrary::Arbitrary)]
/// enum Op { Inc, Get }
///
/// struct LockedCounter(Mutex<u64>);
///
/// impl Resource for LockedCounter {
///     type Op = Op;
///     type Output = Option<u64>;
///     type Model = CounterModel;
///     fn new() -> Self { LockedCounter(Mutex::new(0)) }
///     fn apply(&self, op: &Op) -> Option<u64> {
///         let mut n = self.0.lock().unwrap();
///         match op {
///             Op::Inc => { *n += 1; None }
///             Op::Get => Some(*n),
///         }
///     }
/// }
///
/// #[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
/// struct CounterModel(u64);
///
/// impl Model for CounterModel {
///     type Op = Op;
///     type Output = Option<u64>;
///     fn step(&mut self, op: &Op) -> Option<u64> {
///         match op {
///             Op::Inc => { self.0 += 1; None }
///             Op::Get => Some(self.0),
///         }
///     }
/// }
/// ```
pub trait Resource: Send + Sync + 'static {
    /// One operation a thread can perform. Generated scenarios decode it with [`Arbitrary`].
    type Op: Clone + Debug + Send + Sync + 'static + for<'a> Arbitrary<'a>;
    /// What one call of [`Resource::apply`] returns; compared with what the model allows.
    type Output: Clone + Debug + PartialEq + Send + Sync + 'static;
    /// The sequential specification this resource must be linearizable against.
    type Model: Model<Op = Self::Op, Output = Self::Output>;

    /// A fresh resource, in the state that `Self::Model::default()` describes.
    fn new() -> Self;

    /// Perform one operation and return its result.
    fn apply(&self, op: &Self::Op) -> Self::Output;

    /// Checked once all threads have joined (after the post part): the resource's own consistency,
    /// such as "final count = number of increments". The `Err` message names what went wrong.
    fn invariant(&self) -> Result<(), String> {
        Ok(())
    }
}

/// The sequential specification of a resource: what each operation should return if operations ran
/// one at a time.
///
/// `Default::default()` is the initial state. The state must be `Eq + Hash` because the checker
/// memoizes the states it has visited; a model whose state is a map should use `BTreeMap` (whose
/// equality and hash do not depend on insertion order), not `HashMap`.
pub trait Model: Clone + Debug + Default + Eq + Hash + Send + 'static {
    /// The operations of the specification (the same type as the resource's).
    type Op: Clone + Debug + Send + Sync + 'static;
    /// What an operation returns.
    type Output: Clone + Debug + PartialEq + Send + Sync + 'static;

    /// Apply `op` to the state and return what it should return.
    fn step(&mut self, op: &Self::Op) -> Self::Output;

    /// Apply `op` and say whether `actual` is an output the specification allows.
    ///
    /// The default compares with [`Model::step`]. Override it for partly informative outputs (a
    /// read that returned "timed out" constrains nothing) and nondeterministic specifications.
    fn step_matches(&mut self, op: &Self::Op, actual: &Self::Output) -> bool {
        &self.step(op) == actual
    }

    /// Operations with the same key are checked together, each group against a fresh default
    /// model (P-compositionality: a key-value history is checked key by key). `None` for every
    /// operation, the default, means one group.
    fn partition(_op: &Self::Op) -> Option<u64> {
        None
    }
}
