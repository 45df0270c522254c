//! The surprises std permits and no plain run shows: spurious condition-variable wakeups and
//! spurious weak-CAS failures, as scheduling choices. Each buggy built-in is caught and shrunk to
//! its minimum with the surprise marked; each correct one passes a large budget with them on;
//! tokens replay them; `Checker::spurious(false)` turns them off and the report says so.

use crosscheck::resources::*;
use crosscheck::sync::atomic::{AtomicBool, Ordering};
use crosscheck::{Checker, Failure, FailureKind, Resource, Scheduler};

fn caught<R: Resource>(seed: u64) -> Failure<R::Op> {
    Checker::<R>::new().seed(seed).run().expect_err("the bug is found")
}

fn replays<R: Resource>(failure: &Failure<R::Op>) {
    let token = failure.token().expect("a token").to_string();
    let replayed = Checker::<R>::new()
        .scheduler(Scheduler::Replay(token.clone()))
        .run()
        .expect_err("the token replays the failure");
    assert_eq!(replayed.kind(), failure.kind());
    assert_eq!(
        replayed.token(),
        Some(token.as_str()),
        "the replay takes the same choices"
    );
    // The surprise is in the token: with the setting off the replay still follows the token.
    let off = Checker::<R>::new()
        .spurious(false)
        .scheduler(Scheduler::Replay(token))
        .run()
        .expect_err("a token replays whatever the setting says");
    assert_eq!(off.kind(), failure.kind());
}

#[test]
fn if_wait_mailbox_is_caught_and_shrunk_to_one_spurious_wakeup() {
    for seed in 0..5 {
        let f = caught::<IfWaitMailbox>(seed);
        let text = f.to_string();
        let s = f.scenario();
        assert!(
            matches!(f.kind(), FailureKind::NotLinearizable { .. }),
            "seed {seed}:\n{f}"
        );
        assert_eq!(s.threads.len(), 2, "seed {seed}: not 2 threads:\n{f}");
        assert!(s.threads.iter().all(|t| t.len() == 1), "seed {seed}:\n{f}");
        assert!(s.init.is_empty() && s.post.is_empty(), "seed {seed}:\n{f}");
        assert_eq!(f.preemptions(), 1, "seed {seed}:\n{f}");
        assert!(
            // The condition variable is named with where it was created: `condvar#1 (src/...:40)`.
            text.contains("'s wait on condvar#1 (src/resources/mailbox.rs:") && text.contains(") returned spuriously"),
            "seed {seed}:\n{f}"
        );
        replays::<IfWaitMailbox>(&f);
    }
}

#[test]
fn weak_claim_is_caught_and_shrunk_to_one_spurious_failure() {
    for seed in 0..5 {
        let f = caught::<WeakClaim>(seed);
        let text = f.to_string();
        let s = f.scenario();
        assert!(
            matches!(f.kind(), FailureKind::NotLinearizable { .. }),
            "seed {seed}:\n{f}"
        );
        let ops = s.init.len() + s.post.len() + s.threads.iter().map(Vec::len).sum::<usize>();
        assert_eq!(ops, 1, "seed {seed}: not a single claim:\n{f}");
        assert_eq!(f.preemptions(), 0, "seed {seed}:\n{f}");
        assert!(
            text.contains("'s compare_exchange_weak on atomic#0 (src/resources/claim.rs:")
                && text.contains(") failed spuriously"),
            "seed {seed}:\n{f}"
        );
        replays::<WeakClaim>(&f);
    }
}

/// A correct claim written with the weak CAS: it retries while the value it got back says the
/// flag is free, so a spurious failure only costs a retry.
struct RetryClaim(AtomicBool);

impl Resource for RetryClaim {
    type Op = ClaimOp;
    type Output = bool;
    type Model = ClaimModel;

    fn new() -> Self {
        RetryClaim(AtomicBool::new(false))
    }

    fn apply(&self, op: &ClaimOp) -> bool {
        match op {
            ClaimOp::Claim => loop {
                match self
                    .0
                    .compare_exchange_weak(false, true, Ordering::AcqRel, Ordering::Acquire)
                {
                    Ok(_) => break true,
                    Err(true) => break false,
                    Err(false) => continue,
                }
            },
            ClaimOp::Release => self.0.swap(false, Ordering::AcqRel),
        }
    }
}

fn passes_20k<R: Resource>() {
    let report = Checker::<R>::new()
        .iterations(20_000)
        .run()
        .unwrap_or_else(|f| panic!("a correct resource is flagged:\n{f}"));
    assert_eq!(report.schedules(), 20_000, "{report}");
}

#[test]
fn the_correct_ones_pass_20_000_schedules_with_the_surprises_on() {
    passes_20k::<WhileWaitMailbox>();
    passes_20k::<StrongClaim>();
    passes_20k::<RetryClaim>();
}

/// Two threads, one `Pass` each: only a spurious wakeup can show the `if`. With the surprises off,
/// the exhaustive search covers every interleaving and finds nothing; with them on it finds the bug.
#[test]
fn notifications_alone_never_show_the_if_wait_bug() {
    let small = || {
        Checker::<IfWaitMailbox>::new()
            .threads(2)
            .ops_per_thread(1)
            .init_ops(0)
            .post_ops(0)
            .scenarios(4)
            .scheduler(Scheduler::DfsUnreduced { max_iterations: None })
    };
    let report = small().spurious(false).run().unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(report.exhausted_scenarios(), 4, "{report}");
    assert!(
        report
            .to_string()
            .contains("spurious wakeups, weak-CAS failures and early park returns off"),
        "the report says the surprises were off: {report}"
    );
    let failure = small().run().expect_err("a spurious wakeup shows the bug");
    assert!(failure.to_string().contains("returned spuriously"), "{failure}");
}

