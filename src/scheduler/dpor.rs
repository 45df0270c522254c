//! Exhaustive search with source-set dynamic partial-order reduction and sleep sets (Abdulla,
//! Aronis, Jonsson and Sagonas, POPL 2014), made sound for linearizability.
//!
//! Two schedules are equivalent when one is the other with adjacent independent steps swapped;
//! the search runs at least one schedule of every equivalence class instead of every schedule.
//! After each execution it looks for races (two dependent steps of different threads with nothing
//! ordering them in between) and, at the point before the first, schedules a thread that starts
//! the reversed order (a member of the source set). Sleep sets keep it from running again, below a
//! point, a thread whose step there was already explored and is independent of what ran since.
//!
//! # Which steps are dependent
//!
//! For a data race checker, steps are dependent when their accesses conflict (same object, not
//! both reads; lock operations on the same lock). That is not enough for linearizability: the
//! verdict also depends on the real-time order of operations. A counter whose `Inc` writes a
//! per-thread slot and whose `Get` reads only its own slot has no conflicting accesses, yet
//! "T1's `Inc` returns, then T2's `Get` starts and returns 0" is a bug that only that order shows.
//! So a step that contains an operation's response and a step of another thread that contains an
//! invocation are dependent too, unless the two operations are in different `Model::partition`
//! groups, which are checked separately so that their order never matters.
//!
//! Overlapping orders never need a class of their own: a history whose operations overlap allows
//! every linearization that a more sequential one allows. The record therefore places each
//! invocation at the operation's first shared access (see `runtime::steps`): the thread's local
//! work before it is independent of everything, so the class contains the schedule where it runs
//! just before that access, whose history is the strictest of the class. With that, two threads
//! incrementing one counter five times each have C(10, 5) = 252 classes, increments of two counters
//! in different partitions have one, and three threads of two increments have 90.
//!
//! Condition variables are not modelled: which waiter a notification wakes, and when a wait lets
//! go of its lock, are not in the footprints. A scenario whose execution waits on or notifies one
//! falls back to every interleaving (the unreduced search) from then on.
//!
//! # The bounded search
//!
//! `Scheduler::Bounded` is the same search limited to schedules with at most `bound` preemptions
//! (and surprises), after Coons, Musuvathi and McKinley's bounded partial-order reduction
//! (OOPSLA 2013). Two things change. Each race is also reversed at its conservative branch point:
//! the frame where the run of steps of the first racing thread began, where the other thread can
//! take over without a preemption of its own. The unbounded search reaches the reversed order
//! through schedules the bound cuts off; started there, the other thread reaches it with the
//! preemptions it has left (and when the bound forbids it even there, at the latest earlier frame
//! that allows it). And sleep sets are not used: a thread asleep at a point
//! may be the only one whose schedule fits the bound below it, so putting it to sleep could lose a
//! class the bound allows. What remains is the source-set reduction, which prunes most of the
//! interleavings on its own; `tests/por.rs` checks against the unreduced bounded search that the
//! verdicts agree.
//!
//! # Choice points
//!
//! The surprises std permits (a spurious wakeup, a weak-CAS failure, an early return from `park`)
//! are decisions of the running thread, not of which thread runs: each is a frame of its own on
//! the path whose every alternative is explored, whatever the races say. A thread's choice
//! changes only what that thread does next, so the race analysis of each branch stays as it is.
//! What it does change is the step that made it: a sleep set remembers a thread by the step it
//! took, and the same thread under the other alternative takes another step. A step that met a
//! choice point therefore never puts its thread to sleep (see `Footprint::chose`): a little less
//! reduction, never a lost class. Finite because `runtime::choose` never offers a thread two
//! surprises of one kind in a row.

use super::{thread_options, Alternatives, Strategy};
use crate::record::Footprint;

