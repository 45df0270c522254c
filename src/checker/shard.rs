//! `CROSSCHECK_SHARD=k/n`: the k-th of n disjoint parts of one check, so that n CI jobs together
//! run exactly the schedules of the whole check.
//!
//! A check's generated scenarios are split round-robin (scenario `i` belongs to part
//! `i % n + 1`). Each scenario keeps the budget share and the scheduler seed it has in the whole
//! check, so its schedules, and the failure it finds, are the same in its shard. The one
//! difference: in the whole check, a scenario whose exhaustive search ends early passes its unused
//! budget on to the next scenarios; a shard cannot know what other shards left over, so shards
//! never pass budget on (with exhaustive schedulers they may together run fewer schedules than the
//! whole, never more). A pinned scenario, a replay, and the loom and stress backends are not split:
//! shard 1 runs them, the other shards skip them with a note.

use std::fmt;

use crate::plan::Plan;

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

    /// Whether this shard runs the things that are not split (pinned scenarios, other backends).
    pub(crate) fn runs_unsplit(&self) -> bool {
        self.k == 1
    }

    /// This shard's plans, each with its share of `budget` in the whole check and its index there
    /// (which seeds its scheduler).
    pub(crate) fn split<Op>(&self, plans: Vec<Plan<Op>>, budget: usize) -> (Vec<Plan<Op>>, Vec<usize>, Vec<usize>) {
        let shares = whole_shares(budget, plans.len());
        let mut mine = (Vec::new(), Vec::new(), Vec::new());
        for (i, plan) in plans.into_iter().enumerate() {
            if i % self.n == self.k - 1 {
                mine.0.push(plan);
                mine.1.push(shares[i]);
                mine.2.push(i);
            }
        }
        mine
    }
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
    fn bad_settings_say_what_to_write() {
        assert_eq!(crate::env::parse_shard(" 2/4 "), Ok((2, 4)));
        for bad in ["0/4", "5/4", "2", "a/b", "2/"] {
            let e = crate::env::parse_shard(bad).unwrap_err();
            assert!(e.contains("give k/n with 1 <= k <= n"), "{e}");
        }
    }
}
