//! Scoped threads: `std::thread::scope`'s API over the facade's own `spawn`, so under every backend
//! a scoped thread is a thread like any other (scheduled, recorded, in the wait-for graph, and in
//! the data-race check's happens-before through its spawn and join).

use std::marker::PhantomData;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use super::{spawn, JoinHandle, Thread};

/// The scope [`scope`] hands its closure: spawn threads that borrow from outside it.
pub struct Scope<'scope, 'env: 'scope> {
    threads: Arc<Threads>,
    scope: PhantomData<&'scope mut &'scope ()>,
    env: PhantomData<&'env mut &'env ()>,
}

/// Every thread spawned in a scope, by spawn number: its handle until joined, and whether its
/// closure panicked with nobody joining it through its own handle (then `scope` panics too, as
/// std's does).
type Threads = Mutex<Vec<(Option<JoinHandle<()>>, Arc<AtomicBool>)>>;

/// The handle of a scoped thread.
pub struct ScopedJoinHandle<'scope, T> {
    threads: Arc<Threads>,
    index: usize,
    thread: Thread,
    result: Arc<Mutex<Option<std::thread::Result<T>>>>,
    scope: PhantomData<&'scope ()>,
}

/// Runs `f` with a [`Scope`] whose threads may borrow anything that outlives the call; every
/// thread spawned in it is joined before `scope` returns. Panics if one of them panicked and was
/// not joined through its handle.
pub fn scope<'env, F, T>(f: F) -> T
where
    F: for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> T,
{
    let s = Scope {
        threads: Arc::new(Mutex::new(Vec::new())),
        scope: PhantomData,
        env: PhantomData,
    };
    let result = catch_unwind(AssertUnwindSafe(|| f(&s)));
    // On every way out, f's return and f's panic alike, the scope's threads are joined first:
    // what `spawn` relies on below.
    let panicked = s.join_all();
    match result {
        Err(payload) => resume_unwind(payload),
        Ok(_) if panicked => panic!("a scoped thread panicked"),
        Ok(value) => value,
    }
}

impl<'scope, 'env> Scope<'scope, 'env> {
    /// Spawns a thread that may borrow from outside the scope.
    pub fn spawn<F, T>(&'scope self, f: F) -> ScopedJoinHandle<'scope, T>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        let result = Arc::new(Mutex::new(None));
        let slot = Arc::clone(&result);
        let unclaimed = Arc::new(AtomicBool::new(false));
        let panicked = Arc::clone(&unclaimed);
        let run: Box<dyn FnOnce() + Send + 'scope> = Box::new(move || {
            let outcome = catch_unwind(AssertUnwindSafe(f));
            panicked.store(outcome.is_err(), Ordering::Relaxed);
            *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(outcome);
        });
        // SAFETY: only the lifetime changes (the same boxed trait object, so the same layout).
        // The closure borrows for 'scope at most, and it runs on a thread that is joined before
        // 'scope ends: `scope` joins every thread of `self` (`join_all`) before it returns or
        // resumes a panic of its closure, and 'scope cannot outlive that call, since `self` is
        // a local of it. So nothing the closure borrows is used after it is gone.
        let run: Box<dyn FnOnce() + Send + 'static> = unsafe {
            std::mem::transmute::<Box<dyn FnOnce() + Send + 'scope>, Box<dyn FnOnce() + Send + 'static>>(run)
        };
        let handle = spawn(run);
        let thread = handle.thread().clone();
        let mut threads = self.threads.lock().unwrap_or_else(PoisonError::into_inner);
        threads.push((Some(handle), unclaimed));
        ScopedJoinHandle {
            threads: Arc::clone(&self.threads),
            index: threads.len() - 1,
            thread,
            result,
            scope: PhantomData,
        }
    }

    /// Joins every thread of the scope, including the ones spawned while joining; says whether
    /// one panicked with nobody joining it through its handle.
    fn join_all(&self) -> bool {
        loop {
            let next = {
                let mut threads = self.threads.lock().unwrap_or_else(PoisonError::into_inner);
                threads.iter_mut().find_map(|(h, _)| h.take())
            };
            let Some(handle) = next else { break };
            // The thread caught its closure's panic into its slot: the join itself succeeds.
            let _ = handle.join();
        }
        let threads = self.threads.lock().unwrap_or_else(PoisonError::into_inner);
        threads.iter().any(|(_, unclaimed)| unclaimed.load(Ordering::Relaxed))
    }
}

impl<T> ScopedJoinHandle<'_, T> {
    /// Waits for the thread; `Err` carries its panic payload.
    pub fn join(self) -> std::thread::Result<T> {
        let (handle, unclaimed) = {
            let mut threads = self.threads.lock().unwrap_or_else(PoisonError::into_inner);
            let (h, u) = &mut threads[self.index];
            (h.take(), Arc::clone(u))
        };
        if let Some(h) = handle {
            let _ = h.join();
        }
        // Its panic, if any, is the joiner's to handle now.
        unclaimed.store(false, Ordering::Relaxed);
        self.result
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .expect("a joined scoped thread left its outcome")
    }

    /// The thread's handle.
    pub fn thread(&self) -> &Thread {
        &self.thread
    }

    /// Whether the thread has finished running its closure.
    pub fn is_finished(&self) -> bool {
        self.result.lock().unwrap_or_else(PoisonError::into_inner).is_some()
    }
}

impl std::fmt::Debug for Scope<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scope").finish_non_exhaustive()
    }
}

impl<T> std::fmt::Debug for ScopedJoinHandle<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScopedJoinHandle").finish_non_exhaustive()
    }
}
