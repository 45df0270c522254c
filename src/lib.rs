//! # crosscheck: find concurrency bugs before your users do
//!
//! A race is a bug that hides. A counter that increments with a load and a store loses an update
//! only when two threads both load before either stores; a test that runs two threads on a real
//! machine almost never sees it:
//!
//! ```
//! use std::sync::Arc;
//! use crosscheck::resources::{CounterOp, RacyCounter};
//! use crosscheck::Resource;
//!
//! // The naive test: passes nearly every time, on a buggy counter.
//! let counter = Arc::new(RacyCounter::new());
//! let threads: Vec<_> = (0..2)
//!     .map(|_| { let c = counter.clone(); std::thread::spawn(move || c.apply(&CounterOp::Inc)) })
//!     .collect();
//! threads.into_iter().for_each(|t| { t.join().unwrap(); });
//! let _probably_two = counter.apply(&CounterOp::Get);
//! ```
//!
//! crosscheck takes control of the interleaving instead. You describe the shared resource once,
//! as a [`Resource`] (its operations, written against [`crate::sync`] instead of `std::sync`) and a
//! [`Model`] (what each operation returns if operations ran one at a time). crosscheck generates
//! scenarios (threads x operations, plus an init and a post part), runs each under a scheduler
//! that decides every thread switch, records the history, and checks it: linearizable against the
//! model, the resource's invariant holds, no deadlock, no panic. The same bug now shows up every
//! time, explained:
//!
//! ```
//! use crosscheck::resources::RacyCounter;
//! use crosscheck::{Checker, FailureKind, Scheduler};
//!
//! let failure = Checker::<RacyCounter>::new()
//!     .scheduler(Scheduler::Pct { depth: 2 })
//!     .iterations(10_000)
//!     .run() // `.check()` panics with the report instead: "crosscheck found a bug in RacyCounter: ..."
//!     .unwrap_err();
//! assert!(matches!(failure.kind(), FailureKind::NotLinearizable { .. }));
//! assert_eq!(failure.scenario().threads.len(), 2); // shrunk: two increments and a final read
//! println!("{failure}"); // the scenario, the interleaving, and a token that replays it
//! ```
//!
//! A bug that only weak memory shows needs loom:
//!
//! ```
//! use crosscheck::resources::RelaxedFlag;
//! use crosscheck::{Checker, FailureKind, Scheduler};
//!
//! let failure = Checker::<RelaxedFlag>::new()
//!     .threads(2)
//!     .ops_per_thread(1)
//!     .scheduler(Scheduler::Loom { preemption_bound: Some(2) })
//!     .run()
//!     .unwrap_err();
//! assert!(matches!(failure.kind(), FailureKind::NotLinearizable { .. }));
//! assert!(failure.to_string().contains("NEEDS WEAK MEMORY"));
//! ```
//!
//! ## Your own resource
//!
//! ```
//! use crosscheck::arbitrary; // no need to depend on `arbitrary` yourself
//! use crosscheck::{Checker, Model, Resource, Scheduler};
//! use crosscheck::sync::Mutex; // drop-in for std::sync::Mutex
//!
//! #[derive(Clone, Debug, arbitrary::Arbitrary)]
//! enum Op { Push(u8), Pop }
//!
//! struct Stack(Mutex<Vec<u8>>);
//!
//! impl Resource for Stack {
//!     type Op = Op;
//!     type Output = Option<u8>;
//!     type Model = StackModel;
//!     fn new() -> Self { Stack(Mutex::new(Vec::new())) }
//!     fn apply(&self, op: &Op) -> Option<u8> {
//!         let mut v = self.0.lock().unwrap();
//!         match op { Op::Push(x) => { v.push(*x); None } Op::Pop => v.pop() }
//!     }
//! }
//!
//! #[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
//! struct StackModel(Vec<u8>);
//!
//! impl Model for StackModel {
//!     type Op = Op;
//!     type Output = Option<u8>;
//!     fn step(&mut self, op: &Op) -> Option<u8> {
//!         match op { Op::Push(x) => { self.0.push(*x); None } Op::Pop => self.0.pop() }
//!     }
//! }
//!
//! let report = Checker::<Stack>::new()
//!     .threads(2)
//!     .ops_per_thread(3)
//!     .scheduler(Scheduler::Random)
//!     .iterations(2_000)
//!     .check();
//! assert_eq!(report.schedules(), 2_000);
//! ```
//!
//! Choose operation values that collide often (small enums, keys `u8 % 4`): two threads race on a
//! key only if they use the same one.
//!
//! ## Schedulers, backends and budgets
//!
//! One resource, written once against [`crate::sync`], runs under three backends, chosen per check
//! with [`Checker::scheduler`] (no cfg flag, no rebuild; checks of different backends can run in
//! parallel in one test binary):
//!
//! - the controlled schedulers: [`Scheduler::Random`], [`Scheduler::Pct`], [`Scheduler::Dfs`] and
//!   [`Scheduler::Bounded`] (exhaustive, optionally preemption-bounded), [`Scheduler::Portfolio`]
//!   of them, and [`Scheduler::Replay`], on crosscheck's own execution engine: every thread of an
//!   execution is a coroutine on the test's OS thread, switched at the same scheduling points as
//!   shuttle 0.9 switches its tasks (the engine was built to replace shuttle's runner under
//!   crosscheck, and is tested against it execution by execution), at about half the cost per
//!   schedule. Deterministic and replayable; sequentially consistent. The docs and reports also
//!   call this backend "shuttle", after those semantics.
//! - loom: [`Scheduler::Loom`] explores every interleaving up to a preemption bound, including the
//!   values `Relaxed`/`Acquire`/`Release` atomics may read on weak memory. Failures replay from a
//!   token under loom; the report says when a failure needs weak memory.
//! - real OS threads: [`Scheduler::Stress`] runs the scenario on the real cores, with the history
//!   built from timestamps. Failures are re-run under the controlled schedulers for a shrunk,
//!   replayable report.
//!
//! The default, [`Scheduler::recommended`], is a portfolio: a preemption-bounded exhaustive pass
//! (bounds 0, 1, 2), PCT with depths 1 to 3, and uniform random, taking turns on each scenario.
//! Every budget counts schedules, never seconds, so a check does the same work everywhere; the
//! default seed is fixed, so a check is reproducible (`CROSSCHECK_SEED` changes it).
//!
//! ## When a check fails
//!
//! The failure is first shrunk: threads, operations and preemptions are removed while the same bug
//! still shows (a lost update stays a lost update, a deadlock a deadlock). [`Checker::check`] then
//! panics with the report, [`Checker::run`] returns it as a [`Failure`]: what failed and whose
//! fault it is, the scenario as a table with each operation's output (and what the model allowed),
//! the interleaving with every preemption marked, and a replay token. Rerun exactly that execution
//! with `CROSSCHECK_REPLAY=<token> cargo test <test name>`, or pin it in a test with
//! `Scheduler::Replay(token)`. `check` also saves the token in
//! `crosscheck-regressions/<test name>.txt` and replays saved tokens first on every later run.
//!
//! ## Limitations
//!
//! - The controlled schedulers are sequentially consistent: every atomic ordering
//!   behaves like `SeqCst`, so bugs that need weak memory are not found by them. Use
//!   [`Scheduler::Loom`] for those (at most 4 scenario threads; keep scenarios small).
//! - Under loom, operations of different threads are ordered only by the threads' own order,
//!   spawn and join (loom has no global clock), so histories are checked for sequential
//!   consistency there rather than linearizability.
//! - Only operations on [`crate::sync`], [`crate::thread`] and [`crate::fs`] are scheduling points;
//!   a loop that spins without touching them cannot be interrupted. Memory shared without them
//!   belongs in a [`crate::cell::UnsafeCell`], whose accesses are checked for data races.
//! - Objects pick their backend when created: create them in [`Resource::new`], not in statics.

