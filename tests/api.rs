//! The public surface as a user meets it: whose fault a failure is, a report's unknown count under
//! every backend, failure text that does not depend on where it is printed, and size settings in
//! every range form.

use std::time::Duration;

use crosscheck::resources::{AtomicCounter, CounterOp, LockedCounter, RacyCounter};
use crosscheck::{Checker, FailureKind, Fault, Scheduler};

#[test]
fn whose_fault_a_failure_is() {
    let bug = Checker::<RacyCounter>::new().run().unwrap_err();
    assert!(bug.kind().is_bug());
    assert_eq!(bug.fault(), Fault::Resource);
    let usage = Checker::<RacyCounter>::new().iterations(0).run().unwrap_err();
    assert!(!usage.kind().is_bug());
    assert_eq!(usage.fault(), Fault::Usage);
    assert_eq!(FailureKind::Internal { message: "x".into() }.fault(), Fault::Crosscheck);
}

#[test]
fn a_not_linearizable_failure_names_its_operations() {
    let failure = Checker::<RacyCounter>::new().run().unwrap_err();
    let FailureKind::NotLinearizable {
        prefix,
        stuck,
        explanation,
    } = failure.kind()
    else {
        panic!("expected not linearizable: {failure}");
    };
    // Shrunk: two increments, then the final read that sees one of them.
    assert_eq!(prefix.iter().map(|o| o.op.as_str()).collect::<Vec<_>>(), ["Inc", "Inc"]);
    assert_eq!(stuck.len(), 1, "{stuck:?}");
    let get = &stuck[0];
    assert_eq!((get.thread.as_str(), get.op.as_str()), ("main", "Get"));
    assert_eq!(
        (get.output.as_deref(), get.allowed.as_str()),
        (Some("Some(1)"), "Some(2)")
    );
    assert_eq!(
        (get.model_before.as_str(), get.model_after.as_str()),
        ("CounterModel(2)", "CounterModel(2)")
    );
    assert_eq!(failure.scenario().op(get.index), &CounterOp::Get);
    assert!(
        explanation.contains("main Get returned Some(1) where the model allows Some(2)"),
        "{explanation}"
    );
}

#[test]
fn unknown_histories_are_counted_under_every_backend() {
    // No time at all for the consistency check: nothing can be decided.
    let stress = Checker::<LockedCounter>::new()
        .scheduler(Scheduler::Stress)
        .check_budget(Duration::ZERO)
        .iterations(20)
        .run()
        .unwrap();
    assert_eq!(stress.unknown(), 20, "{stress}");
    let loom = Checker::<AtomicCounter>::new()
        .threads(2)
        .ops_per_thread(1)
        .scheduler(Scheduler::Loom {
            preemption_bound: Some(1),
        })
        .check_budget(Duration::ZERO)
        .iterations(50)
        .run()
        .unwrap();
    assert!(loom.unknown() > 0 && loom.unknown() == loom.schedules(), "{loom}");
    assert!(loom.to_string().contains("unknown, not passed"), "{loom}");
}

#[test]
fn a_failure_prints_the_same_on_any_thread() {
    let failure = std::thread::Builder::new()
        .name("the_test_that_found_it".into())
        .spawn(|| Checker::<RacyCounter>::new().run().unwrap_err())
        .unwrap()
        .join()
        .unwrap();
    let here = failure.to_string();
    assert!(here.contains("cargo test the_test_that_found_it"), "{here}");
    let elsewhere = std::thread::spawn(move || failure.to_string()).join().unwrap();
    assert_eq!(here, elsewhere);
}

#[test]
fn sizes_take_every_range_form() {
    for checker in [
        Checker::<LockedCounter>::new().threads(..=2),
        Checker::<LockedCounter>::new().threads(1..3),
        Checker::<LockedCounter>::new()
            .threads(..3)
            .ops_per_thread(..=2)
            .init_ops(..=1)
            .post_ops(0..2),
    ] {
        let report = checker.iterations(200).run().unwrap();
        assert_eq!(report.schedules(), 200);
    }
    let empty = Checker::<LockedCounter>::new().threads(2..2).run().unwrap_err();
    assert!(
        matches!(empty.kind(), FailureKind::Usage { message } if message.contains("empty range")),
        "{empty}"
    );
}

#[test]
fn the_loom_size_error_suggests_a_setting_that_compiles_and_works() {
    let failure = Checker::<AtomicCounter>::new()
        .threads(5)
        .scheduler(Scheduler::Loom {
            preemption_bound: Some(1),
        })
        .run()
        .unwrap_err();
    let FailureKind::Usage { message } = failure.kind() else {
        panic!("{failure}")
    };
    assert!(message.contains(".threads(..=4)"), "{message}");
    // What it suggests runs.
    Checker::<AtomicCounter>::new()
        .threads(..=4)
        .ops_per_thread(1)
        .scheduler(Scheduler::Loom {
            preemption_bound: Some(1),
        })
        .iterations(50)
        .run()
        .unwrap();
}
