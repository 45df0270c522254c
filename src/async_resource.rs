//! Resources whose operations are `async fn`s: [`AsyncResource`], checked through [`Resource`].

use std::future::Future;

use arbitrary::Arbitrary;

use crate::resource::{Model, Resource};

/// A shared resource whose operations are `async fn`s: [`Resource`]'s twin for async code.
///
/// Every `AsyncResource` is a [`Resource`] (a blanket implementation), so it is checked with the
/// same [`Checker`](crate::Checker) and everything works as for a synchronous resource: histories,
/// linearizability, shrinking, tokens, replay and regressions. Each scenario thread is one task
/// that drives its operations one after the other with [`future::block_on`](crate::future::block_on);
/// operations may spawn tasks of their own with [`future::spawn`](crate::future::spawn) and await
/// them. Write it against [`crate::future`] (its [`Mutex`](crate::future::Mutex), its
/// [`yield_now`](crate::future::yield_now)) and [`crate::sync`], not against a runtime such as
/// tokio: an `.await` on them is where the scheduler may switch tasks.
///
/// The futures need not be `Send`: the checker polls each on the thread that made it.
///
/// # Example
///
/// ```
/// use crosscheck::future::{self, Mutex};
/// use crosscheck::resources::{CounterModel, CounterOp};
/// use crosscheck::{AsyncResource, Checker, Scheduler};
///
/// struct Counter(Mutex<u64>);
///
/// impl AsyncResource for Counter {
///     type Op = CounterOp;
///     type Output = Option<u64>;
///     type Model = CounterModel;
///     fn new() -> Self { Counter(Mutex::new(0)) }
///     async fn apply(&self, op: &CounterOp) -> Option<u64> {
///         let mut n = self.0.lock().await;
///         match op {
///             CounterOp::Inc => {
///                 let seen = *n;
///                 future::yield_now().await; // the guard is held across the await
///                 *n = seen + 1;
///                 None
///             }
///             CounterOp::Get => Some(*n),
///         }
///     }
/// }
///
/// Checker::<Counter>::new().threads(2).ops_per_thread(2).scheduler(Scheduler::Pct { depth: 3 })
///     .iterations(500).check();
/// ```
// `async fn` in a public trait: its futures carry no `Send` bound, which is what the checker needs
// (each future is polled where it was made) and what a user wants (no bound to satisfy).
#[allow(async_fn_in_trait)]
pub trait AsyncResource: Send + Sync + 'static {
    /// One operation a task can perform ([`Resource::Op`]).
    type Op: Clone + std::fmt::Debug + Send + Sync + 'static + for<'a> Arbitrary<'a>;
    /// What one call of [`AsyncResource::apply`] returns ([`Resource::Output`]).
    type Output: Clone + std::fmt::Debug + PartialEq + Send + Sync + 'static;
    /// The sequential specification ([`Resource::Model`]).
    type Model: Model<Op = Self::Op, Output = Self::Output>;

    /// A fresh resource, in the state that `Self::Model::default()` describes.
    fn new() -> Self;

    /// Perform one operation and return its result.
    async fn apply(&self, op: &Self::Op) -> Self::Output;

    /// Checked once all tasks have finished (after the post part), as [`Resource::invariant`].
    async fn invariant(&self) -> Result<(), String> {
        Ok(())
    }
}

impl<R: AsyncResource> Resource for R {
    type Op = R::Op;
    type Output = R::Output;
    type Model = R::Model;

    fn new() -> Self {
        <R as AsyncResource>::new()
    }

    fn apply(&self, op: &Self::Op) -> Self::Output {
        block_on(AsyncResource::apply(self, op))
    }

    fn invariant(&self) -> Result<(), String> {
        block_on(AsyncResource::invariant(self))
    }
}

fn block_on<F: Future>(future: F) -> F::Output {
    crate::future::block_on(future)
}