#![deny(missing_docs)]
#![deny(missing_debug_implementations)]

pub mod cell;
pub mod fs;
pub mod future;
pub mod fuzz;
pub mod history;
pub mod linearizability;
pub mod proptest;
pub mod resources;
pub mod sync;
pub mod thread;

mod async_resource;
mod backend;
mod checker;
mod engine;
mod env;
mod html;
mod lock_order;
mod lock_stats;
mod plan;
mod progress;
mod record;
mod regressions;
mod report;
mod resource;
mod runtime;
mod scenario;
mod scheduler;
mod shrink;
mod token;

/// The `arbitrary` crate, re-exported so that a resource's crate need not depend on it: bring it
/// into scope with `use crosscheck::arbitrary;` and `#[derive(arbitrary::Arbitrary)]` works (the
/// derive names `arbitrary::`, which that `use` resolves).
pub use arbitrary;

/// What crosscheck's macros expand to; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use crate::engine::thread::LocalKey;
    pub use loom;
}
pub use async_resource::AsyncResource;
pub use checker::{
    Checker, SizeRange, DEFAULT_ITERATIONS, DEFAULT_LIVELOCK_STEPS, DEFAULT_MAX_STEPS, DEFAULT_SEED,
    SCHEDULES_PER_SCENARIO,
};
pub use env::Determinism;
pub use lock_stats::LockStats;
pub use report::{Failure, FailureKind, Fault, Report, VerdictOp};
pub use resource::{Model, Resource};
pub use scenario::Scenario;
pub use scheduler::Scheduler;

// The README's examples are compiled and run as doctests, so it cannot drift from the API.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
