//! Random bytes into the decoder, under limits the input's first byte picks: every byte string
//! must decode within its limits, the same way twice, and then run clean on the correct counter.
#![no_main]

use crosscheck::fuzz::{FuzzInput, FuzzLimits};
use crosscheck::resources::{CounterOp, LockedCounter};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (limits, rest) = match data.split_first() {
        Some((&pick, rest)) => (FuzzLimits::from_byte(pick), rest),
        None => (FuzzLimits::default(), data),
    };
    let input = FuzzInput::<CounterOp>::decode(rest, &limits).expect("every byte string decodes to counter ops");
    let s = input.scenario();
    assert!((1..=limits.max_threads).contains(&s.threads.len()), "{limits:?}: {s:?}");
    assert!(
        s.threads
            .iter()
            .all(|t| (1..=limits.max_ops_per_thread).contains(&t.len())),
        "{limits:?}: {s:?}"
    );
    assert!(
        s.init.len() <= limits.max_init && s.post.len() <= limits.max_post,
        "{limits:?}: {s:?}"
    );
    assert_eq!(
        FuzzInput::<CounterOp>::decode(rest, &limits).as_ref(),
        Ok(&input),
        "decoding is deterministic"
    );
    crosscheck::fuzz::run_with::<LockedCounter>(rest, &limits);
});
