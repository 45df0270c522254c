//! The tour: every built-in resource under every scheduler. The buggy ones are caught and
//! explained; the correct ones pass. Then the weak-memory pair under loom: `RelaxedFlag` is caught
//! (and passes every shuttle scheduler, which are sequentially consistent), `ReleaseAcquireFlag`
//! passes loom's exhaustive exploration. Last, the surprises std permits: `IfWaitMailbox` waits
//! `if` its box is empty instead of `while`, which only a spurious wakeup shows in a small scenario;
//! with the surprises off (a notification-only model of condition variables, as plain shuttle and
//! loom have) the exhaustive search passes it. Each failure's HTML page is written under
//! `target/crosscheck/` and its path printed: open one in a browser. Last, the locks: back-off
//! with timeouts and its two classic mistakes, and one coarse lock beside a lock per key, as
//! contention figures. And async code: `RacyAsyncCounter` lets its async lock go across an
//! `.await` in the middle of an increment and is caught; `LockedAsyncCounter` holds it and passes.
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
                if let Some(page) = failure.page() {
                    println!("{name:<20} {label:<32} drawn in {}", page.display());
                }
            }
        }
    }
    if buggy && found == 0 {
        println!("{name}: expected a bug, none found");
    }
    found
}

/// Runs one flag resource under loom (2 threads, unbounded, every execution) and under the shuttle
/// schedulers; returns (loom found a failure, a shuttle scheduler found one).
fn flag_tour<R: Resource>(name: &str) -> (bool, bool) {
    let loom = Checker::<R>::new()
        .threads(2)
        .ops_per_thread(1..=2)
        .scheduler(Scheduler::Loom { preemption_bound: None })
        .iterations(20_000)
        .scenarios(20)
        .seed(1)
        .run();
    let loom_found = match loom {
        Ok(report) => {
            println!("{name:<20} {:<32} passed: {report}", "Loom (unbounded)");
            false
        }
        Err(failure) => {
            println!("{name:<20} {:<32} FAILED:\n\n{failure}", "Loom (unbounded)");
            true
        }
    };
    let shuttle_found = tour::<R>(name, false) > 0;
    (loom_found, shuttle_found)
}

/// `IfWaitMailbox` with two threads of one `Pass` each: every interleaving (up to two preemptions or
/// surprises) with notifications only passes; with spurious wakeups the same bounded exhaustive
/// search fails, and the report marks the wakeup.
/// Returns whether it went that way.
fn if_wait_needs_a_spurious_wakeup() -> bool {
    let small = || {
        Checker::<IfWaitMailbox>::new()
            .threads(2)
            .ops_per_thread(1)
            .init_ops(0)
            .post_ops(0)
            .scenarios(4)
            .scheduler(Scheduler::Bounded { preemptions: 2 })
    };
    println!("\nIfWaitMailbox, 2 threads x 1 op, every interleaving with up to 2 preemptions or surprises:");
    let off = small().spurious(false).run();
    match &off {
        Ok(report) => println!("  notifications only: {report}"),
        Err(failure) => println!("  notifications only: FAILED\n{failure}"),
    }
    let on = small().run();
    match &on {
        Ok(report) => println!("  with spurious wakeups: {report}"),
        Err(failure) => println!("  with spurious wakeups: FAILED\n\n{failure}"),
    }
    off.is_ok() && on.is_err()
}

/// One coarse lock beside a lock per key: the same verdict, very different contention. Returns
/// how many of the two failed (0 expected).
fn contention() -> usize {
    println!("\nminimize the critical section, use fine-grained locking: the same map behind one lock and");
    println!("behind a lock per key (default portfolio, 4 threads x 3 ops, 10,000 schedules each)\n");
    let mut failed = 0;
    for (name, result) in [
        ("LockedMap (one lock)", contended::<LockedMap>()),
        ("ShardedMap (a lock per key)", contended::<ShardedMap>()),
    ] {
        match result {
            Ok(report) => println!("{name}: {report:#}\n"),
            Err(failure) => {
                failed += 1;
                println!("{name}: FAILED\n{failure}");
            }
        }
    }
    failed
}

fn contended<R: Resource>() -> Result<crosscheck::Report, crosscheck::Failure<R::Op>> {
    Checker::<R>::new()
        .threads(4)
        .ops_per_thread(3)
        .iterations(10_000)
        .seed(1)
        .run()
}

fn main() {
    println!("crosscheck tour: ten buggy resources must be caught, eleven correct ones must pass\n");
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

    println!("\nweak memory: RelaxedFlag must be caught by loom (and cannot be by shuttle's sequentially");
    println!("consistent schedulers); ReleaseAcquireFlag must pass loom's exhaustive exploration\n");
    let (loom_found, _) = flag_tour::<RelaxedFlag>("RelaxedFlag");
    missed += usize::from(!loom_found);
    let (loom_found, shuttle_found) = flag_tour::<ReleaseAcquireFlag>("ReleaseAcquireFlag");
    false_alarms += usize::from(loom_found) + usize::from(shuttle_found);
    println!("\nspurious wakeups and weak-CAS failures (on by default, as std permits them):\n");
    missed += usize::from(tour::<IfWaitMailbox>("IfWaitMailbox", true) == 0);
    missed += usize::from(tour::<WeakClaim>("WeakClaim", true) == 0);
    false_alarms += tour::<WhileWaitMailbox>("WhileWaitMailbox", false);
    false_alarms += tour::<StrongClaim>("StrongClaim", false);
    missed += usize::from(!if_wait_needs_a_spurious_wakeup());
    println!("\nlocks: back-off with timeouts passes, its two classic mistakes are caught\n");
    missed += usize::from(tour::<KeepLockBackoffBank>("KeepLockBackoffBank", true) == 0);
    missed += usize::from(tour::<EagerBackoffBank>("EagerBackoffBank", true) == 0);
    false_alarms += tour::<BackoffBank>("BackoffBank", false);
    false_alarms += tour::<ShardedMap>("ShardedMap", false);
    false_alarms += contention();
    println!("\nasync: operations that are async fns (AsyncResource), tasks on crosscheck::future\n");
    missed += usize::from(tour::<RacyAsyncCounter>("RacyAsyncCounter", true) == 0);
    false_alarms += tour::<LockedAsyncCounter>("LockedAsyncCounter", false);
    println!("\nbugs missed: {missed}, false alarms: {false_alarms}");
    if missed + false_alarms > 0 {
        std::process::exit(1);
    }
}
