use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{Alternatives, Strategy, Upcoming};

/// Selectively uniform random walk (Wang et al., ASPLOS 2025): the next thread is drawn with
/// probability proportional to the number of shared-object accesses it has left, estimated from the
/// previous execution of the same scenario. A uniform choice at each point (`Random`) favours the
/// interleavings where short threads finish early; weighting by what is left samples the
/// interleavings of the accesses uniformly, so a bug that needs one access placed anywhere among
/// many others is found in proportion to how many interleavings show it.
pub(crate) struct Surw {
    rng: ChaCha8Rng,
    weights: Vec<usize>,
}

impl Surw {
    pub(crate) fn new(seed: u64) -> Self {
        Surw {
            rng: ChaCha8Rng::seed_from_u64(seed),
            weights: Vec::new(),
        }
    }
}

impl Strategy for Surw {
    fn new_execution(&mut self) -> bool {
        true
    }

    fn wants_upcoming(&self) -> bool {
        true
    }

    fn upcoming(&mut self, upcoming: &Upcoming<'_>) {
        self.weights.clear();
        // A thread with nothing known left still runs to its end: at least one step.
        self.weights.extend(upcoming.remaining.iter().map(|&r| r.max(1)));
    }

    fn choose(&mut self, point: &Alternatives) -> Option<usize> {
        // The surprises std permits, drawn uniformly as `Random` does.
        Some(self.rng.gen_range(0..point.count))
    }

    fn next(&mut self, runnable: &[usize], _current: Option<usize>, _yielding: bool) -> Option<usize> {
        self.weights.resize(runnable.len(), 1);
        let total: usize = self.weights.iter().sum();
        let mut pick = self.rng.gen_range(0..total);
        let mut choice = runnable[runnable.len() - 1];
        for (i, &w) in self.weights.iter().enumerate() {
            if pick < w {
                choice = runnable[i];
                break;
            }
            pick -= w;
        }
        self.weights.clear();
        Some(choice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_are_drawn_in_proportion_to_what_they_have_left() {
        let mut surw = Surw::new(1);
        let mut counts = [0usize; 2];
        for _ in 0..4_000 {
            surw.upcoming(&Upcoming {
                accesses: &[None, None],
                remaining: &[3, 1],
            });
            let t = surw.next(&[1, 2], None, false).unwrap();
            counts[t - 1] += 1;
        }
        let share = counts[0] as f64 / 4_000.0;
        assert!((0.72..0.78).contains(&share), "{counts:?}");
    }
}
