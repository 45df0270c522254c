//! BUGGY: CheckThenInsertMap lets two threads both insert one key; this target must crash.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| crosscheck::fuzz::run::<crosscheck_fuzz_resources::map::CheckThenInsertMap>(data));
