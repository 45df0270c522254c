//! What the driver does at one scheduling point: counts it, notes who sits it out and who waits
//! for a lock, stops a stalled execution, hands the step that ended to the strategy, asks the
//! strategy (unless one thread must run), and records the decision. A child of the driver's module,
//! so that it reads the driver's state directly.

use super::guarded::Guarded;
use super::State;
use crate::record::{Event, EventKind, Footprint};
use crate::resource::Resource;
use crate::runtime::{self, Abort, ExecutionRecord};
use crate::scheduler::{is_preemption, preempts, Choice, Strategy, Upcoming};

impl<R: Resource> State<R> {
    /// Picks the task that runs next. Costs the strategy's decision plus a copy of the runnable
    /// ids, and not even that at the many points where nothing is chosen (one task can run, or the
    /// harness is spawning): those are most points of a wide scenario.
    pub(super) fn next_task(&mut self, runnable: &[usize], current: Option<usize>, yielding: bool) -> Option<usize> {
        let mut ids = std::mem::take(&mut self.ids);
        ids.clear();
        let mut decided = None;
        if !self.strategy.as_ref().is_some_and(|s| s.wants_upcoming()) {
            // The whole point in one visit to the record (strategies never touch it).
            decided = runtime::with_record(|rec| self.decide_in(rec, runnable, &mut ids, current, yielding));
        }
        let choice = decided.unwrap_or_else(|| self.decide(runnable, &mut ids, current, yielding));
        self.ids = ids;
        choice
    }

    /// [`Self::next_task`] for a strategy that looks at upcoming accesses (or with no record), with
    /// `ids` an empty buffer to list the threads that take part in the decision, where the list is
    /// needed. Out of line, so that the common path stays small in the instruction cache.
    #[inline(never)]
    fn decide(
        &mut self,
        runnable: &[usize],
        ids: &mut Vec<usize>,
        current: Option<usize>,
        yielding: bool,
    ) -> Option<usize> {
        let all = || runnable.iter().copied();
        let (spawning, mut listed) = self.begin_step(runnable, ids, current)?;
        if !listed && self.guard.wants_ids() {
            // The nondeterminism check compares which threads could run at each point.
            ids.extend(all());
            listed = true;
        }
        let forced = if listed {
            forced(ids.iter().copied(), spawning)
        } else {
            forced(all(), spawning)
        };
        let (choice, preempted) = match forced {
            Some(choice) => (choice, false),
            None => {
                if !listed {
                    ids.extend(all());
                }
                let choice = self.choose(ids, current, yielding)?;
                (choice, is_preemption(ids, current, yielding, choice))
            }
        };
        self.end_step(ids, choice, current, forced.is_none(), preempted);
        Some(choice)
    }

    /// [`Self::decide`] for a strategy that does not look at upcoming accesses, with the record
    /// borrowed once for the whole point: what [`Self::begin_step`], [`Self::choose`] and
    /// [`Self::end_step`] do, in the same order. `None` if the execution must stop.
    fn decide_in(
        &mut self,
        rec: &mut ExecutionRecord,
        runnable: &[usize],
        ids: &mut Vec<usize>,
        current: Option<usize>,
        yielding: bool,
    ) -> Option<usize> {
        let all = || runnable.iter().copied();
        let mut listed = runtime::sit_out_where_needed(rec, all(), ids, current);
        if rec.abort.is_some() {
            return None;
        }
        rec.steps += 1;
        note_blocked(rec, runnable, listed.then_some(&ids[..]));
        if let Some(abort) = runtime::livelock::stalled(rec, self.settings.max_steps, self.settings.livelock_steps) {
            rec.abort = Some(abort);
            return None;
        }
        if let Some(step) = rec.step.take() {
            deliver(&mut self.strategy, &self.groups, step);
        }
        if !listed && self.guard.wants_ids() {
            ids.extend(all());
            listed = true;
        }
        let forced = if listed {
            forced(ids.iter().copied(), rec.spawning)
        } else {
            forced(all(), rec.spawning)
        };
        let (choice, preempted) = match forced {
            Some(choice) => (choice, false),
            None => {
                let strategy = self.strategy.as_mut().expect("a plan has a strategy");
                // A uniform pick needs only the count: the runnable threads are not listed.
                let picked = if listed {
                    None
                } else {
                    strategy.next_index(runnable.len())
                };
                if let Some(i) = picked {
                    let choice = runnable[i];
                    (choice, preempts(current, yielding, choice, |c| runs(runnable, c)))
                } else {
                    if !listed {
                        ids.extend(all());
                    }
                    let Some(choice) = strategy.next(ids, current, yielding) else {
                        rec.abort = Some(diverged(strategy.as_ref()));
                        return None;
                    };
                    (choice, is_preemption(ids, current, yielding, choice))
                }
            }
        };
        note_decision(&mut self.guard, rec, ids, choice, current, forced.is_none(), preempted);
        Some(choice)
    }

    /// Counts the scheduling point, notes which threads sit it out (see [`runtime::sit_out`]) and
    /// which wait blocked for a lock, ends the execution if it stalled, and hands the step that
    /// ended to the strategy. `None` if the execution must stop, else whether the harness is
    /// spawning its threads, and whether `ids` lists the threads that take part in the decision
    /// (else all of `runnable` do).
    fn begin_step(&mut self, runnable: &[usize], ids: &mut Vec<usize>, current: Option<usize>) -> Option<(bool, bool)> {
        let (max_steps, livelock_steps) = (self.settings.max_steps, self.settings.livelock_steps);
        let (strategy, groups) = (&mut self.strategy, &self.groups);
        // The step that ended goes to the strategy from inside the record's borrow (strategies never
        // touch the record): a footprint is not moved out and back at every point.
        runtime::with_record(|rec| {
            let all = runnable.iter().copied();
            let listed = runtime::sit_out_where_needed(rec, all, ids, current);
            if rec.abort.is_some() {
                return None;
            }
            rec.steps += 1;
            note_blocked(rec, runnable, listed.then_some(&ids[..]));
            if let Some(abort) = runtime::livelock::stalled(rec, max_steps, livelock_steps) {
                rec.abort = Some(abort);
                return None;
            }
            if let Some(step) = rec.step.take() {
                deliver(strategy, groups, step);
            }
            Some((rec.spawning, listed))
        })
        .unwrap_or(Some((false, false)))
    }

