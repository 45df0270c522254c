use super::atomic::{AtomicBool, Ordering};
use super::{Condvar, Mutex, PoisonError};
use crate::runtime::{self, Backend};

/// The one-time initialisation protocol `Once`, `OnceLock` and `LazyLock` share under a check:
/// a flag read on the fast path (an atomic load, so it shows in the interleaving and races with
/// the initialiser's store), and a mutex and condition variable that make the other callers wait
/// while one thread initialises. A caller that waits forever (the initialiser blocked on them)
/// is a deadlock that names the condition variable, created where the `Once` was.
pub(super) struct Gate {
    done: AtomicBool,
    state: Mutex<State>,
    finished: Condvar,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum State {
    Incomplete,
    Running,
    Complete,
    Poisoned,
}

impl Gate {
    #[track_caller]
    pub(super) fn new(name: &'static str) -> Gate {
        Gate {
            done: AtomicBool::new(false).named(name),
            state: Mutex::new(State::Incomplete).named(name),
            finished: Condvar::new().named(name),
        }
    }

    pub(super) fn is_done(&self) -> bool {
        self.done.load(Ordering::Acquire)
    }

    /// Runs `init` (told whether an earlier attempt panicked) unless initialisation is complete,
    /// waiting while another thread runs it. If `init` panics the state becomes `on_panic`, the
    /// waiters wake, and the panic goes on. On a poisoned gate without `force`, panics as std's
    /// `Once` does.
    pub(super) fn run(&self, on_panic: State, force: bool, init: impl FnOnce(bool)) {
        if self.is_done() {
            return;
        }
        let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            match *st {
                State::Complete => return,
                State::Running => st = self.finished.wait(st).unwrap_or_else(PoisonError::into_inner),
                State::Poisoned if !force => {
                    drop(st);
                    panic!("Once instance has previously been poisoned");
                }
                State::Incomplete | State::Poisoned => break,
            }
        }
        let poisoned = *st == State::Poisoned;
        *st = State::Running;
        drop(st);
        let mut unwinding = Finish {
            gate: self,
            to: on_panic,
        };
        init(poisoned);
        self.done.store(true, Ordering::Release);
        unwinding.to = State::Complete;
    }
}

/// Sets the gate's state and wakes the waiters when the initialiser returns or unwinds.
struct Finish<'a> {
    gate: &'a Gate,
    to: State,
}

impl Drop for Finish<'_> {
    fn drop(&mut self) {
        *self.gate.state.lock().unwrap_or_else(PoisonError::into_inner) = self.to;
        self.gate.finished.notify_all();
    }
}

/// `std::sync::Once`: runs an initialisation exactly once, however many threads ask.
///
/// Under the controlled schedulers and loom it follows std's protocol with crosscheck's own
/// primitives (named `once`, with the `Once`'s creation site): the completion flag is an atomic
/// whose load and store show in the interleaving, and callers that arrive while another thread
/// runs the initialiser wait on a condition variable. Outside a check it is std's. Unlike std's,
/// `Once::new` is not `const`: create it inside `Resource::new`, not in a `static`.
pub struct Once {
    inner: OnceInner,
}

enum OnceInner {
    Std(std::sync::Once),
    Model(Box<Gate>),
}

/// What [`Once::call_once_force`] tells its closure.
#[derive(Debug)]
pub struct OnceState {
    poisoned: bool,
}

impl OnceState {
    /// Whether an earlier initialiser panicked.
    pub fn is_poisoned(&self) -> bool {
        self.poisoned
    }
}

impl Once {
    /// A new `Once`, not yet run.
    #[track_caller]
    pub fn new() -> Once {
        let inner = match runtime::backend() {
            Backend::Std => OnceInner::Std(std::sync::Once::new()),
            Backend::Shuttle | Backend::Loom => OnceInner::Model(Box::new(Gate::new("once"))),
        };
        Once { inner }
    }

    /// Runs `f` if no call has completed yet; otherwise waits for the one running, or returns.
    /// Panics if an earlier `f` panicked (the `Once` is poisoned).
    pub fn call_once<F: FnOnce()>(&self, f: F) {
        match &self.inner {
            OnceInner::Std(o) => o.call_once(f),
            OnceInner::Model(gate) => gate.run(State::Poisoned, false, |_| f()),
        }
    }

    /// Like [`Once::call_once`], but runs `f` on a poisoned `Once` too, telling it so.
    pub fn call_once_force<F: FnOnce(&OnceState)>(&self, f: F) {
        match &self.inner {
            OnceInner::Std(o) => o.call_once_force(|s| {
                f(&OnceState {
                    poisoned: s.is_poisoned(),
                })
            }),
            OnceInner::Model(gate) => gate.run(State::Poisoned, true, |poisoned| f(&OnceState { poisoned })),
        }
    }

    /// Whether a call has completed.
    pub fn is_completed(&self) -> bool {
        match &self.inner {
            OnceInner::Std(o) => o.is_completed(),
            OnceInner::Model(gate) => gate.is_done(),
        }
    }
}

impl Default for Once {
    #[track_caller]
    fn default() -> Self {
        Once::new()
    }
}

impl std::fmt::Debug for Once {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Once").finish_non_exhaustive()
    }
}
