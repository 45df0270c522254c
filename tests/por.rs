//! The partial-order reduction of `Scheduler::Dfs`: pinned counts of the schedules it runs against
//! the unreduced search, and a differential test over many small generated resources (buggy and
//! correct, with and without conflicting accesses) where both searches give the same verdict.

use crosscheck::arbitrary;
use crosscheck::sync::atomic::{AtomicU64, Ordering::SeqCst};
use crosscheck::{Checker, Model, Resource, Scenario, Scheduler};

#[derive(Clone, Debug, PartialEq, Eq, Hash, arbitrary::Arbitrary)]
pub enum Op {
    /// Increment counter `0` or `1`.
    Inc(u8),
}

/// Two atomic counters; `Inc(k)` is a `fetch_add` on counter `k % 2`.
pub struct Counters([AtomicU64; 2]);

impl Resource for Counters {
    type Op = Op;
    type Output = u64;
    type Model = CountersModel;
    fn new() -> Self {
        Counters([AtomicU64::new(0), AtomicU64::new(0)])
    }
    fn apply(&self, op: &Op) -> u64 {
        let Op::Inc(k) = op;
        self.0[usize::from(k % 2)].fetch_add(1, SeqCst)
    }
}

/// Each counter is its own partition: increments of different counters are checked separately.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct CountersModel([u64; 2]);

impl Model for CountersModel {
    type Op = Op;
    type Output = u64;
    fn step(&mut self, op: &Op) -> u64 {
        let Op::Inc(k) = op;
        let c = &mut self.0[usize::from(k % 2)];
        *c += 1;
        *c - 1
    }
    fn partition(op: &Op) -> Option<u64> {
        let Op::Inc(k) = op;
        Some(u64::from(k % 2))
    }
}

/// Schedules an exhaustive search runs on `threads` (every scenario's search finishes).
fn schedules(scheduler: Scheduler, threads: Vec<Vec<Op>>) -> usize {
    let report = Checker::<Counters>::new()
        .scenario(Scenario {
            threads,
            ..Scenario::default()
        })
        .scheduler(scheduler)
        .iterations(100_000)
        .run()
        .expect("the counters are correct");
    assert_eq!(report.exhausted_scenarios(), 1, "the search finished");
    report.schedules()
}

fn reduced(threads: Vec<Vec<Op>>) -> usize {
    schedules(Scheduler::Dfs { max_iterations: None }, threads)
}

fn unreduced(threads: Vec<Vec<Op>>) -> usize {
    schedules(Scheduler::DfsUnreduced { max_iterations: None }, threads)
}

#[test]
fn one_counter_two_threads_runs_one_schedule_per_order_of_the_increments() {
    let threads = vec![vec![Op::Inc(0); 5]; 2];
    assert_eq!(unreduced(threads.clone()), 1716);
    // Every increment conflicts with every other: C(10, 5) orders.
    assert_eq!(reduced(threads), 252);
}

#[test]
fn counters_in_different_partitions_need_one_schedule() {
    let threads = vec![vec![Op::Inc(0); 5], vec![Op::Inc(1); 5]];
    assert_eq!(unreduced(threads.clone()), 1716);
    assert_eq!(reduced(threads), 1);
}

/// The bounded search on the pinned shapes: reduced against unreduced, per bound.
#[test]
fn bounded_search_counts() {
    let one = vec![vec![Op::Inc(0); 5]; 2];
    let two = vec![vec![Op::Inc(0); 5], vec![Op::Inc(1); 5]];
    for bound in 0..=2 {
        let r = schedules(Scheduler::Bounded { preemptions: bound }, one.clone());
        let u = schedules(Scheduler::BoundedUnreduced { preemptions: bound }, one.clone());
        assert!(r <= u, "bound {bound}: {r} > {u}");
        let r2 = schedules(Scheduler::Bounded { preemptions: bound }, two.clone());
        assert_eq!(r2, 1, "bound {bound}: independent counters need one schedule");
    }
}

#[test]
fn one_counter_three_threads() {
    let threads = vec![vec![Op::Inc(0); 2]; 3];
    assert_eq!(unreduced(threads.clone()), 5775);
    // 6! / (2! 2! 2!) orders of the increments.
    assert_eq!(reduced(threads), 90);
}