    /// Asks the strategy which of `ids` (more than one, none of them forced) runs next.
    fn choose(&mut self, ids: &[usize], current: Option<usize>, yielding: bool) -> Option<usize> {
        let strategy = self.strategy.as_mut().expect("a plan has a strategy");
        if strategy.wants_upcoming() {
            self.next_accesses.clear();
            self.remaining.clear();
            let profile = &self.profile;
            let (accesses, remaining) = (&mut self.next_accesses, &mut self.remaining);
            runtime::with_record(|rec| {
                for &t in ids {
                    let done = rec.accesses.get(t).map_or(0, Vec::len);
                    let announced = rec.upcoming.get(t).copied().flatten();
                    let expected = profile.get(t).map_or(&[][..], Vec::as_slice);
                    accesses.push(announced);
                    remaining.push(expected.len().saturating_sub(done) + usize::from(announced.is_some()));
                }
            });
            strategy.upcoming(&Upcoming {
                accesses: &self.next_accesses,
                remaining: &self.remaining,
            });
        }
        match strategy.next(ids, current, yielding) {
            Some(c) => Some(c),
            None => {
                let abort = diverged(strategy.as_ref());
                runtime::with_record(|rec| rec.abort = Some(abort));
                None
            }
        }
    }

    /// Records the decision: in the schedule if `chose` (the strategy made it), and the switch.
    /// `ids` lists the threads that took part when the nondeterminism check traces them.
    fn end_step(&mut self, ids: &[usize], choice: usize, current: Option<usize>, chose: bool, preempted: bool) {
        if let Some(strategy) = self.strategy.as_mut().filter(|s| s.wants_upcoming()) {
            let step = runtime::with_record(|rec| {
                let access = rec.upcoming.get(choice).copied().flatten()?;
                Some((access, rec.accesses[choice].len() - 1))
            })
            .flatten();
            strategy.ran(choice, step);
        }
        let guard = &mut self.guard;
        runtime::with_record(|rec| note_decision(guard, rec, ids, choice, current, chose, preempted));
    }
}

/// Why the execution stops when the strategy has no thread to give (a replay that diverged).
#[cold]
#[inline(never)]
fn diverged(strategy: &dyn Strategy) -> Abort {
    let message = strategy.divergence().unwrap_or_else(|| "the scheduler stopped".into());
    Abort::Diverged { message }
}

/// Hands a step that ended to the strategy, with each operation boundary's `Model::partition`
/// group (`groups`, by op index).
pub(super) fn deliver(strategy: &mut Option<Box<dyn Strategy>>, groups: &[Option<u64>], mut step: Footprint) {
    let Some(strategy) = strategy.as_mut() else { return };
    for b in &mut step.boundaries {
        b.group = groups.get(b.op).copied().flatten();
    }
    strategy.stepped(&step);
}

/// Notes which threads wait blocked for a lock (see [`runtime::locks::note_blocked`]): those that
/// cannot run, where the threads that can are `listed` (after some sat out), else `runnable`.
fn note_blocked(rec: &mut ExecutionRecord, runnable: &[usize], listed: Option<&[usize]>) {
    match listed {
        Some(ids) => runtime::locks::note_blocked(rec, |t| ids.contains(&t)),
        None => runtime::locks::note_blocked(rec, |t| runs(runnable, t)),
    }
}

/// Whether task `t` is among the engine's runnable tasks, which come sorted by id: a binary search,
/// not a walk over every runnable task of a wide scenario.
fn runs(runnable: &[usize], t: usize) -> bool {
    debug_assert!(runnable.windows(2).all(|w| w[0] < w[1]), "the engine lists tasks by id");
    runnable.binary_search(&t).is_ok()
}

/// The thread that must run, if the strategy has no choice: the only one that can, or the harness's
/// main thread while it spawns the scenario's threads.
fn forced(mut ids: impl Iterator<Item = usize> + Clone, spawning: bool) -> Option<usize> {
    let mut all = ids.clone();
    match (ids.next(), ids.next()) {
        (Some(only), None) => Some(only),
        _ if spawning && all.any(|id| id == 0) => Some(0),
        _ => None,
    }
}

/// Records the decision in the record: the thread that runs, in the schedule if the strategy `chose`
/// it, a preemption, and the switch; the watchdog and the nondeterminism check note it too. `ids`
/// lists the threads that took part when the nondeterminism check traces them.
fn note_decision(
    guard: &mut Guarded,
    rec: &mut ExecutionRecord,
    ids: &[usize],
    choice: usize,
    current: Option<usize>,
    chose: bool,
    preempted: bool,
) {
    guard.chose(ids, choice, current, rec);
    if rec.track_steps {
        runtime::steps::open(rec, choice);
    }
    rec.running = choice;
    if chose {
        rec.choices.push(Choice::Thread(choice));
    }
    if preempted {
        rec.preemptions += 1;
    }
    if let Some(from) = current.filter(|&c| c != choice) {
        rec.events.push(Event {
            thread: choice,
            kind: EventKind::SwitchedTo { from, preempted },
        });
    }
}
