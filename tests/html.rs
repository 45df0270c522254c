//! The HTML page of a failure and of a history: written where the report says, self-contained,
//! every operation present, the bad one highlighted; and rendered in a real browser (headless
//! Chromium) when one is installed (`apt-get install chromium`; the test says when it skips).

#[path = "support/histories.rs"]
mod histories;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crosscheck::linearizability::{check, write_page, Verdict};
use crosscheck::resources::*;
use crosscheck::{Checker, Failure, FailureKind, Resource};

fn failure_page<R: Resource>() -> (Failure<R::Op>, String) {
    let failure = Checker::<R>::new().seed(1).run().expect_err("the bug is found");
    let path = failure.page().expect("a failure writes its page").to_path_buf();
    assert!(
        failure
            .to_string()
            .contains(&format!("see it drawn (open in a browser): {}", path.display())),
        "the report names the page:\n{failure}"
    );
    let html = std::fs::read_to_string(&path).expect("the page exists where the report says");
    (failure, html)
}

/// Self-contained: nothing is loaded from anywhere.
fn assert_self_contained(html: &str) {
    for needle in ["http://", "https://", "<link", "src=", "@import", "url(http"] {
        assert!(!html.contains(needle), "the page must load nothing ({needle:?} found)");
    }
}

fn count(html: &str, needle: &str) -> usize {
    html.matches(needle).count()
}

#[test]
fn the_racy_counter_page_shows_every_operation_and_highlights_the_bad_one() {
    let (failure, html) = failure_page::<RacyCounter>();
    assert!(matches!(failure.kind(), FailureKind::NotLinearizable { .. }));
    assert_self_contained(&html);
    let ops = failure.scenario().len();
    assert_eq!(count(&html, "data-op=\""), ops, "one bar per operation");
    assert_eq!(count(&html, "class=\"op bad"), 0);
    assert_eq!(
        count(&html, "class=\"op post bad\""),
        1,
        "the post Get cannot come next:\n{html}"
    );
    assert!(html.contains("model returns Some(2)"), "what the model allows");
    assert!(html.contains("class=\"preempt-line\""), "the preemption is drawn");
    assert!(
        html.contains("init (main)") && html.contains("post (main)"),
        "init and post have lanes of their own"
    );
    assert!(
        html.contains("data-before=\"CounterModel(1)\""),
        "model states for the prefix"
    );
}

#[test]
fn the_deadlock_page_draws_the_wait_for_cycle() {
    let (failure, html) = failure_page::<AbBaBank>();
    assert!(matches!(failure.kind(), FailureKind::Deadlock { .. }));
    assert_self_contained(&html);
    assert_eq!(count(&html, "data-op=\""), failure.scenario().len());
    assert_eq!(
        count(&html, "<path class=\"wait\""),
        2,
        "T1 waits for T2 and T2 for T1:\n{html}"
    );
}

fn histories_dir(test: &str) -> Option<PathBuf> {
    match histories::histories_dir() {
        Ok(dir) => Some(dir),
        Err(why) => {
            eprintln!("skipping {test}: {why}");
            None
        }
    }
}

fn out_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("html");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes the page of a kv history and returns (path, operations, the verdict).
fn kv_page(name: &str) -> Option<(PathBuf, usize, Verdict)> {
    let dir = histories_dir("kv pages")?;
    let history = histories::parse_kv(&dir.join(format!("kv/{name}.txt"))).unwrap();
    let verdict = check::<histories::Kv>(&history, Duration::from_secs(30));
    let path = out_dir().join(format!("kv-{name}.html"));
    write_page::<histories::Kv>(&history, &verdict, &format!("kv {name}"), &path).unwrap();
    Some((path, history.len(), verdict))
}

#[test]
fn a_bad_kv_history_page_has_every_operation_and_the_unplaceable_one() {
    let Some((path, ops, verdict)) = kv_page("c10-bad") else {
        return;
    };
    let Verdict::NotLinearizable(evidence) = verdict else {
        panic!("c10-bad is not linearizable")
    };
    let html = std::fs::read_to_string(path).unwrap();
    assert_self_contained(&html);
    assert_eq!(count(&html, "data-op=\""), ops);
    assert_eq!(count(&html, "class=\"op bad\""), evidence.unplaceable.len());
    assert!(html.contains("<section"), "one section per partition");
}

