//! How a failing execution under shuttle becomes a [`Failure`]: the report's parts, the
//! interleaving, the page, the token. A child of the driver's module, so that it reads the
//! driver's state directly.

use std::sync::Arc;

use super::{lock, short_name, Judged, State, PINNED_NOTE};
use crate::record::EventKind;
use crate::report::{self, Failure, FailureData, PartsInput};
use crate::resource::Resource;
use crate::runtime::ExecutionRecord;
use crate::token::{Token, TokenScenario};

impl<R: Resource> State<R> {
    /// The failure `judged` shown by the execution `record` describes.
    pub(super) fn build_failure(&self, judged: Judged, record: &ExecutionRecord) -> Failure<R::Op> {
        let switches = switches(record);
        let Judged { kind, evidence } = judged;
        let type_name = std::any::type_name::<R>();
        let plan = &self.plans[self.plan.unwrap_or(0).min(self.plans.len().saturating_sub(1))];
        let scenario = Arc::clone(&plan.scenario);
        let outcome = lock(&self.outcome);
        let (names, outputs) = report::op_texts::<R>(&scenario, &outcome.outputs);
        let member = self.strategy.as_ref().and_then(|s| s.describe());
        let mut interleaving = report::interleaving(&record.events, &record.labels, &record.objects, &names, &outputs);
        crate::backend::locks::trim_livelock(&kind, &mut interleaving);
        let mut parts = report::report_parts::<R>(PartsInput {
            kind: &kind,
            scenario: &scenario,
            outputs: &outcome.outputs,
            interleaving,
            type_name,
            scheduler: match member {
                Some(member) => format!("{}; {member} found it", self.settings.scheduler),
                None => self.settings.scheduler.clone(),
            },
            seed: self.settings.seed,
            preemptions: record.preemptions,
        });
        let page = kind.is_bug().then(|| {
            let (history, index) = crate::history::from_record::<R>(&record.events, &scenario, &outcome.outputs);
            Box::new(crate::backend::page::execution::<R>(
                crate::backend::page::ExecutionInput {
                    title: format!("crosscheck: {} in {}", kind.title(), short_name(type_name)),
                    summary: Vec::new(),
                    kind: &kind,
                    scenario: &scenario,
                    outputs: &outcome.outputs,
                    events: &record.events,
                    labels: &record.labels,
                    objects: &record.objects,
                    history: &history,
                    index: &index,
                    check_budget: self.settings.check_budget,
                },
            ))
        });
        drop(outcome);
        let token = kind
            .is_bug()
            .then(|| Token::new(type_name, plan.source.clone(), record.choices.clone(), None).encode());
        parts.token = token.clone();
        parts.note = matches!(plan.source, TokenScenario::Pinned(_)).then(|| PINNED_NOTE.to_string());
        let mut data = FailureData::new(kind, (*scenario).clone());
        data.token = token;
        data.preemptions = record.preemptions;
        data.schedules = self.runs;
        data.parts = Some(parts);
        data.evidence = evidence;
        data.source = Some(plan.source.clone());
        data.choices = record.choices.clone();
        data.surprises = record.surprises;
        data.switches = switches;
        data.steps = record.steps;
        data.page = page;
        Failure::new(data)
    }
}

/// Context switches between scenario threads in an execution.
pub(super) fn switches(record: &ExecutionRecord) -> usize {
    record
        .events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::SwitchedTo { from, .. } if from != 0 && e.thread != 0))
        .count()
}
