//! Turns an input saved by `cargo fuzz run` into crosscheck's report, shrunk to the smallest
//! scenario and schedule that still fail, with the replay token that reruns it in a normal
//! `cargo test`.
//!
//! `./fuzz.sh repro <target> <file>...` runs this: `cargo run --release --example fuzz_repro --
//! <target> <file>...`. Exit status: 0 if every file passes, 1 if any fails, 2 on a usage error.

use std::process::ExitCode;

use crosscheck::fuzz::{self, FuzzLimits};
use crosscheck::resources::*;
use crosscheck::Resource;

/// What one fuzz target runs: its resource and how it reads the bytes.
struct Target {
    name: &'static str,
    check: fn(&[u8]) -> Result<(), String>,
}

fn check<R: Resource>(data: &[u8]) -> Result<(), String> {
    fuzz::explain::<R>(data).map_err(|failure| failure.to_string())
}

/// The `decode` target's first byte picks the limits; the rest is the input.
fn check_decode(data: &[u8]) -> Result<(), String> {
    match data.split_first() {
        Some((&pick, rest)) => {
            fuzz::explain_with::<LockedCounter>(rest, &FuzzLimits::from_byte(pick)).map_err(|f| f.to_string())
        }
        None => check::<LockedCounter>(data),
    }
}

/// Every target in fuzz/fuzz_targets, by name.
const TARGETS: &[Target] = &[
    Target {
        name: "counter",
        check: check::<RacyCounter>,
    },
    Target {
        name: "counter_ok",
        check: check::<LockedCounter>,
    },
    Target {
        name: "log",
        check: check::<TornLog>,
    },
    Target {
        name: "log_ok",
        check: check::<LockedLog>,
    },
    Target {
        name: "map",
        check: check::<CheckThenInsertMap>,
    },
    Target {
        name: "map_ok",
        check: check::<LockedMap>,
    },
    Target {
        name: "bank",
        check: check::<AbBaBank>,
    },
    Target {
        name: "bank_ok",
        check: check::<OrderedBank>,
    },
    Target {
        name: "decode",
        check: check_decode,
    },
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let names = || TARGETS.iter().map(|t| t.name).collect::<Vec<_>>().join(", ");
    let Some((name, files)) = args.split_first().filter(|(_, files)| !files.is_empty()) else {
        eprintln!("usage: fuzz_repro <target> <crash-file>...  (targets: {})", names());
        return ExitCode::from(2);
    };
    let Some(target) = TARGETS.iter().find(|t| t.name == name) else {
        eprintln!("fuzz_repro: no target {name:?}; the targets are: {}", names());
        return ExitCode::from(2);
    };
    let mut failed = false;
    for file in files {
        let data = match std::fs::read(file) {
            Ok(data) => data,
            Err(e) => {
                eprintln!("fuzz_repro: cannot read {file}: {e}");
                return ExitCode::from(2);
            }
        };
        match (target.check)(&data) {
            Ok(()) => println!(
                "{file}: passes on the `{name}` target ({} bytes): it does not reproduce a failure here",
                data.len()
            ),
            Err(report) => {
                failed = true;
                println!(
                    "{file}: fails on the `{name}` target ({} bytes)\n\n{report}",
                    data.len()
                );
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
