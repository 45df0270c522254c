use super::{Alternatives, Choice, Strategy};

/// Follows a recorded schedule: one entry per point where the execution could go several ways
/// (a thread choice where several threads could run, or one of a point's alternatives).
pub(crate) struct Replay {
    choices: Vec<Choice>,
    position: usize,
    ran: bool,
    /// Set when the program offered a choice the recording does not fit.
    diverged: Option<String>,
    /// Follow the recording where it fits and fall back where it does not, instead of stopping:
    /// how shrinking carries a failing schedule over to a smaller scenario.
    lenient: bool,
}

impl Replay {
    pub(crate) fn new(choices: Vec<Choice>) -> Self {
        Replay {
            choices,
            position: 0,
            ran: false,
            diverged: None,
            lenient: false,
        }
    }

    /// A replay that never diverges: where the recorded thread cannot run, or the recording has
    /// ended, the current thread keeps running (or the lowest-numbered one that can); where a
    /// recorded alternative does not fit, nothing surprising happens (alternative 0).
    pub(crate) fn lenient(choices: Vec<Choice>) -> Self {
        Replay {
            lenient: true,
            ..Replay::new(choices)
        }
    }

    fn stop(&mut self, why: String) -> Option<usize> {
        self.diverged = Some(why);
        None
    }
}

impl Strategy for Replay {
    fn new_execution(&mut self) -> bool {
        !std::mem::replace(&mut self.ran, true)
    }

    fn next(&mut self, runnable: &[usize], current: Option<usize>, _yielding: bool) -> Option<usize> {
        let wanted = self.choices.get(self.position).copied();
        if self.lenient {
            self.position += 1;
            return match wanted {
                Some(Choice::Thread(w)) if runnable.contains(&w) => Some(w),
                _ => current.filter(|c| runnable.contains(c)).or(runnable.first().copied()),
            };
        }
        let at = self.position + 1;
        match wanted {
            None => self.stop(format!(
                "the schedule ends after {} choices, but the execution asked for more",
                self.choices.len()
            )),
            Some(Choice::Thread(w)) if runnable.contains(&w) => {
                self.position += 1;
                Some(w)
            }
            Some(Choice::Thread(w)) => self.stop(format!(
                "at choice {at} the schedule runs thread {w}, but only {runnable:?} could run"
            )),
            Some(Choice::Alternative(_)) => self.stop(format!(
                "at choice {at} the schedule has a surprise (a spurious wakeup or weak-CAS failure), but the \
                 execution asked which thread runs"
            )),
        }
    }

    fn choose(&mut self, point: &Alternatives) -> Option<usize> {
        let wanted = self.choices.get(self.position).copied();
        if self.lenient {
            self.position += 1;
            return Some(match wanted {
                Some(Choice::Alternative(k)) if k < point.count => k,
                _ => 0,
            });
        }
        let at = self.position + 1;
        match wanted {
            Some(Choice::Alternative(k)) if k < point.count => {
                self.position += 1;
                Some(k)
            }
            None => self.stop(format!(
                "the schedule ends after {} choices, but the execution asked for more",
                self.choices.len()
            )),
            _ => self.stop(format!(
                "at choice {at} the execution reached a {:?} point, which the schedule does not have there",
                point.kind
            )),
        }
    }

    fn divergence(&self) -> Option<String> {
        if self.lenient {
            return None;
        }
        if self.diverged.is_some() {
            return self.diverged.clone();
        }
        let left = self.choices.len().saturating_sub(self.position);
        (left > 0).then(|| format!("the execution ended with {left} choices of the schedule unused"))
    }
}