/// One point on the current path where several threads could run.
struct Frame {
    /// The threads that could run, the current one first.
    options: Vec<usize>,
    chosen: usize,
    /// Threads to explore from here (the source set found so far).
    backtrack: Vec<usize>,
    /// Threads explored from here, with the step each took.
    done: Vec<(usize, Footprint)>,
    /// Threads asleep on arrival, with their pending steps.
    sleep: Vec<(usize, Footprint)>,
    /// The step the chosen thread took in the execution running now.
    step: Option<Footprint>,
    /// A choice point's frame: `options` are its alternatives (all explored), and `sleep` is the
    /// sleep set on arrival, restored when the search comes back for the next alternative.
    choice: bool,
    /// Preemptions and surprises on the path before this point, and whether each option adds one
    /// (what the bounded search limits).
    preemptions_before: usize,
    preempts: Vec<bool>,
}

impl Frame {
    /// Whether taking `option` here keeps the path within `bound`.
    fn allowed(&self, option: usize, bound: Option<usize>) -> bool {
        let Some(bound) = bound else { return true };
        let costs = self
            .options
            .iter()
            .position(|&o| o == option)
            .is_some_and(|i| self.preempts[i]);
        self.preemptions_before + usize::from(costs) <= bound
    }

    /// Preemptions and surprises on the path up to and including this point's choice.
    fn deviations(&self) -> usize {
        let i = self.options.iter().position(|&o| o == self.chosen);
        self.preemptions_before + usize::from(i.is_some_and(|i| self.preempts[i]))
    }
}

/// One step of the execution running now, and the frame it was chosen at (`None`: it was the only
/// thread that could run).
struct Step {
    footprint: Footprint,
    frame: Option<usize>,
}

/// The reduced depth-first search.
pub(crate) struct Dpor {
    path: Vec<Frame>,
    /// Points decided in this execution so far.
    depth: usize,
    /// The frame the search returned to: where this execution's new choice is.
    resume: usize,
    trace: Vec<Step>,
    /// The frame whose chosen step is the next to end.
    pending: Option<usize>,
    sleep: Vec<(usize, Footprint)>,
    /// This execution reached a point where every thread was asleep: it repeats a class already
    /// explored, and its races are not analysed.
    blocked: bool,
    started: bool,
    done: bool,
    /// The scenario uses a condition variable: no reduction (see `Footprint::opaque`).
    full: bool,
    /// The preemption bound of `Scheduler::Bounded` (see "The bounded search" above).
    bound: Option<usize>,
}

impl Dpor {
    /// The search, bounded to `bound` preemptions and surprises per schedule if given.
    pub(crate) fn new(bound: Option<usize>) -> Self {
        Dpor {
            path: Vec::new(),
            depth: 0,
            resume: 0,
            trace: Vec::new(),
            pending: None,
            sleep: Vec::new(),
            blocked: false,
            started: false,
            done: false,
            full: false,
            bound,
        }
    }

    /// Preemptions and surprises on the path so far.
    fn deviations(&self) -> usize {
        self.path[..self.depth].last().map_or(0, Frame::deviations)
    }

    /// Bounded search: schedules `thread` at frame `g` (where the run of the racing step began), or
    /// failing that at the latest earlier frame where the bound lets it run.
    fn conservative(&mut self, g: usize, thread: usize) {
        let bound = self.bound;
        for frame in self.path[..=g].iter_mut().rev() {
            if frame.choice || !frame.options.contains(&thread) || !frame.allowed(thread, bound) {
                continue;
            }
            if !frame.backtrack.contains(&thread) {
                frame.backtrack.push(thread);
            }
            return;
        }
    }

