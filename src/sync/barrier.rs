use super::{Condvar, Mutex, PoisonError};
use crate::runtime::{self, Backend};

/// A barrier: `std::sync::Barrier`'s API. `n` threads that call [`Barrier::wait`] all return once
/// the last of them has arrived, and the barrier can be used again.
///
/// Under the controlled schedulers and loom it is a mutex and a condition variable (named
/// `barrier`, with the creation site of the `Barrier`), so every arrival is a scheduling point and
/// shows in the interleaving, and a barrier short of threads is reported as a deadlock that names
/// it. Outside a check and under `Scheduler::Stress` it is std's.
pub struct Barrier {
    inner: Inner,
}

enum Inner {
    Std(std::sync::Barrier),
    Model(Box<Model>),
}

struct Model {
    n: usize,
    /// Threads arrived in this round, and the round's number.
    state: Mutex<(usize, u64)>,
    all_arrived: Condvar,
}

/// What [`Barrier::wait`] returns: whether this thread is the round's leader (exactly one per
/// round is).
#[derive(Debug)]
pub struct BarrierWaitResult(bool);

impl BarrierWaitResult {
    /// True for exactly one thread of each round (the last to arrive, under a check).
    pub fn is_leader(&self) -> bool {
        self.0
    }
}

impl Barrier {
    /// A barrier for `n` threads (0 behaves as 1, as in std).
    #[track_caller]
    pub fn new(n: usize) -> Self {
        let inner = match runtime::backend() {
            Backend::Std => Inner::Std(std::sync::Barrier::new(n)),
            Backend::Shuttle | Backend::Loom => Inner::Model(Box::new(Model {
                n: n.max(1),
                state: Mutex::new((0, 0)).named("barrier"),
                all_arrived: Condvar::new().named("barrier"),
            })),
        };
        Barrier { inner }
    }

    /// Blocks until `n` threads (this one included) have called `wait` in this round.
    pub fn wait(&self) -> BarrierWaitResult {
        match &self.inner {
            Inner::Std(b) => BarrierWaitResult(b.wait().is_leader()),
            Inner::Model(model) => {
                let Model { n, state, all_arrived } = &**model;
                let mut st = state.lock().unwrap_or_else(PoisonError::into_inner);
                let round = st.1;
                st.0 += 1;
                if st.0 < *n {
                    // A loop: a wakeup may be spurious, and only the round's end releases us.
                    while st.1 == round {
                        st = all_arrived.wait(st).unwrap_or_else(PoisonError::into_inner);
                    }
                    BarrierWaitResult(false)
                } else {
                    *st = (0, round + 1);
                    drop(st);
                    all_arrived.notify_all();
                    BarrierWaitResult(true)
                }
            }
        }
    }
}

impl std::fmt::Debug for Barrier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Barrier").finish_non_exhaustive()
    }
}
