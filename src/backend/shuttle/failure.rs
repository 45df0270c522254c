//! The failure of a shuttle execution: its report, page and replay token, built from the record,
//! keeping the simplest failure when the run goes on past the first.

use std::sync::Arc;

use super::State;
use crate::backend::harness::Outcomes;
use crate::backend::judge::Judged;
use crate::record::{short_name, EventKind};
use crate::report::{self, Failure, FailureData, PartsInput};
use crate::resource::Resource;
use crate::runtime::ExecutionRecord;
use crate::token::{Token, TokenScenario};

impl<R: Resource> State<R> {
    /// Keeps `judged` as the run's failure, unless the failure kept already is simpler.
    pub(super) fn fail(&mut self, judged: Judged, record: Box<ExecutionRecord>) {
        let switches = record
            .events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::SwitchedTo { from, .. } if from != 0 && e.thread != 0))
            .count();
        let cost = (
            record.preemptions + record.surprises,
            record.preemptions,
            switches,
            record.steps,
        );
        if let Some(best) = &self.failure {
            let data = best.data();
            if (
                data.preemptions + data.surprises,
                data.preemptions,
                data.switches,
                data.steps,
            ) <= cost
            {
                return;
            }
        }
        let Judged { kind, evidence } = judged;
        let type_name = std::any::type_name::<R>();
        let plan = &self.plans[self.plan.unwrap_or(0).min(self.plans.len().saturating_sub(1))];
        let scenario = Arc::clone(&plan.scenario);
        let seen = self.outcome.with(|o| o.outputs.clone());
        let (names, outputs) = report::op_texts::<R>(&scenario, &seen);
        let member = self.strategy.as_ref().and_then(|s| s.describe());
        let mut parts = report::report_parts::<R>(PartsInput {
            kind: &kind,
            scenario: &scenario,
            outputs: &seen,
            interleaving: report::interleaving(&record.events, &record.labels, &record.objects, &names, &outputs),
            type_name,
            scheduler: match member {
                Some(member) => format!("{}; {member} found it", self.settings.scheduler),
                None => self.settings.scheduler.clone(),
            },
            seed: self.settings.seed,
            preemptions: record.preemptions,
        });
        let page = kind.is_bug().then(|| {
            let (history, index) = crate::history::from_record::<R>(&record.events, &scenario, &seen);
            Box::new(crate::backend::page::execution::<R>(
                crate::backend::page::ExecutionInput {
                    title: format!("crosscheck: {} in {}", kind.title(), short_name(type_name)),
                    summary: Vec::new(),
                    kind: &kind,
                    scenario: &scenario,
                    outputs: &seen,
                    events: &record.events,
                    labels: &record.labels,
                    objects: &record.objects,
                    history: &history,
                    index: &index,
                    check_budget: self.settings.check_budget,
                },
            ))
        });
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
        data.choices = record.choices;
        data.surprises = record.surprises;
        data.switches = switches;
        data.steps = record.steps;
        data.page = page;
        self.failure = Some(Failure::new(data));
    }
}

/// The note on a failure of a pinned scenario, whose token names the scenario by a fingerprint.
pub(crate) const PINNED_NOTE: &str =
    "this scenario was pinned with Checker::scenario: replay the token with the same .scenario(..)";
