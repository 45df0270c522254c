//! Should crosscheck's own generator sit on proptest's `Strategy` (one shrinking engine), or keep
//! its byte encoding (shared with fuzzing and tokens)? This measures the two ways of getting from a
//! found bug to its minimal case, on every built-in bug, over the same seeds:
//!
//! - bytes: `Checker::run`, crosscheck's shrinker (scenario edits carry the failing schedule over,
//!   so a candidate that still fails usually costs one schedule);
//! - proptest: `proptest!` over `crosscheck::proptest::scenarios` with `check_scenario`, proptest's
//!   shrinking loop (every candidate is a fresh check of the scenario: a candidate that passes
//!   costs the whole per-case budget).
//!
//! Run: `cargo run --release --example proptest_vs_bytes` (SEEDS=<n> for more seeds).

use std::time::{Duration, Instant};

use crosscheck::proptest::{check_scenario, scenarios};
use crosscheck::resources::*;
use crosscheck::{Checker, Resource, Scheduler};
use proptest::test_runner::{Config, RngSeed, TestError, TestRunner};

struct Outcome {
    time: Duration,
    minimal: bool,
}

/// The known minimum: two threads with one operation each (post at most one).
fn is_minimal<Op>(s: &crosscheck::Scenario<Op>) -> bool {
    s.threads.len() == 2 && s.threads.iter().all(|t| t.len() == 1) && s.init.is_empty() && s.post.len() <= 1
}

fn bytes<R: Resource>(seed: u64) -> Outcome {
    let started = Instant::now();
    let failure = Checker::<R>::new().seed(seed).run().expect_err("a built-in bug");
    Outcome {
        time: started.elapsed(),
        minimal: is_minimal(failure.scenario()),
    }
}

fn via_proptest<R: Resource>(seed: u64) -> Outcome {
    let started = Instant::now();
    let config = Config {
        cases: 256,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(seed),
        max_shrink_iters: 4096,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    // Per case the same budget a generated scenario gets in a default check.
    let per_case = || Checker::<R>::new().scheduler(Scheduler::default()).iterations(100);
    let result = runner.run(&scenarios(Checker::<R>::new()), |s| {
        check_scenario(per_case(), &s).map(|_| ())
    });
    let minimal = match result {
        Err(TestError::Fail(_, s)) => is_minimal(&s),
        _ => false,
    };
    Outcome {
        time: started.elapsed(),
        minimal,
    }
}

fn row<R: Resource>(name: &str, seeds: u64) {
    let median = |mut v: Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let (mut bt, mut pt, mut bm, mut pm) = (Vec::new(), Vec::new(), 0, 0);
    for seed in 0..seeds {
        let b = bytes::<R>(seed);
        let p = via_proptest::<R>(seed);
        bt.push(b.time);
        pt.push(p.time);
        bm += usize::from(b.minimal);
        pm += usize::from(p.minimal);
    }
    let (b, p) = (median(bt), median(pt));
    println!(
        "| {name:<18} | {:>9.1} ms | {:>9.1} ms | {:>5.1}x | {bm:>3}/{seeds} | {pm:>3}/{seeds} |",
        b.as_secs_f64() * 1e3,
        p.as_secs_f64() * 1e3,
        p.as_secs_f64() / b.as_secs_f64()
    );
}

fn main() {
    let seeds: u64 = std::env::var("SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(10);
    std::env::set_var("CROSSCHECK_HTML", "off");
    println!("found bug -> minimal case, median over {seeds} seeds (ratio = proptest / bytes)");
    println!("| bug                | bytes      | proptest     | ratio | bytes minimal | proptest minimal |");
    println!("|---|---|---|---|---|---|");
    row::<RacyCounter>("RacyCounter", seeds);
    row::<TornLog>("TornLog", seeds);
    row::<CheckThenInsertMap>("CheckThenInsertMap", seeds);
    row::<AbBaBank>("AbBaBank", seeds);
}
