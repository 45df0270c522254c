//! The loom backend: each buggy built-in is caught with the right kind (a deadlock without
//! aborting this process), the weak-memory bug is caught by loom and by nothing else, the correct
//! built-ins pass, loom's limits become clear errors, and a loom failure replays from its token.
//! Scenarios stay small (2 threads, bounded), so the whole file runs in seconds.

use crosscheck::resources::*;
use crosscheck::{Checker, Failure, FailureKind, Resource, Scenario, Scheduler};

#[path = "support/misbehaving.rs"]
mod misbehaving;
use misbehaving::{Nothing, Op, Spinner, Waiter};

fn loom(bound: Option<usize>) -> Scheduler {
    Scheduler::Loom {
        preemption_bound: bound,
    }
}

/// A small loom check: 2 threads x 1-2 ops, a post op, bound 2.
fn small<R: Resource>() -> Checker<R> {
    Checker::<R>::new()
        .threads(2)
        .ops_per_thread(1..=2)
        .init_ops(0)
        .post_ops(1)
        .scheduler(loom(Some(2)))
        .iterations(3_000)
        .seed(1)
}

fn caught<R: Resource>(accept: fn(&FailureKind) -> bool) -> Failure<R::Op> {
    let failure = match small::<R>().run() {
        Ok(report) => panic!("loom missed the bug: {report}"),
        Err(f) => f,
    };
    assert!(accept(failure.kind()), "wrong kind of failure:\n{failure}");
    let token = failure.token().expect("a loom failure has a replay token").to_string();
    let text = failure.to_string();
    assert!(text.contains("found by loom in execution"), "{text}");
    assert!(
        text.contains("interleaving"),
        "the report shows the interleaving:\n{text}"
    );
    // The token reruns exactly that execution, with no other settings.
    let replayed = Checker::<R>::new()
        .scheduler(Scheduler::Replay(token))
        .run()
        .expect_err("the token replays the failure");
    assert_eq!(replayed.kind(), failure.kind(), "{replayed}");
    assert_eq!(
        format!("{:?}", replayed.scenario()),
        format!("{:?}", failure.scenario())
    );
    failure
}

fn data_race(kind: &FailureKind) -> bool {
    matches!(
        kind,
        FailureKind::NotLinearizable { .. } | FailureKind::InvariantViolated { .. }
    )
}

#[test]
fn loom_catches_the_racy_counter() {
    caught::<RacyCounter>(data_race);
}

#[test]
fn loom_catches_the_check_then_insert_map() {
    caught::<CheckThenInsertMap>(data_race);
}

#[test]
fn loom_catches_the_torn_log() {
    // A torn line shows up in a concurrent Read (not linearizable) or in the final file (invariant).
    caught::<TornLog>(data_race);
}

#[test]
fn loom_reports_the_ab_ba_deadlock_without_aborting() {
    let failure = caught::<AbBaBank>(|k| matches!(k, FailureKind::Deadlock { .. }));
    let FailureKind::Deadlock { cycle } = failure.kind() else {
        unreachable!()
    };
    assert!(cycle.iter().all(|l| l.contains("waits for mutex \"")), "{cycle:?}");
}

#[test]
fn loom_catches_the_relaxed_flag_and_says_it_needs_weak_memory() {
    let failure = caught::<RelaxedFlag>(|k| matches!(k, FailureKind::NotLinearizable { .. }));
    let text = failure.to_string();
    assert!(text.contains("NEEDS WEAK MEMORY"), "{text}");
    assert!(text.contains("weak memory: T"), "the stale read is named:\n{text}");
    assert!(text.contains("Some(0)"), "{text}");
}

/// shuttle's schedulers are sequentially consistent: a `Relaxed` load always reads the latest
/// store, so the relaxed flag is correct under every one of them. That is a limitation, asserted
/// here so that it stays documented: weak-memory bugs need `Scheduler::Loom`.
#[test]
fn shuttle_schedulers_cannot_see_the_relaxed_flag_bug() {
    for scheduler in [
        Scheduler::default(),
        Scheduler::Random,
        Scheduler::Pct { depth: 3 },
        Scheduler::Dfs { max_iterations: None },
    ] {
        let report = Checker::<RelaxedFlag>::new()
            .threads(2..=3)
            .ops_per_thread(1..=2)
            .scheduler(scheduler.clone())
            .iterations(3_000)
            .run()
            .unwrap_or_else(|f| panic!("{scheduler:?} flagged a bug that needs weak memory:\n{f}"));
        // Every schedule ran; the reduced exhaustive search may finish scenarios early and leave
        // some of the budget unspent.
        if matches!(scheduler, Scheduler::Dfs { .. }) {
            assert!(
                report.schedules() <= 3_000 && report.exhausted_scenarios() > 0,
                "{report}"
            );
        } else {
            assert_eq!(report.schedules(), 3_000, "{report}");
        }
    }
}

