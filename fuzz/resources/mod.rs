//! The built-in resources' own source, compiled into this crate rather than used from crosscheck.
//!
//! The fuzz builds instrument the code under test only (`fuzz/rustc-sancov`): crosscheck's runtime
//! is not instrumented, and these resources are part of crosscheck. Compiled here, they are this
//! crate's code, so libFuzzer sees their branches and comparisons (the map's keys, the bank's
//! amounts) and not the tester's. A target includes this module and, at its root,
//! `use crosscheck::{arbitrary, fs, sync, Model, Resource};`, the paths the sources name as
//! `crate::…`. The types behave as crosscheck's own (the same source; a report names them the
//! same), so `./fuzz.sh repro` replays a crash on `crosscheck::resources`.
#![allow(dead_code, unused_imports)]

#[path = "../../src/resources/bank.rs"]
pub mod bank;
#[path = "../../src/resources/counter.rs"]
pub mod counter;
#[path = "../../src/resources/log.rs"]
pub mod log;
#[path = "../../src/resources/map.rs"]
pub mod map;
