//! Determinism and replay: a seed reproduces the same failure; a token reproduces it with no
//! other settings; a token that does not fit gives a clear error.

#[path = "support/text.rs"]
mod text;
use crosscheck::resources::*;
use crosscheck::{Checker, FailureKind, Resource, Scenario, Scheduler};
use text::without_timing;

fn same_failure_twice<R: Resource>(scheduler: Scheduler) {
    let run = || {
        Checker::<R>::new()
            .scheduler(scheduler.clone())
            .seed(42)
            .run()
            .unwrap_err()
    };
    let (a, b) = (run(), run());
    assert_eq!(
        without_timing(&a.to_string()),
        without_timing(&b.to_string()),
        "same seed, same report"
    );
    assert_eq!(a.token(), b.token());
    assert_eq!(format!("{:?}", a.scenario()), format!("{:?}", b.scenario()));
    assert_eq!(a.schedules(), b.schedules());
}

#[test]
fn a_seed_reproduces_the_same_failure() {
    for scheduler in [
        Scheduler::Random,
        Scheduler::Pct { depth: 2 },
        Scheduler::Dfs { max_iterations: None },
    ] {
        same_failure_twice::<RacyCounter>(scheduler.clone());
        same_failure_twice::<CheckThenInsertMap>(scheduler.clone());
        same_failure_twice::<TornLog>(scheduler.clone());
        same_failure_twice::<AbBaBank>(scheduler);
    }
}

fn token_replays<R: Resource>(scheduler: Scheduler, seed: u64) {
    let original = Checker::<R>::new()
        .scheduler(scheduler)
        .seed(seed)
        .shrink_budget(0)
        .run()
        .unwrap_err();
    let token = original.token().expect("a token").to_string();
    // Different settings on purpose: the token alone decides what runs.
    let replayed = Checker::<R>::new()
        .threads(7)
        .seed(seed + 1)
        .scheduler(Scheduler::Replay(token.clone()))
        .run()
        .unwrap_err();
    assert_eq!(replayed.kind(), original.kind());
    assert_eq!(
        format!("{:?}", replayed.scenario()),
        format!("{:?}", original.scenario())
    );
    assert_eq!(replayed.token(), Some(token.as_str()));
    assert_eq!(replayed.preemptions(), original.preemptions());
    assert_eq!(replayed.schedules(), 1);
}

#[test]
fn a_token_replays_the_failure_with_no_other_settings() {
    for seed in 0..20 {
        for scheduler in [
            Scheduler::Random,
            Scheduler::Pct { depth: 2 },
            Scheduler::Dfs { max_iterations: None },
        ] {
            token_replays::<RacyCounter>(scheduler.clone(), seed);
            token_replays::<TornLog>(scheduler.clone(), seed);
            token_replays::<CheckThenInsertMap>(scheduler.clone(), seed);
            token_replays::<AbBaBank>(scheduler, seed);
        }
    }
}

#[test]
fn a_pinned_scenario_replays_with_the_same_scenario() {
    let scenario = Scenario {
        init: vec![],
        threads: vec![vec![CounterOp::Inc], vec![CounterOp::Inc]],
        post: vec![CounterOp::Get],
    };
    let failure = Checker::<RacyCounter>::new()
        .scenario(scenario.clone())
        .run()
        .unwrap_err();
    let token = failure.token().unwrap().to_string();
    let again = Checker::<RacyCounter>::new()
        .scenario(scenario)
        .scheduler(Scheduler::Replay(token.clone()))
        .run()
        .unwrap_err();
    assert_eq!(again.kind(), failure.kind());
    let without = Checker::<RacyCounter>::new()
        .scheduler(Scheduler::Replay(token))
        .run()
        .unwrap_err();
    assert!(
        matches!(without.kind(), FailureKind::Usage { message } if message.contains("pinned scenario")),
        "{without}"
    );
}

fn usage_message<R: Resource>(token: &str) -> String {
    match Checker::<R>::new().scheduler(Scheduler::Replay(token.into())).run() {
        Err(f) => match f.kind() {
            FailureKind::Usage { message } => message.clone(),
            other => panic!("expected a usage error, got {other:?}"),
        },
        Ok(r) => panic!("a bad token ran: {r}"),
    }
}

#[test]
fn bad_tokens_get_clear_errors() {
    let good = Checker::<RacyCounter>::new()
        .run()
        .unwrap_err()
        .token()
        .unwrap()
        .to_string();
    assert!(usage_message::<RacyCounter>("not a token").contains("not a crosscheck replay token"));
    assert!(usage_message::<RacyCounter>(&good[..good.len() - 5]).contains("truncated"));
    assert!(usage_message::<RacyCounter>("cc1_%%%").contains("malformed"));
    let other = usage_message::<LockedCounter>(&good);
    assert!(
        other.contains("RacyCounter") && other.contains("LockedCounter"),
        "{other}"
    );
}

/// The racy counter after its bug was fixed, in a module of its own: the same name (tokens are
/// keyed by the type's name, not its module path), the same operations, other behaviour.
mod fixed {
    use crosscheck::resources::{CounterModel, CounterOp, LockedCounter};
    use crosscheck::Resource;

    pub struct RacyCounter(LockedCounter);

    impl Resource for RacyCounter {
        type Op = CounterOp;
        type Output = Option<u64>;
        type Model = CounterModel;
        fn new() -> Self {
            RacyCounter(LockedCounter::new())
        }
        fn apply(&self, op: &CounterOp) -> Option<u64> {
            self.0.apply(op)
        }
    }
}

#[test]
fn a_token_that_no_longer_fits_the_resource_says_so() {
    let failure = Checker::<RacyCounter>::new().run().unwrap_err();
    let token = failure.token().unwrap();
    // The token names `RacyCounter`, so it applies to the moved and fixed type; its schedule asks
    // for thread switches at points the fixed code no longer reaches in that order.
    let message = usage_message::<fixed::RacyCounter>(token);
    assert!(
        message.contains("no longer matches the resource's behaviour"),
        "{message}"
    );
}

#[test]
fn a_token_still_replays_after_its_type_moved_module() {
    mod moved {
        pub use crosscheck::resources::RacyCounter;
    }
    let failure = Checker::<RacyCounter>::new().run().unwrap_err();
    let replayed = Checker::<moved::RacyCounter>::new()
        .scheduler(Scheduler::Replay(failure.token().unwrap().into()))
        .run()
        .unwrap_err();
    assert_eq!(replayed.kind(), failure.kind());
}

#[test]
#[allow(deprecated)]
fn the_old_name_of_the_token_accessor_still_works() {
    let failure = Checker::<RacyCounter>::new().run().unwrap_err();
    assert_eq!(failure.schedule(), failure.token());
    assert!(failure.token().is_some());
}

#[test]
fn a_step_limit_stops_a_replay_early() {
    let failure = Checker::<RacyCounter>::new()
        .scenario(Scenario {
            init: vec![],
            threads: vec![vec![CounterOp::Inc], vec![CounterOp::Inc]],
            post: vec![CounterOp::Get],
        })
        .run()
        .unwrap_err();
    let token = failure.token().unwrap();
    let stopped = Checker::<RacyCounter>::new()
        .scenario(failure.scenario().clone())
        .max_steps(2)
        .scheduler(Scheduler::Replay(token.into()))
        .run()
        .unwrap_err();
    assert!(
        matches!(stopped.kind(), FailureKind::StepLimitExceeded { steps: 2 }),
        "{stopped}"
    );
}
