//! The report of a loom failure: the interleaving with loom's switches marked, the loads that
//! only weak memory explains, and whether a sequentially consistent interleaving (shuttle) shows
//! the same failure, which decides whether the bug replays anywhere or only under loom.

use std::sync::Arc;

use super::loom::{Found, LoomSettings};
use super::verdict::{self, build_history, short_name, PartsInput};
use crate::checker::Checker;
use crate::plan::{Plan, StrategyFactory};
use crate::report::{self, Failure, FailureData, FailureKind};
use crate::resource::Resource;
use crate::runtime::{self, Event, EventKind, Value};
use crate::scheduler;
use crate::token::{LoomPath, Token, TokenScenario};

/// The events with a switch marked wherever the running thread changes, and the preemptions among
/// those switches: the thread switched away from could have gone on (it was not blocked, and it
/// ran again later). Loom does not say why it switched, so this is read off the record.
fn with_switches(events: &[Event]) -> (Vec<Event>, usize) {
    let mut out = Vec::with_capacity(events.len() * 2);
    let mut preemptions = 0;
    for (i, e) in events.iter().enumerate() {
        if let Some(prev) = i.checked_sub(1).map(|p| &events[p]) {
            if prev.thread != e.thread {
                let blocked = matches!(prev.kind, EventKind::LockBlocked { .. } | EventKind::Wait { .. });
                let resumes = events[i..].iter().any(|later| later.thread == prev.thread);
                let preempted = prev.thread != 0 && !blocked && resumes;
                preemptions += usize::from(preempted);
                out.push(Event {
                    thread: e.thread,
                    kind: EventKind::SwitchedTo {
                        from: prev.thread,
                        preempted,
                    },
                });
            }
        }
        out.push(e.clone());
    }
    (out, preemptions)
}

/// Loads that returned a value other than the last one stored to that atomic in the recorded
/// order: values only weak memory allows (a sequentially consistent run reads the latest store).
fn stale_reads(
    events: &[Event],
    labels: &[(usize, crate::runtime::Label)],
    objects: &[runtime::ObjectInfo],
) -> Vec<String> {
    let mut last: Vec<Option<(Value, usize)>> = Vec::new();
    let mut found = Vec::new();
    for e in events {
        let (obj, stored) = match &e.kind {
            EventKind::Store { obj, value } => (*obj, Some(*value)),
            EventKind::Rmw { obj, new, .. } => (*obj, Some(*new)),
            EventKind::Load { obj, .. } => (*obj, None),
            _ => continue,
        };
        if last.len() <= obj {
            last.resize(obj + 1, None);
        }
        match (stored, &e.kind) {
            (Some(v), _) => last[obj] = Some((v, e.thread)),
            (None, EventKind::Load { value, .. }) => {
                if let Some((latest, writer)) = last[obj] {
                    if latest != *value {
                        let name = crate::record::ObjectName(objects, obj).to_string();
                        found.push(format!(
                            "{} loaded {name} -> {value} after {} had stored {latest}",
                            crate::record::thread_label(labels, e.thread),
                            crate::record::thread_label(labels, writer)
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    found
}

/// The report of a loom failure: the same parts as under shuttle, with a loom replay token.
pub(super) fn describe<R: Resource>(
    plan: &Plan<R::Op>,
    settings: &LoomSettings,
    found: Found<R>,
    execution: usize,
    schedules: usize,
) -> Failure<R::Op> {
    let (kind, expected, record, outputs) = found;
    let outputs = &outputs[..];
    let type_name = std::any::type_name::<R>();
    let scenario = &plan.scenario;
    let (history, index) = build_history::<R>(&record.events, scenario, outputs);
    let (names, texts) = verdict::op_texts::<R>(scenario, outputs);
    let (events, preemptions) = with_switches(&record.events);
    let mut parts = verdict::report_parts::<R>(PartsInput {
        kind: &kind,
        scenario,
        outputs,
        history: &history,
        index: &index,
        interleaving: report::interleaving(&events, &record.labels, &record.objects, &names, &texts),
        type_name,
        scheduler: settings.scheduler.clone(),
        seed: settings.seed,
        preemptions,
        check_budget: settings.check_budget,
        expected,
    });
    let replayable = !matches!(kind, FailureKind::Usage { .. } | FailureKind::Internal { .. });
    let token = replayable.then(|| {
        Token {
            type_name: short_name(type_name).to_string(),
            type_hash: crate::token::fnv32(type_name.as_bytes()),
            scenario: plan.source.clone(),
            schedule: Vec::new(),
            loom: Some(LoomPath {
                preemption_bound: settings.preemption_bound,
                execution,
            }),
        }
        .encode()
    });
    parts.token = token.clone();
    let stale = stale_reads(&record.events, &record.labels, &record.objects);
    let mut note = format!(
        "found by loom in execution {execution} of its exploration of this scenario; the token reruns loom's \
         exploration up to exactly that execution"
    );
    if !stale.is_empty() {
        note += &format!(
            "\nweak memory: {} (a sequentially consistent run always reads the latest store)",
            stale.join("; ")
        );
    }
    if matches!(plan.source, TokenScenario::Pinned(_)) {
        note += "\nthis scenario was pinned with Checker::scenario: replay the token with the same .scenario(..)";
    }
    parts.note = Some(note);
    Failure::new(FailureData {
        kind,
        scenario: (**scenario).clone(),
        token,
        preemptions,
        schedules,
        parts: Some(parts),
        source: Some(plan.source.clone()),
        choices: Vec::new(),
        switches: 0,
        steps: 0,
    })
}

/// Schedules shuttle may spend looking for a sequentially consistent reproduction.
const SC_BUDGET: usize = 5_000;

/// Reruns the failing scenario under shuttle (every interleaving, up to [`SC_BUDGET`]) and notes in
/// the report whether it needs weak memory.
pub(super) fn cross_check<R: Resource>(checker: &Checker<R>, failure: &mut Failure<R::Op>) {
    let Some(source) = failure.data().source.clone() else {
        return;
    };
    let plan = Plan {
        scenario: Arc::new(failure.scenario().clone()),
        source,
    };
    let want = failure.kind().clone();
    let dfs: StrategyFactory =
        Box::new(|_| Box::new(scheduler::Capped::new(scheduler::Dfs::new(None), Some(SC_BUDGET))));
    let name = "Dfs (sequentially consistent cross-check)".to_string();
    let note = match checker.execute(vec![plan], SC_BUDGET, dfs, name, None) {
        Err(sc) if sc.kind().same_bug(&want) => match sc.schedule() {
            Some(token) => format!(
                "needs no weak memory: shuttle reproduces this failure on the same scenario with a sequentially \
                 consistent interleaving ({} preemption(s)); replay it anywhere with \
                 Scheduler::Replay(\"{token}\".into())",
                sc.preemptions()
            ),
            None => "needs no weak memory: shuttle reproduces this failure on the same scenario".to_string(),
        },
        Ok(report) if report.exhausted_scenarios() > 0 => format!(
            "NEEDS WEAK MEMORY: none of the {} sequentially consistent interleavings of this scenario shows this \
             failure (shuttle explored them all), so it only replays under loom, with the token below",
            report.schedules()
        ),
        _ => format!(
            "probably needs weak memory: none of the first {SC_BUDGET} sequentially consistent interleavings of \
             this scenario shows this failure under shuttle, so replay it under loom, with the token below"
        ),
    };
    if let Some(parts) = failure.data_mut().parts.as_mut() {
        parts.note = Some(match parts.note.take() {
            Some(old) => format!("{old}\n{note}"),
            None => note,
        });
    }
}
