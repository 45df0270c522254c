//! What every backend does with an execution that ended: judge it (panic, then linearizability,
//! then the invariant) and, for a failure, render the report's parts. Shared so that shuttle, loom
//! and the stress backend give the same verdicts and the same report.

use std::time::Duration;

use crate::history::{History, OpId};
use crate::linearizability::{self, Verdict};
use crate::report::{self, FailureKind, OpLine, ReportParts};
use crate::resource::{Model, Resource};
use crate::runtime::{self, Abort, EventKind};
use crate::scenario::Scenario;

/// What the harness saw of one execution, whatever ran it.
pub(crate) struct Outcome<'a, R: Resource> {
    pub scenario: &'a Scenario<R::Op>,
    pub outputs: &'a [Option<R::Output>],
    /// The first panic: (thread, op index or None for `Resource::new`/`invariant`, message).
    pub panic: Option<&'a (usize, Option<usize>, String)>,
    pub invariant: Option<&'a Result<(), String>>,
    pub completed: bool,
}

/// The failure an aborted execution stands for.
pub(crate) fn abort_kind(abort: &Abort) -> FailureKind {
    match abort {
        Abort::Deadlock { cycle } => FailureKind::Deadlock { cycle: cycle.clone() },
        Abort::StepLimit { steps } => FailureKind::StepLimitExceeded { steps: *steps },
        Abort::Diverged { message } => replay_diverged(message),
        Abort::Usage { message } => FailureKind::Usage {
            message: message.clone(),
        },
    }
}

pub(crate) fn replay_diverged(message: &str) -> FailureKind {
    FailureKind::Usage {
        message: format!(
            "this replay token no longer matches the resource's behaviour ({message}); the resource or its \
             operations changed since the token was recorded"
        ),
    }
}

/// Judges a finished execution from its events (op begins and ends in the order they happened):
/// a panic first, then linearizability, then the invariant. Also says whether the linearizability
/// check ran out of time (`unknown`).
pub(crate) fn judge<R: Resource>(
    events: &[runtime::Event],
    labels: &[(usize, String)],
    outcome: &Outcome<'_, R>,
    budget: Duration,
) -> (Option<FailureKind>, bool) {
    let (history, _) = build_history::<R>(events, outcome.scenario, outcome.outputs);
    judge_history::<R>(&history, labels, outcome, budget)
}

/// Like [`judge`], for a history already built (the stress backend builds it from timestamps).
pub(crate) fn judge_history<R: Resource>(
    history: &History<R::Op, R::Output>,
    labels: &[(usize, String)],
    outcome: &Outcome<'_, R>,
    budget: Duration,
) -> (Option<FailureKind>, bool) {
    if let Some(kind) = panic_kind::<R>(labels, outcome) {
        return (Some(kind), false);
    }
    let mut unknown = false;
    match linearizability::check::<R::Model>(history, budget) {
        Verdict::NotLinearizable(evidence) => {
            let explanation = explain::<R>(history, &evidence.prefix, &evidence.unplaceable, labels);
            return (Some(FailureKind::NotLinearizable { explanation }), false);
        }
        Verdict::Unknown(_) => unknown = true,
        _ => {}
    }
    if let Some(Err(message)) = outcome.invariant {
        return (
            Some(FailureKind::InvariantViolated {
                message: message.clone(),
            }),
            unknown,
        );
    }
    (None, unknown)
}

