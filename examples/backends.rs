//! Measures the backends on the built-ins and prints the figures README.md quotes:
//! schedules-to-find per bug for the default portfolio and each of its members alone, iterations
//! stress needs on real threads, and loom's executions and completion.
//!
//! Run it with `cargo run --release --example backends` (a few minutes on 2 cores; pass `quick`
//! for fewer seeds, `portfolio` for the schedules-to-find table alone, `speed` for the
//! iterations-per-second table alone).

use std::time::Instant;

use crosscheck::resources::*;
use crosscheck::{Checker, Resource, Scheduler};

/// Schedules the check ran until it found the bug (`None`: missed within the budget).
fn to_find<R: Resource>(checker: Checker<R>) -> Option<usize> {
    checker.shrink_budget(0).run().err().map(|f| f.schedules())
}

fn median(mut v: Vec<usize>) -> String {
    if v.is_empty() {
        return "-".into();
    }
    v.sort_unstable();
    format!("{}", v[v.len() / 2])
}

fn row<R: Resource>(name: &str, scheduler: &Scheduler, seeds: u64) -> String {
    let found: Vec<Option<usize>> = (0..seeds)
        .map(|seed| {
            to_find(
                Checker::<R>::new()
                    .scheduler(scheduler.clone())
                    .iterations(10_000)
                    .seed(seed),
            )
        })
        .collect();
    let hits: Vec<usize> = found.iter().flatten().copied().collect();
    let worst = hits.iter().max().map_or("-".to_string(), |w| w.to_string());
    format!(
        "{name:<20} median {:>6}  worst {:>6}  missed {}/{seeds}",
        median(hits.clone()),
        worst,
        seeds as usize - hits.len()
    )
}

fn portfolio_table(seeds: u64) {
    println!("== schedules to find each bug (iterations 10,000, seeds 0..{seeds}, default shape)");
    let Scheduler::Portfolio(members) = Scheduler::default() else {
        unreachable!()
    };
    let mut all = vec![("default portfolio".to_string(), Scheduler::default())];
    all.extend(members.into_iter().map(|m| (format!("{m:?}"), m)));
    for (label, s) in &all {
        println!("-- {label}");
        println!("   {}", row::<RacyCounter>("RacyCounter", s, seeds));
        println!("   {}", row::<TornLog>("TornLog", s, seeds));
        println!("   {}", row::<CheckThenInsertMap>("CheckThenInsertMap", s, seeds));
        println!("   {}", row::<AbBaBank>("AbBaBank", s, seeds));
        println!("   {}", row::<IfWaitMailbox>("IfWaitMailbox", s, seeds));
        println!("   {}", row::<WeakClaim>("WeakClaim", s, seeds));
    }
}

fn stress<R: Resource>(name: &str, post: usize, seeds: u64) {
    let started = Instant::now();
    let found: Vec<Option<usize>> = (0..seeds)
        .map(|seed| {
            to_find(
                Checker::<R>::new()
                    .threads(2)
                    .ops_per_thread(200)
                    .init_ops(0)
                    .post_ops(post)
                    .scheduler(Scheduler::Stress)
                    .iterations(5_000)
                    .seed(seed),
            )
        })
        .collect();
    let hits: Vec<usize> = found.iter().flatten().copied().collect();
    println!(
        "   {name:<20} iterations to find: {:?}; median {}, missed {}/{seeds} ({:.1} s)",
        found,
        median(hits.clone()),
        seeds as usize - hits.len(),
        started.elapsed().as_secs_f64()
    );
}

fn stress_clean<R: Resource>(name: &str) {
    let started = Instant::now();
    let result = Checker::<R>::new()
        .threads(2)
        .ops_per_thread(200)
        .post_ops(1)
        .scheduler(Scheduler::Stress)
        .iterations(2_000)
        .run();
    println!(
        "   {name:<20} {} ({:.1} s)",
        match result {
            Ok(r) => format!("passed {} iterations", r.schedules()),
            Err(f) => format!("FLAGGED: {f}"),
        },
        started.elapsed().as_secs_f64()
    );
}

