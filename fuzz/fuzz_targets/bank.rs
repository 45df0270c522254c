//! BUGGY: AbBaBank deadlocks when two transfers lock in opposite orders; this target must crash.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| crosscheck::fuzz::run::<crosscheck_fuzz_resources::bank::AbBaBank>(data));
