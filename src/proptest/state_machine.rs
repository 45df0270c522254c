//! The state-machine style of proptest-state-machine: the [`Model`] is the reference state
//! machine, and the operations a scenario may run depend on the state the model is in.
//!
//! Which state is that, with threads? The one a serial run reaches: init from the model's
//! default, each thread from the state after init (as if it ran alone), and post from the state
//! after init and every thread in order. Preconditions are checked again on every candidate while
//! shrinking, so a shrunk scenario never runs an operation its state forbids.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use ::proptest::strategy::{BoxedStrategy, NewTree, Strategy, ValueTree};
use ::proptest::test_runner::{Reason, TestRunner};

use super::tree::{OpsTree, Valid};
use super::{draw_counts, usable_shape};
use crate::checker::Checker;
use crate::resource::{Model, Resource};
use crate::scenario::{Scenario, Shape};
use crate::shrink::Parts;

/// A resource tested in the state-machine style: its model decides which operations come next.
///
/// ```
/// use crosscheck::proptest::{check_scenario, state_machine, StateMachine};
/// use crosscheck::resources::{Account, BankModel, BankOp, OrderedBank};
/// use crosscheck::{Checker, Model, Scheduler};
/// use proptest::prelude::*;
///
/// struct Bank;
/// impl StateMachine for Bank {
///     type Resource = OrderedBank;
///     // Transfer at most what the debited account holds, or audit.
///     fn transitions(state: &BankModel) -> BoxedStrategy<BankOp> {
///         let (a, b) = state.clone().step(&BankOp::Audit).unwrap();
///         let transfer = |from, balance: i64| (1..=balance.clamp(1, 4) as u8).prop_map(move |amount| BankOp::Transfer { from, amount });
///         prop_oneof![transfer(Account::A, a), transfer(Account::B, b), Just(BankOp::Audit)].boxed()
///     }
///     fn precondition(state: &BankModel, op: &BankOp) -> bool {
///         let (a, b) = state.clone().step(&BankOp::Audit).unwrap();
///         match *op {
///             BankOp::Transfer { from: Account::A, amount } => a >= i64::from(amount),
///             BankOp::Transfer { from: Account::B, amount } => b >= i64::from(amount),
///             BankOp::Audit => true,
///         }
///     }
/// }
///
/// proptest!(ProptestConfig::with_cases(8), |(s in state_machine::<Bank>(Checker::new().threads(2).ops_per_thread(1..=2)))| {
///     check_scenario(Checker::<OrderedBank>::new().scheduler(Scheduler::Random).iterations(100), &s)?;
/// });
/// ```
pub trait StateMachine: 'static {
    /// The concurrent system under test; its [`Resource::Model`] is the reference state machine.
    type Resource: Resource;

    /// The operations that may come next when the model is in `state`.
    fn transitions(state: &<Self::Resource as Resource>::Model) -> BoxedStrategy<<Self::Resource as Resource>::Op>;

    /// Whether `op` may run in `state`. Generated operations that fail it are drawn again, and
    /// shrinking never produces a scenario that breaks it. Allows everything by default.
    fn precondition(state: &<Self::Resource as Resource>::Model, op: &<Self::Resource as Resource>::Op) -> bool {
        let _ = (state, op);
        true
    }
}

/// Scenarios of `checker`'s shape whose operations come from [`StateMachine::transitions`] of the
/// state a serial run reaches; shrinks like [`super::scenarios_with`], keeping preconditions.
///
/// # Panics
/// If the checker's shape is unusable, as [`super::scenarios`].
pub fn state_machine<S: StateMachine>(checker: Checker<S::Resource>) -> StateMachineScenarios<S> {
    StateMachineScenarios {
        shape: usable_shape(&checker),
        _machine: PhantomData,
    }
}

/// The strategy [`state_machine`] returns.
pub struct StateMachineScenarios<S> {
    shape: Shape,
    _machine: PhantomData<fn() -> S>,
}

impl<S> fmt::Debug for StateMachineScenarios<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StateMachineScenarios")
            .field("shape", &self.shape)
            .finish()
    }
}

type Op<S> = <<S as StateMachine>::Resource as Resource>::Op;
type State<S> = <<S as StateMachine>::Resource as Resource>::Model;
type OpTree<S> = Box<dyn ValueTree<Value = Op<S>>>;

/// Draws attempts per operation before a precondition that keeps failing rejects the case.
const DRAWS: usize = 64;

/// Runs `ops` from `state`; `false` if one breaks its precondition.
fn serial<S: StateMachine>(state: &mut State<S>, ops: &[Op<S>]) -> bool {
    ops.iter().all(|op| {
        let ok = S::precondition(state, op);
        state.step(op);
        ok
    })
}

/// Whether every operation of `s` meets its precondition: init from the default state, each
/// thread from the state after init, post from the state after init and every thread in order.
fn valid<S: StateMachine>(s: &Scenario<Op<S>>) -> bool {
    let mut state = State::<S>::default();
    if !serial::<S>(&mut state, &s.init) {
        return false;
    }
    let after_init = state.clone();
    for thread in &s.threads {
        if !serial::<S>(&mut after_init.clone(), thread) {
            return false;
        }
        thread.iter().for_each(|op| {
            state.step(op);
        });
    }
    serial::<S>(&mut state, &s.post)
}

/// Draws one operation allowed in `state`, steps `state` over it, and keeps its tree in `slots`.
fn draw<S: StateMachine>(
    runner: &mut TestRunner,
    state: &mut State<S>,
    slots: &mut Vec<OpTree<S>>,
) -> Result<usize, Reason> {
    for _ in 0..DRAWS {
        let tree = S::transitions(state).new_tree(runner)?;
        let op = tree.current();
        if S::precondition(state, &op) {
            state.step(&op);
            slots.push(Box::new(tree));
            return Ok(slots.len() - 1);
        }
    }
    Err(Reason::from(format!(
        "no operation of StateMachine::transitions met its precondition in {DRAWS} draws"
    )))
}

impl<S: StateMachine> Strategy for StateMachineScenarios<S> {
    type Tree = OpsTree<OpTree<S>>;
    type Value = Scenario<Op<S>>;

    fn new_tree(&self, runner: &mut TestRunner) -> NewTree<Self> {
        let counts = draw_counts(runner, &self.shape);
        let mut slots: Vec<OpTree<S>> = Vec::new();
        let mut state = State::<S>::default();
        let init = (0..counts.init)
            .map(|_| draw::<S>(runner, &mut state, &mut slots))
            .collect::<Result<Vec<_>, _>>()?;
        let after_init = state.clone();
        let mut threads = Vec::new();
        for &n in &counts.threads {
            let mut own = after_init.clone();
            let ops = (0..n)
                .map(|_| draw::<S>(runner, &mut own, &mut slots))
                .collect::<Result<Vec<_>, _>>()?;
            threads.push(ops);
        }
        // The post part starts where the serial run of the threads ends.
        for &i in threads.iter().flatten() {
            state.step(&slots[i].current());
        }
        let post = (0..counts.post)
            .map(|_| draw::<S>(runner, &mut state, &mut slots))
            .collect::<Result<Vec<_>, _>>()?;
        let check: Valid<Op<S>> = Arc::new(valid::<S>);
        Ok(OpsTree::new(slots, Parts { init, threads, post }, Some(check)))
    }
}
