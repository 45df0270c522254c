//! How long shrinking a built-in failure to its minimum takes (target: under 1 s each).
//!
//! `cargo bench --bench shrink`. For each built-in bug, `find` is the check with shrinking off and
//! `find_and_shrink` the same check with shrinking on (seed 1, default scheduler); their difference
//! is the cost of shrinking, which is also printed directly.

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use crosscheck::resources::*;
use crosscheck::{Checker, Resource};

fn find<R: Resource>(shrink: bool) -> usize {
    let checker = Checker::<R>::new().seed(1);
    let checker = if shrink { checker } else { checker.shrink_budget(0) };
    checker.run().expect_err("a built-in bug is found").preemptions()
}

fn print_shrink_cost<R: Resource>(name: &str) {
    let rounds = 10;
    let t = Instant::now();
    (0..rounds).for_each(|_| {
        find::<R>(false);
    });
    let plain = t.elapsed() / rounds;
    let t = Instant::now();
    (0..rounds).for_each(|_| {
        find::<R>(true);
    });
    let shrunk = t.elapsed() / rounds;
    println!(
        "{name:<20} find {:>8.1} ms   find+shrink {:>8.1} ms   shrinking {:>8.1} ms",
        plain.as_secs_f64() * 1e3,
        shrunk.as_secs_f64() * 1e3,
        shrunk.saturating_sub(plain).as_secs_f64() * 1e3
    );
}

fn bench_one<R: Resource>(c: &mut Criterion, name: &str) {
    print_shrink_cost::<R>(name);
    let mut group = c.benchmark_group(name);
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(4));
    group.bench_function("find", |b| b.iter(|| find::<R>(false)));
    group.bench_function("find_and_shrink", |b| b.iter(|| find::<R>(true)));
    group.finish();
}

fn bench(c: &mut Criterion) {
    bench_one::<RacyCounter>(c, "RacyCounter");
    bench_one::<TornLog>(c, "TornLog");
    bench_one::<CheckThenInsertMap>(c, "CheckThenInsertMap");
    bench_one::<AbBaBank>(c, "AbBaBank");
}

criterion_group!(benches, bench);
criterion_main!(benches);