#[test]
fn the_largest_history_draws_one_section_per_partition() {
    let Some((path, ops, verdict)) = kv_page("c50-ok") else {
        return;
    };
    assert!(verdict.is_linearizable());
    let html = std::fs::read_to_string(path).unwrap();
    assert_eq!(count(&html, "data-op=\""), ops);
    assert!(count(&html, "<section") > 1, "kv partitions by key");
    assert_eq!(
        count(&html, "<b class=\"lp\" title="),
        ops,
        "every op numbered in the linearization"
    );
}

/// The browser on this machine, or why there is none.
fn chromium() -> Result<PathBuf, String> {
    for name in ["chromium", "chromium-browser", "google-chrome", "chrome"] {
        if let Ok(out) = Command::new("sh").arg("-c").arg(format!("command -v {name}")).output() {
            let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if out.status.success() && !path.is_empty() {
                return Ok(PathBuf::from(path));
            }
        }
    }
    Err("no chromium on PATH (Debian: apt-get install chromium)".into())
}

fn headless(browser: &Path, args: &[String]) -> std::process::Output {
    let profile = tempfile::tempdir().unwrap();
    Command::new(browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .output()
        .expect("chromium runs")
}

/// Renders `page` in headless Chromium: a screenshot, then the DOM after the page's script ran.
fn render(browser: &Path, page: &Path, name: &str) -> String {
    let page = page.canonicalize().unwrap();
    let url = format!("file://{}", page.display());
    let shot = out_dir().join(format!("{name}.png"));
    let _ = std::fs::remove_file(&shot);
    let out = headless(
        browser,
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1400,900".into(),
            url.clone(),
        ],
    );
    let size = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
    assert!(
        size > 10_000,
        "no screenshot of {name} ({size} bytes): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = headless(browser, &["--dump-dom".into(), url]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_pages_render_in_headless_chromium() {
    let browser = match chromium() {
        Ok(b) => b,
        Err(why) => {
            eprintln!("skipping the_pages_render_in_headless_chromium: {why}");
            return;
        }
    };
    let (counter, counter_html) = failure_page::<RacyCounter>();
    let dom = render(&browser, counter.page().unwrap(), "racy-counter");
    assert_eq!(
        count(&dom, "data-op=\""),
        counter.scenario().len(),
        "every operation is in the DOM"
    );
    assert_eq!(
        count(&dom, "op post bad selected"),
        1,
        "the bad op is highlighted, and the script selected it"
    );
    assert!(
        dom.contains("model state before: CounterModel(2)"),
        "the script showed the model states"
    );
    assert!(
        !counter_html.contains("op post bad selected"),
        "selected by the script, not in the file"
    );

    let (bank, _) = failure_page::<AbBaBank>();
    let dom = render(&browser, bank.page().unwrap(), "ab-ba-bank");
    assert_eq!(count(&dom, "data-op=\""), bank.scenario().len());
    assert_eq!(count(&dom, "class=\"wait\""), 2, "the wait-for cycle is in the DOM");

    if let Some((path, ops, Verdict::NotLinearizable(evidence))) = kv_page("c10-bad") {
        let dom = render(&browser, &path, "kv-c10-bad");
        assert_eq!(count(&dom, "data-op=\""), ops);
        assert_eq!(count(&dom, "op bad selected"), 1);
        assert_eq!(count(&dom, "class=\"op bad"), evidence.unplaceable.len());
    }
}

#[test]
fn a_loom_failure_has_its_page_too() {
    let failure = Checker::<RelaxedFlag>::new()
        .threads(2)
        .ops_per_thread(1)
        .scheduler(crosscheck::Scheduler::Loom {
            preemption_bound: Some(2),
        })
        .run()
        .expect_err("loom finds the stale read");
    let html = std::fs::read_to_string(failure.page().expect("a page")).unwrap();
    assert_self_contained(&html);
    assert_eq!(count(&html, "data-op=\""), failure.scenario().len());
    assert!(html.contains("(loom)"));
}
