use std::collections::BTreeMap;

use rand::seq::index::sample;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{Alternatives, Strategy};

/// Probabilistic concurrency testing: the highest-priority runnable thread runs; at `depth - 1`
/// random points of the execution the running thread drops to the lowest priority.
pub(crate) struct Pct {
    rng: ChaCha8Rng,
    depth: usize,
    /// Priority of each thread seen in this execution; higher runs first.
    priorities: BTreeMap<usize, i64>,
    /// Scheduling points (1-based) at which the running thread is demoted.
    change_points: Vec<usize>,
    steps: usize,
    /// The longest execution seen so far, in scheduling points: where change points are drawn.
    longest: usize,
    /// The next demoted priority: below every initial one, and falling.
    lowest: i64,
}

impl Pct {
    pub(crate) fn new(seed: u64, depth: usize) -> Self {
        Pct {
            rng: ChaCha8Rng::seed_from_u64(seed),
            depth: depth.max(1),
            priorities: BTreeMap::new(),
            change_points: Vec::new(),
            steps: 0,
            longest: 0,
            lowest: 0,
        }
    }

    fn demote(&mut self, thread: usize) {
        self.lowest -= 1;
        self.priorities.insert(thread, self.lowest);
    }
}

impl Strategy for Pct {
    fn new_execution(&mut self) -> bool {
        self.longest = self.longest.max(self.steps);
        self.steps = 0;
        self.priorities.clear();
        self.lowest = 0;
        let points = self.depth - 1;
        // Before the first execution the length is unknown; a guess of a few dozen points keeps
        // the first executions useful.
        let span = self.longest.max(16);
        self.change_points = sample(&mut self.rng, span, points.min(span))
            .into_iter()
            .map(|i| i + 1)
            .collect();
        true
    }

    fn next(&mut self, runnable: &[usize], current: Option<usize>, yielding: bool) -> Option<usize> {
        for &t in runnable {
            if !self.priorities.contains_key(&t) {
                let p = self.rng.gen_range(1..=i64::from(u32::MAX));
                self.priorities.insert(t, p);
            }
        }
        self.steps += 1;
        if let Some(c) = current {
            if yielding || self.change_points.contains(&self.steps) {
                self.demote(c);
            }
        }
        runnable.iter().copied().max_by_key(|t| self.priorities[t])
    }

    /// Uniform, from the same generator: priorities order threads, and a surprise is not a thread.
    /// Drawing it does not move the change points, which count thread choices only.
    fn choose(&mut self, point: &Alternatives) -> Option<usize> {
        Some(self.rng.gen_range(0..point.count))
    }
}
