//! The progress line, seen from outside: each case re-runs this test binary as a child process
//! (so the line goes to a real stderr, which the parent reads) with `CROSSCHECK_PROGRESS` set.

use std::process::Command;

use crosscheck::resources::{LockedCounter, RacyCounter};
use crosscheck::{Checker, Scheduler};

const CHILD: &str = "PROGRESS_TEST_CHILD";

/// Runs the test `name` of this binary in a child process; returns its stderr.
fn child(name: &str, progress: &str) -> String {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env("CROSSCHECK_PROGRESS", progress)
        .env("CROSSCHECK_PROGRESS_DELAY_MS", "0")
        .env("CROSSCHECK_REGRESSIONS", "off")
        .output()
        .expect("the test binary runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn child_passing_check() {
    if std::env::var_os(CHILD).is_some() {
        Checker::<LockedCounter>::new()
            .scheduler(Scheduler::Random)
            .iterations(3_000)
            .run()
            .unwrap_or_else(|failure| panic!("{failure}"));
    }
}

#[test]
fn child_loom_check() {
    if std::env::var_os(CHILD).is_some() {
        Checker::<LockedCounter>::new()
            .scheduler(Scheduler::Loom {
                preemption_bound: Some(2),
            })
            .threads(3)
            .ops_per_thread(2)
            .scenarios(3)
            .iterations(1_500)
            .run()
            .unwrap_or_else(|failure| panic!("{failure}"));
    }
}

#[test]
fn child_stress_check() {
    if std::env::var_os(CHILD).is_some() {
        Checker::<LockedCounter>::new()
            .scheduler(Scheduler::Stress)
            .scenarios(4)
            .iterations(200)
            .run()
            .unwrap_or_else(|failure| panic!("{failure}"));
    }
}

#[test]
fn child_failing_check() {
    if std::env::var_os(CHILD).is_some() {
        Checker::<RacyCounter>::new().seed(3).run().unwrap_err();
    }
}

#[test]
fn the_line_shows_schedules_rate_time_scenarios_and_failures() {
    let stderr = child("child_passing_check", "always");
    assert!(stderr.contains("crosscheck LockedCounter:"), "{stderr}");
    assert!(stderr.contains("/3000 schedules"), "{stderr}");
    assert!(
        stderr.contains("elapsed") && stderr.contains("left") && stderr.contains("/s"),
        "{stderr}"
    );
    assert!(stderr.contains("scenarios, 0 failures"), "{stderr}");
}

/// Loom and stress report to the same line: executions (loom) or iterations (stress) out of the
/// budget, and the scenarios begun.
#[test]
fn loom_and_stress_show_the_line_too() {
    for (name, budget) in [
        ("child_loom_check", "/1500 schedules"),
        ("child_stress_check", "/200 schedules"),
    ] {
        let stderr = child(name, "always");
        assert!(stderr.contains("crosscheck LockedCounter:"), "{name}: {stderr}");
        assert!(stderr.contains(budget), "{name}: {stderr}");
        assert!(stderr.contains("scenarios, 0 failures"), "{name}: {stderr}");
        assert!(stderr.contains(" 64/"), "{name}: executions are counted: {stderr}");
    }
}

#[test]
fn while_shrinking_the_line_shows_the_current_size() {
    let stderr = child("child_failing_check", "always");
    assert!(stderr.contains("1 failures, shrinking: now"), "{stderr}");
}

#[test]
fn never_and_a_captured_stderr_stay_quiet() {
    assert!(!child("child_passing_check", "never").contains("crosscheck LockedCounter:"));
    // auto: stderr is a pipe here and the check runs on a test thread.
    assert!(!child("child_passing_check", "auto").contains("crosscheck LockedCounter:"));
}

#[test]
fn an_unknown_setting_is_a_usage_error() {
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_passing_check", "--nocapture"])
        .env(CHILD, "1")
        .env("CROSSCHECK_PROGRESS", "sometimes")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("CROSSCHECK_PROGRESS=\"sometimes\": use always, never or auto"),
        "{stderr}"
    );
}
