use super::Strategy;

/// Follows a recorded list of choices, one per scheduling point with several runnable threads.
pub(crate) struct Replay {
    choices: Vec<usize>,
    position: usize,
    ran: bool,
    /// Set when the program offered a choice the recording does not fit.
    diverged: Option<String>,
}

impl Replay {
    pub(crate) fn new(choices: Vec<usize>) -> Self {
        Replay {
            choices,
            position: 0,
            ran: false,
            diverged: None,
        }
    }
}

impl Strategy for Replay {
    fn new_execution(&mut self) -> bool {
        !std::mem::replace(&mut self.ran, true)
    }

    fn next(&mut self, runnable: &[usize], _current: Option<usize>, _yielding: bool) -> Option<usize> {
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
        if self.diverged.is_some() {
            return self.diverged.clone();
        }
        let left = self.choices.len().saturating_sub(self.position);
        (left > 0).then(|| format!("the execution ended with {left} choices of the schedule unused"))
    }
}
