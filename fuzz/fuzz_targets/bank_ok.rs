//! Correct: OrderedBank; this target must never crash.
#![no_main]

// The resource's source is compiled here, instrumented; crosscheck is not (resources/mod.rs).
#[path = "../resources/mod.rs"]
mod resources;
use crosscheck::{arbitrary, fs, sync, Model, Resource};

libfuzzer_sys::fuzz_target!(|data: &[u8]| crosscheck::fuzz::run::<resources::bank::OrderedBank>(data));
