//! Tests of the tester: every buggy built-in is caught by every scheduler within 10,000 schedules,
//! with the right kind of failure.

use crosscheck::resources::*;
use crosscheck::{Checker, FailureKind, Resource, Scheduler};

fn schedulers() -> [Scheduler; 3] {
    [
        Scheduler::Random,
        Scheduler::Pct { depth: 2 },
        Scheduler::Dfs { max_iterations: None },
    ]
}

fn caught<R: Resource>(accept: fn(&FailureKind) -> bool) {
    for scheduler in schedulers() {
        let result = Checker::<R>::new()
            .scheduler(scheduler.clone())
            .iterations(10_000)
            .seed(3)
            .run();
        let failure = match result {
            Ok(report) => panic!("{scheduler:?} missed the bug: {report}"),
            Err(f) => f,
        };
        assert!(
            accept(failure.kind()),
            "{scheduler:?}: wrong kind of failure:\n{failure}"
        );
        assert!(failure.schedules() <= 10_000);
        assert!(failure.token().is_some(), "a found bug has a replay token");
    }
}

fn data_race(kind: &FailureKind) -> bool {
    matches!(
        kind,
        FailureKind::NotLinearizable { .. } | FailureKind::InvariantViolated { .. }
    )
}

#[test]
fn racy_counter_loses_an_update() {
    caught::<RacyCounter>(data_race);
}

#[test]
fn torn_log_tears_lines() {
    caught::<TornLog>(data_race);
}

#[test]
fn check_then_insert_map_lets_two_threads_win() {
    caught::<CheckThenInsertMap>(data_race);
}

#[test]
fn ab_ba_bank_deadlocks() {
    caught::<AbBaBank>(|k| matches!(k, FailureKind::Deadlock { .. }));
}

#[test]
fn the_deadlock_names_its_cycle() {
    let failure = Checker::<AbBaBank>::new().run().unwrap_err();
    let FailureKind::Deadlock { cycle } = failure.kind() else {
        panic!("{failure}")
    };
    assert_eq!(cycle.len(), 2, "{cycle:?}");
    assert!(
        cycle
            .iter()
            .all(|l| l.contains("holds mutex \"") && l.contains("waits for mutex \"")),
        "{cycle:?}"
    );
}
