//! Tests of the tester: every correct built-in passes 20,000 schedules of 3 threads x 3 operations
//! under the random schedulers, with zero failures.

use crosscheck::resources::*;
use crosscheck::{Checker, Resource, Scheduler};

fn passes<R: Resource>() {
    for scheduler in [Scheduler::Random, Scheduler::Pct { depth: 3 }] {
        let report = Checker::<R>::new()
            .threads(3)
            .ops_per_thread(3)
            .scheduler(scheduler.clone())
            .iterations(20_000)
            .seed(11)
            .run()
            .unwrap_or_else(|f| panic!("false alarm under {scheduler:?}:\n{f}"));
        assert_eq!(report.schedules(), 20_000);
        assert_eq!(report.unknown(), 0, "every history was decided");
    }
}

#[test]
fn locked_counter() {
    passes::<LockedCounter>();
}

#[test]
fn atomic_counter() {
    passes::<AtomicCounter>();
}

#[test]
fn locked_log() {
    passes::<LockedLog>();
}

#[test]
fn locked_map() {
    passes::<LockedMap>();
}

#[test]
fn ordered_bank() {
    passes::<OrderedBank>();
}