#[test]
fn a_failure_found_with_the_surprises_off_says_so() {
    let failure = Checker::<RacyCounter>::new().spurious(false).run().expect_err("found");
    assert!(
        failure
            .to_string()
            .contains("spurious wakeups, weak-CAS failures and early park returns off"),
        "{failure}"
    );
}

/// The exhaustive search terminates on a retry loop: after a spurious failure the thread's next
/// weak CAS is not offered one, so each `Claim` has at most one retry per successful attempt.
#[test]
fn exhaustive_search_of_a_retry_loop_finishes() {
    let report = Checker::<RetryClaim>::new()
        .threads(2)
        .ops_per_thread(2)
        .scenarios(3)
        .iterations(200_000)
        .scheduler(Scheduler::DfsUnreduced { max_iterations: None })
        .run()
        .unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(report.exhausted_scenarios(), 3, "{report}");
}

/// Every controlled scheduler offers the surprises: each finds both bugs on its own, in a shape
/// where nothing but a surprise shows them. (The mailbox bug needs a preemption as well as the
/// surprise: PCT depth 1 runs none, and the bounded search counts the surprise against its bound,
/// so it needs bound 2.)
#[test]
fn random_pct_and_the_exhaustive_searches_all_produce_them() {
    let schedulers = [
        Scheduler::Random,
        Scheduler::Pct { depth: 2 },
        Scheduler::Pct { depth: 3 },
        // The reduced search explores each surprise as a branch of its own.
        Scheduler::Dfs { max_iterations: None },
        Scheduler::DfsUnreduced { max_iterations: None },
        Scheduler::Bounded { preemptions: 2 },
    ];
    for scheduler in schedulers {
        let mailbox = Checker::<IfWaitMailbox>::new()
            .threads(2)
            .ops_per_thread(1)
            .init_ops(0)
            .post_ops(0)
            .iterations(2_000)
            .scheduler(scheduler.clone())
            .run()
            .expect_err("the if-wait bug is found");
        assert!(
            mailbox.to_string().contains("returned spuriously"),
            "{scheduler:?}:\n{mailbox}"
        );
        let claim = Checker::<WeakClaim>::new()
            .iterations(2_000)
            .scheduler(scheduler.clone())
            .run()
            .expect_err("the weak claim bug is found");
        assert!(
            claim.to_string().contains("failed spuriously"),
            "{scheduler:?}:\n{claim}"
        );
    }
    // Bound 0 allows no surprise (each counts like a preemption), so it cannot see a bug that
    // needs one.
    Checker::<WeakClaim>::new()
        .scheduler(Scheduler::Bounded { preemptions: 0 })
        .run()
        .expect("no surprise within bound 0");
}

/// The reduced exhaustive search branches on every surprise: on each small scenario it reaches the
/// same verdict as the unreduced search (which explores everything), finds the weak-claim bug
/// wherever the unreduced one does, and runs no more schedules.
#[test]
fn the_reduced_search_explores_the_surprises_and_agrees_with_the_unreduced_one() {
    use crosscheck::resources::ClaimOp::{Claim, Release};
    use crosscheck::Scenario;
    let shapes = [
        vec![vec![Claim], vec![Claim]],
        vec![vec![Claim, Release], vec![Claim]],
        vec![vec![Claim, Claim], vec![Release, Claim]],
        vec![vec![Claim], vec![Claim], vec![Release]],
    ];
    fn search<R: Resource<Op = crosscheck::resources::ClaimOp>>(
        threads: &[Vec<crosscheck::resources::ClaimOp>],
        reduced: bool,
    ) -> (bool, usize) {
        let scheduler = if reduced {
            Scheduler::Dfs { max_iterations: None }
        } else {
            Scheduler::DfsUnreduced { max_iterations: None }
        };
        let result = Checker::<R>::new()
            .scenario(Scenario {
                threads: threads.to_vec(),
                ..Scenario::default()
            })
            .scheduler(scheduler)
            .iterations(1_000_000)
            .run();
        match result {
            Ok(report) => {
                assert_eq!(report.exhausted_scenarios(), 1, "{report}");
                (true, report.schedules())
            }
            Err(f) => {
                assert!(f.to_string().contains("failed spuriously"), "{f}");
                (false, 0)
            }
        }
    }
    let mut fewer = 0;
    for threads in &shapes {
        let (ok_reduced, n_reduced) = search::<RetryClaim>(threads, true);
        let (ok_unreduced, n_unreduced) = search::<RetryClaim>(threads, false);
        assert!(ok_reduced && ok_unreduced, "{threads:?}: the retry loop is correct");
        assert!(n_reduced <= n_unreduced, "{threads:?}: {n_reduced} > {n_unreduced}");
        fewer += usize::from(n_reduced < n_unreduced);
        let weak_reduced = search::<WeakClaim>(threads, true).0;
        let weak_unreduced = search::<WeakClaim>(threads, false).0;
        assert_eq!(
            weak_reduced, weak_unreduced,
            "{threads:?}: the searches disagree on WeakClaim"
        );
    }
    assert!(fewer > 0, "the reduction saves schedules on some shape");
    // Both claims racing for a free flag: only a spurious failure shows the bug.
    assert!(!search::<WeakClaim>(&shapes[0], true).0);
}

#[test]
#[ignore]
fn show_reports() {
    println!("{}", caught::<IfWaitMailbox>(0));
    println!("{}", caught::<WeakClaim>(0));
}
