use super::{Alternatives, Strategy};

/// Follows scheduling bytes from a fuzzer: one byte per point where several threads can run.
///
/// The encoding is chosen so that libFuzzer's mutations and `cargo fuzz tmin` move towards simpler
/// schedules: byte 0 means "keep running the current thread", so an all-zero (or missing)
/// schedule is sequential and minimising bytes to 0 removes preemptions. A non-zero byte `b`
/// switches to one of the *other* runnable threads, `(b - 1) % others`. When the bytes run out,
/// every further point reads as 0, so the same bytes always give the same execution. A point with
/// alternatives reads one byte too, `b % count`: 0 again means "no surprise".
pub(crate) struct FuzzSchedule {
    bytes: Vec<u8>,
    position: usize,
    ran: bool,
    /// Reused list of the threads other than the current one.
    others: Vec<usize>,
}

impl FuzzSchedule {
    pub(crate) fn new(bytes: Vec<u8>) -> Self {
        FuzzSchedule {
            bytes,
            position: 0,
            ran: false,
            others: Vec::new(),
        }
    }
}

impl Strategy for FuzzSchedule {
    fn new_execution(&mut self) -> bool {
        // One input is one execution: rerunning it could only repeat it.
        !std::mem::replace(&mut self.ran, true)
    }

    fn next(&mut self, runnable: &[usize], current: Option<usize>, yielding: bool) -> Option<usize> {
        let byte = self.bytes.get(self.position).copied().unwrap_or(0);
        self.position += 1;
        let current = current.filter(|c| runnable.contains(c));
        if byte == 0 {
            return Some(match current {
                // A thread that yields is waiting for another one: keeping it would spin until the
                // step limit, so "keep going" moves on to the next thread in turn instead.
                Some(c) if yielding => runnable.iter().copied().find(|&t| t > c).unwrap_or(runnable[0]),
                Some(c) => c,
                None => runnable[0],
            });
        }
        self.others.clear();
        self.others
            .extend(runnable.iter().copied().filter(|&t| Some(t) != current));
        // `runnable` has at least two threads, so at least one is not the current one.
        Some(self.others[(usize::from(byte) - 1) % self.others.len()])
    }

    fn choose(&mut self, point: &Alternatives) -> Option<usize> {
        let byte = self.bytes.get(self.position).copied().unwrap_or(0);
        self.position += 1;
        Some(usize::from(byte) % point.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choices(bytes: &[u8], points: &[(&[usize], Option<usize>, bool)]) -> Vec<usize> {
        let mut s = FuzzSchedule::new(bytes.to_vec());
        assert!(s.new_execution());
        let picked = points.iter().map(|&(r, c, y)| s.next(r, c, y).unwrap()).collect();
        assert!(!s.new_execution(), "one execution per input");
        picked
    }

    #[test]
    fn zero_keeps_the_current_thread_and_missing_bytes_read_as_zero() {
        let points: &[(&[usize], Option<usize>, bool)] = &[(&[1, 2, 3], Some(2), false), (&[1, 3], Some(2), false)];
        assert_eq!(choices(&[0], points), vec![2, 1]);
        assert_eq!(choices(&[], points), vec![2, 1]);
    }

    #[test]
    fn a_non_zero_byte_picks_among_the_other_threads() {
        let at = |b: u8| choices(&[b], &[(&[1, 2, 3], Some(2), false)])[0];
        assert_eq!((at(1), at(2), at(3), at(4)), (1, 3, 1, 3));
        // With the current thread blocked, every runnable thread is an "other" one.
        assert_eq!(choices(&[2], &[(&[1, 3], Some(2), false)]), vec![3]);
    }

    #[test]
    fn a_yielding_thread_hands_over_in_turn() {
        assert_eq!(choices(&[0], &[(&[1, 2, 3], Some(2), true)]), vec![3]);
        assert_eq!(choices(&[0], &[(&[1, 2, 3], Some(3), true)]), vec![1]);
    }
}