/// Small resources for the differential test, each with its own bug or none.
mod generated {
    use crosscheck::arbitrary;
    use crosscheck::sync::atomic::{AtomicU64, Ordering::SeqCst};
    use crosscheck::sync::Mutex;
    use crosscheck::{Model, Resource};

    #[derive(Clone, Debug, PartialEq, Eq, Hash, arbitrary::Arbitrary)]
    pub enum Op {
        Inc(u8),
        Get(u8),
    }

    /// A counter per key (`k % 2`); `Get` returns the key's count.
    #[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
    pub struct PerKey([u64; 2]);

    fn key(k: &u8) -> usize {
        usize::from(k % 2)
    }

    impl Model for PerKey {
        type Op = Op;
        type Output = Option<u64>;
        fn step(&mut self, op: &Op) -> Option<u64> {
            match op {
                Op::Inc(k) => {
                    self.0[key(k)] += 1;
                    None
                }
                Op::Get(k) => Some(self.0[key(k)]),
            }
        }
        fn partition(op: &Op) -> Option<u64> {
            let (Op::Inc(k) | Op::Get(k)) = op;
            Some(key(k) as u64)
        }
    }

    /// One counter in all (the key is ignored by the model): no partitions.
    #[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
    pub struct Total(u64);

    impl Model for Total {
        type Op = Op;
        type Output = Option<u64>;
        fn step(&mut self, op: &Op) -> Option<u64> {
            match op {
                Op::Inc(_) => {
                    self.0 += 1;
                    None
                }
                Op::Get(_) => Some(self.0),
            }
        }
    }

    macro_rules! resource {
        ($name:ident, $model:ty, $state:ty, $new:expr, $apply:expr) => {
            pub struct $name($state);
            impl Resource for $name {
                type Op = Op;
                type Output = Option<u64>;
                type Model = $model;
                fn new() -> Self {
                    $name($new)
                }
                fn apply(&self, op: &Op) -> Option<u64> {
                    #[allow(clippy::redundant_closure_call)]
                    ($apply)(&self.0, op)
                }
            }
        };
    }

    type Slots = [AtomicU64; 2];
    fn slots() -> Slots {
        [AtomicU64::new(0), AtomicU64::new(0)]
    }

    // Correct, conflicting: one atomic per key.
    resource!(AtomicPerKey, PerKey, Slots, slots(), |s: &Slots, op: &Op| match op {
        Op::Inc(k) => {
            s[key(k)].fetch_add(1, SeqCst);
            None
        }
        Op::Get(k) => Some(s[key(k)].load(SeqCst)),
    });

    // Buggy, conflicting: a lost update (load, then store).
    resource!(RacyPerKey, PerKey, Slots, slots(), |s: &Slots, op: &Op| match op {
        Op::Inc(k) => {
            let v = s[key(k)].load(SeqCst);
            s[key(k)].store(v + 1, SeqCst);
            None
        }
        Op::Get(k) => Some(s[key(k)].load(SeqCst)),
    });

    // Buggy, without a single conflicting access between an `Inc(1)` and a `Get(0)`: the total
    // lives in two slots and `Get` reads only its own. Only the real-time order of an increment of
    // slot 1 that returned before a `Get(0)` began shows the bug.
    resource!(OwnSlotTotal, Total, Slots, slots(), |s: &Slots, op: &Op| match op {
        Op::Inc(k) => {
            s[key(k)].fetch_add(1, SeqCst);
            None
        }
        Op::Get(k) => Some(s[key(k)].load(SeqCst)),
    });

    // Correct, without conflicts across slots: `Get` sums both slots, slot 0 then slot 1.
    // Linearizable: increments only grow the slots, and the sum lies between the totals at the
    // two loads, each of which is a moment inside the `Get`.
    resource!(SummedTotal, Total, Slots, slots(), |s: &Slots, op: &Op| match op {
        Op::Inc(k) => {
            s[key(k)].fetch_add(1, SeqCst);
            None
        }
        Op::Get(_) => Some(s[0].load(SeqCst) + s[1].load(SeqCst)),
    });

