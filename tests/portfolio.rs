//! The portfolio: the default scheduler is the recommended portfolio, it catches every buggy
//! built-in with a replayable token naming the member that found it, it splits the budget, and
//! members that are not shuttle schedulers are refused with a clear error.

use crosscheck::resources::*;
use crosscheck::{Checker, FailureKind, Resource, Scheduler};

#[test]
fn the_default_is_the_recommended_portfolio() {
    let Scheduler::Portfolio(members) = Scheduler::default() else {
        panic!("the default is a portfolio")
    };
    assert_eq!(Scheduler::default(), Scheduler::recommended());
    for expected in [
        Scheduler::Bounded { preemptions: 0 },
        Scheduler::Bounded { preemptions: 1 },
        Scheduler::Bounded { preemptions: 2 },
        Scheduler::Rff,
        Scheduler::Pct { depth: 2 },
        Scheduler::Pct { depth: 3 },
        Scheduler::Random,
    ] {
        assert!(members.contains(&expected), "{expected:?} is a member");
    }
}

fn caught<R: Resource>(accept: fn(&FailureKind) -> bool) {
    for seed in 0..5 {
        let failure = Checker::<R>::new()
            .seed(seed)
            .shrink_budget(0)
            .run()
            .expect_err("the default portfolio finds the bug");
        assert!(accept(failure.kind()), "{failure}");
        let text = failure.to_string();
        assert!(
            text.contains("default portfolio; "),
            "the member that found it is named:\n{text}"
        );
        let token = failure.token().expect("a token").to_string();
        let replayed = Checker::<R>::new()
            .scheduler(Scheduler::Replay(token))
            .run()
            .unwrap_err();
        assert_eq!(replayed.kind(), failure.kind());
    }
}

fn data_race(kind: &FailureKind) -> bool {
    matches!(
        kind,
        FailureKind::NotLinearizable { .. } | FailureKind::InvariantViolated { .. }
    )
}

#[test]
fn the_portfolio_catches_every_buggy_built_in() {
    caught::<RacyCounter>(data_race);
    caught::<TornLog>(data_race);
    caught::<CheckThenInsertMap>(data_race);
    caught::<AbBaBank>(|k| matches!(k, FailureKind::Deadlock { .. }));
}

#[test]
fn the_portfolio_passes_the_correct_built_ins() {
    Checker::<LockedCounter>::new().iterations(3_000).run().unwrap();
    Checker::<LockedMap>::new().iterations(3_000).run().unwrap();
    Checker::<OrderedBank>::new().iterations(3_000).run().unwrap();
}

#[test]
fn members_share_the_budget_and_finished_searches_pass_it_on() {
    // A bounded search alone finishes early on small scenarios; with a random member beside it,
    // every schedule of the budget is still used.
    let alone = Checker::<LockedCounter>::new()
        .threads(2)
        .ops_per_thread(1)
        .scheduler(Scheduler::Portfolio(vec![Scheduler::Bounded { preemptions: 0 }]))
        .iterations(1_000)
        .run()
        .unwrap();
    assert!(alone.schedules() < 1_000, "{alone}");
    assert_eq!(alone.exhausted_scenarios(), alone.scenarios(), "{alone}");
    let shared = Checker::<LockedCounter>::new()
        .threads(2)
        .ops_per_thread(1)
        .scheduler(Scheduler::Portfolio(vec![
            Scheduler::Bounded { preemptions: 0 },
            Scheduler::Random,
        ]))
        .iterations(1_000)
        .run()
        .unwrap();
    assert_eq!(shared.schedules(), 1_000, "{shared}");
}

#[test]
fn invalid_portfolios_are_usage_errors() {
    let message = |s: Scheduler| match Checker::<LockedCounter>::new().scheduler(s).run() {
        Err(f) => match f.kind() {
            FailureKind::Usage { message } => message.clone(),
            other => panic!("{other:?}"),
        },
        Ok(r) => panic!("ran: {r}"),
    };
    assert!(message(Scheduler::Portfolio(vec![])).contains("no member"));
    assert!(message(Scheduler::Portfolio(vec![Scheduler::Stress])).contains("cannot be a Portfolio member"));
    assert!(
        message(Scheduler::Portfolio(vec![Scheduler::Loom { preemption_bound: None }]))
            .contains("cannot be a Portfolio member")
    );
    assert!(message(Scheduler::Portfolio(vec![Scheduler::Pct { depth: 0 }])).contains("depth"));
}
