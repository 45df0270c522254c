//! A long check in an unoptimised build of crosscheck says so, once per process, with the one
//! Cargo.toml section that makes it about 20 times faster (README: "Fast checks in your own
//! `cargo test`"). crosscheck's engine and driver run at every scheduling point, so their
//! optimisation matters far more than the user's; `cargo test` leaves dependencies at opt-level 0
//! unless told otherwise, and nothing else would tell the user why their checks crawl.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How long a check runs before an unoptimised build is worth a word: long enough that short
/// checks stay quiet, short enough that a suite of slow ones hears it.
const LONG: Duration = Duration::from_secs(5);

static SAID: AtomicBool = AtomicBool::new(false);

/// Called as a check ends, `elapsed` after it began.
pub(super) fn check_ended(elapsed: Duration) {
    if let Some(hint) = hint(cfg!(crosscheck_unoptimized), elapsed) {
        if !SAID.swap(true, Ordering::Relaxed) {
            eprintln!("{hint}");
        }
    }
}

/// The hint for a check of `elapsed` in a build that is `unoptimized`, if one is due.
fn hint(unoptimized: bool, elapsed: Duration) -> Option<String> {
    (unoptimized && elapsed >= LONG).then(|| {
        format!(
            "crosscheck: this check took {:.1} s, in a build of crosscheck without optimisation\n\
             (opt-level 0, cargo's default for dependencies under `cargo test`). Checks run about\n\
             20 times faster with crosscheck optimised; add to your Cargo.toml:\n\
             \n    [profile.dev.package.\"*\"]\n    opt-level = 3\n\n\
             (README: \"Fast checks in your own `cargo test`\". Said once per process.)",
            elapsed.as_secs_f64()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_long_check_in_an_unoptimised_build_hears_it() {
        assert_eq!(hint(false, Duration::from_secs(60)), None);
        assert_eq!(hint(true, Duration::from_secs(4)), None);
        let said = hint(true, Duration::from_millis(7_300)).expect("a long unoptimised check hears it");
        assert!(said.starts_with("crosscheck: this check took 7.3 s"), "{said}");
        assert!(
            said.contains("[profile.dev.package.\"*\"]\n    opt-level = 3"),
            "{said}"
        );
    }
}
