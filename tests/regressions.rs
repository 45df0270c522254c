//! Regression files: `check()` saves what it finds and replays it first from then on.

use std::panic::catch_unwind;

use crosscheck::resources::*;
use crosscheck::Checker;

fn panic_text(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
    let payload = catch_unwind(f).expect_err("the check fails");
    payload
        .downcast_ref::<String>()
        .cloned()
        .expect("the report is the payload")
}

#[test]
fn a_failure_is_saved_and_replayed_first_next_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("racy.txt");
    let first = panic_text({
        let path = path.clone();
        move || {
            Checker::<RacyCounter>::new().regression_file(path).check();
        }
    });
    assert!(first.contains("saved to"), "{first}");
    let saved = std::fs::read_to_string(&path).unwrap();
    assert!(saved.starts_with("# crosscheck regressions"), "{saved}");
    let token_line = saved.lines().find(|l| l.starts_with("cc1_")).expect("a token line");
    assert!(first.contains(token_line.split_whitespace().next().unwrap()));

    // The next run replays the saved failure before generating anything: even a budget of one
    // schedule that would not find the bug by itself fails, and says why.
    let second = panic_text({
        let path = path.clone();
        move || {
            Checker::<RacyCounter>::new()
                .regression_file(path)
                .iterations(1)
                .seed(12345)
                .check();
        }
    });
    assert!(second.contains("saved regression"), "{second}");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        saved,
        "a failure already saved is not saved again"
    );
}

#[test]
fn run_never_writes_regressions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.txt");
    assert!(Checker::<RacyCounter>::new().regression_file(&path).run().is_err());
    assert!(!path.exists());
}

#[test]
fn other_resource_types_skip_the_saved_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.txt");
    let token = Checker::<RacyCounter>::new()
        .run()
        .unwrap_err()
        .token()
        .unwrap()
        .to_string();
    std::fs::write(&path, format!("{token} # a racy counter's bug\n")).unwrap();
    let report = Checker::<LockedCounter>::new()
        .iterations(200)
        .regression_file(&path)
        .check();
    assert_eq!(report.regressions(), 0);
}

#[test]
fn a_corrupt_regression_file_is_a_clear_error_and_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("corrupt.txt");
    let text = "# saved\ncc1_AAAA this line was damaged\n";
    std::fs::write(&path, text).unwrap();
    let message = panic_text({
        let path = path.clone();
        move || {
            Checker::<LockedCounter>::new().regression_file(path).check();
        }
    });
    assert!(message.contains("corrupt.txt:2"), "{message}");
    assert!(message.contains("usage error"), "{message}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
}
