//! crosscheck inside proptest: bugs found and shrunk from `proptest!`, correct resources passing,
//! the state-machine style, and proptest's persisted regressions replaying a crosscheck failure.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crosscheck::proptest::{check_scenario, scenarios, scenarios_with, state_machine, StateMachine};
use crosscheck::resources::*;
use crosscheck::{Checker, Model, Scenario, Scheduler};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestError, TestRunner};

/// No regression files written into the source tree by these tests, and a fixed seed.
fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: None,
        rng_seed: proptest::test_runner::RngSeed::Fixed(7),
        ..Config::default()
    }
}

fn pct() -> Checker<RacyCounter> {
    Checker::<RacyCounter>::new()
        .scheduler(Scheduler::Pct { depth: 3 })
        .iterations(300)
}

fn minimal_counter() -> Scenario<CounterOp> {
    Scenario {
        init: vec![],
        threads: vec![vec![CounterOp::Inc], vec![CounterOp::Inc]],
        post: vec![CounterOp::Get],
    }
}

/// The token printed in a report.
fn token(report: &str) -> String {
    let at = report
        .find("CROSSCHECK_REPLAY=")
        .expect("the report has a replay command")
        + "CROSSCHECK_REPLAY=".len();
    report[at..].split_whitespace().next().unwrap().to_string()
}

#[test]
fn the_racy_counter_is_found_from_inside_proptest_and_shrunk_to_its_minimum() {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        proptest!(config(64), |(s in scenarios(Checker::<RacyCounter>::new().threads(2..=3).ops_per_thread(1..=3)))| {
            check_scenario(pct(), &s)?;
        });
    }));
    let payload = outcome.expect_err("the racy counter fails the property");
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_else(|| payload.downcast_ref::<&str>().unwrap_or(&"").to_string());
    assert!(message.contains("crosscheck found a bug in RacyCounter"), "{message}");
    assert!(
        message.contains(&format!("minimal failing input: s = {:#?}", minimal_counter())),
        "proptest shrank to 2 threads x Inc and a post Get:\n{message}"
    );
}

#[test]
fn the_minimal_case_carries_a_token_that_replays_without_proptest() {
    let mut runner = TestRunner::new(config(64));
    let strategy = scenarios(Checker::<RacyCounter>::new());
    let result = runner.run(&strategy, |s| check_scenario(pct(), &s).map(|_| ()));
    let Err(TestError::Fail(reason, minimal)) = result else {
        panic!("the racy counter fails: {result:?}")
    };
    assert_eq!(minimal, minimal_counter());
    let report = reason.message().to_string();
    assert!(
        report.contains("1 preemption"),
        "crosscheck shrank the schedule:\n{report}"
    );
    // Generated scenarios are crosscheck's bytes: the token replays on a plain checker.
    let replayed = Checker::<RacyCounter>::new()
        .scheduler(Scheduler::Replay(token(&report)))
        .run()
        .expect_err("the token replays the failure");
    assert_eq!(replayed.scenario(), &minimal_counter());
    assert_eq!(replayed.preemptions(), 1);
}

proptest! {
    #![proptest_config(config(24))]
    #[test]
    fn a_correct_counter_passes(s in scenarios(Checker::<LockedCounter>::new().threads(2..=3).ops_per_thread(1..=3))) {
        let report = check_scenario(Checker::<LockedCounter>::new().scheduler(Scheduler::Pct { depth: 3 }).iterations(200), &s)?;
        prop_assert_eq!(report.schedules(), 200);
    }

    #[test]
    fn ops_from_a_proptest_strategy(s in scenarios_with(Checker::<LockedMap>::new().threads(2), map_ops())) {
        check_scenario(Checker::<LockedMap>::new().scheduler(Scheduler::Random).iterations(100), &s)?;
    }
}

fn map_ops() -> impl Strategy<Value = MapOp> {
    prop_oneof![
        (0..4u8, 0..10u8).prop_map(|(k, v)| MapOp::InsertIfAbsent(Key(k), v)),
        (0..4u8).prop_map(|k| MapOp::Get(Key(k))),
    ]
}

#[test]
fn a_proptest_strategy_for_ops_shrinks_values_with_its_own_trees() {
    let mut runner = TestRunner::new(config(64));
    let strategy = scenarios_with(Checker::<CheckThenInsertMap>::new().threads(2..=3), map_ops());
    let checker = || {
        Checker::<CheckThenInsertMap>::new()
            .scheduler(Scheduler::Pct { depth: 3 })
            .iterations(300)
    };
    let result = runner.run(&strategy, |s| check_scenario(checker(), &s).map(|_| ()));
    let Err(TestError::Fail(reason, minimal)) = result else {
        panic!("check-then-insert fails: {result:?}")
    };
    assert!(reason
        .message()
        .contains("crosscheck found a bug in CheckThenInsertMap"));
    // Two racing inserts of one key, each value shrunk to 0 by the strategy's own tree. (The key
    // stays whatever it was: changing one insert's key alone loses the race, as in any
    // one-value-at-a-time shrinker.)
    let all: Vec<&MapOp> = minimal
        .init
        .iter()
        .chain(minimal.threads.iter().flatten())
        .chain(&minimal.post)
        .collect();
    assert_eq!(minimal.threads.len(), 2, "{minimal:?}");
    assert_eq!(all.len(), 2, "{minimal:?}");
    let key = match all[0] {
        MapOp::InsertIfAbsent(key, 0) => *key,
        other => panic!("not an insert of 0: {other:?} in {minimal:?}"),
    };
    assert_eq!(all[1], &MapOp::InsertIfAbsent(key, 0), "{minimal:?}");
}

