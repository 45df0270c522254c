//! Any [`History`] with its [`Verdict`] as a self-contained HTML page, in the manner of porcupine's
//! visualisation: one section per partition, one lane per client, the linearization (or the
//! longest linearizable prefix) numbered, the operations that cannot come next highlighted with
//! what the model allows, and the model state before and after each placed operation.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use super::Verdict;
use crate::history::{History, OpId, Operation};
use crate::html::{self, Bar, Page, Part, Section};
use crate::Model;

/// Model states (Debug) before and after each operation.
type States = HashMap<OpId, (String, String)>;

/// Where a verdict places operations, and what it says about them.
pub(crate) struct Placement {
    /// The order of the failing partition's longest linearizable prefix, or of a whole
    /// linearization.
    pub order: Vec<OpId>,
    /// Operations that cannot come next after the prefix.
    pub highlighted: Vec<OpId>,
    /// Model state (Debug) before and after each placed operation.
    pub states: States,
    /// For each highlighted operation: what the model returns for it after the prefix.
    pub allows: Vec<(OpId, String)>,
    /// The failing partition, when the verdict is a failure.
    pub failing: Option<Option<u64>>,
}

/// Replays `order` from each partition's default state, recording states; pending operations are
/// stepped without checking their output, as the checker takes them.
fn replay<M: Model>(history: &History<M::Op, M::Output>, order: &[OpId]) -> (States, HashMap<Option<u64>, M>) {
    let mut models: HashMap<Option<u64>, M> = HashMap::new();
    let mut states = HashMap::new();
    for &id in order {
        let Some(op) = history.get(id) else { continue };
        let model = models.entry(M::partition(&op.op)).or_default();
        let before = format!("{model:?}");
        model.step(&op.op);
        states.insert(id, (before, format!("{model:?}")));
    }
    (states, models)
}

/// What `verdict` says about `history`, ready to draw.
pub(crate) fn placement<M: Model>(history: &History<M::Op, M::Output>, verdict: &Verdict) -> Placement {
    match verdict {
        Verdict::NotLinearizable(e) => {
            let (mut states, mut models) = replay::<M>(history, &e.prefix);
            let model = models.remove(&e.partition).unwrap_or_default();
            let mut allows = Vec::new();
            for &id in &e.unplaceable {
                let Some(op) = history.get(id) else { continue };
                // Where it would have come next: after the prefix.
                let mut after = model.clone();
                allows.push((id, format!("{:?}", after.step(&op.op))));
                states.insert(id, (format!("{model:?}"), format!("{after:?}")));
            }
            Placement {
                order: e.prefix.clone(),
                highlighted: e.unplaceable.clone(),
                states,
                allows,
                failing: Some(e.partition),
            }
        }
        Verdict::Linearizable(w) => Placement {
            order: w.order.clone(),
            highlighted: Vec::new(),
            states: replay::<M>(history, &w.order).0,
            allows: Vec::new(),
            failing: None,
        },
        Verdict::Unknown(_) => Placement {
            order: Vec::new(),
            highlighted: Vec::new(),
            states: HashMap::new(),
            allows: Vec::new(),
            failing: None,
        },
    }
}

