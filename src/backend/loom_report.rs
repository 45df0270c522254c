//! The report of a loom failure: the interleaving with loom's switches marked and the loads that
//! only weak memory explains. (Whether a sequentially consistent interleaving shows the same
//! failure is asked of shuttle by the checker, which knows both backends.)

use super::judge::Judged;
use super::loom::{Found, LoomSettings};
use super::shuttle::PINNED_NOTE;
use crate::plan::Plan;
use crate::record::{thread_label, Event, EventKind, Label, ObjectInfo, ObjectName, Value};
use crate::report::{self, Failure, FailureData, PartsInput};
use crate::resource::Resource;
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
fn stale_reads(events: &[Event], labels: &[(usize, Label)], objects: &[ObjectInfo]) -> Vec<String> {
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
                        let name = ObjectName(objects, obj).to_string();
                        found.push(format!(
                            "{} loaded {name} -> {value} after {} had stored {latest}",
                            thread_label(labels, e.thread),
                            thread_label(labels, writer)
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
    let (Judged { kind, evidence }, record, outputs) = found;
    let type_name = std::any::type_name::<R>();
    let scenario = &plan.scenario;
    let (names, texts) = report::op_texts::<R>(scenario, &outputs);
    let (events, preemptions) = with_switches(&record.events);
    let mut parts = report::report_parts::<R>(PartsInput {
        kind: &kind,
        scenario,
        outputs: &outputs,
        interleaving: report::interleaving(&events, &record.labels, &record.objects, &names, &texts),
        type_name,
        scheduler: settings.scheduler.clone(),
        seed: settings.seed,
        preemptions,
    });
    let (history, index) = crate::history::from_record::<R>(&record.events, scenario, &outputs);
    let page = Box::new(super::page::execution::<R>(super::page::ExecutionInput {
        title: format!(
            "crosscheck: {} in {} (loom)",
            kind.title(),
            crate::record::short_name(type_name)
        ),
        summary: Vec::new(),
        kind: &kind,
        scenario,
        outputs: &outputs,
        events: &events,
        labels: &record.labels,
        objects: &record.objects,
        history: &history,
        index: &index,
        check_budget: settings.check_budget,
    }));
    let token = kind.is_bug().then(|| {
        let path = LoomPath {
            preemption_bound: settings.preemption_bound,
            execution,
        };
        Token::new(type_name, plan.source.clone(), Vec::new(), Some(path)).encode()
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
        note += &format!("\n{PINNED_NOTE}");
    }
    parts.note = Some(note);
    let mut data = FailureData::new(kind, (**scenario).clone());
    data.token = token;
    data.preemptions = preemptions;
    data.schedules = schedules;
    data.parts = Some(parts);
    data.evidence = evidence;
    data.source = Some(plan.source.clone());
    data.page = Some(page);
    Failure::new(data)
}