    // Correct, with locks: one lock per key.
    resource!(
        LockedPerKey,
        PerKey,
        [Mutex<u64>; 2],
        [Mutex::new(0), Mutex::new(0)],
        |s: &[Mutex<u64>; 2], op: &Op| {
            match op {
                Op::Inc(k) => {
                    *s[key(k)].lock().unwrap() += 1;
                    None
                }
                Op::Get(k) => Some(*s[key(k)].lock().unwrap()),
            }
        }
    );

    // Buggy, with locks: the increment reads and writes under two separate critical sections.
    resource!(
        SplitLockPerKey,
        PerKey,
        [Mutex<u64>; 2],
        [Mutex::new(0), Mutex::new(0)],
        |s: &[Mutex<u64>; 2], op: &Op| {
            match op {
                Op::Inc(k) => {
                    let v = *s[key(k)].lock().unwrap();
                    *s[key(k)].lock().unwrap() = v + 1;
                    None
                }
                Op::Get(k) => Some(*s[key(k)].lock().unwrap()),
            }
        }
    );
}

/// A deterministic stream of small scenarios (keys 0-1), small enough for the unreduced search.
fn scenarios(count: usize, seed: u64) -> Vec<Scenario<generated::Op>> {
    let mut state = seed;
    let mut next = move |n: u64| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) % n
    };
    (0..count)
        .map(|_| {
            // Two threads of one or two operations, or three threads of one.
            let threads = 2 + next(2) as usize;
            let most = if threads == 2 { 2 } else { 1 };
            Scenario {
                threads: (0..threads)
                    .map(|_| {
                        (0..1 + next(most))
                            .map(|_| {
                                let k = next(2) as u8;
                                if next(2) == 0 {
                                    generated::Op::Inc(k)
                                } else {
                                    generated::Op::Get(k)
                                }
                            })
                            .collect()
                    })
                    .collect(),
                ..Scenario::default()
            }
        })
        .collect()
}

/// Runs `count` scenarios with and without reduction (the unreduced search capped at `cap`
/// schedules per scenario, `None`: exhaustive); the verdicts must agree wherever the unreduced
/// search finished. Returns (scenarios with a bug, schedules reduced, schedules unreduced).
fn differential<R: Resource<Op = generated::Op>>(seed: u64, count: usize, cap: Option<usize>) -> (usize, usize, usize) {
    against::<R>(
        Scheduler::Dfs { max_iterations: None },
        Scheduler::DfsUnreduced { max_iterations: cap },
        seed,
        count,
        cap.is_some(),
    )
}

/// The same for any pair of searches: `reduced` must finish every scenario, and agree with
/// `reference` wherever that finished (`capped`: it may stop early).
fn against<R: Resource<Op = generated::Op>>(
    reduced_search: Scheduler,
    reference: Scheduler,
    seed: u64,
    count: usize,
    capped: bool,
) -> (usize, usize, usize) {
    let (mut buggy, mut small, mut large) = (0, 0, 0);
    for scenario in scenarios(count, seed) {
        let run = |scheduler: Scheduler| {
            Checker::<R>::new()
                .scenario(scenario.clone())
                .scheduler(scheduler)
                .iterations(1_000_000)
                .shrink_budget(0)
                .run()
        };
        let reduced = run(reduced_search.clone());
        let full = run(reference.clone());
        match (&reduced, &full) {
            (Ok(r), Ok(f)) => {
                assert_eq!(r.exhausted_scenarios(), 1, "the reduced search finishes");
                assert!(
                    f.exhausted_scenarios() == 1 || capped,
                    "{}: the reference search did not finish {scenario:?}:\n{f}",
                    std::any::type_name::<R>()
                );
                small += r.schedules();
                large += f.schedules();
            }
            (Err(r), Err(f)) => {
                assert_eq!(
                    std::mem::discriminant(r.kind()),
                    std::mem::discriminant(f.kind()),
                    "{r}\n{f}"
                );
                buggy += 1;
            }
            // The capped unreduced search may stop before the schedule the reduced one found.
            (Err(_), Ok(f)) if f.exhausted_scenarios() == 0 => buggy += 1,
            _ => panic!(
                "{}: the reduced and unreduced searches disagree on {scenario:?}:\nreduced: {:?}\nunreduced: {:?}",
                std::any::type_name::<R>(),
                reduced.as_ref().map(|r| r.schedules()).map_err(|f| f.to_string()),
                full.as_ref().map(|r| r.schedules()).map_err(|f| f.to_string()),
            ),
        }
    }
    (buggy, small, large)
}

