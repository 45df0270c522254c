//! Correct: LockedLog; this target must never crash.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| crosscheck::fuzz::run::<crosscheck_fuzz_resources::log::LockedLog>(data));
