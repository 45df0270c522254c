//! What every backend does with an execution that ended: judge it (panic, then linearizability,
//! then the invariant) and, for a failure, render the report's parts. Shared so that shuttle, loom
//! and the stress backend give the same verdicts and the same report.

use std::time::Duration;

use crate::history::{History, OpId};
use crate::linearizability::{self, Verdict};
use crate::report::{FailureKind, OpLine, ReportParts};
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
        Abort::Livelock { steps, threads } => FailureKind::Livelock {
            steps: *steps,
            threads: crate::runtime::livelock::describe(threads, |op| format!("operation #{op}")),
        },
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

/// Judges a loom execution: a panic first, then sequential consistency (see
/// [`sequentially_consistent`]), then the invariant. A failure comes with what the model allows.
pub(crate) fn judge_loom<R: Resource>(
    labels: &[(usize, crate::runtime::Label)],
    outcome: &Outcome<'_, R>,
) -> Option<(FailureKind, Option<Vec<Option<String>>>)> {
    if let Some(kind) = panic_kind::<R>(labels, outcome) {
        return Some((kind, None));
    }
    if let Err((explanation, expected)) = sequentially_consistent::<R>(outcome.scenario, outcome.outputs, labels) {
        return Some((FailureKind::NotLinearizable { explanation }, Some(expected)));
    }
    match outcome.invariant {
        Some(Err(message)) => Some((
            FailureKind::InvariantViolated {
                message: message.clone(),
            },
            None,
        )),
        _ => None,
    }
}

/// Judges a finished execution from its events (op begins and ends in the order they happened):
/// a panic first, then linearizability, then the invariant. Also says whether the linearizability
/// check ran out of time (`unknown`).
pub(crate) fn judge<R: Resource>(
    events: &[runtime::Event],
    labels: &[(usize, crate::runtime::Label)],
    outcome: &Outcome<'_, R>,
    budget: Duration,
) -> (Option<FailureKind>, bool) {
    let (history, _) = build_history::<R>(events, outcome.scenario, outcome.outputs);
    judge_history::<R>(&history, labels, outcome, budget)
}

