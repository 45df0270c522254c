use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{Alternatives, Strategy, Upcoming};
use crate::record::Access;

/// Partial order sampling (Yuan, Yang and Gu, CAV 2018): every thread's next event carries a random
/// priority and the highest runs. Once an event has run, the thread that ran draws a fresh priority
/// for its next event, and so does every thread whose next event races with the one that ran (same
/// object, not both reads). A thread that lost a race is thereby as likely to win the next one as
/// any other, instead of staying behind as under a fixed priority: the sampled partial orders of
/// racing events are close to uniform, which is what finds ordering bugs among many threads.
pub(crate) struct Pos {
    rng: ChaCha8Rng,
    /// By task id; 0 means "no priority drawn yet" (draws are never 0).
    priority: Vec<u64>,
    /// The thread chosen at the previous point and the access it was about to make.
    last: Option<(usize, Option<Access>)>,
    /// The current point's upcoming accesses, aligned with the runnable threads.
    accesses: Vec<Option<Access>>,
}

impl Pos {
    pub(crate) fn new(seed: u64) -> Self {
        Pos {
            rng: ChaCha8Rng::seed_from_u64(seed),
            priority: Vec::new(),
            last: None,
            accesses: Vec::new(),
        }
    }

    fn draw(&mut self) -> u64 {
        self.rng.gen_range(1..=u64::MAX)
    }
}

impl Strategy for Pos {
    fn new_execution(&mut self) -> bool {
        self.priority.clear();
        self.last = None;
        true
    }

    fn wants_upcoming(&self) -> bool {
        true
    }

    fn upcoming(&mut self, upcoming: &Upcoming<'_>) {
        self.accesses.clear();
        self.accesses.extend_from_slice(upcoming.accesses);
    }

    fn choose(&mut self, point: &Alternatives) -> Option<usize> {
        // The surprises std permits, drawn uniformly as `Random` does.
        Some(self.rng.gen_range(0..point.count))
    }

    fn next(&mut self, runnable: &[usize], _current: Option<usize>, _yielding: bool) -> Option<usize> {
        self.next_or(runnable, None)
    }
}

impl Pos {
    /// Keeps the priorities up to date for this point and picks `forced` if given (a strategy that
    /// steers some points itself and lets POS pick the rest), the highest priority otherwise.
    pub(crate) fn next_or(&mut self, runnable: &[usize], forced: Option<usize>) -> Option<usize> {
        let top = runnable.iter().copied().max().unwrap_or(0);
        if self.priority.len() <= top {
            self.priority.resize(top + 1, 0);
        }
        // Without announcements (a driver that gives none), no access is known and POS degrades to
        // fresh priorities for the thread that ran only.
        self.accesses.resize(runnable.len(), None);
        if let Some((ran, access)) = self.last.take() {
            if ran < self.priority.len() {
                self.priority[ran] = self.draw();
            }
            if let Some(a) = access {
                for (&t, next) in runnable.iter().zip(&self.accesses) {
                    if t != ran && next.is_some_and(|b| b.conflicts(&a)) {
                        self.priority[t] = self.rng.gen_range(1..=u64::MAX);
                    }
                }
            }
        }
        for &t in runnable {
            if self.priority[t] == 0 {
                self.priority[t] = self.draw();
            }
        }
        let (i, &choice) = match forced.and_then(|f| runnable.iter().enumerate().find(|(_, &t)| t == f)) {
            Some(found) => found,
            None => runnable.iter().enumerate().max_by_key(|(_, &t)| self.priority[t])?,
        };
        self.last = Some((choice, self.accesses[i]));
        self.accesses.clear();
        Some(choice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::AccessKind;

    #[test]
    fn a_thread_racing_with_the_one_that_ran_draws_again() {
        let write = Some(Access {
            obj: 0,
            kind: AccessKind::Write,
        });
        let other = Some(Access {
            obj: 1,
            kind: AccessKind::Write,
        });
        let mut pos = Pos::new(7);
        assert!(pos.new_execution());
        pos.upcoming(&Upcoming {
            accesses: &[write, write, other],
            remaining: &[1, 1, 1],
        });
        let first = pos.next(&[1, 2, 3], None, false).unwrap();
        let before = pos.priority.clone();
        pos.upcoming(&Upcoming {
            accesses: &[write, write, other],
            remaining: &[1, 1, 1],
        });
        pos.next(&[1, 2, 3], Some(first), false);
        for t in [1, 2, 3] {
            let redrawn = pos.priority[t] != before[t];
            // The thread that ran draws again, and so does each thread whose next access conflicts
            // with the access it made (threads 1 and 2 both write object 0; thread 3 writes object 1).
            let races = t == first || (t != 3 && first != 3);
            assert_eq!(redrawn, races, "thread {t} after {first} ran");
        }
    }
}
