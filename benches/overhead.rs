//! What crosscheck costs over raw shuttle on the same workload: a correct counter, 2 threads x 3
//! operations, fixed seeds. Raw shuttle spawns, applies, joins and asserts; crosscheck also
//! generates the scenario, records every event, and checks each history for linearizability.
//!
//! Run with `cargo bench --bench overhead`. Besides criterion's figures it prints schedules/s for
//! both, measured alternately in the same run, and their ratio.

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use crosscheck::resources::{CounterOp, LockedCounter};
use crosscheck::{Checker, Scenario, Scheduler};

const SCHEDULES: usize = 2_000;

fn raw_shuttle(schedules: usize) {
    let scheduler = shuttle::scheduler::RandomScheduler::new_from_seed(7, schedules);
    let mut config = shuttle::Config::new();
    config.silence_warnings = true;
    shuttle::Runner::new(scheduler, config).run(|| {
        let counter = Arc::new(shuttle::sync::Mutex::new(0u64));
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let counter = Arc::clone(&counter);
                shuttle::thread::spawn(move || {
                    for op in [CounterOp::Inc, CounterOp::Get, CounterOp::Inc] {
                        let mut n = counter.lock().unwrap();
                        match op {
                            CounterOp::Inc => *n += 1,
                            CounterOp::Get => assert!(*n <= 4),
                        }
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(*counter.lock().unwrap(), 4);
    });
}

fn scenario() -> Scenario<CounterOp> {
    let ops = vec![CounterOp::Inc, CounterOp::Get, CounterOp::Inc];
    Scenario {
        init: vec![],
        threads: vec![ops.clone(), ops],
        post: vec![],
    }
}

fn crosscheck(schedules: usize) {
    Checker::<LockedCounter>::new()
        .scenario(scenario())
        .scheduler(Scheduler::Random)
        .iterations(schedules)
        .seed(7)
        .run()
        .expect("a correct counter passes");
}

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
    // Alternate the two so both see the same machine load.
    let (mut raw, mut ours, mut generated) = (0.0, 0.0, 0.0);
    for _ in 0..5 {
        raw += rate(raw_shuttle, 3);
        ours += rate(crosscheck, 3);
        generated += rate(crosscheck_generated, 3);
    }
    let (raw, ours, generated) = (raw / 5.0, ours / 5.0, generated / 5.0);
    println!("raw shuttle:                  {raw:>10.0} schedules/s");
    println!(
        "crosscheck (pinned scenario): {ours:>10.0} schedules/s  ratio {:.2}",
        ours / raw
    );
    println!(
        "crosscheck (generated):       {generated:>10.0} schedules/s  ratio {:.2}",
        generated / raw
    );
}

fn bench(c: &mut Criterion) {
    ratio_report();
    let mut group = c.benchmark_group("counter_2x3");
    group.measurement_time(Duration::from_secs(5));
    group.sample_size(20);
    group.bench_function("raw_shuttle", |b| b.iter(|| raw_shuttle(SCHEDULES)));
    group.bench_function("crosscheck", |b| b.iter(|| crosscheck(SCHEDULES)));
    group.bench_function("crosscheck_generated", |b| b.iter(|| crosscheck_generated(SCHEDULES)));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
