//! Drop-in replacements for `std::sync` whose behaviour follows the backend running the current
//! check: the engine's primitives under crosscheck's controlled schedulers, loom's under loom,
//! std's everywhere else.
//!
//! Write a resource against these types exactly as against std (`lock().unwrap()`,
//! `wait(guard)`, `fetch_add(1, Ordering::SeqCst)`). Each object picks its implementation when it is
//! created, so create them inside [`Resource::new`](crate::Resource::new), not in a `static`. Every
//! operation is a point where the scheduler may switch threads, and is recorded so that a failure
//! report can show the interleaving.

pub mod atomic;
mod barrier;
mod condvar;
pub mod mpsc;
mod mutex;
mod once;
mod once_lock;
mod rwlock;

pub use barrier::{Barrier, BarrierWaitResult};
pub use condvar::{Condvar, WaitTimeoutResult};
pub use mutex::{Mutex, MutexGuard};
pub use once::{Once, OnceState};
pub use once_lock::{LazyLock, OnceLock};
pub use rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};
/// `Arc` and `Weak` are std's: reference counting is not a scheduling point (as in shuttle).
pub use std::sync::{Arc, Weak};
pub use std::sync::{LockResult, PoisonError, TryLockError, TryLockResult};

/// Maps the guard inside a `LockResult`, keeping the poison flag.
fn map_result<G, H>(result: LockResult<G>, f: impl FnOnce(G) -> H) -> LockResult<H> {
    match result {
        Ok(g) => Ok(f(g)),
        Err(poisoned) => Err(PoisonError::new(f(poisoned.into_inner()))),
    }
}

fn map_try<G, H>(result: TryLockResult<G>, f: impl FnOnce(G) -> H) -> TryLockResult<H> {
    match result {
        Ok(g) => Ok(f(g)),
        Err(TryLockError::Poisoned(p)) => Err(TryLockError::Poisoned(PoisonError::new(f(p.into_inner())))),
        Err(TryLockError::WouldBlock) => Err(TryLockError::WouldBlock),
    }
}
