//! The fuzz harness under plain `cargo test`: the committed corpus and saved crashes go through
//! `crosscheck::fuzz::check`, the entry point the fuzz targets share, so a crash found once keeps
//! failing, a fixed resource keeps passing, and arbitrary bytes never break the harness.

use std::path::{Path, PathBuf};

use crosscheck::fuzz::{self, FuzzInput, FuzzLimits};
use crosscheck::resources::*;
use crosscheck::{Checker, Failure, FailureKind, Resource, Scheduler};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn corpus_dir(parts: &[&str]) -> PathBuf {
    parts
        .iter()
        .fold(Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus"), |p, part| {
            p.join(part)
        })
}

/// Every file of one corpus folder, with its bytes; the folder must exist and hold some.
fn files(parts: &[&str]) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = corpus_dir(parts);
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
    let mut files: Vec<_> = entries
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.is_file())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()));
            (p, bytes)
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} holds no corpus files", dir.display());
    files
}

fn assert_passes<R: Resource>(target: &str, path: &Path, data: &[u8]) {
    if let Err(failure) = fuzz::check::<R>(data) {
        panic!("{} fails on the `{target}` target:\n{failure}", path.display());
    }
}

/// A saved crash of a buggy target: it still fails there, replays from its token to the same
/// kind of failure, and passes on the fixed variant.
fn assert_regression<Buggy, Fixed>(target: &str)
where
    Buggy: Resource,
    Fixed: Resource<Op = Buggy::Op>,
{
    for (path, data) in files(&["regressions", target]) {
        let failure: Failure<Buggy::Op> = fuzz::check::<Buggy>(&data)
            .err()
            .unwrap_or_else(|| panic!("{} no longer fails on the `{target}` target", path.display()));
        let token = failure.token().expect("a fuzz failure has a replay token");
        let replayed = Checker::<Buggy>::new()
            .scheduler(Scheduler::Replay(token.to_string()))
            .run()
            .expect_err("the token replays the failure");
        assert_eq!(replayed.kind(), failure.kind(), "{}", path.display());
        assert_eq!(replayed.preemptions(), failure.preemptions(), "{}", path.display());
        assert_passes::<Fixed>(&format!("{target}_ok"), &path, &data);
    }
}

#[test]
fn every_saved_crash_still_fails_replays_and_passes_once_fixed() {
    assert_regression::<RacyCounter, LockedCounter>("counter");
    assert_regression::<TornLog, LockedLog>("log");
    assert_regression::<CheckThenInsertMap, LockedMap>("map");
    assert_regression::<AbBaBank, OrderedBank>("bank");
}

/// The correct targets' corpora pass; the buggy targets' seeds pass too (they are sequential, so
/// that a fuzz run of a buggy target finds its bug rather than loading it).
fn assert_corpus_passes<R: Resource>(target: &str) {
    for (path, data) in files(&[target]) {
        assert_passes::<R>(target, &path, &data);
    }
}

#[test]
fn the_committed_corpora_pass() {
    assert_corpus_passes::<LockedCounter>("counter_ok");
    assert_corpus_passes::<LockedLog>("log_ok");
    assert_corpus_passes::<LockedMap>("map_ok");
    assert_corpus_passes::<OrderedBank>("bank_ok");
    assert_corpus_passes::<RacyCounter>("counter");
    assert_corpus_passes::<TornLog>("log");
    assert_corpus_passes::<CheckThenInsertMap>("map");
    assert_corpus_passes::<AbBaBank>("bank");
    for (path, data) in files(&["decode"]) {
        let (limits, rest) = match data.split_first() {
            Some((&pick, rest)) => (FuzzLimits::from_byte(pick), rest),
            None => (FuzzLimits::default(), &data[..]),
        };
        if let Err(failure) = fuzz::check_with::<LockedCounter>(rest, &limits) {
            panic!("{} fails on the `decode` target:\n{failure}", path.display());
        }
    }
}

fn random_bytes(rng: &mut ChaCha8Rng, max_len: usize) -> Vec<u8> {
    let len = rng.gen_range(0..=max_len);
    let mut bytes = vec![0; len];
    rng.fill(&mut bytes[..]);
    bytes
}

