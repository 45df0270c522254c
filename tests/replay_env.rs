//! `CROSSCHECK_REPLAY=<token> cargo test <name>`, the command every report prints, end to end:
//! this test runs its own test binary again with the variable set.

use std::process::Command;

use crosscheck::resources::*;
use crosscheck::{Checker, FailureKind};

/// Run only by `the_printed_command_replays_the_failure`, in a child process: a check that passes
/// without the variable (a correct resource's settings would never fail) but replays the racy
/// counter's token when it is set.
#[test]
#[ignore = "run as a child process by the_printed_command_replays_the_failure"]
fn replay_target() {
    Checker::<RacyCounter>::new()
        .iterations(1)
        .scenarios(1)
        .threads(1)
        .shrink_budget(0)
        .check();
}

/// Also run in the child: a check of another resource type is skipped, not failed.
#[test]
#[ignore = "run as a child process by the_printed_command_replays_the_failure"]
fn other_type_target() {
    let report = Checker::<LockedCounter>::new().check();
    assert_eq!(report.schedules(), 0, "skipped");
}

fn child(test: &str, token: &str) -> std::process::Output {
    Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", test, "--nocapture", "--test-threads", "1"])
        .env("CROSSCHECK_REPLAY", token)
        .env("CROSSCHECK_REGRESSIONS", "off")
        .output()
        .expect("the test binary runs")
}

#[test]
fn the_printed_command_replays_the_failure() {
    let failure = Checker::<RacyCounter>::new().run().unwrap_err();
    assert!(matches!(failure.kind(), FailureKind::NotLinearizable { .. }));
    let token = failure.token().unwrap();
    assert!(failure
        .to_string()
        .contains(&format!("CROSSCHECK_REPLAY={token} cargo test")));

    let out = child("replay_target", token);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "the replay fails the test\n{stdout}\n{stderr}");
    assert!(stderr.contains("crosscheck found a bug in RacyCounter"), "{stderr}");
    assert!(stderr.contains(token), "the same execution: {stderr}");

    let out = child("other_type_target", token);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("skipping"), "{stderr}");

    let out = child("replay_target", "cc1_garbage");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("usage error") && stderr.contains("replay token"),
        "{stderr}"
    );
}