/// Whether the model accepts every output with the operations in the order they returned, each
/// partition on a fresh model. That order respects real time (an operation that returned before
/// another began also returned first), so if it works it is a linearization, found with one model
/// step per operation instead of a search; most histories of a correct resource pass here.
/// Operations that never returned are left out, as the checker may leave them out.
pub(crate) fn in_return_order<R: Resource>(
    events: &[runtime::Event],
    scenario: &Scenario<R::Op>,
    outputs: &[Option<R::Output>],
) -> bool {
    let mut models: Vec<(Option<u64>, R::Model)> = Vec::new();
    for e in events {
        let EventKind::OpEnd { op } = e.kind else { continue };
        let Some(output) = outputs.get(op).and_then(Option::as_ref) else {
            return false;
        };
        let operation = flat_op(scenario, op);
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

/// Like [`judge`], for a history already built (the stress backend builds it from timestamps).
pub(crate) fn judge_history<R: Resource>(
    history: &History<R::Op, R::Output>,
    labels: &[(usize, crate::runtime::Label)],
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
pub(crate) fn panic_kind<R: Resource>(
    labels: &[(usize, crate::runtime::Label)],
    outcome: &Outcome<'_, R>,
) -> Option<FailureKind> {
    if let Some((task, op, message)) = outcome.panic {
        let op = match op {
            Some(i) => format!("{:?}", flat_op(outcome.scenario, *i)),
            None => "Resource::new or Resource::invariant".to_string(),
        };
        return Some(FailureKind::Panicked {
            thread: crate::record::thread_label(labels, *task),
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
    /// What the model allows for each op, when the backend computed it itself (loom's check).
    pub expected: Option<Vec<Option<String>>>,
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
    let expected = match (input.expected, input.kind) {
        (Some(expected), _) => expected,
        (None, FailureKind::NotLinearizable { .. }) => {
            expected_outputs::<R>(input.history, input.index, input.check_budget)
        }
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
    labels: &[(usize, crate::runtime::Label)],
) -> String {
    let name = |id: &OpId| {
        let op = history.get(*id).expect("evidence names ops of the history");
        format!("{} {:?}", crate::record::thread_label(labels, op.client), op.op)
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

/// Under loom: whether some order of the operations that keeps each thread's own order (init
/// first, post last: spawn and join order them) explains every output. Loom models no global
/// clock, so two threads' operations are ordered only by synchronisation the resource does itself;
/// the order loom happened to run them in is not a real-time order, and a load may legally return
/// an older value. Sequential consistency is what can be asserted without one. On failure: the
/// explanation, and what the model allows for each op (flat index) that cannot come next.
pub(crate) fn sequentially_consistent<R: Resource>(
    scenario: &Scenario<R::Op>,
    outputs: &[Option<R::Output>],
    labels: &[(usize, crate::runtime::Label)],
) -> Result<(), (String, Vec<Option<String>>)> {
    let flat: Vec<(&R::Op, Option<&R::Output>)> = (0..scenario.len())
        .map(|i| (flat_op(scenario, i), outputs.get(i).and_then(Option::as_ref)))
        .collect();
    let mut parts: Vec<Vec<usize>> = Vec::new();
    let mut next = scenario.init.len();
    for t in &scenario.threads {
        parts.push((next..next + t.len()).collect());
        next += t.len();
    }
    let post: Vec<usize> = (next..scenario.len()).collect();
    let init: Vec<usize> = (0..scenario.init.len()).collect();
    let name = |i: usize, thread: &str| format!("{thread} {:?}", flat[i].0);
    let mut search = ScSearch::<R> {
        flat: &flat,
        parts: &parts,
        post: &post,
        seen: std::collections::HashSet::new(),
        order: Vec::new(),
        best: (Vec::new(), Vec::new(), R::Model::default()),
    };
    let mut model = R::Model::default();
    let mut done = true;
    for &i in &init {
        if !search.place(&mut model, i) {
            search.best = (
                init.iter().copied().take_while(|&j| j != i).collect(),
                vec![i],
                model.clone(),
            );
            done = false;
            break;
        }
        search.order.push(i);
    }
    if done && search.dfs(&mut vec![0; parts.len()], &model) {
        return Ok(());
    }
    let (prefix, stuck, model) = search.best;
    let thread_of = |i: usize| -> String {
        match parts.iter().position(|p| p.contains(&i)) {
            Some(t) => crate::record::thread_label(labels, t + 1),
            None => "main".to_string(),
        }
    };
    let before = if prefix.is_empty() {
        "at the start".to_string()
    } else {
        format!(
            "after {}",
            prefix
                .iter()
                .map(|&i| name(i, &thread_of(i)))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let mut expected = vec![None; scenario.len()];
    let reasons: Vec<String> = stuck
        .iter()
        .filter_map(|&i| {
            let allowed = model.clone().step(flat[i].0);
            let actual = flat[i].1?;
            if actual == &allowed {
                return Some(format!(
                    "{} (its output fits, but later operations then cannot)",
                    name(i, &thread_of(i))
                ));
            }
            expected[i] = Some(format!("{allowed:?}"));
            Some(format!(
                "{} returned {actual:?} where the model allows {allowed:?}",
                name(i, &thread_of(i))
            ))
        })
        .collect();
    let explanation = format!(
        "no order of the operations that keeps each thread's own order explains their outputs (under loom only \
         the threads' own order, spawn and join order operations of different threads); {before}, no operation \
         can come next: {}",
        reasons.join("; ")
    );
    Err((explanation, expected))
}

/// Depth-first search for a sequentially consistent order, memoized on (progress, model state).
struct ScSearch<'a, R: Resource> {
    flat: &'a [(&'a R::Op, Option<&'a R::Output>)],
    parts: &'a [Vec<usize>],
    post: &'a [usize],
    seen: std::collections::HashSet<(Vec<usize>, R::Model)>,
    order: Vec<usize>,
    /// The longest explainable prefix, the ops that could not follow it, and the model after it.
    best: (Vec<usize>, Vec<usize>, R::Model),
}

impl<R: Resource> ScSearch<'_, R> {
    /// Applies op `i`; false if its output is not one the model allows. An op that did not return
    /// constrains nothing and is left out.
    fn place(&self, model: &mut R::Model, i: usize) -> bool {
        match self.flat[i].1 {
            Some(out) => model.step_matches(self.flat[i].0, out),
            None => true,
        }
    }

    fn dfs(&mut self, pos: &mut Vec<usize>, model: &R::Model) -> bool {
        if !self.seen.insert((pos.clone(), model.clone())) {
            return false;
        }
        let mut stuck = Vec::new();
        let mut any = false;
        for t in 0..self.parts.len() {
            let Some(&i) = self.parts[t].get(pos[t]) else { continue };
            any = true;
            let mut m = model.clone();
            if !self.place(&mut m, i) {
                stuck.push(i);
                continue;
            }
            pos[t] += 1;
            self.order.push(i);
            let found = self.dfs(pos, &m);
            self.order.pop();
            pos[t] -= 1;
            if found {
                return true;
            }
        }
        if !any {
            let base = self.order.len();
            let mut m = model.clone();
            for &i in self.post {
                if !self.place(&mut m, i) {
                    stuck.push(i);
                    break;
                }
                self.order.push(i);
            }
            let ok = stuck.is_empty();
            if !ok && self.order.len() >= self.best.0.len() {
                self.best = (self.order.clone(), stuck, m);
            }
            self.order.truncate(base);
            return ok;
        }
        if !stuck.is_empty() && self.order.len() >= self.best.0.len() {
            self.best = (self.order.clone(), stuck, model.clone());
        }
        false
    }
}