    /// Finds the races of the execution that ended and adds their reversals to the source sets.
    // Steps are compared by index across parallel arrays (trace, clocks, positions).
    #[allow(clippy::needless_range_loop)]
    fn analyse(&mut self) {
        if self.full || self.trace.iter().any(|s| s.footprint.opaque) {
            // A condition variable: fall back to every interleaving from here on.
            self.full = true;
            for frame in &mut self.path {
                for &q in &frame.options {
                    if !frame.backtrack.contains(&q) {
                        frame.backtrack.push(q);
                    }
                }
                frame.sleep.clear();
            }
            return;
        }
        let n = self.trace.len();
        let threads = self.trace.iter().map(|s| s.footprint.thread).max().map_or(0, |t| t + 1);
        // Vector clocks of the happens-before order the dependent steps induce.
        let mut clocks: Vec<Vec<u32>> = Vec::with_capacity(n);
        let mut position = vec![0u32; n];
        let mut last = vec![None::<usize>; threads];
        let mut previous = vec![None::<usize>; n];
        for j in 0..n {
            let t = self.trace[j].footprint.thread;
            let mut clock = match last[t] {
                Some(p) => clocks[p].clone(),
                None => vec![0; threads],
            };
            for i in 0..j {
                let (a, b) = (&self.trace[i].footprint, &self.trace[j].footprint);
                if a.thread != t && a.depends(b) {
                    for (c, o) in clock.iter_mut().zip(&clocks[i]) {
                        *c = (*c).max(*o);
                    }
                }
            }
            clock[t] += 1;
            position[j] = clock[t];
            previous[j] = last[t];
            last[t] = Some(j);
            clocks.push(clock);
        }
        let thread = |i: usize| self.trace[i].footprint.thread;
        let before = |i: usize, k: usize| i == k || (i < k && clocks[k][thread(i)] >= position[i]);
        let mut conservative = Vec::new();
        for j in 0..n {
            let t = thread(j);
            let candidates: Vec<usize> = (0..j)
                .filter(|&i| {
                    thread(i) != t
                        && self.trace[i].footprint.depends(&self.trace[j].footprint)
                        && !previous[j].is_some_and(|p| before(i, p))
                })
                .collect();
            // Candidates whose order with j cannot be reversed at their frame (no thread that
            // starts the reversal can run there: a lock's release and the acquisition that waited
            // for it, say).
            let mut irreversible: Vec<usize> = Vec::new();
            for &i in candidates.iter().rev() {
                // Only a direct race: one ordered before another candidate is reversed through it,
                // unless that one cannot be reversed (then i's own reversal is the way there: the
                // second of two acquisitions of a lock, reached through the first's release).
                if candidates
                    .iter()
                    .any(|&k| k > i && before(i, k) && !irreversible.contains(&k))
                {
                    continue;
                }
                if self.bound.is_some() {
                    // Coons et al.'s conservative branch point: where the run of steps of i's
                    // thread that i belongs to began, another thread can take over without a
                    // preemption of its own, so the reversal stays within the bound even when the
                    // preemption at i would not.
                    let mut start = i;
                    while start > 0 && thread(start - 1) == thread(i) {
                        start -= 1;
                    }
                    if let Some(g) = (0..=start).rev().find_map(|k| self.trace[k].frame) {
                        conservative.push((g, t));
                    }
                }
                let Some(f) = self.trace[i].frame else {
                    irreversible.push(i);
                    continue;
                };
                // The steps after i that do not depend on it, then j: a thread whose first step
                // there has nothing before it can start the reversed order.
                let v: Vec<usize> = (i + 1..j).filter(|&k| !before(i, k)).chain([j]).collect();
                let mut initials: Vec<usize> = Vec::new();
                for (x, &k) in v.iter().enumerate() {
                    if !v[..x].iter().any(|&m| before(m, k)) && !initials.contains(&thread(k)) {
                        initials.push(thread(k));
                    }
                }
                let bound = self.bound;
                let frame = &mut self.path[f];
                initials.retain(|q| frame.options.contains(q));
                if initials.is_empty() {
                    irreversible.push(i);
                    continue;
                }
                let (within, beyond): (Vec<usize>, Vec<usize>) =
                    initials.iter().partition(|&&q| frame.allowed(q, bound));
                if !within.is_empty() {
                    if !within.iter().any(|q| frame.backtrack.contains(q)) {
                        frame.backtrack.push(if within.contains(&t) { t } else { within[0] });
                    }
                } else if let Some(&q) = beyond.first() {
                    if f > 0 {
                        conservative.push((f - 1, if beyond.contains(&t) { t } else { q }));
                    }
                }
            }
        }
        for (f, q) in conservative {
            self.conservative(f, q);
        }
    }

