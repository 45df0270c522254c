//! The verdict on an execution that ended, whatever ran it: a panic first, then the history's
//! consistency with the model (linearizability; sequential consistency under loom), then the
//! invariant. Shared so that shuttle, loom and the stress backend judge alike.

use std::time::Duration;

use crate::history::{self, History};
use crate::linearizability::{self, Evidence, Verdict};
use crate::record::{thread_label, Event, EventKind, Label};
pub(crate) use crate::report::Consistency;
use crate::report::{self, FailureKind};
use crate::resource::{Model, Resource};
use crate::runtime::Abort;
use crate::scenario::Scenario;

/// What the harness saw of one execution: each operation's output (`None`: it did not return),
/// the first panic, the invariant's result, and whether the body ran to its end.
pub(crate) struct Outcome<R: Resource> {
    pub outputs: Vec<Option<R::Output>>,
    /// The first panic: (thread, op index or None for `Resource::new`/`invariant`, message).
    pub panic: Option<(usize, Option<usize>, String)>,
    pub invariant: Option<Result<(), String>>,
    pub completed: bool,
}

impl<R: Resource> Default for Outcome<R> {
    fn default() -> Self {
        Outcome {
            outputs: Vec::new(),
            panic: None,
            invariant: None,
            completed: false,
        }
    }
}

/// A failing verdict: the failure and, for an inconsistent history, the checker's evidence.
pub(crate) struct Judged {
    pub kind: FailureKind,
    pub evidence: Option<Evidence>,
}

impl From<FailureKind> for Judged {
    fn from(kind: FailureKind) -> Self {
        Judged { kind, evidence: None }
    }
}

/// The failure an aborted execution stands for.
pub(crate) fn abort_kind(abort: &Abort) -> FailureKind {
    abort_kind_named(abort, &[])
}

/// [`abort_kind`], naming the operations a livelock is stuck in by `names` (indexed by op).
pub(crate) fn abort_kind_named(abort: &Abort, names: &[String]) -> FailureKind {
    match abort {
        Abort::Deadlock { cycle } => FailureKind::Deadlock { cycle: cycle.clone() },
        Abort::StepLimit { steps } => FailureKind::StepLimitExceeded { steps: *steps },
        Abort::Livelock { steps, threads } => FailureKind::Livelock {
            steps: *steps,
            threads: crate::runtime::livelock::describe(threads, |op| {
                names.get(op).cloned().unwrap_or_else(|| format!("operation #{op}"))
            }),
        },
        Abort::Diverged { message } => replay_diverged(message),
        Abort::Usage { message } => FailureKind::Usage {
            message: message.clone(),
        },
        Abort::DataRace(race) => FailureKind::DataRace {
            cell: race.cell.clone(),
            first: race.first.clone(),
            second: race.second.clone(),
        },
    }
}

/// A replay whose schedule the resource no longer offers.
pub(crate) fn replay_diverged(message: &str) -> FailureKind {
    FailureKind::Usage {
        message: format!(
            "this replay token no longer matches the resource's behaviour ({message}); the resource or its \
             operations changed since the token was recorded"
        ),
    }
}

/// Judges an execution from its recorded events (op begins and ends in the order they happened).
/// Also says whether the consistency check ran out of time (`unknown`).
pub(crate) fn judge<R: Resource>(
    events: &[Event],
    labels: &[(usize, Label)],
    scenario: &Scenario<R::Op>,
    outcome: &Outcome<R>,
    consistency: Consistency,
    budget: Duration,
) -> (Option<Judged>, bool) {
    if let Some(kind) = panic_kind::<R>(labels, scenario, outcome) {
        return (Some(kind.into()), false);
    }
    let (history, index) = history::from_record::<R>(events, scenario, &outcome.outputs);
    judge_history::<R>(&history, &index, labels, outcome, consistency, budget)
}

/// Like [`judge`], for a history already built (the stress backend builds it from timestamps);
/// `index` is the scenario op index of each history op.
pub(crate) fn judge_history<R: Resource>(
    history: &History<R::Op, R::Output>,
    index: &[usize],
    labels: &[(usize, Label)],
    outcome: &Outcome<R>,
    consistency: Consistency,
    budget: Duration,
) -> (Option<Judged>, bool) {
    let verdict = match consistency {
        Consistency::Linearizable => linearizability::check::<R::Model>(history, budget),
        Consistency::Sequential => linearizability::check_sequential::<R::Model>(history, budget),
    };
    let mut unknown = false;
    match verdict {
        Verdict::NotLinearizable(evidence) => {
            let kind = report::inconsistent::<R::Model>(history, index, &evidence, labels, consistency);
            return (
                Some(Judged {
                    kind,
                    evidence: Some(evidence),
                }),
                false,
            );
        }
        Verdict::Unknown(_) => unknown = true,
        _ => {}
    }
    (invariant_kind(outcome).map(Judged::from), unknown)
}

/// The failure of a broken invariant, if it broke.
pub(crate) fn invariant_kind<R: Resource>(outcome: &Outcome<R>) -> Option<FailureKind> {
    match &outcome.invariant {
        Some(Err(message)) => Some(FailureKind::InvariantViolated {
            message: message.clone(),
        }),
        _ => None,
    }
}

/// Whether the model accepts every output with the operations in the order they returned, each
/// partition on a fresh model. That order respects real time (an operation that returned before
/// another began also returned first), so if it works it is a linearization, found with one model
/// step per operation instead of a search; most histories of a correct resource pass here.
/// Operations that never returned are left out, as the checker may leave them out.
pub(crate) fn in_return_order<R: Resource>(
    events: &[Event],
    scenario: &Scenario<R::Op>,
    outputs: &[Option<R::Output>],
) -> bool {
    let mut models: Vec<(Option<u64>, R::Model)> = Vec::new();
    for e in events {
        let EventKind::OpEnd { op } = e.kind else { continue };
        let Some(output) = outputs.get(op).and_then(Option::as_ref) else {
            return false;
        };
        let operation = scenario.op(op);
        let key = R::Model::partition(operation);
        let index = match models.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                models.push((key, R::Model::default()));
                models.len() - 1
            }
        };
        if !models[index].1.step_matches(operation, output) {
            return false;
        }
    }
    true
}

/// The failure a panic stands for, or an execution that stopped for no recorded reason.
pub(crate) fn panic_kind<R: Resource>(
    labels: &[(usize, Label)],
    scenario: &Scenario<R::Op>,
    outcome: &Outcome<R>,
) -> Option<FailureKind> {
    if let Some((task, op, message)) = &outcome.panic {
        let op = match op {
            Some(i) => format!("{:?}", scenario.op(*i)),
            None => "Resource::new or Resource::invariant".to_string(),
        };
        return Some(FailureKind::Panicked {
            thread: thread_label(labels, *task),
            op,
            message: message.clone(),
        });
    }
    if !outcome.completed {
        return Some(FailureKind::Internal {
            message: "an execution ended before its threads finished, for no reason crosscheck recorded".into(),
        });
    }
    None
}
