//! The HTML page of a failed execution: its scenario's operations on one lane per thread (init and
//! post on lanes of their own), the recorded events and preemptions on the same axis (the event's
//! index in the record), the linearizability checker's prefix and highlighted operation, and a
//! deadlock's wait-for cycle.

use std::collections::HashMap;
use std::time::Duration;

use crate::history::History;
use crate::html::{Bar, Mark, Page, Part, Section};
use crate::linearizability::{self, placement};
use crate::record::{thread_label, Event, EventKind, Label, ObjectInfo};
use crate::report::{self, FailureKind};
use crate::resource::Resource;
use crate::scenario::Scenario;

/// What the page is drawn from: one execution and its verdict.
pub(crate) struct ExecutionInput<'a, R: Resource> {
    pub title: String,
    pub summary: Vec<String>,
    pub kind: &'a FailureKind,
    pub scenario: &'a Scenario<R::Op>,
    pub outputs: &'a [Option<R::Output>],
    pub events: &'a [Event],
    pub labels: &'a [(usize, Label)],
    pub objects: &'a [ObjectInfo],
    pub history: &'a History<R::Op, R::Output>,
    /// The scenario op index of each history op.
    pub index: &'a [usize],
    pub check_budget: Duration,
}

/// The page of one failed execution.
pub(crate) fn execution<R: Resource>(input: ExecutionInput<'_, R>) -> Page {
    let s = input.scenario;
    let threads = s.threads.len();
    // Lanes: init, T1..Tn, post, then any threads the resource spawned itself.
    let mut lanes: Vec<String> = vec!["init (main)".to_string()];
    lanes.extend((0..threads).map(|t| format!("T{}", t + 1)));
    lanes.push("post (main)".to_string());
    let post_lane = threads + 1;
    let mut task_lane: HashMap<usize, usize> = HashMap::new();
    for &(task, Label(t)) in input.labels {
        task_lane.insert(task, t + 1);
    }
    // Op index -> (lane, part).
    let mut place = Vec::with_capacity(s.len());
    place.extend(s.init.iter().map(|_| (0, Part::Init)));
    for (t, ops) in s.threads.iter().enumerate() {
        place.extend(ops.iter().map(|_| (t + 1, Part::Parallel)));
    }
    place.extend(s.post.iter().map(|_| (post_lane, Part::Post)));

    let (names, outputs) = report::op_texts::<R>(s, input.outputs);
    let mut begins = vec![None; s.len()];
    let mut ends = vec![None; s.len()];
    let mut marks = Vec::new();
    let mut in_post = false;
    for (at, e) in input.events.iter().enumerate() {
        match e.kind {
            EventKind::OpBegin { op } => {
                in_post |= op >= s.len() - s.post.len();
                if let Some(b) = begins.get_mut(op) {
                    *b = Some(at);
                }
                continue;
            }
            EventKind::OpEnd { op } => {
                if let Some(b) = ends.get_mut(op) {
                    *b = Some(at);
                }
                continue;
            }
            _ => {}
        }
        let lane = match e.thread {
            0 if in_post => post_lane,
            0 => 0,
            task => *task_lane.entry(task).or_insert_with(|| {
                lanes.push(thread_label(input.labels, task));
                lanes.len() - 1
            }),
        };
        let text = report::interleaving(std::slice::from_ref(e), input.labels, input.objects, &names, &outputs);
        let Some(text) = text.first() else { continue };
        let preemption = matches!(e.kind, EventKind::SwitchedTo { preempted: true, .. });
        let text = text.trim_start_matches('-').trim().to_string();
        marks.push(Mark {
            lane,
            at,
            text,
            preemption,
        });
    }

    let verdict = linearizability::check::<R::Model>(input.history, input.check_budget);
    let placed = placement::<R::Model>(input.history, &verdict);
    let bar = |id: &crate::history::OpId| input.index.get(id.0).copied();
    let mut bars: Vec<Bar> = (0..s.len())
        .map(|i| Bar {
            lane: place[i].0,
            part: place[i].1,
            op: names[i].clone(),
            output: outputs[i].clone(),
            start: begins[i].unwrap_or(0),
            end: ends[i],
            before: None,
            after: None,
        })
        .collect();
    for (id, (before, after)) in &placed.states {
        if let Some(b) = bar(id).and_then(|i| bars.get_mut(i)) {
            b.before = Some(before.clone());
            b.after = Some(after.clone());
        }
    }
    // Operations that never began (a thread stuck before them) are not drawn as bars at 0.
    let began: Vec<bool> = begins.iter().map(Option::is_some).collect();
    let highlighted: Vec<usize> = placed.highlighted.iter().filter_map(bar).collect();
    let allows = (!highlighted.is_empty()).then(|| {
        let lines: Vec<String> = placed
            .allows
            .iter()
            .filter_map(|(id, expected)| {
                let i = bar(id)?;
                let got = outputs[i].as_deref().unwrap_or("nothing");
                Some(format!(
                    "{} {} returned {got}; after the numbered operations the model returns {expected}",
                    lanes[place[i].0], names[i]
                ))
            })
            .collect();
        format!("The highlighted operation cannot come next: {}", lines.join("; "))
    });
    let cycle = match input.kind {
        FailureKind::Deadlock { cycle } => wait_for(cycle, &lanes),
        _ => Vec::new(),
    };
    let order: Vec<usize> = placed.order.iter().filter_map(bar).collect();
    let verdict = match input.kind {
        FailureKind::NotLinearizable { explanation, .. } => format!("not linearizable: {explanation}"),
        other => format!("{}: {}", other.title(), summary_of(other)),
    };
    for (i, b) in bars.iter_mut().enumerate() {
        if !began[i] {
            b.start = b.start.max(input.events.len());
        }
    }
    Page {
        title: input.title,
        summary: input.summary,
        sections: vec![Section {
            heading: format!("the failing execution ({})", s.shape()),
            verdict,
            lanes,
            bars,
            marks,
            order,
            highlighted,
            allows,
            cycle,
        }],
    }
}

fn summary_of(kind: &FailureKind) -> String {
    match kind {
        FailureKind::InvariantViolated { message } => message.clone(),
        FailureKind::Deadlock { cycle } => cycle.join("; "),
        FailureKind::Panicked { thread, op, message } => format!("{thread} panicked in {op}: {message}"),
        FailureKind::StepLimitExceeded { steps } => format!("more than {steps} scheduling steps"),
        other => format!("{other:?}"),
    }
}

/// The wait-for edges of a deadlock report ("T1 holds mutex#0 and waits for mutex#1 (held by
/// T2)"), as lane pairs.
fn wait_for(cycle: &[String], lanes: &[String]) -> Vec<(usize, usize, String)> {
    let lane = |name: &str| lanes.iter().position(|l| l == name);
    cycle
        .iter()
        .filter_map(|line| {
            let from = lane(line.split_whitespace().next()?)?;
            let held = line.split("held by ").nth(1)?;
            let to = lane(held.trim_end_matches([')', '.']).split([')', ',', ' ']).next()?)?;
            Some((from, to, line.clone()))
        })
        .collect()
}
