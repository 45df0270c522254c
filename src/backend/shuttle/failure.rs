//! How a failing execution under shuttle becomes a [`Failure`]: the report's parts, the
//! interleaving, the page, the token; which failure a run keeps when it goes on past the first;
//! a panic that escaped the runner, a lock-order cycle closed by passing executions; and what a
//! run that has ended comes to. A child of the driver's module, so that it reads the driver's state directly.

use std::sync::Arc;
use std::time::Instant;

use super::{short_name, Judged, State};
use crate::backend::harness::Outcomes;
use crate::record::EventKind;
use crate::report::{self, Failure, FailureData, FailureKind, PartsInput, Report};
use crate::resource::Resource;
use crate::runtime::{self, ExecutionRecord};
use crate::token::{Token, TokenScenario};

impl<R: Resource> State<R> {
    /// Keeps `judged` as the run's failure, unless the failure kept already is simpler.
    pub(super) fn fail(&mut self, judged: Judged, record: Box<ExecutionRecord>) {
        let cost = (
            record.preemptions + record.surprises,
            record.preemptions,
            switches(&record),
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
        self.failure = Some(self.build_failure(judged, &record));
    }

    /// Adds a passing execution to the lock-order graph and the contention figures; the first
    /// cycle it closes is kept as a failure, reported if the run finds nothing worse.
    pub(super) fn note_lock_order(&mut self, record: &ExecutionRecord) {
        let plan = self.plan.unwrap_or(0).min(self.plans.len().saturating_sub(1));
        let scenario = Arc::clone(&self.plans[plan].scenario);
        let Some(closed) = self.watch.absorb::<R>(record, &scenario) else {
            return;
        };
        let mut inversion = self.build_failure(closed.kind.into(), record);
        if !closed.within_one_execution {
            // The edges came from several executions: no single schedule shows them all.
            crate::backend::locks::forget_schedule(&mut inversion);
        }
        self.inversion = Some(inversion);
    }

    /// After a panic escaped the runner: turns it into a failure of the execution that ran.
    pub(crate) fn evaluate_panic(&mut self, message: String) {
        let record = self.ended_record().unwrap_or_default();
        self.guard.finish_trace(&record);
        let kind = FailureKind::Internal {
            message: format!("the execution engine panicked: {message}"),
        };
        self.fail(kind.into(), record);
    }

    /// The engine found every unfinished thread (`blocked`, named) blocked where crosscheck's own
    /// wait-for graph did not see a cycle first.
    pub(crate) fn evaluate_deadlock(&mut self, blocked: &[String]) {
        let record = self.ended_record().unwrap_or_default();
        self.guard.finish_trace(&record);
        let mut cycle = vec![
            "every thread is blocked (on a condition variable, a join, a lock, or a future nobody will \
             wake), and none can wake the others"
                .to_string(),
            format!("blocked: {}", blocked.join(", ")),
        ];
        runtime::awaits::explain(&record, &mut cycle);
        self.fail(FailureKind::Deadlock { cycle }.into(), record);
    }

    /// The failure `judged` shown by the execution `record` describes.
    pub(super) fn build_failure(&self, judged: Judged, record: &ExecutionRecord) -> Failure<R::Op> {
        let switches = switches(record);
        let Judged { kind, evidence } = judged;
        let type_name = std::any::type_name::<R>();
        let plan = &self.plans[self.plan.unwrap_or(0).min(self.plans.len().saturating_sub(1))];
        let scenario = Arc::clone(&plan.scenario);
        let seen = self.outcome.with(|o| o.outputs.clone());
        let (names, outputs) = report::op_texts::<R>(&scenario, &seen);
        let member = self.strategy.as_ref().and_then(|s| s.describe());
        let mut interleaving = report::interleaving(&record.events, &record.labels, &record.objects, &names, &outputs);
        crate::backend::locks::trim_livelock(&kind, &mut interleaving);
        let mut parts = report::report_parts::<R>(PartsInput {
            kind: &kind,
            scenario: &scenario,
            outputs: &seen,
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
        let token = kind.is_bug().then(|| self.token(type_name, plan, &record.choices));
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

    /// The replay token of `choices`, saying which kinds of choice point the run offered.
    fn token(&self, type_name: &str, plan: &crate::plan::Plan<R::Op>, choices: &[crate::scheduler::Choice]) -> String {
        let offered = crate::token::Offered {
            spurious: self.settings.spurious,
            short_writes: self.settings.short_writes,
        };
        Token::new(type_name, plan.source.clone(), choices.to_vec(), None)
            .offering(offered)
            .encode()
    }
}

/// What a run that has ended comes to: its failure, or its report.
pub(super) fn finish<R: Resource>(state: &mut State<R>, started: Instant) -> Result<Report, Failure<R::Op>> {
    if let Some(mut failure) = state.failure.take() {
        if state.settings.keep_going {
            // The run went on past the failure: count everything it ran.
            failure.data_mut().schedules = state.runs;
        }
        return Err(failure);
    }
    if let Some(mut inversion) = state.inversion.take() {
        // Every schedule passed, but the locks were taken in orders that can deadlock.
        inversion.data_mut().schedules = state.runs;
        return Err(inversion);
    }
    let scheduler = state.settings.scheduler.clone();
    let mut report = Report::new(std::any::type_name::<R>(), scheduler, started);
    report.lock_stats = state.watch.stats();
    report.scenarios = state.scenarios_run;
    report.schedules = state.runs;
    report.exhausted = state.exhausted;
    report.unknown = state.unknown;
    Ok(report)
}

/// Context switches between scenario threads in an execution.
pub(super) fn switches(record: &ExecutionRecord) -> usize {
    record
        .events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::SwitchedTo { from, .. } if from != 0 && e.thread != 0))
        .count()
}

/// The note on a failure of a pinned scenario, whose token names the scenario by a fingerprint.
pub(crate) const PINNED_NOTE: &str =
    "this scenario was pinned with Checker::scenario: replay the token with the same .scenario(..)";
