//! `CROSSCHECK_SHARD=k/n`: the k-th of n disjoint parts of one check, so that n CI jobs together
//! run exactly the schedules of the whole check.
//!
//! The unit of work is one portfolio member's part of one scenario: a portfolio's members share
//! each scenario's schedules in turn, and each member's schedules depend only on its own seed and
//! the scenario, so a member's part can run on another machine and stay the same. Units are dealt
//! round-robin (unit `i * members + m`, for scenario `i` and member `m`, belongs to part
//! `unit % n + 1`), so a single scenario's schedules are split too, as far as it has members (seven
//! in the default portfolio). A scheduler that is not a portfolio has one member per scenario.
//! Each unit keeps the budget share and the seed it has in the whole check, so its schedules, and
//! the failure it finds, are the same in its shard.
//!
//! The differences, each of which can only make the shards together run fewer schedules than the
//! whole, never other ones: in the whole check, a scenario whose exhaustive search ends early
//! passes its unused budget on to the next scenarios, and a systematic member that finishes passes
//! its turns on to the other members; a shard cannot know what other shards left over. A member
//! that learns from the scenario's earlier executions of every member (`Scheduler::Surw`'s
//! estimates of what is left to run) sees only those of its shard. A replay, and the loom and
//! stress backends, are not split: shard 1 runs them, the other shards skip them with a note.

use std::fmt;

use crate::plan::{Plan, StrategyFactory};
use crate::record::short_name;
use crate::report::Report;
use crate::Scheduler;

/// One part of a sharded check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Shard {
    /// 1-based.
    pub k: usize,
    pub n: usize,
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.k, self.n)
    }
}

impl Shard {
    /// Reads `CROSSCHECK_SHARD`; `None` when unset or `1/1`.
    pub(crate) fn from_env() -> Result<Option<Shard>, String> {
        let shard = crate::env::read()?.shard.map(|(k, n)| Shard { k, n });
        Ok(shard.filter(|s| s.n > 1))
    }

    /// The report of a shard that leaves this check to shard 1 (it is `unsplit`), with a note on
    /// stderr; `None` when this shard runs it.
    pub(crate) fn skips(&self, unsplit: bool, scheduler: &Scheduler, resource: &'static str) -> Option<Report> {
        if !unsplit || self.k == 1 {
            return None;
        }
        eprintln!(
            "crosscheck: CROSSCHECK_SHARD={self}: this check of {} is not split (one scenario under one scheduler, \
             loom or stress); shard 1 runs it",
            short_name(resource)
        );
        let label = format!("{} (shard {self}: run by shard 1)", scheduler.label());
        Some(Report::new(resource, label, std::time::Instant::now()))
    }

    /// This shard's part of a check of `plans` under `scheduler`: the plans it runs (one per
    /// scenario it has a unit of), each one's budget share, and the strategy factory that gives
    /// each plan the members it owns, seeded as in the whole check.
    pub(crate) fn split<Op: Send + Sync + 'static>(
        &self,
        plans: Vec<Plan<Op>>,
        budget: usize,
        scheduler: &Scheduler,
        seed: u64,
    ) -> (Vec<Plan<Op>>, Vec<usize>, StrategyFactory) {
        let members = scheduler.members();
        let shares = whole_shares(budget, plans.len());
        let (mut mine, mut budgets, mut parts) = (Vec::new(), Vec::new(), Vec::new());
        for (i, plan) in plans.into_iter().enumerate() {
            let keep: Vec<usize> = (0..members)
                .filter(|m| (i * members + m) % self.n == self.k - 1)
                .collect();
            // Member m's turns among the scenario's share: the portfolio deals them round-robin
            // from member 0.
            let share: usize = keep.iter().map(|&m| member_share(shares[i], members, m)).sum();
            if keep.is_empty() || share == 0 {
                continue;
            }
            mine.push(plan);
            budgets.push(share);
            parts.push((i, keep));
        }
        let scheduler = scheduler.clone();
        let make: StrategyFactory = Box::new(move |j| {
            let (i, keep) = &parts[j];
            scheduler.strategy_part(seed, *i, keep)
        });
        (mine, budgets, make)
    }
}

/// The schedules member `m` of `members` runs of a scenario's `share` when every member uses all
/// of its turns.
fn member_share(share: usize, members: usize, m: usize) -> usize {
    share / members + usize::from(m < share % members)
}

/// Whether a check is run whole by shard 1: loom and stress, and one pinned scenario under a
/// scheduler with one member (a portfolio's pinned scenario is split by member).
pub(crate) fn unsplit(pinned: bool, scheduler: &Scheduler) -> bool {
    (pinned && scheduler.members() == 1) || matches!(scheduler, Scheduler::Loom { .. } | Scheduler::Stress)
}

/// The schedules each of `count` scenarios gets in the whole check when each uses all of its
/// share: an equal part of what is left when it starts (as the driver computes it).
fn whole_shares(budget: usize, count: usize) -> Vec<usize> {
    let mut runs = 0;
    (0..count)
        .map(|i| {
            let share = (budget.saturating_sub(runs) / (count - i)).max(1);
            runs += share;
            share
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up_to_the_budget() {
        for (budget, count) in [(10_000, 100), (1_000, 7), (5, 5), (9, 4)] {
            assert_eq!(whole_shares(budget, count).iter().sum::<usize>(), budget);
        }
        assert_eq!(whole_shares(9, 4), vec![2, 2, 2, 3]);
    }

    #[test]
    fn member_shares_add_up_to_the_scenario_share() {
        for (share, members) in [(10, 7), (3, 7), (100, 1), (14, 7)] {
            let sum: usize = (0..members).map(|m| member_share(share, members, m)).sum();
            assert_eq!(sum, share);
        }
        assert_eq!(member_share(10, 7, 2), 2);
        assert_eq!(member_share(10, 7, 3), 1);
    }

    #[test]
    fn bad_settings_say_what_to_write() {
        assert_eq!(crate::env::parse_shard(" 2/4 "), Ok((2, 4)));
        for bad in ["0/4", "5/4", "2", "a/b", "2/"] {
            let e = crate::env::parse_shard(bad).unwrap_err();
            assert!(e.contains("give k/n with 1 <= k <= n"), "{e}");
        }
    }
}
