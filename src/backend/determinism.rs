//! Uncontrolled nondeterminism: a resource whose behaviour depends on something the scheduler does
//! not control (std's `HashMap` iteration order, the clock, a random number, a real thread, I/O)
//! makes a replay token and shrinking lie, since the same schedule no longer does the same thing.
//!
//! Detected the way shuttle's nondeterminism check does it: run a schedule again and compare, point
//! by point, the threads that could run, the thread chosen, and the events recorded in between.
//! [`verify`] replays a failure's schedule several times before its token is given out (on by
//! default); with `Determinism::EverySchedule` the driver runs every schedule twice ([`Twin`]).

use std::cell::RefCell;

use crate::record::{thread_label, Event, Label, ObjectInfo};
use crate::report::{self, Failure, FailureKind};
use crate::runtime::ExecutionRecord;
use crate::scheduler::{Choice, Strategy};

pub(crate) use crate::env::Determinism;

thread_local! {
    /// The mode of checks run on this OS thread; set by the checker's scope.
    static MODE: std::cell::Cell<Determinism> = const { std::cell::Cell::new(Determinism::Failures) };
    /// While [`verify`] runs: the traces of the executions it ran.
    static SINK: RefCell<Option<Vec<Trace>>> = const { RefCell::new(None) };
}

/// Sets the mode for checks on this OS thread; returns the previous one.
pub(crate) fn set_mode(mode: Determinism) -> Determinism {
    MODE.with(|m| m.replace(mode))
}

pub(crate) fn mode() -> Determinism {
    MODE.with(|m| m.get())
}

/// Whether executions of the run starting now are traced.
pub(crate) fn tracing() -> bool {
    mode() == Determinism::EverySchedule || SINK.with(|s| s.borrow().is_some())
}

/// One scheduling point: the threads that could run, the one chosen, and how many events had been
/// recorded when it was reached.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Point {
    runnable: Vec<usize>,
    chosen: usize,
    events: usize,
}

/// What one execution did, as a second run of its schedule is compared with.
#[derive(Clone, Debug, Default)]
pub(crate) struct Trace {
    points: Vec<Point>,
    events: Vec<Event>,
    objects: Vec<ObjectInfo>,
    labels: Vec<(usize, Label)>,
}

impl Trace {
    /// Notes a scheduling point (called by the driver when it chose `chosen` among `runnable`).
    pub(crate) fn point(&mut self, runnable: &[usize], chosen: usize, events: usize) {
        self.points.push(Point {
            runnable: runnable.to_vec(),
            chosen,
            events,
        });
    }

    /// The finished execution's trace, leaving this one empty for the next.
    pub(crate) fn finish(&mut self, record: &ExecutionRecord) -> Trace {
        let mut done = std::mem::take(self);
        done.events.clone_from(&record.events);
        done.objects.clone_from(&record.objects);
        done.labels.clone_from(&record.labels);
        SINK.with(|s| {
            if let Some(sink) = s.borrow_mut().as_mut() {
                sink.push(done.clone());
            }
        });
        done
    }

    fn event(&self, i: usize) -> String {
        match self.events.get(i) {
            Some(e) => {
                let line = report::interleaving(std::slice::from_ref(e), &self.labels, &self.objects, &[], &[]);
                line.first().map_or_else(|| format!("{e:?}"), |l| squeeze(l))
            }
            None => "nothing (the execution had ended)".into(),
        }
    }

    /// The step whose events include event `i`.
    fn step_of(&self, i: usize) -> usize {
        self.points.iter().take_while(|p| p.events <= i).count()
    }

    fn threads(&self, ids: &[usize]) -> String {
        let names: Vec<String> = ids.iter().map(|&t| thread_label(&self.labels, t)).collect();
        format!("{{{}}}", names.join(", "))
    }
}

