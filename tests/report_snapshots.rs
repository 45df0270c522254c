//! The exact text of the report for each built-in bug, so the format cannot drift from the docs.
//! After an intended change to the format: `INSTA_UPDATE=always cargo test --test report_snapshots`,
//! then review the diff of `tests/snapshots/`.

#[path = "support/text.rs"]
mod text;
use crosscheck::resources::*;
use crosscheck::{Checker, Resource};
use text::{without_page_dir, without_timing};

fn report<R: Resource>() -> String {
    let failure = Checker::<R>::new().seed(1).run().expect_err("the bug is found");
    without_page_dir(&without_timing(&failure.to_string()))
}

#[test]
fn racy_counter_report() {
    insta::assert_snapshot!(report::<RacyCounter>());
}

#[test]
fn torn_log_report() {
    insta::assert_snapshot!(report::<TornLog>());
}

#[test]
fn check_then_insert_map_report() {
    insta::assert_snapshot!(report::<CheckThenInsertMap>());
}

#[test]
fn ab_ba_bank_report() {
    insta::assert_snapshot!(report::<AbBaBank>());
}

#[test]
fn the_counter_report_is_short() {
    let text = report::<RacyCounter>();
    let interleaving = text.split("interleaving").nth(1).expect("an interleaving section");
    let lines = interleaving.lines().take_while(|l| !l.is_empty()).count();
    assert!(
        lines <= 16,
        "2 threads x 1 op of the counter fits in ~15 lines, got {lines}:\n{text}"
    );
}
