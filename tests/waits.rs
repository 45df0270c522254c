//! Deadlocks that are not lock cycles, found by crosscheck's own wait-for graph: a wait on a
//! condition variable nobody will notify, a join of a thread that never finishes, and a mix of a
//! join and a lock. Each is described (who holds what, who waits on which condition variable or
//! thread), and nothing reaches stderr: shuttle's own deadlock panic prints a line there, so each
//! check also runs in a child process (this test binary, re-executed with `WAITS_CHILD` set) whose
//! stderr is captured and must stay empty.

use crosscheck::arbitrary; // the derive below names `arbitrary::`
use crosscheck::sync::{Condvar, Mutex};
use crosscheck::{Checker, FailureKind, Model, Resource, Scenario};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, arbitrary::Arbitrary)]
enum Op {
    /// Wait until the box holds a message, take it.
    Take,
    /// Spawn a helper that takes a message, and join it.
    TakeInHelper,
    /// Hold the lock while a helper thread (which needs it) is joined.
    JoinWhileHolding,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
struct Nothing;

impl Model for Nothing {
    type Op = Op;
    type Output = ();
    fn step(&mut self, _: &Op) {}
}

/// A box with a condition variable, shared with the helper threads.
#[derive(Debug)]
struct Shared {
    slot: Mutex<Option<u8>>,
    filled: Condvar,
}

#[derive(Debug)]
struct Waits(std::sync::Arc<Shared>);

impl Resource for Waits {
    type Op = Op;
    type Output = ();
    type Model = Nothing;

    fn new() -> Self {
        Waits(std::sync::Arc::new(Shared {
            slot: Mutex::new(None).named("slot"),
            filled: Condvar::new().named("filled"),
        }))
    }

    fn apply(&self, op: &Op) {
        match op {
            Op::Take => take(&self.0),
            Op::TakeInHelper => {
                let shared = std::sync::Arc::clone(&self.0);
                let helper = crosscheck::thread::spawn(move || take(&shared));
                helper.join().unwrap();
            }
            Op::JoinWhileHolding => {
                let _held = self.0.slot.lock().unwrap();
                let shared = std::sync::Arc::clone(&self.0);
                let helper = crosscheck::thread::spawn(move || {
                    *shared.slot.lock().unwrap() = Some(1);
                });
                helper.join().unwrap();
            }
        }
    }
}

fn take(b: &Shared) {
    let mut slot = b.slot.lock().unwrap();
    while slot.is_none() {
        slot = b.filled.wait(slot).unwrap();
    }
    slot.take();
}

fn alone(ops: Vec<Vec<Op>>) -> Scenario<Op> {
    Scenario {
        init: vec![],
        threads: ops,
        post: vec![],
    }
}

/// The deadlock's lines, from a check of `threads`.
fn deadlock(threads: Vec<Vec<Op>>) -> (Vec<String>, String) {
    let failure = Checker::<Waits>::new()
        .scenario(alone(threads))
        .iterations(200)
        .run()
        .expect_err("deadlocks");
    match failure.kind() {
        FailureKind::Deadlock { cycle } => (cycle.clone(), failure.to_string()),
        other => panic!("expected a deadlock, got {other:?}:\n{failure}"),
    }
}

fn condvar_case() -> (Vec<String>, String) {
    deadlock(vec![vec![Op::Take], vec![Op::Take]])
}

fn join_case() -> (Vec<String>, String) {
    deadlock(vec![vec![Op::TakeInHelper]])
}

fn mixed_case() -> (Vec<String>, String) {
    deadlock(vec![vec![Op::JoinWhileHolding]])
}

/// Runs `case` in a child process (this binary, filtered to the test `name`) and returns its
/// stdout and stderr.
fn in_child(name: &str, case: &str) -> (String, String) {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env("WAITS_CHILD", case)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "child failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// In the child: runs the case and prints its report. In the parent: runs the child and checks
/// that the report came out and stderr stayed empty.
fn quiet(name: &str, case: &str, run: fn() -> (Vec<String>, String)) {
    if std::env::var("WAITS_CHILD").as_deref() == Ok(case) {
        let (_, report) = run();
        println!("{report}");
        return;
    }
    let (stdout, stderr) = in_child(name, case);
    assert!(stdout.contains("deadlock"), "{stdout}");
    assert!(
        !stderr.contains("deadlock") && !stderr.contains("SHUTTLE") && !stderr.contains("shuttle"),
        "shuttle wrote to stderr:\n{stderr}"
    );
}

#[test]
fn a_wait_nobody_notifies_is_described() {
    let (cycle, report) = condvar_case();
    assert!(!report.contains("shuttle reports"), "{report}");
    let waiting = cycle
        .iter()
        .filter(|l| l.contains("waits on condvar \"filled\""))
        .count();
    assert_eq!(waiting, 2, "both takers wait on the condvar:\n{report}");
    assert!(
        cycle.iter().all(|l| !l.starts_with("main") || l.contains("(join)")),
        "{report}"
    );
    assert!(
        cycle.iter().any(|l| l.contains("tests/waits.rs:")),
        "names where it was created: {report}"
    );
}

#[test]
fn a_join_of_a_thread_that_never_finishes_is_described() {
    let (cycle, report) = join_case();
    assert!(
        cycle
            .iter()
            .any(|l| l.starts_with("T1") && l.contains("to finish (join)")),
        "{report}"
    );
    assert!(
        cycle.iter().any(|l| l.contains("waits on condvar \"filled\"")),
        "{report}"
    );
}

#[test]
fn a_join_while_holding_the_lock_the_helper_needs_is_described() {
    let (cycle, report) = mixed_case();
    assert!(
        cycle
            .iter()
            .any(|l| l.starts_with("T1 holds mutex \"slot\"") && l.contains("(join)")),
        "{report}"
    );
    assert!(
        cycle.iter().any(|l| l.starts_with("T1's thread")
            && l.contains("waits for mutex \"slot\"")
            && l.contains("(held by T1)")),
        "{report}"
    );
}

#[test]
fn condvar_deadlock_leaves_stderr_empty() {
    quiet("condvar_deadlock_leaves_stderr_empty", "condvar", condvar_case);
}

#[test]
fn join_deadlock_leaves_stderr_empty() {
    quiet("join_deadlock_leaves_stderr_empty", "join", join_case);
}

#[test]
fn mixed_deadlock_leaves_stderr_empty() {
    quiet("mixed_deadlock_leaves_stderr_empty", "mixed", mixed_case);
}
