use super::{thread_options, Alternatives, Strategy};

/// One decision on the current path: the threads that could run (or a point's alternatives) and
/// which was chosen.
struct Frame {
    /// Candidates in exploration order: the current thread first (no preemption), then the rest;
    /// for alternatives, 0 (no surprise) first.
    options: Vec<usize>,
    /// Whether the options are a point's alternatives rather than threads.
    alternatives: bool,
    chosen: usize,
    /// Preemptions on the path before this point, and whether each option adds one.
    preemptions_before: usize,
    preempts: Vec<bool>,
}

/// Stateless depth-first search over interleavings, optionally bounded in preemptions
/// (Musuvathi and Qadeer's iterative context bounding).
///
/// A point's [`Alternatives`] are extra branches, explored after the unsurprising one. The bound
/// counts each surprise like a preemption: bound 0 explores no surprise, bound 1 one preemption or
/// one surprise. That keeps the bounded searches as small as before on code without surprises, and
/// lets the shrinker's search for the smallest bound drop the surprises a failure does not need.
pub(crate) struct Dfs {
    path: Vec<Frame>,
    depth: usize,
    bound: Option<usize>,
    started: bool,
    done: bool,
}

impl Dfs {
    pub(crate) fn new(bound: Option<usize>) -> Self {
        Dfs {
            path: Vec::new(),
            depth: 0,
            bound,
            started: false,
            done: false,
        }
    }

    fn allowed(&self, frame: &Frame, i: usize) -> bool {
        match self.bound {
            Some(b) => frame.preemptions_before + usize::from(frame.preempts[i]) <= b,
            None => true,
        }
    }

    /// Moves to the next unexplored path: the deepest point with an untried allowed option.
    fn backtrack(&mut self) -> bool {
        while let Some(mut frame) = self.path.pop() {
            let next = (frame.chosen + 1..frame.options.len()).find(|&i| self.allowed(&frame, i));
            if let Some(i) = next {
                frame.chosen = i;
                self.path.push(frame);
                return true;
            }
        }
        false
    }
}

impl Strategy for Dfs {
    fn new_execution(&mut self) -> bool {
        if self.done {
            return false;
        }
        if self.started && !self.backtrack() {
            self.done = true;
            return false;
        }
        self.started = true;
        self.depth = 0;
        true
    }

    fn next(&mut self, runnable: &[usize], current: Option<usize>, yielding: bool) -> Option<usize> {
        let choice = if self.depth < self.path.len() {
            let frame = &self.path[self.depth];
            // The program is deterministic, so the same prefix offers the same threads; if it
            // does not, follow the recorded choice where it can run and fall back otherwise.
            let wanted = frame.options[frame.chosen];
            if !frame.alternatives && runnable.contains(&wanted) {
                wanted
            } else {
                runnable[0]
            }
        } else {
            let preemptions_before = self.deviations();
            let (options, preempts) = thread_options(runnable, current, yielding);
            let mut frame = Frame {
                options,
                alternatives: false,
                chosen: 0,
                preemptions_before,
                preempts,
            };
            // The first option never preempts, so it is always allowed.
            frame.chosen = (0..frame.options.len()).find(|&i| self.allowed(&frame, i)).unwrap_or(0);
            let choice = frame.options[frame.chosen];
            self.path.push(frame);
            choice
        };
        self.depth += 1;
        Some(choice)
    }

    fn choose(&mut self, point: &Alternatives) -> Option<usize> {
        let choice = if self.depth < self.path.len() {
            let frame = &self.path[self.depth];
            let wanted = frame.options[frame.chosen];
            if frame.alternatives && wanted < point.count {
                wanted
            } else {
                0
            }
        } else {
            let frame = Frame {
                options: (0..point.count).collect(),
                alternatives: true,
                chosen: 0,
                preemptions_before: self.deviations(),
                preempts: (0..point.count).map(|k| k != 0).collect(),
            };
            self.path.push(frame);
            0
        };
        self.depth += 1;
        Some(choice)
    }

    fn exhausted(&self) -> bool {
        self.done
    }
}

impl Dfs {
    /// Preemptions and surprises on the path so far: what the bound limits.
    fn deviations(&self) -> usize {
        self.path
            .last()
            .map(|f| f.preemptions_before + usize::from(f.preempts[f.chosen]))
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two threads of `n` steps each: counts the schedules the search enumerates.
    fn count(n: usize, bound: Option<usize>) -> usize {
        let mut dfs = Dfs::new(bound);
        let mut schedules = 0;
        while dfs.new_execution() {
            schedules += 1;
            let mut left = [n, n];
            let mut current = None;
            while left.iter().any(|&l| l > 0) {
                let runnable: Vec<usize> = (0..2).filter(|&t| left[t] > 0).map(|t| t + 1).collect();
                let t = if runnable.len() == 1 {
                    runnable[0]
                } else {
                    dfs.next(&runnable, current, false).unwrap()
                };
                left[t - 1] -= 1;
                current = Some(t);
            }
        }
        schedules
    }

    #[test]
    fn unbounded_search_enumerates_every_interleaving() {
        // Interleavings of two sequences of length n: C(2n, n).
        assert_eq!(count(1, None), 2);
        assert_eq!(count(2, None), 6);
        assert_eq!(count(3, None), 20);
    }

    /// One thread choice, then a point with two alternatives, then another thread choice.
    fn count_with_alternatives(bound: Option<usize>) -> usize {
        let mut dfs = Dfs::new(bound);
        let mut schedules = 0;
        let point = Alternatives {
            kind: super::super::ChoiceKind::SpuriousWake,
            count: 2,
            thread: 1,
        };
        while dfs.new_execution() {
            schedules += 1;
            dfs.next(&[1, 2], None, false).unwrap();
            assert!(dfs.choose(&point).unwrap() < 2);
            dfs.next(&[1, 2], Some(1), false).unwrap();
        }
        schedules
    }

    #[test]
    fn alternatives_are_branches_and_count_against_the_bound() {
        // 2 first choices x 2 alternatives x 2 second choices.
        assert_eq!(count_with_alternatives(None), 8);
        // Bound 0: no surprise and no preemption of the thread that ran first: 2 schedules.
        assert_eq!(count_with_alternatives(Some(0)), 2);
        // Bound 1: one surprise or one preemption, not both: 2 x (1 + 1 + 1).
        assert_eq!(count_with_alternatives(Some(1)), 6);
    }

    #[test]
    fn preemption_bound_prunes() {
        // With no preemption, each thread runs to completion once started: 2 schedules.
        assert_eq!(count(3, Some(0)), 2);
        assert!(count(3, Some(1)) < count(3, None));
        assert_eq!(count(3, Some(5)), count(3, None));
    }
}
