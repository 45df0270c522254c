//! The built-in resources' own source, compiled as a crate of its own: the code under test of the
//! fuzz targets on the built-in resources, and the only crate their builds instrument.
//!
//! After each input libFuzzer visits every coverage counter the input touched, and every
//! comparison in instrumented code calls back into it. Only the resource's counters say anything
//! about the resource; crosscheck's runtime and shuttle touch thousands per input whatever the
//! resource does. So `fuzz/rustc-sancov` instruments the crates `FUZZ_INSTRUMENT` names, and
//! `fuzz/env.sh` names this one. The resources come from crosscheck's `src/resources/` by
//! `#[path]`, the same source as `crosscheck::resources`, so a report names them the same and
//! `./fuzz.sh repro` replays a crash there. Those files reach crosscheck as
//! `crate::{arbitrary, fs, sync, Model, Resource}`: the paths below.
//!
//! The generic code a target instantiates (crosscheck's driver, shuttle's runner) is compiled in
//! the target's own crate, which is not instrumented; this crate's functions are called from it.
#![allow(dead_code, unused_imports)]

pub use crosscheck::{arbitrary, fs, sync, Model, Resource};

#[path = "../../src/resources/bank.rs"]
pub mod bank;
#[path = "../../src/resources/counter.rs"]
pub mod counter;
#[path = "../../src/resources/log.rs"]
pub mod log;
#[path = "../../src/resources/map.rs"]
pub mod map;
