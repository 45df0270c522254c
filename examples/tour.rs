//! The tour: every built-in resource under every scheduler. The buggy ones are caught and
//! explained; the correct ones pass.
//!
//! Run it with `cargo run --release --example tour`.

use crosscheck::resources::*;
use crosscheck::{Checker, Resource, Scheduler};

fn schedulers() -> Vec<Scheduler> {
    vec![
        Scheduler::Random,
        Scheduler::Pct { depth: 2 },
        Scheduler::Dfs { max_iterations: None },
    ]
}

/// Runs one resource under each scheduler; returns how many runs found a failure.
fn tour<R: Resource>(name: &str, buggy: bool) -> usize {
    let mut found = 0;
    for scheduler in schedulers() {
        let label = format!("{scheduler:?}");
        match Checker::<R>::new()
            .scheduler(scheduler)
            .iterations(10_000)
            .seed(1)
            .run()
        {
            Ok(report) => println!("{name:<20} {label:<32} passed {} schedules", report.schedules()),
            Err(failure) => {
                found += 1;
                println!(
                    "{name:<20} {label:<32} FAILED after {} schedules: {:?}",
                    failure.schedules(),
                    failure.kind()
                );
                if found == 1 {
                    println!("\n{failure}");
                }
            }
        }
    }
    if buggy && found == 0 {
        println!("{name}: expected a bug, none found");
    }
    found
}

fn main() {
    println!("crosscheck tour: four buggy resources must be caught, five correct ones must pass\n");
    let mut missed = 0;
    let mut false_alarms = 0;
    missed += usize::from(tour::<RacyCounter>("RacyCounter", true) == 0);
    missed += usize::from(tour::<TornLog>("TornLog", true) == 0);
    missed += usize::from(tour::<CheckThenInsertMap>("CheckThenInsertMap", true) == 0);
    missed += usize::from(tour::<AbBaBank>("AbBaBank", true) == 0);
    false_alarms += tour::<LockedCounter>("LockedCounter", false);
    false_alarms += tour::<AtomicCounter>("AtomicCounter", false);
    false_alarms += tour::<LockedLog>("LockedLog", false);
    false_alarms += tour::<LockedMap>("LockedMap", false);
    false_alarms += tour::<OrderedBank>("OrderedBank", false);
    println!("\nbugs missed: {missed}, false alarms: {false_alarms}");
    if missed + false_alarms > 0 {
        std::process::exit(1);
    }
}
