//! What the driver does for the hang watchdog and the nondeterminism check: the heartbeat at
//! every entry and exit, the trace of each execution, and the second run of each schedule under
//! `Determinism::EverySchedule`. A child of the driver's module, so that it reads the driver's state
//! directly; kept apart so that the driver's own path stays short.

use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use super::{lock, State};
use crate::backend::determinism::{self, Determinism, Trace, Twin};
use crate::backend::watchdog::{self, Heartbeat, Watched};
use crate::report::FailureKind;
use crate::resource::Resource;
use crate::runtime::ExecutionRecord;
use crate::scenario::Scenario;

/// The driver's part of the watchdog and of the nondeterminism check.
pub(crate) struct Guarded {
    /// `None`: the watchdog is off.
    heartbeat: Option<Arc<Heartbeat>>,
    /// The running execution's trace, when runs of a schedule are compared.
    trace: Option<Trace>,
    /// `Determinism::EverySchedule`'s second runs.
    twin: Option<Twin>,
}

impl Guarded {
    /// As the check running on this OS thread asks (see `checker/robust.rs`).
    pub(super) fn new() -> Self {
        Guarded {
            heartbeat: None,
            trace: determinism::tracing().then(Trace::default),
            twin: (determinism::mode() == Determinism::EverySchedule).then(Twin::default),
        }
    }

    /// Starts the watchdog on this run (until the result drops); it names operations from the
    /// scenario running.
    pub(super) fn watch<Op: Debug + Send + Sync + 'static>(
        &mut self,
        scenario: Arc<Mutex<Option<Arc<Scenario<Op>>>>>,
    ) -> Watched {
        let watched = watchdog::watch(Box::new(move |i| {
            let Some(s) = lock(&scenario).clone() else {
                return (format!("op {i}"), "?".into());
            };
            let mut end = s.init.len();
            let thread = (i >= end)
                .then(|| {
                    s.threads.iter().position(|ops| {
                        end += ops.len();
                        i < end
                    })
                })
                .flatten();
            let op = (i < s.len()).then(|| format!("{:?}", s.op(i)));
            (
                op.unwrap_or_else(|| format!("op {i}")),
                watchdog::scenario_thread(thread),
            )
        }));
        self.heartbeat = watched.heartbeat().cloned();
        watched
    }

    /// Whether [`Guarded::chose`] needs the list of threads that could run.
    #[inline]
    pub(super) fn wants_ids(&self) -> bool {
        self.trace.is_some()
    }

    /// The driver was entered (`false`) or hands control to a controlled thread (`true`).
    #[inline]
    pub(super) fn beat(&self, running: bool) {
        if let Some(h) = &self.heartbeat {
            if running {
                h.running();
            } else {
                h.idle();
            }
        }
    }

    /// Task `choice` was chosen among `ids` after `current` ran.
    #[inline]
    pub(super) fn chose(&mut self, ids: &[usize], choice: usize, current: Option<usize>, rec: &ExecutionRecord) {
        if let Some(h) = &self.heartbeat {
            h.chose(choice, current, rec);
        }
        if let Some(trace) = &mut self.trace {
            trace.point(ids, choice, rec.events.len());
        }
    }

    /// The execution of `record` ended (also by a panic out of the runner).
    pub(super) fn finish_trace(&mut self, record: &ExecutionRecord) -> Option<Trace> {
        self.trace.as_mut().map(|t| t.finish(record))
    }
}

impl<R: Resource> State<R> {
    /// Starts the second run of the schedule that just passed, if one is due.
    pub(super) fn second_run(&mut self) -> bool {
        let due = self.failure.is_none()
            && self
                .guard
                .twin
                .as_mut()
                .is_some_and(|t| t.start_second(&mut self.strategy));
        if due {
            // Not counted as a schedule: the same one, run again to be compared.
            self.start_execution();
        }
        due
    }

    /// Finishes the execution's trace. If it was a second run, compares it with the first (a
    /// divergence is the run's failure) and returns `None`: there is nothing else to judge.
    pub(super) fn second_run_ended(
        &mut self,
        record: Box<ExecutionRecord>,
    ) -> Option<(Box<ExecutionRecord>, Option<Trace>)> {
        let trace = self.guard.finish_trace(&record);
        let (Some(twin), Some(t)) = (self.guard.twin.as_mut(), &trace) else {
            return Some((record, trace));
        };
        match twin.end_second(t, &mut self.strategy) {
            None => Some((record, trace)),
            Some(None) => {
                self.spare = Some(record);
                None
            }
            Some(Some(d)) => {
                let message = determinism::message(&d, "a schedule that passed was run a second time");
                self.fail(FailureKind::Nondeterministic { step: d.step, message }.into(), record);
                None
            }
        }
    }

    /// The execution passed: its record is kept for reuse, and its schedule runs a second time next
    /// when every schedule is compared.
    pub(super) fn passed_run(&mut self, record: Box<ExecutionRecord>, trace: Option<Trace>) {
        if let (Some(twin), Some(trace)) = (self.guard.twin.as_mut(), trace) {
            twin.passed(trace, &record.choices);
        }
        self.spare = Some(record);
    }
}