/// Iterations (stress) or schedules (controlled) per second of a correct resource, `threads` x
/// `ops` with one post operation, the same scenarios under both backends.
fn rate<R: Resource>(scheduler: Scheduler, ops: usize, iterations: usize) -> f64 {
    let started = Instant::now();
    let report = Checker::<R>::new()
        .threads(2)
        .ops_per_thread(ops)
        .init_ops(0)
        .post_ops(1)
        .scheduler(scheduler)
        .iterations(iterations)
        .seed(1)
        .run()
        .unwrap_or_else(|f| panic!("a correct resource was flagged: {f}"));
    report.schedules() as f64 / started.elapsed().as_secs_f64()
}

/// The stress backend's iterations per second beside the controlled schedulers' schedules per
/// second (Random), the median of 3 alternating runs of each, so that both see the same load.
fn speed_row<R: Resource>(name: &str, ops: usize, iterations: usize) {
    let (mut stress, mut shuttle) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        stress.push(rate::<R>(Scheduler::Stress, ops, iterations));
        shuttle.push(rate::<R>(Scheduler::Random, ops, iterations));
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[1]
    };
    let (stress, shuttle) = (median(stress), median(shuttle));
    println!(
        "| {name} | 2 x {ops} | {:.1}k/s | {:.1}k/s | {:.2} |",
        stress / 1e3,
        shuttle / 1e3,
        stress / shuttle
    );
}

fn speed_table() {
    println!("== iterations per second: stress (real threads) beside the controlled schedulers (Scheduler::Random)");
    println!("| resource | threads x ops, post 1 | stress | controlled | stress / controlled |");
    println!("|---|---|---|---|---|");
    for (ops, iterations) in [(3, 4_000), (200, 400)] {
        speed_row::<LockedCounter>("LockedCounter", ops, iterations);
        speed_row::<AtomicCounter>("AtomicCounter", ops, iterations);
        speed_row::<LockedMap>("LockedMap", ops, iterations);
    }
}

fn loom<R: Resource>(name: &str, bound: Option<usize>) {
    let started = Instant::now();
    let result = Checker::<R>::new()
        .threads(2)
        .ops_per_thread(1..=2)
        .post_ops(1)
        .scheduler(Scheduler::Loom {
            preemption_bound: bound,
        })
        .iterations(20_000)
        .seed(1)
        .shrink_budget(0)
        .run();
    let text = match result {
        Ok(r) => format!(
            "passed {} executions over {} scenarios, {} explored completely{}",
            r.schedules(),
            r.scenarios(),
            r.exhausted_scenarios(),
            r.incomplete().map(|w| format!("; incomplete: {w}")).unwrap_or_default()
        ),
        Err(f) => {
            let kind = format!("{:?}", f.kind());
            let kind = kind.split([' ', '{']).next().unwrap_or_default().to_string();
            format!("found {kind} after {} executions", f.schedules())
        }
    };
    println!(
        "   {name:<20} bound {bound:?}: {text} ({:.2} s)",
        started.elapsed().as_secs_f64()
    );
}

fn main() {
    let quick = std::env::args().any(|a| a == "quick");
    let seeds = if quick { 5 } else { 20 };
    if std::env::args().any(|a| a == "portfolio") {
        return portfolio_table(seeds);
    }
    if std::env::args().any(|a| a == "speed") {
        return speed_table();
    }
    println!("== loom (2 threads x 1-2 ops, post 1, 20,000 executions at most)");
    for bound in [Some(1), Some(2), None] {
        loom::<RacyCounter>("RacyCounter", bound);
        loom::<CheckThenInsertMap>("CheckThenInsertMap", bound);
        loom::<TornLog>("TornLog", bound);
        loom::<AbBaBank>("AbBaBank", bound);
        loom::<RelaxedFlag>("RelaxedFlag", bound);
        loom::<ReleaseAcquireFlag>("ReleaseAcquireFlag", bound);
        loom::<LockedCounter>("LockedCounter", bound);
    }
    println!("== stress (2 real threads x 200 ops; iterations 5,000 at most)");
    stress::<RacyCounter>("RacyCounter", 1, seeds.min(10));
    stress::<CheckThenInsertMap>("CheckThenInsertMap", 0, seeds.min(10));
    stress_clean::<LockedCounter>("LockedCounter");
    stress_clean::<AtomicCounter>("AtomicCounter");
    stress_clean::<LockedMap>("LockedMap");
    speed_table();
    portfolio_table(seeds);
}
