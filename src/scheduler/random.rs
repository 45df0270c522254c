use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{Alternatives, Strategy};

/// Uniformly random choice at every scheduling point.
pub(crate) struct Random {
    rng: ChaCha8Rng,
}

impl Random {
    pub(crate) fn new(seed: u64) -> Self {
        Random {
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }
}

impl Strategy for Random {
    fn new_execution(&mut self) -> bool {
        true
    }

    fn next(&mut self, runnable: &[usize], _current: Option<usize>, _yielding: bool) -> Option<usize> {
        self.next_index(runnable.len()).map(|i| runnable[i])
    }

    fn next_index(&mut self, count: usize) -> Option<usize> {
        Some(self.rng.gen_range(0..count))
    }

    fn choose(&mut self, point: &Alternatives) -> Option<usize> {
        Some(self.rng.gen_range(0..point.count))
    }
}