/// The failure a panic stands for, or an execution that stopped for no recorded reason.
pub(crate) fn panic_kind<R: Resource>(labels: &[(usize, String)], outcome: &Outcome<'_, R>) -> Option<FailureKind> {
    if let Some((task, op, message)) = outcome.panic {
        let op = match op {
            Some(i) => format!("{:?}", flat_op(outcome.scenario, *i)),
            None => "Resource::new or Resource::invariant".to_string(),
        };
        return Some(FailureKind::Panicked {
            thread: report::thread_label(labels, *task),
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

/// Where a report's parts come from, besides the failure itself.
pub(crate) struct PartsInput<'a, R: Resource> {
    pub kind: &'a FailureKind,
    pub scenario: &'a Scenario<R::Op>,
    pub outputs: &'a [Option<R::Output>],
    pub history: &'a History<R::Op, R::Output>,
    /// The scenario op index of each history op.
    pub index: &'a [usize],
    pub interleaving: Vec<String>,
    pub type_name: &'static str,
    pub scheduler: String,
    pub seed: Option<u64>,
    pub preemptions: usize,
    pub check_budget: Duration,
}

/// The op names and rendered outputs of a scenario, in flat order (init, threads, post).
pub(crate) fn op_texts<R: Resource>(
    scenario: &Scenario<R::Op>,
    outputs: &[Option<R::Output>],
) -> (Vec<String>, Vec<Option<String>>) {
    let names = (0..scenario.len())
        .map(|i| format!("{:?}", flat_op(scenario, i)))
        .collect();
    let outputs = outputs.iter().map(|o| o.as_ref().map(|o| format!("{o:?}"))).collect();
    (names, outputs)
}

/// The report's parts for a failure (without a token or a note: the backend adds those).
pub(crate) fn report_parts<R: Resource>(input: PartsInput<'_, R>) -> ReportParts {
    let scenario = input.scenario;
    let expected = match input.kind {
        FailureKind::NotLinearizable { .. } => expected_outputs::<R>(input.history, input.index, input.check_budget),
        _ => vec![None; scenario.len()],
    };
    let (names, outputs) = op_texts::<R>(scenario, input.outputs);
    let line = |i: usize| OpLine {
        op: names[i].clone(),
        output: outputs.get(i).cloned().flatten(),
        expected: expected.get(i).cloned().flatten(),
    };
    let mut index = 0..scenario.len();
    let mut take = |n: usize| index.by_ref().take(n).map(line).collect::<Vec<_>>();
    let init = take(scenario.init.len());
    let threads = scenario.threads.iter().map(|t| take(t.len())).collect();
    let post = take(scenario.post.len());
    ReportParts {
        resource: short_name(input.type_name).to_string(),
        scheduler: input.scheduler,
        seed: input.seed,
        preemptions: input.preemptions,
        shape: scenario.shape(),
        init,
        threads,
        post,
        interleaving: input.interleaving,
        token: None,
        note: None,
        shrink: None,
    }
}

/// The `i`-th operation of the scenario, counting init, then each thread, then post.
pub(crate) fn flat_op<Op>(scenario: &Scenario<Op>, i: usize) -> &Op {
    scenario
        .init
        .iter()
        .chain(scenario.threads.iter().flatten())
        .chain(scenario.post.iter())
        .nth(i)
        .expect("op index within the scenario")
}

/// "crosscheck::resources::counter::RacyCounter" -> "RacyCounter".
pub(crate) fn short_name(type_name: &str) -> &str {
    let base = type_name.split('<').next().unwrap_or(type_name);
    base.rsplit("::").next().unwrap_or(base)
}

/// The history of an execution, from its begin/end events in the order they happened; also the
/// scenario op index of each history op.
pub(crate) fn build_history<R: Resource>(
    events: &[runtime::Event],
    scenario: &Scenario<R::Op>,
    outputs: &[Option<R::Output>],
) -> (History<R::Op, R::Output>, Vec<usize>) {
    let mut history = History::new();
    let mut ids: Vec<Option<OpId>> = vec![None; scenario.len()];
    let mut order = Vec::new();
    for e in events {
        match e.kind {
            EventKind::OpBegin { op } => {
                ids[op] = Some(history.invoke(e.thread, flat_op(scenario, op).clone()));
                order.push(op);
            }
            EventKind::OpEnd { op } => {
                if let (Some(id), Some(out)) = (ids[op], outputs[op].clone()) {
                    // Each op ends once, after it began: the harness writes both events.
                    let _ = history.ret(id, out);
                }
            }
            _ => {}
        }
    }
    (history, order)
}

/// What the model would have allowed for each op the checker could not place.
pub(crate) fn expected_outputs<R: Resource>(
    history: &History<R::Op, R::Output>,
    scenario_index: &[usize],
    budget: Duration,
) -> Vec<Option<String>> {
    let total = scenario_index.iter().copied().max().map_or(0, |m| m + 1);
    let mut expected = vec![None; total.max(history.len())];
    if let Verdict::NotLinearizable(evidence) = linearizability::check::<R::Model>(history, budget) {
        let mut model = R::Model::default();
        for id in &evidence.prefix {
            if let Some(op) = history.get(*id) {
                model.step(&op.op);
            }
        }
        for id in &evidence.unplaceable {
            if let Some(op) = history.get(*id) {
                let allowed = model.clone().step(&op.op);
                if op.output.as_ref() != Some(&allowed) {
                    expected[scenario_index[id.0]] = Some(format!("{allowed:?}"));
                }
            }
        }
    }
    expected
}

/// One sentence on why no order works: the ops that cannot follow the longest valid prefix.
pub(crate) fn explain<R: Resource>(
    history: &History<R::Op, R::Output>,
    prefix: &[OpId],
    unplaceable: &[OpId],
    labels: &[(usize, String)],
) -> String {
    let name = |id: &OpId| {
        let op = history.get(*id).expect("evidence names ops of the history");
        format!("{} {:?}", report::thread_label(labels, op.client), op.op)
    };
    let mut model = R::Model::default();
    for id in prefix {
        if let Some(op) = history.get(*id) {
            model.step(&op.op);
        }
    }
    let before = if prefix.is_empty() {
        "at the start".to_string()
    } else {
        format!("after {}", prefix.iter().map(name).collect::<Vec<_>>().join(", "))
    };
    let reasons: Vec<String> = unplaceable
        .iter()
        .filter_map(|id| {
            let op = history.get(*id)?;
            let allowed = model.clone().step(&op.op);
            let actual = op.output.as_ref()?;
            Some(if actual == &allowed {
                format!("{} (its output fits, but later operations then cannot)", name(id))
            } else {
                format!("{} returned {actual:?} where the model allows {allowed:?}", name(id))
            })
        })
        .collect();
    format!(
        "no sequential order of the operations explains their outputs; {before}, no operation can come next: {}",
        reasons.join("; ")
    )
}
