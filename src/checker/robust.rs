//! The settings that keep a check from crashing, hanging or lying without a word: the controlled
//! threads' stack size, the hang watchdog's bound, and when schedules are replayed to detect
//! uncontrolled nondeterminism. Each comes from code, else from the environment, else a default,
//! and holds for everything a check runs on its OS thread (the search, shrinking, replays).

use std::time::Duration;

use super::Checker;
use crate::backend::determinism::{self, Determinism};
use crate::backend::watchdog::{self, DEFAULT_HANG_TIMEOUT};
use crate::env::{self, MIN_STACK_SIZE};
use crate::report::Failure;
use crate::resource::Resource;
use crate::runtime::stack::{self, DEFAULT_STACK_SIZE};

/// What the code set (`None`: the environment or the default decides).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Robustness {
    stack_size: Option<usize>,
    hang_timeout: Option<Duration>,
    determinism: Option<Determinism>,
}

/// The settings in force, resolved.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Guards {
    pub stack_size: usize,
    /// `None`: the watchdog is off.
    pub hang_timeout: Option<Duration>,
    pub determinism: Determinism,
}

impl<R: Resource> Checker<R> {
    /// The stack of each controlled thread, in bytes (default 2 MiB, what `std::thread::spawn`
    /// gives; or `CROSSCHECK_STACK_SIZE`, which takes a `k` or `m` suffix). Operations run on
    /// coroutine stacks of this fixed size; an operation that needs more (a large array on the stack,
    /// deep recursion, a debug build's large frames) ends the process with a message naming this
    /// setting, since a thread that overflowed its stack can neither continue nor unwind. The
    /// memory is reserved, not used: a larger stack costs nothing until a thread needs it.
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.robust.stack_size = Some(bytes);
        self
    }

    /// How long the controlled thread running now may go without reaching a scheduling point
    /// before the check is declared hung (default 5 s, or `CROSSCHECK_HANG_TIMEOUT_MS`;
    /// `Duration::ZERO` turns the watchdog off). Every thread of a check takes turns on one OS
    /// thread, so a thread that blocks where crosscheck cannot see it (a `std::sync::Mutex`,
    /// blocking I/O, a sleep, a loop that never calls the facade) stops the whole check. The
    /// watchdog then prints which thread, which operation, the last event and the likely causes,
    /// and exits the process with status 101: the stuck thread cannot be interrupted, so the
    /// process cannot go on, but `cargo test` ends with the message instead of hanging.
    pub fn hang_timeout(mut self, bound: Duration) -> Self {
        self.robust.hang_timeout = Some(bound);
        self
    }

    /// When schedules are run a second time to detect uncontrolled nondeterminism (default
    /// [`Determinism::Failures`], or `CROSSCHECK_DETERMINISM`). A resource that depends on
    /// something the scheduler does not control (std's `HashMap` order, the clock, random numbers,
    /// a real thread) does different things under the same schedule, so its replay tokens and
    /// shrunk scenarios lie; the check then fails with
    /// [`FailureKind::Nondeterministic`](crate::FailureKind::Nondeterministic), naming the step and
    /// the object where two runs diverged.
    pub fn determinism(mut self, when: Determinism) -> Self {
        self.robust.determinism = Some(when);
        self
    }

    /// The settings in force, or a usage error for a bad one.
    pub(crate) fn guards(&self) -> Result<Guards, Failure<R::Op>> {
        let env = env::read().map_err(Failure::usage)?;
        let stack_size = self.robust.stack_size.or(env.stack_size).unwrap_or(DEFAULT_STACK_SIZE);
        if stack_size < MIN_STACK_SIZE {
            return Err(Failure::usage(format!(
                "stack_size({stack_size}) is too small: crosscheck's own frames need {} KiB; give at least {MIN_STACK_SIZE} \
                 bytes (the default is {} MiB)",
                MIN_STACK_SIZE >> 10,
                DEFAULT_STACK_SIZE >> 20
            )));
        }
        let hang_timeout = self
            .robust
            .hang_timeout
            .or(env.hang_timeout)
            .unwrap_or(DEFAULT_HANG_TIMEOUT);
        Ok(Guards {
            stack_size,
            hang_timeout: (!hang_timeout.is_zero()).then_some(hang_timeout),
            determinism: self.robust.determinism.or(env.determinism).unwrap_or_default(),
        })
    }

    /// Replays a failure's schedule to see that it does the same thing every time; a failure that
    /// does not becomes a `Nondeterministic` one, without a token.
    pub(crate) fn verify_determinism(&self, failure: Failure<R::Op>) -> Failure<R::Op> {
        if matches!(failure.kind(), crate::FailureKind::Nondeterministic { .. }) {
            return determinism::without_token(failure);
        }
        let data = failure.data();
        // Only one shuttle execution's failure replays from its token: not a lock-order inversion
        // (a property of many executions), not a loom token (loom's own path, maybe weak memory).
        let token = failure.token().and_then(|t| crate::token::Token::decode(t).ok());
        let shuttle_token = token.as_ref().is_some_and(|t| t.loom.is_none());
        let (Some(source), true) = (data.source.clone(), failure.kind().is_bug()) else {
            return failure;
        };
        if !shuttle_token || failure.is_inversion() || determinism::mode() == Determinism::Off {
            return failure;
        }
        let plan = crate::plan::Plan {
            scenario: std::sync::Arc::new(failure.scenario().clone()),
            source,
        };
        let choices = data.choices.clone();
        // The kinds of choice point the failing execution offered, as its token says.
        let offered = token.map(|t| t.offered()).unwrap_or_default();
        let divergence = determinism::verify(failure.kind(), || {
            let choices = choices.clone();
            let make: crate::plan::StrategyFactory =
                Box::new(move |_| Box::new(crate::scheduler::Replay::new(choices.clone())));
            let settings = crate::backend::shuttle::RunSettings {
                spurious: offered.spurious,
                short_writes: offered.short_writes,
                lock_order: false,
                ..self.run_settings(1, "Replay".into(), None)
            };
            crate::backend::shuttle::run::<R>(vec![plan.clone()], make, settings)
        });
        match divergence {
            Some(d) => determinism::into_failure(failure, &d, "the failing schedule was run again"),
            None => failure,
        }
    }
}

/// The settings of a check, in force on this OS thread until dropped (then the previous ones are).
pub(crate) struct Scope {
    stack_size: usize,
    hang_timeout: Option<Duration>,
    determinism: Determinism,
}

impl Guards {
    pub(crate) fn enter(&self) -> Scope {
        Scope {
            stack_size: stack::set_size(self.stack_size),
            hang_timeout: watchdog::set_timeout(self.hang_timeout),
            determinism: determinism::set_mode(self.determinism),
        }
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        stack::set_size(self.stack_size);
        watchdog::set_timeout(self.hang_timeout);
        determinism::set_mode(self.determinism);
    }
}