/// Draws the operations `ids` of `history` as a section: lanes from `lane`, bars at their events'
/// ranks among the section's events (so a partition of a long history stays compact).
fn section<M: Model>(
    history: &History<M::Op, M::Output>,
    ids: &[OpId],
    placement: &Placement,
    heading: String,
) -> Section {
    let ops: Vec<&Operation<M::Op, M::Output>> = ids.iter().filter_map(|&id| history.get(id)).collect();
    let clients: BTreeSet<usize> = ops.iter().map(|o| o.client).collect();
    let lane_of: HashMap<usize, usize> = clients.iter().enumerate().map(|(i, &c)| (c, i)).collect();
    let positions: BTreeSet<usize> = ops
        .iter()
        .flat_map(|o| [Some(o.invoked), o.returned])
        .flatten()
        .collect();
    let rank: HashMap<usize, usize> = positions.iter().enumerate().map(|(r, &p)| (p, r)).collect();
    let bar_of: HashMap<OpId, usize> = ops.iter().enumerate().map(|(i, o)| (o.id, i)).collect();
    let bars = ops
        .iter()
        .map(|o| {
            let states = placement.states.get(&o.id);
            Bar {
                lane: lane_of[&o.client],
                part: Part::Parallel,
                op: format!("{} {:?}", o.id, o.op),
                output: o.output.as_ref().map(|out| format!("{out:?}")),
                start: rank[&o.invoked],
                end: o.returned.map(|r| rank[&r]),
                before: states.map(|s| s.0.clone()),
                after: states.map(|s| s.1.clone()),
            }
        })
        .collect();
    let order: Vec<usize> = placement
        .order
        .iter()
        .filter_map(|id| bar_of.get(id).copied())
        .collect();
    let highlighted: Vec<usize> = placement
        .highlighted
        .iter()
        .filter_map(|id| bar_of.get(id).copied())
        .collect();
    let allows = (!highlighted.is_empty()).then(|| {
        let lines: Vec<String> = placement
            .allows
            .iter()
            .filter_map(|(id, expected)| {
                let op = history.get(*id)?;
                let got = op.output.as_ref().map_or("nothing".to_string(), |o| format!("{o:?}"));
                Some(format!(
                    "{} {:?} returned {got}; after the prefix the model returns {expected}",
                    id, op.op
                ))
            })
            .collect();
        format!(
            "None of the highlighted operations can come next after the {} numbered ones: {}",
            order.len(),
            lines.join("; ")
        )
    });
    let verdict = if !highlighted.is_empty() {
        format!(
            "not linearizable: the longest linearizable prefix has {} operations",
            order.len()
        )
    } else if order.len() == ops.len() && !ops.is_empty() {
        "linearizable: the numbers give one linearization".to_string()
    } else {
        String::new()
    };
    Section {
        heading,
        verdict,
        lanes: clients.iter().map(|c| format!("client {c}")).collect(),
        bars,
        marks: Vec::new(),
        order,
        highlighted,
        allows,
        cycle: Vec::new(),
    }
}

/// Draws `history` and its `verdict` (from [`check`](super::check)) as one self-contained HTML
/// page: one section per partition ([`Model::partition`]), the failing partition first.
///
/// ```
/// use crosscheck::history::History;
/// use crosscheck::linearizability::{check, page};
/// use crosscheck::resources::{CounterModel, CounterOp};
/// use std::time::Duration;
///
/// let mut h = History::new();
/// let a = h.invoke(0, CounterOp::Inc);
/// let b = h.invoke(1, CounterOp::Inc);
/// h.ret(a, None).unwrap();
/// h.ret(b, None).unwrap();
/// let g = h.invoke(0, CounterOp::Get);
/// h.ret(g, Some(1)).unwrap();
/// let verdict = check::<CounterModel>(&h, Duration::from_secs(1));
/// let html = page::<CounterModel>(&h, &verdict, "two increments, one lost");
/// assert!(html.contains("class=\"op bad\""));
/// ```
pub fn page<M: Model>(history: &History<M::Op, M::Output>, verdict: &Verdict, title: &str) -> String {
    html::render(&build::<M>(history, verdict, title))
}

/// [`page`], written to `path`.
pub fn write_page<M: Model>(
    history: &History<M::Op, M::Output>,
    verdict: &Verdict,
    title: &str,
    path: impl AsRef<Path>,
) -> std::io::Result<()> {
    std::fs::write(path, page::<M>(history, verdict, title))
}

fn build<M: Model>(history: &History<M::Op, M::Output>, verdict: &Verdict, title: &str) -> Page {
    let placement = placement::<M>(history, verdict);
    let mut groups: BTreeMap<Option<u64>, Vec<OpId>> = BTreeMap::new();
    for op in history.operations() {
        groups.entry(M::partition(&op.op)).or_default().push(op.id);
    }
    let mut keys: Vec<Option<u64>> = groups.keys().copied().collect();
    // The failing partition first: that is where the reader should look.
    keys.sort_by_key(|k| Some(*k) != placement.failing);
    let several = keys.len() > 1;
    let sections = keys
        .iter()
        .map(|key| {
            let heading = match (several, key) {
                (false, _) => format!("{} operations", groups[key].len()),
                (true, Some(k)) => format!("partition {k}: {} operations", groups[key].len()),
                (true, None) => format!("operations without a key: {}", groups[key].len()),
            };
            section::<M>(history, &groups[key], &placement, heading)
        })
        .collect();
    Page {
        title: title.to_string(),
        summary: vec![format!("{} operations, {} clients: {verdict}", history.len(), {
            history
                .operations()
                .iter()
                .map(|o| o.client)
                .collect::<BTreeSet<_>>()
                .len()
        })],
        sections,
    }
}