#[test]
fn random_bytes_never_break_the_harness_and_the_correct_counter_passes() {
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    // Empty, tiny, and corrupt inputs first: what a damaged corpus file looks like.
    let mut inputs: Vec<Vec<u8>> = vec![
        vec![],
        vec![0],
        vec![255],
        vec![255; 300],
        b"not a fuzz input\n".to_vec(),
    ];
    inputs.extend((0..10_000).map(|_| random_bytes(&mut rng, 80)));
    for data in &inputs {
        if let Err(failure) = fuzz::check::<LockedCounter>(data) {
            panic!("{data:?} fails on LockedCounter:\n{failure}");
        }
    }
    // Arbitrary bytes reach every failure kind's report path of the buggy resources too.
    for data in inputs.iter().take(2_000) {
        let _ = fuzz::check::<AbBaBank>(data);
        let _ = fuzz::check::<RacyCounter>(data);
    }
}

/// Fuzz bytes of `R`'s scenarios drawn from random bytes, each with its schedule removed.
fn sequential_inputs<R: Resource>(seed: u64, count: usize) -> Vec<Vec<u8>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..count)
        .map(|_| {
            let data = random_bytes(&mut rng, 80);
            let input = FuzzInput::<R::Op>::decode(&data, &FuzzLimits::default()).expect("built-in ops decode");
            let mut bytes = input.with_schedule(vec![]).encode();
            // Explicit zeros read as missing bytes do: keep going.
            if rng.gen() {
                bytes.extend([0; 64]);
            }
            bytes
        })
        .collect()
}

fn assert_sequential_passes<R: Resource>(seed: u64) {
    for data in sequential_inputs::<R>(seed, 300) {
        let input = FuzzInput::<R::Op>::decode(&data, &FuzzLimits::default()).unwrap();
        assert!(input.schedule().iter().all(|&b| b == 0));
        if let Err(failure) = fuzz::check::<R>(&data) {
            panic!("{data:?} has an all-zero schedule, yet fails:\n{failure}");
        }
    }
}

#[test]
fn an_all_zero_schedule_is_sequential() {
    // Run one at a time, no buggy built-in can fail.
    assert_sequential_passes::<RacyCounter>(1);
    assert_sequential_passes::<TornLog>(2);
    assert_sequential_passes::<CheckThenInsertMap>(3);
    assert_sequential_passes::<AbBaBank>(4);
}

/// The first input of a seeded stream that fails on `R`.
fn first_failure<R: Resource>(seed: u64) -> (Vec<u8>, Failure<R::Op>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..200_000)
        .find_map(|_| {
            let data = random_bytes(&mut rng, 64);
            fuzz::check::<R>(&data).err().map(|f| (data, f))
        })
        .expect("random bytes find the bug")
}

fn same_input_same_report_and_token_replays<R: Resource>(seed: u64) {
    let (data, failure) = first_failure::<R>(seed);
    let again = fuzz::check::<R>(&data).expect_err("the same input fails again");
    assert_eq!(
        again.to_string(),
        failure.to_string(),
        "the same input gives the same report"
    );
    let token = failure.token().expect("a replay token").to_string();
    let replayed = Checker::<R>::new()
        .scheduler(Scheduler::Replay(token.clone()))
        .run()
        .expect_err("the token replays the failure");
    assert_eq!(replayed.kind(), failure.kind());
    assert_eq!(replayed.scenario().len(), failure.scenario().len());
    assert_eq!(replayed.token(), Some(token.as_str()));
    assert!(
        !matches!(failure.kind(), FailureKind::Usage { .. } | FailureKind::Internal { .. }),
        "{failure}"
    );
}

#[test]
fn a_fuzz_failure_is_deterministic_and_its_token_replays() {
    for seed in 0..3 {
        same_input_same_report_and_token_replays::<RacyCounter>(seed);
        same_input_same_report_and_token_replays::<TornLog>(seed);
        same_input_same_report_and_token_replays::<CheckThenInsertMap>(seed);
        same_input_same_report_and_token_replays::<AbBaBank>(seed);
    }
}

/// `./fuzz.sh repro` shrinks a crash: the saved counter crash comes out as the known minimum.
#[test]
fn explain_shrinks_a_saved_crash_to_its_minimum() {
    for (path, data) in files(&["regressions", "counter"]) {
        let failure = fuzz::explain::<RacyCounter>(&data).expect_err("a saved crash still fails");
        let s = failure.scenario();
        assert_eq!(s.threads.len(), 2, "{}:\n{failure}", path.display());
        assert!(s.threads.iter().all(|t| t.len() == 1), "{}:\n{failure}", path.display());
        assert_eq!(failure.preemptions(), 1, "{}:\n{failure}", path.display());
        let token = failure.token().expect("a token").to_string();
        let replayed = crosscheck::Checker::<RacyCounter>::new()
            .scheduler(crosscheck::Scheduler::Replay(token))
            .run()
            .expect_err("the shrunk token replays");
        assert_eq!(replayed.kind(), failure.kind());
    }
}