    /// Moves to the deepest frame with a thread left to explore.
    fn backtrack(&mut self) -> bool {
        while let Some(frame) = self.path.last_mut() {
            let chosen = frame.chosen;
            let step = frame.step.take().unwrap_or_else(|| Footprint {
                thread: chosen,
                ..Footprint::default()
            });
            if !frame.done.iter().any(|(t, _)| *t == chosen) {
                frame.done.push((chosen, step));
            }
            let bound = self.bound;
            let next = frame.backtrack.iter().copied().find(|&q| {
                !frame.done.iter().any(|(t, _)| *t == q)
                    && (frame.choice || !frame.sleep.iter().any(|(t, _)| *t == q))
                    && frame.allowed(q, bound)
            });
            if let Some(q) = next {
                frame.chosen = q;
                self.resume = self.path.len() - 1;
                return true;
            }
            self.path.pop();
        }
        false
    }
}

impl Strategy for Dpor {
    fn new_execution(&mut self) -> bool {
        if self.done {
            return false;
        }
        if self.started {
            if !self.blocked {
                self.analyse();
            }
            if !self.backtrack() {
                self.done = true;
                return false;
            }
        }
        self.started = true;
        self.depth = 0;
        self.trace.clear();
        self.pending = None;
        self.sleep.clear();
        self.blocked = false;
        true
    }

    fn next(&mut self, runnable: &[usize], current: Option<usize>, yielding: bool) -> Option<usize> {
        let f = self.depth;
        let choice = if f < self.path.len() {
            if f == self.resume && !self.full && self.bound.is_none() {
                let frame = &self.path[f];
                self.sleep = frame.sleep.clone();
                self.sleep.extend(
                    frame
                        .done
                        .iter()
                        .filter(|(t, step)| *t != frame.chosen && !step.chose)
                        .cloned(),
                );
            }
            // The program is deterministic, so the same prefix offers the same threads; if it
            // does not, follow the recorded choice where it can run and fall back otherwise.
            let wanted = self.path[f].chosen;
            if runnable.contains(&wanted) {
                wanted
            } else {
                runnable[0]
            }
        } else {
            let (options, preempts) = thread_options(runnable, current, yielding);
            let mut frame = Frame {
                options,
                chosen: 0,
                backtrack: Vec::new(),
                done: Vec::new(),
                sleep: self.sleep.clone(),
                step: None,
                choice: false,
                preemptions_before: self.deviations(),
                preempts,
            };
            // The first option never preempts, so it is always within the bound.
            let awake = frame
                .options
                .iter()
                .copied()
                .find(|&q| !self.sleep.iter().any(|(t, _)| *t == q) && frame.allowed(q, self.bound));
            let chosen = awake.unwrap_or_else(|| {
                self.blocked = true;
                frame.options[0]
            });
            frame.chosen = chosen;
            frame.backtrack.push(chosen);
            self.path.push(frame);
            chosen
        };
        self.pending = Some(f);
        self.depth += 1;
        Some(choice)
    }

    fn exhausted(&self) -> bool {
        self.done
    }

    fn choose(&mut self, point: &Alternatives) -> Option<usize> {
        let f = self.depth;
        let alternative = if f < self.path.len() {
            let frame = &self.path[f];
            if f == self.resume && !self.full {
                self.sleep = frame.sleep.clone();
            }
            if frame.choice && frame.chosen < point.count {
                frame.chosen
            } else {
                0
            }
        } else {
            self.path.push(Frame {
                options: (0..point.count).collect(),
                chosen: 0,
                backtrack: (0..point.count).collect(),
                done: Vec::new(),
                sleep: self.sleep.clone(),
                step: None,
                choice: true,
                preemptions_before: self.deviations(),
                preempts: (0..point.count).map(|k| k != 0).collect(),
            });
            0
        };
        self.depth += 1;
        Some(alternative)
    }

    fn wants_steps(&self) -> bool {
        true
    }

    fn stepped(&mut self, step: &Footprint) {
        let frame = self.pending.take();
        if let Some(f) = frame {
            if f >= self.resume {
                self.path[f].step = Some(step.clone());
            }
        }
        if self.full {
            self.sleep.clear();
        }
        self.sleep
            .retain(|(q, pending)| *q != step.thread && !pending.depends(step));
        self.trace.push(Step {
            footprint: step.clone(),
            frame,
        });
    }
}