/// Bank transfers never overdraw the debited account: the model decides what may come next.
struct Bank<R>(std::marker::PhantomData<R>);

impl<R: crosscheck::Resource<Op = BankOp, Model = BankModel>> StateMachine for Bank<R> {
    type Resource = R;

    fn transitions(state: &BankModel) -> BoxedStrategy<BankOp> {
        let (a, b) = state.clone().step(&BankOp::Audit).expect("an audit reads balances");
        let transfer = |from, balance: i64| {
            (1..=balance.clamp(1, 4) as u8).prop_map(move |amount| BankOp::Transfer { from, amount })
        };
        prop_oneof![transfer(Account::A, a), transfer(Account::B, b), Just(BankOp::Audit)].boxed()
    }

    fn precondition(state: &BankModel, op: &BankOp) -> bool {
        let (a, b) = state.clone().step(&BankOp::Audit).expect("an audit reads balances");
        match *op {
            BankOp::Transfer {
                from: Account::A,
                amount,
            } => a >= i64::from(amount),
            BankOp::Transfer {
                from: Account::B,
                amount,
            } => b >= i64::from(amount),
            BankOp::Audit => true,
        }
    }
}

#[test]
fn the_state_machine_style_finds_the_ab_ba_deadlock_with_the_same_report() {
    let mut runner = TestRunner::new(config(64));
    let strategy = state_machine::<Bank<AbBaBank>>(Checker::new().threads(2..=3).ops_per_thread(1..=2));
    // The lock-order analysis would report the inversion from one thread alone (a smaller case
    // than any deadlock, see tests/locks.rs); this test is about the deadlock.
    let checker = Checker::<AbBaBank>::new()
        .scheduler(Scheduler::Pct { depth: 2 })
        .iterations(300)
        .lock_order(false);
    let result = runner.run(&strategy, |s| check_scenario(checker.clone(), &s).map(|_| ()));
    let Err(TestError::Fail(reason, minimal)) = result else {
        panic!("the AB-BA bank deadlocks: {result:?}")
    };
    let report = reason.message();
    assert!(
        report.contains("crosscheck found a bug in AbBaBank: deadlock"),
        "{report}"
    );
    assert!(report.contains("replay this exact execution"), "{report}");
    assert_eq!(minimal.threads.len(), 2, "{minimal:?}");
    assert!(minimal.threads.iter().all(|t| t.len() == 1), "{minimal:?}");
    assert!(minimal.init.is_empty() && minimal.post.is_empty(), "{minimal:?}");
}

proptest! {
    #![proptest_config(config(12))]
    #[test]
    fn the_state_machine_style_passes_a_correct_bank(
        s in state_machine::<Bank<OrderedBank>>(Checker::new().threads(2).ops_per_thread(1..=2).init_ops(0..=2))
    ) {
        check_scenario(Checker::<OrderedBank>::new().scheduler(Scheduler::Random).iterations(100), &s)?;
    }
}

#[test]
fn a_persisted_proptest_regression_is_replayed_first() {
    let dir = tempfile::tempdir().unwrap();
    let file: &'static str = Box::leak(
        dir.path()
            .join("counter.txt")
            .to_string_lossy()
            .into_owned()
            .into_boxed_str(),
    );
    let strategy = scenarios(Checker::<RacyCounter>::new());
    let persisting = |cases| Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(file))),
        // proptest's default shrink limit is 4 x cases, which would be none at all for 0 cases.
        max_shrink_iters: 1024,
        ..config(cases)
    };
    let first = TestRunner::new(persisting(64)).run(&strategy, |s| check_scenario(pct(), &s).map(|_| ()));
    assert!(matches!(first, Err(TestError::Fail(..))), "{first:?}");
    let saved = std::fs::read_to_string(file).expect("proptest saved the failing case");
    assert!(saved.lines().any(|l| l.starts_with("cc ")), "{saved}");

    // No new cases at all: only the persisted one runs, and it fails again, as small as before.
    let calls = Cell::new(0);
    let second = TestRunner::new(persisting(0)).run(&strategy, |s| {
        calls.set(calls.get() + 1);
        check_scenario(pct(), &s).map(|_| ())
    });
    let Err(TestError::Fail(_, minimal)) = second else {
        panic!("the persisted case replays: {second:?}")
    };
    assert_eq!(minimal, minimal_counter());
    assert!(calls.get() >= 1);
    let nothing = TestRunner::new(config(0)).run(&strategy, |s| check_scenario(pct(), &s).map(|_| ()));
    assert!(nothing.is_ok(), "without the file, 0 cases run nothing");
}

#[test]
#[should_panic(
    expected = "crosscheck::proptest: crosscheck could not run this check (usage error): threads must be at least 1"
)]
fn an_unusable_shape_is_a_clear_panic() {
    let _ = scenarios(Checker::<LockedCounter>::new().threads(0));
}
