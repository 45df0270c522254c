//! BUGGY: TornLog tears lines when two appends interleave; this target must crash.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| crosscheck::fuzz::run::<crosscheck_fuzz_resources::log::TornLog>(data));
