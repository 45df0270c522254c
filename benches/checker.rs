//! Checker speed on the public histories of `../shared/histories` (see its README for porcupine's
//! figures on the same data). Does nothing, saying why, when that folder is absent.

#[path = "../tests/support/histories.rs"]
mod histories;

use std::time::Duration;

use criterion::{black_box, Criterion};
use crosscheck::linearizability::check;
use histories::*;

const BUDGET: Duration = Duration::from_secs(60);

fn main() {
    let dir = match histories_dir() {
        Ok(dir) => dir,
        Err(why) => {
            eprintln!("checker bench skipped: {why}");
            return;
        }
    };
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();

    let etcd: Vec<_> = etcd_cases(&dir)
        .into_iter()
        .map(|(name, path, expected)| {
            let history = parse_etcd(&path).unwrap();
            (name, history, expected)
        })
        .collect();
    c.bench_function("etcd_all", |b| {
        b.iter(|| {
            for (name, history, expected) in &etcd {
                let verdict = check::<Register>(history, BUDGET);
                assert_eq!(verdict.is_linearizable(), *expected, "{name}: {verdict}");
            }
        })
    });
    let etcd_002 = &etcd.iter().find(|(name, _, _)| name == "etcd_002").unwrap().1;
    c.bench_function("etcd_002", |b| {
        b.iter(|| {
            let verdict = check::<Register>(black_box(etcd_002), BUDGET);
            assert!(verdict.is_linearizable(), "{verdict}");
        })
    });

    let kv: Vec<_> = kv_cases(&dir)
        .into_iter()
        .map(|(name, path, expected)| (name, parse_kv(&path).unwrap(), expected))
        .collect();
    let mut group = c.benchmark_group("kv");
    for (name, history, expected) in &kv {
        group.bench_function(name.as_str(), |b| {
            b.iter(|| {
                let verdict = check::<Kv>(black_box(history), BUDGET);
                assert_eq!(verdict.is_linearizable(), *expected, "{name}: {verdict}");
            })
        });
    }
    group.finish();

    // Without partitioning the search is far slower: a few samples suffice.
    let mut group = c.benchmark_group("kv_unpartitioned");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    let c10_ok = &kv.iter().find(|(name, _, _)| name == "c10-ok").unwrap().1;
    group.bench_function("c10-ok", |b| {
        b.iter(|| {
            let verdict = check::<KvUnpartitioned>(black_box(c10_ok), BUDGET);
            assert!(verdict.is_linearizable(), "{verdict}");
        })
    });
    group.finish();

    c.final_summary();
}
