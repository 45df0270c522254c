//! What crosscheck costs over raw shuttle on the same workload, fixed seeds. Raw shuttle spawns,
//! applies, joins and asserts; crosscheck also generates the scenario, records every event, and
//! checks each history for linearizability.
//!
//! Two workloads:
//! - a correct locked counter, 2 threads x 3 operations;
//! - by width: a correct `AtomicCounter`, N threads x 1 `Inc` then a post `Get`, under
//!   `Scheduler::Random`, against shuttle's `check_random` spawning N threads that each do one
//!   `fetch_add` and asserting the total, for N = 2, 8, 32 and 100. Whatever crosscheck adds per
//!   thread shows here as a ratio falling with the width.
//!
//! The locked counter has a third side, the floor under any history checker on shuttle: raw
//! shuttle that also records each operation's call and return in a `History` and judges it
//! against the model (`locked::shuttle_with_history`). Its ratio is what recording and judging a
//! history costs; what crosscheck costs beyond it is the rest of what it does at each point.
//!
//! Run with `cargo bench --bench overhead`. Before criterion's figures it prints schedules/s for
//! every side of each workload, measured alternately in the same run, and their ratios.
//! `cargo bench --bench overhead -- --table` prints only the tables.

use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion};
use crosscheck::resources::LockedCounter;
use crosscheck::{Checker, Scheduler};

#[path = "support/locked.rs"]
mod locked;
#[path = "support/width.rs"]
mod width;
use locked::{crosscheck_locked, raw_shuttle_locked, shuttle_with_history};
use width::{crosscheck_wide, raw_shuttle_wide, raw_with_history, shuttle_start_together};

const SCHEDULES: usize = 2_000;

fn crosscheck_generated(schedules: usize) {
    Checker::<LockedCounter>::new()
        .threads(2)
        .ops_per_thread(3)
        .init_ops(0)
        .post_ops(0)
        .scheduler(Scheduler::Random)
        .iterations(schedules)
        .seed(7)
        .run()
        .expect("a correct counter passes");
}

fn rate(f: fn(usize), rounds: usize) -> f64 {
    let start = Instant::now();
    for _ in 0..rounds {
        f(SCHEDULES);
    }
    (rounds * SCHEDULES) as f64 / start.elapsed().as_secs_f64()
}

fn ratio_report() {
    // Alternate them so all see the same machine load.
    let (mut raw, mut floor, mut ours, mut generated) = (0.0, 0.0, 0.0, 0.0);
    for _ in 0..5 {
        raw += rate(raw_shuttle_locked, 3);
        floor += rate(shuttle_with_history, 3);
        ours += rate(crosscheck_locked, 3);
        generated += rate(crosscheck_generated, 3);
    }
    let (raw, floor, ours, generated) = (raw / 5.0, floor / 5.0, ours / 5.0, generated / 5.0);
    println!("raw shuttle:                  {raw:>10.0} schedules/s");
    println!(
        "raw shuttle + history check:  {floor:>10.0} schedules/s  ratio {:.2}",
        floor / raw
    );
    println!(
        "crosscheck (pinned scenario): {ours:>10.0} schedules/s  ratio {:.2}",
        ours / raw
    );
    println!(
        "crosscheck (generated):       {generated:>10.0} schedules/s  ratio {:.2}",
        generated / raw
    );
}

/// The widths of the table, and how many schedules one measurement of each runs (about the same
/// time per measurement).
const WIDTHS: [(usize, usize); 4] = [(2, 20_000), (8, 6_000), (32, 1_500), (100, 500)];

/// Schedules per second of `f(threads, schedules)`.
fn wide_rate(f: fn(usize, usize), threads: usize, schedules: usize) -> f64 {
    let start = Instant::now();
    f(threads, schedules);
    schedules as f64 / start.elapsed().as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn width_report() {
    println!("N threads x 1 Inc, post Get; AtomicCounter, Scheduler::Random; median of 7 alternating runs");
    println!("raw shuttle: check_random; floor: the same recording and judging a history (the least any");
    println!("history checker on shuttle does); start-together: raw shuttle under its random scheduler with");
    println!("main spawning every thread before any runs, the schedule shape crosscheck explores");
    println!("| threads | raw shuttle | floor | start-together | crosscheck | floor / raw | start-together / raw | crosscheck / raw | crosscheck / start-together |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for (threads, schedules) in WIDTHS {
        // Warm all four up (stack pools, allocations), then alternate so all see the same load.
        let sides: [fn(usize, usize); 4] = [
            raw_shuttle_wide,
            raw_with_history,
            shuttle_start_together,
            crosscheck_wide,
        ];
        for side in sides {
            side(threads, schedules / 10);
        }
        let mut rates = [const { Vec::new() }; 4];
        for _ in 0..7 {
            for (side, rates) in sides.iter().zip(&mut rates) {
                rates.push(wide_rate(*side, threads, schedules));
            }
        }
        let [raw, floor, together, ours] = rates.map(median);
        println!(
            "| {threads} | {:.1}k/s | {:.1}k/s | {:.1}k/s | {:.1}k/s | {:.2} | {:.2} | {:.2} | {:.2} |",
            raw / 1e3,
            floor / 1e3,
            together / 1e3,
            ours / 1e3,
            floor / raw,
            together / raw,
            ours / raw,
            ours / together
        );
    }
}

fn bench(c: &mut Criterion) {
    ratio_report();
    width_report();
    let mut group = c.benchmark_group("counter_2x3");
    group.measurement_time(Duration::from_secs(5));
    group.sample_size(20);
    group.bench_function("raw_shuttle", |b| b.iter(|| raw_shuttle_locked(SCHEDULES)));
    group.bench_function("crosscheck", |b| b.iter(|| crosscheck_locked(SCHEDULES)));
    group.bench_function("crosscheck_generated", |b| b.iter(|| crosscheck_generated(SCHEDULES)));
    group.finish();
    let mut group = c.benchmark_group("counter_wide_100x1");
    group.measurement_time(Duration::from_secs(5));
    group.sample_size(10);
    group.bench_function("raw_shuttle", |b| b.iter(|| raw_shuttle_wide(100, 100)));
    group.bench_function("crosscheck", |b| b.iter(|| crosscheck_wide(100, 100)));
    group.finish();
}

criterion_group!(benches, bench);

fn main() {
    if std::env::args().any(|a| a == "--table") {
        ratio_report();
        width_report();
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
