//! From what an execution left behind to what the report shows: the operations' texts, the
//! scenario table's lines, and the data and sentence of an inconsistent history, read off the
//! checker's evidence (the search ran once, in the judge; nothing here searches again).

use crate::history::History;
use crate::linearizability::Evidence;
use crate::record::{short_name, thread_label, Label};
use crate::resource::{Model, Resource};
use crate::scenario::Scenario;

use super::{FailureKind, OpLine, ReportParts, VerdictOp};

/// Which consistency a history was held to, for the wording of its verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Consistency {
    /// Real-time order (shuttle's global clock, stress's timestamps).
    Linearizable,
    /// Each thread's own order, spawn and join only (loom has no global clock).
    Sequential,
}

/// Where a report's parts come from, besides the failure itself.
pub(crate) struct PartsInput<'a, R: Resource> {
    pub kind: &'a FailureKind,
    pub scenario: &'a Scenario<R::Op>,
    pub outputs: &'a [Option<R::Output>],
    pub interleaving: Vec<String>,
    pub type_name: &'static str,
    pub scheduler: String,
    pub seed: Option<u64>,
    pub preemptions: usize,
}

/// The op names and rendered outputs of a scenario, in flat order (init, threads, post).
pub(crate) fn op_texts<R: Resource>(
    scenario: &Scenario<R::Op>,
    outputs: &[Option<R::Output>],
) -> (Vec<String>, Vec<Option<String>>) {
    let names = (0..scenario.len()).map(|i| format!("{:?}", scenario.op(i))).collect();
    let outputs = outputs.iter().map(|o| o.as_ref().map(|o| format!("{o:?}"))).collect();
    (names, outputs)
}

/// The report's parts for a failure (without a token or a note: the backend adds those).
pub(crate) fn report_parts<R: Resource>(input: PartsInput<'_, R>) -> ReportParts {
    let scenario = input.scenario;
    let mut expected = vec![None; scenario.len()];
    if let FailureKind::NotLinearizable { stuck, .. } = input.kind {
        for op in stuck {
            if op.output.as_ref() != Some(&op.allowed) && op.index < expected.len() {
                expected[op.index] = Some(op.allowed.clone());
            }
        }
    }
    let (names, outputs) = op_texts::<R>(scenario, input.outputs);
    let line = |i: usize| OpLine {
        op: names[i].clone(),
        output: outputs.get(i).cloned().flatten(),
        expected: expected[i].clone(),
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
        page: None,
    }
}

/// The failure an inconsistent history stands for: the checker's evidence as data (each operation
/// with the model's state around it and what the model allows) and as one sentence. `index` maps a
/// history op to its scenario op index.
pub(crate) fn inconsistent<M: Model>(
    history: &History<M::Op, M::Output>,
    index: &[usize],
    evidence: &Evidence,
    labels: &[(usize, Label)],
    consistency: Consistency,
) -> FailureKind {
    let describe = |id: crate::history::OpId, model: &M| -> Option<(VerdictOp, M)> {
        let op = history.get(id)?;
        let mut after = model.clone();
        let allowed = after.step(&op.op);
        Some((
            VerdictOp {
                index: index.get(id.0).copied().unwrap_or(id.0),
                thread: thread_label(labels, op.client),
                op: format!("{:?}", op.op),
                output: op.output.as_ref().map(|o| format!("{o:?}")),
                allowed: format!("{allowed:?}"),
                model_before: format!("{model:?}"),
                model_after: format!("{after:?}"),
            },
            after,
        ))
    };
    let mut model = M::default();
    let mut prefix = Vec::with_capacity(evidence.prefix.len());
    for &id in &evidence.prefix {
        if let Some((op, after)) = describe(id, &model) {
            prefix.push(op);
            model = after;
        }
    }
    let stuck: Vec<VerdictOp> = evidence
        .unplaceable
        .iter()
        .filter_map(|&id| describe(id, &model).map(|(op, _)| op))
        .collect();
    let name = |op: &VerdictOp| format!("{} {}", op.thread, op.op);
    let before = if prefix.is_empty() {
        "at the start".to_string()
    } else {
        format!("after {}", prefix.iter().map(name).collect::<Vec<_>>().join(", "))
    };
    let reasons: Vec<String> = stuck
        .iter()
        .filter_map(|op| {
            let actual = op.output.as_ref()?;
            Some(if *actual != op.allowed {
                format!("{} returned {actual} where the model allows {}", name(op), op.allowed)
            } else {
                format!("{} (its output fits, but later operations then cannot)", name(op))
            })
        })
        .collect();
    let orders = match consistency {
        Consistency::Linearizable => "no sequential order of the operations explains their outputs".to_string(),
        Consistency::Sequential => "no order of the operations that keeps each thread's own order explains their \
                                    outputs (under loom only the threads' own order, spawn and join order \
                                    operations of different threads)"
            .to_string(),
    };
    FailureKind::NotLinearizable {
        explanation: format!("{orders}; {before}, no operation can come next: {}", reasons.join("; ")),
        prefix,
        stuck,
    }
}