/// One line of the interleaving without its column padding.
fn squeeze(line: &str) -> String {
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Where two runs of one schedule first differ: the step, and what differed.
pub(crate) struct Divergence {
    pub step: usize,
    pub what: String,
}

/// Compares two runs of the same schedule; `None` if they did the same.
pub(crate) fn compare(first: &Trace, second: &Trace) -> Option<Divergence> {
    let event = (0..first.events.len().max(second.events.len())).find(|&i| first.events.get(i) != second.events.get(i));
    let point =
        (0..first.points.len().max(second.points.len())).find(|&i| match (first.points.get(i), second.points.get(i)) {
            (Some(a), Some(b)) => a.runnable != b.runnable || a.chosen != b.chosen,
            _ => true,
        });
    let event_step = event.map(|i| first.step_of(i).min(second.step_of(i)));
    match (event, event_step, point) {
        (Some(i), Some(s), p) if p.is_none_or(|p| s <= p) => Some(Divergence {
            step: s,
            what: format!(
                "the first run recorded `{}`, the second `{}`",
                first.event(i),
                second.event(i)
            ),
        }),
        (_, _, Some(p)) => {
            let what = match (first.points.get(p), second.points.get(p)) {
                (Some(a), Some(b)) if a.runnable != b.runnable => format!(
                    "the threads that could run were {} in the first run and {} in the second (the last event \
                     before it: `{}`)",
                    first.threads(&a.runnable),
                    second.threads(&b.runnable),
                    first.event(a.events.saturating_sub(1))
                ),
                (Some(a), Some(b)) => format!(
                    "the same schedule chose {} in the first run and {} in the second",
                    thread_label(&first.labels, a.chosen),
                    thread_label(&second.labels, b.chosen)
                ),
                (Some(_), None) => format!("the second run ended after {} scheduling points", second.points.len()),
                (None, _) => format!("the first run ended after {} scheduling points", first.points.len()),
            };
            Some(Divergence { step: p + 1, what })
        }
        _ => None,
    }
}

/// The message of a [`FailureKind::Nondeterministic`] failure.
pub(crate) fn message(d: &Divergence, what_ran: &str) -> String {
    format!(
        "{what_ran}, and the two runs diverged at scheduling step {}: {}. Something the scheduler does not \
         control decides what the resource does: std's HashMap or HashSet iteration order (RandomState), the \
         clock, a random number, a real OS thread, I/O. A replay token or a shrunk scenario cannot be trusted \
         then. Make the resource deterministic (a BTreeMap or a fixed hasher, values passed in with the \
         operation, crosscheck::thread instead of std::thread)",
        d.step, d.what
    )
}

/// The failure a divergence stands for: the scenario of the first run, no token (it would not replay
/// what it claims), and why.
pub(crate) fn into_failure<Op>(mut failure: Failure<Op>, d: &Divergence, what_ran: &str) -> Failure<Op> {
    let was = failure.kind().title();
    let data = failure.data_mut();
    data.kind = FailureKind::Nondeterministic {
        step: d.step,
        message: message(d, what_ran),
    };
    let mut failure = without_token(failure);
    failure.add_note(format!(
        "the scenario and interleaving above are those of the first run (it showed a {was}); no replay token is \
         given, since the same schedule does not do the same thing twice"
    ));
    failure
}

/// A failure without its token, which would not replay what it claims.
pub(crate) fn without_token<Op>(mut failure: Failure<Op>) -> Failure<Op> {
    let data = failure.data_mut();
    data.token = None;
    if let Some(parts) = data.parts.as_mut() {
        parts.token = None;
    }
    failure
}

/// How many times [`verify`] runs a failure's schedule.
pub(crate) const REPLAYS: usize = 6;

/// Runs `replay` (one execution of the failure's schedule, traced) [`REPLAYS`] times and compares
/// the runs; the divergence, if any. A replay that does not fail the same way is one too.
pub(crate) fn verify<Op>(
    want: &FailureKind,
    mut replay: impl FnMut() -> Result<crate::Report, Failure<Op>>,
) -> Option<Divergence> {
    let previous = SINK.with(|s| s.borrow_mut().replace(Vec::new()));
    let mut outcomes = Vec::new();
    for _ in 0..REPLAYS {
        outcomes.push(match replay() {
            Ok(_) => None,
            Err(f) => Some(f.kind().clone()),
        });
    }
    let traces = SINK
        .with(|s| std::mem::replace(&mut *s.borrow_mut(), previous))
        .unwrap_or_default();
    let first = traces.first()?;
    for t in &traces[1..] {
        if let Some(d) = compare(first, t) {
            return Some(d);
        }
    }
    let other = outcomes
        .iter()
        .find(|o| !o.as_ref().is_some_and(|k| k.same_bug(want)))?;
    Some(Divergence {
        step: first.points.len(),
        what: format!(
            "every run recorded the same events, but a replay {} instead of showing the {}",
            match other {
                None => "passed".to_string(),
                Some(k) => format!("failed with a {}", k.title()),
            },
            want.title()
        ),
    })
}

/// Every schedule run twice (`Determinism::EverySchedule`): after an execution passes, the driver
/// replays its schedule at once and compares the two.
#[derive(Default)]
pub(crate) struct Twin {
    /// The execution that just passed, waiting for its second run: its trace and its schedule.
    pending: Option<(Trace, Vec<Choice>)>,
    /// While the second run runs: the first run's trace, and the strategy it took the place of.
    replaying: Option<(Trace, Option<Box<dyn Strategy>>)>,
}

impl Twin {
    /// An execution passed: its schedule is run again next.
    pub(crate) fn passed(&mut self, trace: Trace, choices: &[Choice]) {
        self.pending = Some((trace, choices.to_vec()));
    }

    /// If a second run is due: swaps `strategy` for the replay of the first run's schedule.
    pub(crate) fn start_second(&mut self, strategy: &mut Option<Box<dyn Strategy>>) -> bool {
        let Some((trace, choices)) = self.pending.take() else {
            return false;
        };
        let steps = strategy.as_ref().is_some_and(|s| s.wants_steps());
        let mut replay: Box<dyn Strategy> = Box::new(Mirror {
            replay: crate::scheduler::Replay::new(choices),
            steps,
        });
        replay.new_execution();
        let held = strategy.replace(replay);
        self.replaying = Some((trace, held));
        true
    }

    /// The second run ended (if one was running): puts the strategy back and compares.
    pub(crate) fn end_second(
        &mut self,
        trace: &Trace,
        strategy: &mut Option<Box<dyn Strategy>>,
    ) -> Option<Option<Divergence>> {
        let (first, held) = self.replaying.take()?;
        *strategy = held;
        Some(compare(&first, trace))
    }
}

/// The replay of a first run's schedule that records like the first run did: whether steps are
/// tracked decides where an operation's invocation lands among the events.
struct Mirror {
    replay: crate::scheduler::Replay,
    steps: bool,
}

impl Strategy for Mirror {
    fn new_execution(&mut self) -> bool {
        self.replay.new_execution()
    }

    fn next(&mut self, runnable: &[usize], current: Option<usize>, yielding: bool) -> Option<usize> {
        self.replay.next(runnable, current, yielding)
    }

    fn choose(&mut self, point: &crate::scheduler::Alternatives) -> Option<usize> {
        self.replay.choose(point)
    }

    fn divergence(&self) -> Option<String> {
        self.replay.divergence()
    }

    fn wants_steps(&self) -> bool {
        self.steps
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{EventKind, ObjectKind, Value};

    fn trace(value: u64, runnable: Vec<usize>) -> Trace {
        let mut t = Trace {
            objects: vec![ObjectInfo::new(ObjectKind::Atomic)],
            labels: vec![(1, crate::record::thread_name(0)), (2, crate::record::thread_name(1))],
            ..Trace::default()
        };
        t.point(&[1, 2], 1, 0);
        t.events.push(Event {
            thread: 1,
            kind: EventKind::Load {
                obj: 0,
                value: Value::Unsigned(value),
            },
        });
        t.point(&runnable, runnable[0], 1);
        t
    }

    #[test]
    fn the_same_run_twice_does_not_diverge() {
        assert!(compare(&trace(3, vec![1, 2]), &trace(3, vec![1, 2])).is_none());
    }

    #[test]
    fn a_different_value_names_the_step_and_the_object() {
        let d = compare(&trace(3, vec![1, 2]), &trace(5, vec![1, 2])).expect("diverges");
        assert_eq!(d.step, 1);
        assert!(d.what.contains("T1 loads atomic#0 -> 3"), "{}", d.what);
        assert!(d.what.contains("T1 loads atomic#0 -> 5"), "{}", d.what);
    }

    #[test]
    fn different_runnable_threads_are_named() {
        let d = compare(&trace(3, vec![1, 2]), &trace(3, vec![2])).expect("diverges");
        assert_eq!(d.step, 2);
        assert!(d.what.contains("{T1, T2} in the first run and {T2}"), "{}", d.what);
        assert!(d.what.contains("atomic#0"), "{}", d.what);
    }
}
