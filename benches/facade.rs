//! What the facade costs outside a check, where each type is std's behind one branch on the
//! current backend: uncontended `Mutex` lock/unlock, `AtomicUsize::fetch_add`, `RwLock` read,
//! `OnceLock::get`, against std's own types.
//!
//! Run with `cargo bench --bench facade`. Besides criterion's figures it prints each pair's ratio
//! (std's time / the facade's, so 1.0 means no cost), measured alternately in the same run, the
//! median of seven rounds.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};

const OPS: u32 = 200_000;

fn std_mutex(m: &std::sync::Mutex<u64>) {
    for _ in 0..OPS {
        *m.lock().unwrap() += 1;
    }
}

fn our_mutex(m: &crosscheck::sync::Mutex<u64>) {
    for _ in 0..OPS {
        *m.lock().unwrap() += 1;
    }
}

fn std_atomic(a: &std::sync::atomic::AtomicUsize) {
    for _ in 0..OPS {
        a.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

fn our_atomic(a: &crosscheck::sync::atomic::AtomicUsize) {
    for _ in 0..OPS {
        a.fetch_add(1, crosscheck::sync::atomic::Ordering::SeqCst);
    }
}

fn std_rwlock(l: &std::sync::RwLock<u64>) -> u64 {
    (0..OPS).map(|_| *l.read().unwrap()).sum()
}

fn our_rwlock(l: &crosscheck::sync::RwLock<u64>) -> u64 {
    (0..OPS).map(|_| *l.read().unwrap()).sum()
}

fn std_once(c: &std::sync::OnceLock<u64>) -> u64 {
    (0..OPS).map(|_| *c.get().unwrap()).sum()
}

fn our_once(c: &crosscheck::sync::OnceLock<u64>) -> u64 {
    (0..OPS).map(|_| *c.get().unwrap()).sum()
}

fn time(f: impl Fn()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

/// std's time over the facade's, alternating, median of seven rounds.
fn ratio(std: impl Fn(), ours: impl Fn()) -> f64 {
    let mut ratios: Vec<f64> = (0..7)
        .map(|_| time(&std).as_secs_f64() / time(&ours).as_secs_f64())
        .collect();
    ratios.sort_by(f64::total_cmp);
    ratios[3]
}

fn bench(c: &mut Criterion) {
    let (sm, om) = (std::sync::Mutex::new(0), crosscheck::sync::Mutex::new(0));
    let (sa, oa) = (
        std::sync::atomic::AtomicUsize::new(0),
        crosscheck::sync::atomic::AtomicUsize::new(0),
    );
    let (sr, or) = (std::sync::RwLock::new(1), crosscheck::sync::RwLock::new(1));
    let (so, oo) = (std::sync::OnceLock::new(), crosscheck::sync::OnceLock::new());
    so.set(1).unwrap();
    oo.set(1).unwrap();

    let mut g = c.benchmark_group("facade outside a check");
    g.bench_function("std Mutex lock/unlock", |b| b.iter(|| std_mutex(black_box(&sm))));
    g.bench_function("crosscheck Mutex lock/unlock", |b| b.iter(|| our_mutex(black_box(&om))));
    g.bench_function("std AtomicUsize fetch_add", |b| b.iter(|| std_atomic(black_box(&sa))));
    g.bench_function("crosscheck AtomicUsize fetch_add", |b| {
        b.iter(|| our_atomic(black_box(&oa)))
    });
    g.finish();

    println!("\nstd's time / the facade's (1.0: no cost), {OPS} operations, median of 7 alternating rounds:");
    println!("| operation | ratio |\n|---|---|");
    let rows: [(&str, f64); 4] = [
        (
            "Mutex lock + unlock",
            ratio(|| std_mutex(black_box(&sm)), || our_mutex(black_box(&om))),
        ),
        (
            "AtomicUsize::fetch_add",
            ratio(|| std_atomic(black_box(&sa)), || our_atomic(black_box(&oa))),
        ),
        (
            "RwLock read + unlock",
            ratio(
                || {
                    black_box(std_rwlock(black_box(&sr)));
                },
                || {
                    black_box(our_rwlock(black_box(&or)));
                },
            ),
        ),
        (
            "OnceLock::get",
            ratio(
                || {
                    black_box(std_once(black_box(&so)));
                },
                || {
                    black_box(our_once(black_box(&oo)));
                },
            ),
        ),
    ];
    for (name, r) in rows {
        println!("| {name} | {r:.2} |");
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