/// [`against`] for one resource type.
type Search = fn(Scheduler, Scheduler, u64, usize, bool) -> (usize, usize, usize);

/// The bounded search with bound 0, 1 and 2, reduced and unreduced, on every generated resource:
/// the same verdicts, and fewer schedules in all.
fn bounded_agree(count: usize) -> Vec<(usize, usize, usize)> {
    use generated::*;
    let mut figures = Vec::new();
    for bound in 0..=2 {
        let pair = || {
            (
                Scheduler::Bounded { preemptions: bound },
                Scheduler::BoundedUnreduced { preemptions: bound },
            )
        };
        let run = |f: Search, seed: u64| {
            let (r, u) = pair();
            f(r, u, seed + 10 * bound as u64, count, false)
        };
        let correct = [
            run(against::<AtomicPerKey>, 1),
            run(against::<SummedTotal>, 4),
            run(against::<LockedPerKey>, 5),
        ];
        for (buggy, _, _) in correct {
            assert_eq!(buggy, 0, "bound {bound}: a correct resource");
        }
        let buggy = [
            run(against::<RacyPerKey>, 2),
            run(against::<OwnSlotTotal>, 3),
            run(against::<SplitLockPerKey>, 6),
        ];
        if bound > 0 {
            for (found, _, _) in buggy {
                assert!(found > 0, "bound {bound}: a bug that needs a preemption is found");
            }
        }
        let small: usize = correct.iter().map(|c| c.1).sum();
        let large: usize = correct.iter().map(|c| c.2).sum();
        assert!(small <= large, "bound {bound}: {small} > {large}");
        figures.push((bound, small, large));
    }
    figures
}

#[test]
fn bounded_reduced_and_unreduced_searches_agree_on_generated_resources() {
    let figures = bounded_agree(20);
    assert!(
        figures.iter().any(|&(_, small, large)| small < large),
        "the bounded reduction prunes: {figures:?}"
    );
}

/// 150 scenarios per resource and bound: `cargo test --release --test por -- --ignored` (minutes).
/// Prints the schedules each search ran.
#[test]
#[ignore = "minutes: run with --release -- --ignored"]
fn bounded_reduced_and_unreduced_searches_agree_on_many_generated_resources() {
    for (bound, small, large) in bounded_agree(150) {
        println!("bound {bound}: reduced {small} schedules, unreduced {large}");
    }
}

fn all_agree(count: usize, cap: Option<usize>) {
    use generated::*;
    let (b, s, l) = differential::<AtomicPerKey>(1, count, cap);
    assert_eq!(b, 0, "a correct resource");
    assert!(s < l, "the reduction prunes ({s} vs {l})");
    assert!(
        differential::<RacyPerKey>(2, count, cap).0 > 0,
        "the lost update is found"
    );
    assert!(
        differential::<OwnSlotTotal>(3, count, cap).0 > 0,
        "the real-time-only bug is found"
    );
    assert_eq!(differential::<SummedTotal>(4, count, cap).0, 0, "a correct resource");
    assert_eq!(differential::<LockedPerKey>(5, count, cap).0, 0, "a correct resource");
    assert!(
        differential::<SplitLockPerKey>(6, count, cap).0 > 0,
        "the split critical section is found"
    );
}

#[test]
fn reduced_and_unreduced_searches_agree_on_generated_resources() {
    all_agree(20, Some(3_000));
}

/// The same over 150 scenarios per resource: `cargo test --release --test por -- --ignored` (a few
/// minutes). The unreduced search stops at 200,000 schedules of a scenario (three threads taking a
/// lock twice each have millions of interleavings); where it stops first, only a bug it found is
/// compared.
#[test]
#[ignore = "minutes: run with --release -- --ignored"]
fn reduced_and_unreduced_searches_agree_on_many_generated_resources() {
    all_agree(150, Some(200_000));
}
