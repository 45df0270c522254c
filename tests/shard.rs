//! `CROSSCHECK_SHARD=k/n`: the shards of a check together do the work of the whole check and find
//! its failure. One test, because the setting is a process-wide environment variable.

use crosscheck::resources::{LockedCounter, RacyCounter};
use crosscheck::{Checker, FailureKind, Resource, Scheduler};

fn with_shard<T>(shard: Option<&str>, f: impl FnOnce() -> T) -> T {
    match shard {
        Some(s) => std::env::set_var("CROSSCHECK_SHARD", s),
        None => std::env::remove_var("CROSSCHECK_SHARD"),
    }
    let out = f();
    std::env::remove_var("CROSSCHECK_SHARD");
    out
}

fn checker<R: Resource>(scheduler: Scheduler) -> Checker<R> {
    Checker::<R>::new()
        .scheduler(scheduler)
        .iterations(3_000)
        .scenarios(25)
        .seed(11)
        // The raw failing schedule, not a shrunk one, so tokens compare what was found.
        .shrink_budget(0)
}

#[test]
fn shards_together_do_exactly_the_whole_check() {
    for scheduler in [Scheduler::Random, Scheduler::Pct { depth: 2 }] {
        // A correct resource: the shards' schedules and scenarios add up to the whole's.
        let whole = with_shard(None, || checker::<LockedCounter>(scheduler.clone()).run().unwrap());
        let parts: Vec<_> = (1..=4)
            .map(|k| {
                with_shard(Some(&format!("{k}/4")), || {
                    checker::<LockedCounter>(scheduler.clone()).run().unwrap()
                })
            })
            .collect();
        assert_eq!(parts.iter().map(|r| r.schedules()).sum::<usize>(), whole.schedules());
        assert_eq!(parts.iter().map(|r| r.scenarios()).sum::<usize>(), whole.scenarios());
        assert!(parts
            .iter()
            .all(|r| r.schedules() > 0 && r.to_string().contains("shard")));

        // A buggy one: the whole check's failure (scenario and schedule, by its token) is found by
        // exactly one shard, the one that owns its scenario.
        let failure = with_shard(None, || checker::<RacyCounter>(scheduler.clone()).run().unwrap_err());
        assert!(matches!(failure.kind(), FailureKind::NotLinearizable { .. }));
        let tokens: Vec<Option<String>> = (1..=4)
            .map(|k| {
                with_shard(Some(&format!("{k}/4")), || {
                    checker::<RacyCounter>(scheduler.clone())
                        .run()
                        .err()
                        .and_then(|f| f.token().map(str::to_string))
                })
            })
            .collect();
        let same = tokens.iter().filter(|t| t.as_deref() == failure.token()).count();
        assert_eq!(same, 1, "{scheduler:?}: {tokens:?} vs {:?}", failure.token());
    }

    // 1/1 is the whole check; bad settings are usage errors that say what to write.
    let whole = with_shard(None, || checker::<LockedCounter>(Scheduler::Random).run().unwrap());
    let one = with_shard(Some("1/1"), || {
        checker::<LockedCounter>(Scheduler::Random).run().unwrap()
    });
    assert_eq!(one.schedules(), whole.schedules());
    let bad = with_shard(Some("5/4"), || {
        checker::<LockedCounter>(Scheduler::Random).run().unwrap_err()
    });
    assert!(bad.to_string().contains("give k/n with 1 <= k <= n"), "{bad}");

    // What is not split runs in shard 1 only.
    let pinned = || {
        Checker::<LockedCounter>::new()
            .scenario(crosscheck::Scenario {
                init: vec![],
                threads: vec![vec![crosscheck::resources::CounterOp::Inc]; 2],
                post: vec![],
            })
            .scheduler(Scheduler::Random)
            .iterations(50)
            .run()
            .unwrap()
    };
    assert_eq!(with_shard(Some("1/2"), pinned).schedules(), 50);
    assert_eq!(with_shard(Some("2/2"), pinned).schedules(), 0);

    // Under a portfolio the unit is one member's part of one scenario: a single pinned scenario's
    // schedules are split across the shards, and a generated check's more finely than by scenario.
    let racy_pinned = || {
        Checker::<RacyCounter>::new()
            .scenario(crosscheck::Scenario {
                init: vec![],
                threads: vec![vec![crosscheck::resources::CounterOp::Inc]; 2],
                post: vec![crosscheck::resources::CounterOp::Get],
            })
            .iterations(700)
            .seed(5)
            .shrink_budget(0)
    };
    let correct_pinned = || {
        Checker::<crosscheck::resources::AtomicCounter>::new()
            .scenario(crosscheck::Scenario {
                init: vec![],
                threads: vec![vec![crosscheck::resources::CounterOp::Inc; 2]; 3],
                post: vec![crosscheck::resources::CounterOp::Get],
            })
            .scheduler(Scheduler::Portfolio(vec![
                Scheduler::Random,
                Scheduler::Pct { depth: 2 },
                Scheduler::Pct { depth: 3 },
                Scheduler::Rff,
            ]))
            .iterations(1_000)
            .seed(5)
    };
    let whole = with_shard(None, || correct_pinned().run().unwrap());
    let parts: Vec<usize> = (1..=3)
        .map(|k| with_shard(Some(&format!("{k}/3")), || correct_pinned().run().unwrap().schedules()))
        .collect();
    assert!(
        parts.iter().all(|&p| p > 0),
        "every shard has a part of the one scenario: {parts:?}"
    );
    assert_eq!(parts.iter().sum::<usize>(), whole.schedules(), "{parts:?}");

    let failure = with_shard(None, || racy_pinned().run().unwrap_err());
    let tokens: Vec<Option<String>> = (1..=4)
        .map(|k| {
            with_shard(Some(&format!("{k}/4")), || {
                racy_pinned().run().err().and_then(|f| f.token().map(str::to_string))
            })
        })
        .collect();
    assert!(
        tokens.iter().any(|t| t.as_deref() == failure.token()),
        "the shard that owns the member that found it finds the same schedule: {tokens:?} vs {:?}",
        failure.token()
    );

    let generated = || checker::<LockedCounter>(Scheduler::default());
    let whole = with_shard(None, || generated().run().unwrap());
    let parts: usize = (1..=4)
        .map(|k| with_shard(Some(&format!("{k}/4")), || generated().run().unwrap().schedules()))
        .sum();
    assert_eq!(parts, whole.schedules());
}
