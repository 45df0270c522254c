use super::Strategy;

/// Follows a recorded list of choices, one per scheduling point with several runnable threads.
pub(crate) struct Replay {
    choices: Vec<usize>,
    position: usize,
    ran: bool,
    /// Set when the program offered a choice the recording does not fit.
    diverged: Option<String>,
    /// Follow the recording where it fits and fall back where it does not, instead of stopping:
    /// how shrinking carries a failing schedule over to a smaller scenario.
    lenient: bool,
}

impl Replay {
    pub(crate) fn new(choices: Vec<usize>) -> Self {
        Replay {
            choices,
            position: 0,
            ran: false,
            diverged: None,
            lenient: false,
        }
    }

    /// A replay that never diverges: where the recorded thread cannot run, or the recording has
    /// ended, the current thread keeps running (or the lowest-numbered one that can).
    pub(crate) fn lenient(choices: Vec<usize>) -> Self {
        Replay {
            lenient: true,
            ..Replay::new(choices)
        }
    }
}

impl Strategy for Replay {
    fn new_execution(&mut self) -> bool {
        !std::mem::replace(&mut self.ran, true)
    }

    fn next(&mut self, runnable: &[usize], current: Option<usize>, _yielding: bool) -> Option<usize> {
        if self.lenient {
            let wanted = self.choices.get(self.position).copied();
            self.position += 1;
            return match wanted.filter(|w| runnable.contains(w)) {
                Some(w) => Some(w),
                None => current.filter(|c| runnable.contains(c)).or(runnable.first().copied()),
            };
        }
        let Some(&wanted) = self.choices.get(self.position) else {
            self.diverged = Some(format!(
                "the schedule ends after {} choices, but the execution asked for more",
                self.choices.len()
            ));
            return None;
        };
        if !runnable.contains(&wanted) {
            self.diverged = Some(format!(
                "at choice {} the schedule runs thread {wanted}, but only {:?} could run",
                self.position + 1,
                runnable
            ));
            return None;
        }
        self.position += 1;
        Some(wanted)
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
