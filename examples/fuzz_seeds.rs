//! Writes the committed seed corpus: `cargo run --example fuzz_seeds` (re)creates
//! `corpus/<target>/seed-*` for every fuzz target.
//!
//! A seed is a handful of bytes in the layout of [`crosscheck::fuzz`]: counts, then each
//! operation's bytes, then the schedule. The seeds cover each scenario part (init, 1-3 threads,
//! post) and every operation; they only give the fuzzer shapes to start from. The buggy targets'
//! seeds are sequential (all-zero schedules) and so never fail: a fuzz run of a buggy target
//! measures how fast the fuzzer finds the bug, not how fast it loads a known crash. Crashes that
//! must keep failing live in `corpus/regressions/<target>/`, outside the corpus folders.

use std::path::Path;

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Scenario shapes, as the fuzz layout's count bytes: threads - 1, ops of each thread - 1, init,
/// post (the default limits: 1-3 threads, 1-3 ops, 0-2 init and post).
const SHAPES: &[&[u8]] = &[
    &[1, 0, 0, 0, 1],    // 2 threads x 1 op, post 1
    &[1, 1, 1, 1, 1],    // 2 threads x 2 ops, init 1, post 1
    &[2, 0, 0, 0, 0, 2], // 3 threads x 1 op, post 2
    &[0, 2, 2, 1],       // 1 thread x 3 ops, init 2, post 1
    &[1, 2, 0, 0, 1],    // 2 threads x 3 and 1 ops, post 1
];

/// Schedules for the correct targets' extra seeds: a switch at the first points, and a ping-pong.
const PREEMPTIVE: &[&[u8]] = &[&[0, 1, 0, 1], &[1, 1, 1, 1, 1, 1, 1, 1]];

/// Bytes per operation in the layout: the op type's `size_hint`, as crosscheck reads it.
fn chunk(target: &str) -> usize {
    match target.trim_end_matches("_ok") {
        "counter" | "decode" => 4,
        "log" => 2,
        "map" => 3,
        "bank" => 6,
        other => panic!("no chunk size for target {other}"),
    }
}

fn ops(shape: &[u8]) -> usize {
    let threads = usize::from(shape[0]) + 1;
    let per_thread: usize = shape[1..=threads].iter().map(|&n| usize::from(n) + 1).sum();
    per_thread + usize::from(shape[threads + 1]) + usize::from(shape[threads + 2])
}

fn seed(rng: &mut ChaCha8Rng, target: &str, shape: &[u8], schedule: &[u8]) -> Vec<u8> {
    let mut bytes = shape.to_vec();
    let start = bytes.len();
    bytes.resize(start + ops(shape) * chunk(target), 0);
    rng.fill_bytes(&mut bytes[start..]);
    bytes.extend_from_slice(schedule);
    bytes
}

fn main() -> std::io::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    for target in [
        "counter",
        "counter_ok",
        "log",
        "log_ok",
        "map",
        "map_ok",
        "bank",
        "bank_ok",
        "decode",
    ] {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir)?;
        for old in std::fs::read_dir(&dir)? {
            let old = old?.path();
            if old
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("seed-"))
            {
                std::fs::remove_file(old)?;
            }
        }
        // The same seed for a buggy target and its fixed one: they share the op type.
        let mut rng = ChaCha8Rng::seed_from_u64(u64::from(family_hash(target.trim_end_matches("_ok"))));
        let mut seeds: Vec<Vec<u8>> = SHAPES.iter().map(|shape| seed(&mut rng, target, shape, &[])).collect();
        if target.ends_with("_ok") || target == "decode" {
            for schedule in PREEMPTIVE {
                seeds.push(seed(&mut rng, target, SHAPES[0], schedule));
            }
        }
        if target == "decode" {
            // The decode target's first byte picks the limits: 0x55 is 1-2 threads x 1-2 ops, 0-1 init and post.
            for s in &mut seeds {
                s.insert(0, 0x55);
            }
        }
        for (i, bytes) in seeds.iter().enumerate() {
            std::fs::write(dir.join(format!("seed-{i}")), bytes)?;
        }
        println!("corpus/{target}: {} seeds", seeds.len());
    }
    Ok(())
}

/// A stable small hash of a name (FNV-1a), so each family gets its own op bytes.
fn family_hash(name: &str) -> u32 {
    name.bytes()
        .fold(0x811c_9dc5u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
}
