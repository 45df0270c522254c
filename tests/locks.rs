//! Locks as the seed teaches them: back-off with timeouts passes, its two classic mistakes are
//! caught with the right kinds, logical timeouts replay exactly.

use crosscheck::resources::*;
use crosscheck::{Checker, FailureKind, Scheduler};

#[test]
fn backoff_bank_passes_a_large_budget() {
    let report = Checker::<BackoffBank>::new().iterations(20_000).seed(1).run();
    match report {
        Ok(report) => assert!(report.schedules() >= 20_000 - 10, "{report}"),
        Err(failure) => panic!("a false alarm on BackoffBank:\n{failure}"),
    }
}

#[test]
fn keeping_the_first_lock_on_timeout_is_a_deadlock() {
    let failure = Checker::<KeepLockBackoffBank>::new().seed(1).run().unwrap_err();
    assert!(matches!(failure.kind(), FailureKind::Deadlock { .. }), "{failure}");
}

#[test]
fn retrying_without_backing_off_is_a_livelock() {
    let failure = Checker::<EagerBackoffBank>::new().seed(1).run().unwrap_err();
    assert!(matches!(failure.kind(), FailureKind::Livelock { .. }), "{failure}");
}

#[test]
fn logical_timeouts_replay_exactly() {
    let failure = Checker::<KeepLockBackoffBank>::new().seed(2).run().unwrap_err();
    let token = failure.schedule().expect("a deadlock has a token").to_string();
    let replayed = Checker::<KeepLockBackoffBank>::new()
        .scheduler(Scheduler::Replay(token))
        .run()
        .unwrap_err();
    assert_eq!(replayed.kind(), failure.kind());
    let from_why = |text: String| text.split_once("why:").map(|(_, rest)| rest.to_string());
    assert_eq!(from_why(replayed.to_string()), from_why(failure.to_string()));
    assert!(failure.to_string().contains("(timed out)"), "{failure}");
}