#[test]
fn the_release_acquire_flag_passes_loom_exhaustively() {
    let report = Checker::<ReleaseAcquireFlag>::new()
        .threads(2)
        .ops_per_thread(1..=2)
        .post_ops(0..=1)
        .scheduler(loom(None))
        .iterations(20_000)
        .scenarios(20)
        .run()
        .unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(report.incomplete(), None, "{report}");
    assert_eq!(report.exhausted_scenarios(), 20, "{report}");
}

#[test]
fn correct_built_ins_pass_under_loom() {
    fn passes<R: Resource>() {
        let report = small::<R>().run().unwrap_or_else(|f| panic!("{f}"));
        assert!(report.schedules() > 0);
    }
    passes::<LockedCounter>();
    passes::<AtomicCounter>();
    passes::<LockedMap>();
    passes::<OrderedBank>();
    passes::<LockedLog>();
}

#[test]
fn an_unfinished_exploration_says_which_bound_stopped_it() {
    let report = Checker::<LockedCounter>::new()
        .threads(3)
        .ops_per_thread(3)
        .scheduler(loom(None))
        .iterations(50)
        .run()
        .unwrap();
    assert_eq!(report.schedules(), 50);
    let why = report
        .incomplete()
        .expect("3 x 3 unbounded does not finish in 50 executions");
    assert!(why.contains("iterations = 50"), "{why}");
    assert!(report.to_string().contains("exploration incomplete"), "{report}");
}

#[test]
fn a_condvar_deadlock_under_loom_is_a_failure_not_an_abort() {
    let failure = Checker::<Waiter>::new()
        .threads(2)
        .ops_per_thread(1)
        .scheduler(loom(Some(1)))
        .run()
        .unwrap_err();
    assert!(matches!(failure.kind(), FailureKind::Deadlock { .. }), "{failure}");
}

#[test]
fn a_spin_loop_under_loom_hits_the_step_limit() {
    let failure = Checker::<Spinner>::new()
        .threads(2)
        .ops_per_thread(1)
        .max_steps(500)
        .scheduler(loom(Some(1)))
        .run()
        .unwrap_err();
    assert!(
        matches!(failure.kind(), FailureKind::StepLimitExceeded { steps: 500 }),
        "{failure}"
    );
}

/// Spawns four threads of its own per operation: too many for loom.
struct Spawner;

impl Resource for Spawner {
    type Op = Op;
    type Output = ();
    type Model = Nothing;
    fn new() -> Self {
        Spawner
    }
    fn apply(&self, _: &Op) {
        let handles: Vec<_> = (0..4).map(|_| crosscheck::thread::spawn(|| ())).collect();
        for h in handles {
            h.join().unwrap();
        }
    }
}

fn usage<R: Resource>(checker: Checker<R>) -> String {
    match checker.run() {
        Err(f) => match f.kind() {
            FailureKind::Usage { message } => message.clone(),
            other => panic!("expected a usage error, got {other:?}\n{f}"),
        },
        Ok(r) => panic!("ran: {r}"),
    }
}

#[test]
fn scenarios_too_large_for_loom_are_usage_errors() {
    let message = usage(Checker::<LockedCounter>::new().threads(5).scheduler(loom(Some(1))));
    assert!(message.contains("scenario too large for loom"), "{message}");
    let pinned = Scenario {
        init: vec![],
        threads: vec![vec![CounterOp::Inc]; 5],
        post: vec![],
    };
    let message = usage(Checker::<LockedCounter>::new().scenario(pinned).scheduler(loom(None)));
    assert!(message.contains("scenario too large for loom"), "{message}");
    let message = usage(
        Checker::<Spawner>::new()
            .threads(2)
            .ops_per_thread(1)
            .scheduler(loom(Some(1))),
    );
    assert!(message.contains("scenario too large for loom"), "{message}");
}
