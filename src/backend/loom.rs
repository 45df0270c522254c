//! Runs scenarios under loom: every interleaving up to a preemption bound, including the values a
//! `Relaxed`/`Acquire`/`Release` atomic may read on weak memory, which shuttle's sequentially
//! consistent schedulers never produce.
//!
//! Loom's sharp edges (measured with loom 0.7.3) and how this file absorbs them:
//!
//! - Loom runs an execution's threads as coroutines on the thread that calls `Builder::check`, so
//!   crosscheck's thread-local record sees every thread of the execution (it asks loom which one
//!   runs at each event). Nothing outside this OS thread is touched.
//! - A lock-ordering deadlock is caught by crosscheck's lock table before loom blocks: the thread
//!   that would close the cycle unwinds out of the resource (releasing its guards) with
//!   [`LoomStop`], the others stop at their next operation, and the execution ends normally with a
//!   deadlock verdict and the cycle in hand. A deadlock crosscheck cannot see (a condition variable,
//!   a join) is loom's own "deadlock" panic: the harness catches it where it surfaces and reports a
//!   deadlock. Measured here, such panics unwind out of `Builder::check` without aborting the process
//!   (every harness thread catches its own panics); see the loom tests.
//! - More than 5 threads (main included) makes loom abort: `Checker` refuses scenarios with more
//!   than 4 threads up front, and a resource that spawns threads of its own is stopped with a usage
//!   error before the spawn that loom could not model.
//! - Loom checks its permutation and time limits only every `checkpoint_interval` executions and
//!   returns `()` either way: crosscheck counts executions itself, stops exploration at the budget
//!   (`iterations`) by unwinding out of the model between executions, and says whether loom had
//!   finished. `checkpoint_interval` is set to `usize::MAX` so that loom's own limits never apply.
//! - Loom's branch limit panics mid-execution: crosscheck's step limit (`max_steps`) is enforced
//!   first, by the record, and loom's limit is set above it.
//! - `LOOM_*` variables: `LOOM_LOG` and `LOOM_LOCATION` are honoured (diagnostics only); the ones that
//!   change what is explored (`LOOM_MAX_PREEMPTIONS`, `LOOM_MAX_BRANCHES`, `LOOM_MAX_PERMUTATIONS`,
//!   `LOOM_MAX_DURATION`, `LOOM_CHECKPOINT_*`) are ignored, so a check does the same work everywhere:
//!   the scheduler's `preemption_bound`, `iterations` and `max_steps` say what it explores.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::harness::{self, lock, Threads};
use super::judge::{self, Consistency, Judged, Outcome};
use super::locks::LockWatch;
use super::loom_report;
use crate::plan::Plan;
use crate::report::{Failure, FailureKind, Report};
use crate::resource::Resource;
use crate::runtime::{self, panics, Abort, Backend, BackendGuard, ExecutionRecord, LoomStop};
use crate::scenario::Scenario;
use crate::token::LoomPath;

/// Unwinds out of `Builder::check` between executions (every loom thread but main has finished),
/// which is the one way to stop loom's exploration early without leaving a thread mid-stack.
struct StopExploration;

/// What a loom check needs from the checker.
pub(crate) struct LoomSettings {
    pub preemption_bound: Option<usize>,
    pub budget: usize,
    pub max_steps: usize,
    pub check_budget: Duration,
    pub scheduler: String,
    pub seed: Option<u64>,
    /// A replay: judge only this execution (1-based) of the single plan.
    pub target: Option<usize>,
    /// Run the lock-order analysis (see [`crate::lock_order`]).
    pub lock_order: bool,
}

/// Where one scenario's exploration stands, shared between loom's executions and the explorer.
struct Exploration<R: Resource> {
    scenario: Arc<Scenario<R::Op>>,
    /// Executions begun, the one in progress included.
    executions: usize,
    limit: usize,
    /// Loom wanted another execution after the limit: exploration was incomplete.
    cut: bool,
    unknown: usize,
    failure: Option<Found<R>>,
    /// The check-wide lock-order graph and contention figures, handed from plan to plan.
    watch: LockWatch,
    /// The passing execution (its number and what it left) that closed the first lock-order cycle.
    inversion: Option<(usize, Found<R>)>,
}

/// A failing execution: the verdict, the record, and the outputs.
pub(super) type Found<R> = (Judged, ExecutionRecord, Vec<Option<<R as Resource>::Output>>);

impl<R: Resource> Exploration<R> {
    fn new(scenario: Arc<Scenario<R::Op>>, limit: usize) -> Self {
        Exploration {
            scenario,
            executions: 0,
            limit,
            cut: false,
            unknown: 0,
            failure: None,
            watch: LockWatch::default(),
            inversion: None,
        }
    }
}

/// Loom's builder with crosscheck's settings, or a usage error for a `LOOM_*` variable that loom
/// cannot parse (`Builder::new` would panic on it).
fn builder(settings: &LoomSettings) -> Result<loom::model::Builder, String> {
    let _quiet = panics::Quiet::new();
    let mut b = catch_unwind(loom::model::Builder::new).map_err(|payload| {
        let message = panics::message(&*payload);
        format!("loom could not read its LOOM_* environment variables: {message}")
    })?;
    b.max_threads = loom::MAX_THREADS;
    b.max_branches = settings.max_steps.saturating_mul(2).clamp(1_000, 200_000);
    b.preemption_bound = settings.preemption_bound;
    b.max_permutations = None;
    b.max_duration = None;
    b.checkpoint_file = None;
    b.checkpoint_interval = usize::MAX;
    Ok(b)
}

/// Everything a loom check explored, for the report.
#[derive(Default)]
pub(crate) struct Explored {
    pub executions: usize,
    pub scenarios: usize,
    pub complete: usize,
    pub cut: usize,
    pub unknown: usize,
    pub lock_stats: Vec<crate::lock_stats::LockStats>,
}

/// Explores each plan under loom, sharing `settings.budget` executions between them. Returns the
/// first failure, already described, or what was explored.
pub(crate) fn explore<R: Resource>(
    plans: &[Plan<R::Op>],
    settings: &LoomSettings,
) -> Result<Explored, (Failure<R::Op>, usize)> {
    let builder = builder(settings).map_err(|m| (Failure::usage(m), 0))?;
    let _quiet = panics::Quiet::new();
    let _backend = BackendGuard::set(Backend::Loom);
    let mut explored = Explored::default();
    let mut watch = LockWatch::new(settings.lock_order);
    let mut inversion: Option<(usize, usize, Found<R>)> = None;
    for (i, plan) in plans.iter().enumerate() {
        let left = settings.budget.saturating_sub(explored.executions);
        if left == 0 {
            break;
        }
        let limit = match settings.target {
            Some(target) => target,
            None => (left / (plans.len() - i)).max(1),
        };
        crate::progress::scenario_started();
        let mut fresh = Exploration::<R>::new(Arc::clone(&plan.scenario), limit);
        fresh.watch = std::mem::take(&mut watch);
        let shared = Arc::new(Mutex::new(fresh));
        let seen = Arc::new(Mutex::new(Outcome::<R>::default()));
        let body = body::<R>(
            Arc::clone(&shared),
            Arc::clone(&seen),
            settings.max_steps,
            settings.check_budget,
            settings.target,
        );
        panics::clear_seen();
        let outcome = catch_unwind(AssertUnwindSafe(|| builder.check(body)));
        let mut s = lock(&shared);
        watch = std::mem::take(&mut s.watch);
        if let (None, Some((execution, found))) = (&inversion, s.inversion.take()) {
            inversion = Some((i, execution, found));
        }
        let ran = s.executions.min(limit);
        explored.executions += ran;
        explored.scenarios += 1;
        explored.unknown += s.unknown;
        if let Err(payload) = outcome {
            if !payload.is::<StopExploration>() {
                // Loom itself panicked (its deadlock report, an internal limit): judge the execution
                // that was running from what was recorded of it.
                let last = panics::message(&*payload);
                // The first of loom's panics says what happened; later ones are its consequences.
                let message = panics::seen()
                    .into_iter()
                    .find(|m| !matches!(loom_panic_kind(m), FailureKind::Internal { .. }))
                    .unwrap_or(last);
                let record = runtime::take_record().unwrap_or_default();
                let mut kind = match &record.abort {
                    Some(abort) => judge::abort_kind(abort),
                    None => loom_panic_kind(&message),
                };
                if let (FailureKind::Deadlock { cycle }, None) = (&mut kind, &record.abort) {
                    runtime::awaits::explain(&record, cycle);
                }
                let outputs = std::mem::take(&mut lock(&seen).outputs);
                s.failure = Some((kind.into(), *record, outputs));
            }
        }
        if let Some(found) = s.failure.take() {
            let execution = s.executions;
            let schedules = explored.executions;
            drop(s);
            let failure = loom_report::describe::<R>(plan, settings, found, execution, schedules);
            return Err((failure, schedules));
        }
        if s.cut {
            explored.cut += 1;
        } else if settings.target.is_none() {
            explored.complete += 1;
        }
    }
    explored.lock_stats = watch.stats();
    if let Some((plan, execution, found)) = inversion {
        // Every execution passed, but the locks were taken in orders that can deadlock.
        let failure = loom_report::describe::<R>(&plans[plan], settings, found, execution, explored.executions);
        return Err((failure, explored.executions));
    }
    Ok(explored)
}

/// The failure loom's own panic stands for.
fn loom_panic_kind(message: &str) -> FailureKind {
    if message.starts_with("deadlock") {
        FailureKind::Deadlock {
            cycle: vec![
                "every thread is blocked (on a condition variable, a join, or a lock crosscheck does not track), \
                 and none can wake the others"
                    .to_string(),
                format!("loom reports: {message}"),
            ],
        }
    } else if message.contains("maximum number of branches") {
        FailureKind::StepLimitExceeded { steps: 0 }
    } else {
        FailureKind::Internal {
            message: format!("loom panicked: {message}"),
        }
    }
}

/// The body loom runs for every execution: the same harness as under shuttle, judged at its end,
/// inside the model, while the execution's loom objects still exist.
fn body<R: Resource>(
    shared: Arc<Mutex<Exploration<R>>>,
    outcome: Arc<Mutex<Outcome<R>>>,
    max_steps: usize,
    check_budget: Duration,
    target: Option<usize>,
) -> impl Fn() + Send + Sync + 'static {
    move || {
        let (n, scenario) = {
            let mut s = lock(&shared);
            s.executions += 1;
            if s.executions > s.limit {
                // Loom has more to explore, and the budget is spent. Nothing of this execution
                // has run yet, so unwinding out of the model is safe.
                s.cut = true;
                drop(s);
                std::panic::resume_unwind(Box::new(StopExploration));
            }
            (s.executions, Arc::clone(&s.scenario))
        };
        crate::progress::executed();
        harness::reset(&mut lock(&outcome), &scenario);
        runtime::begin_execution(None);
        runtime::with_record(|rec| {
            rec.in_loom = true;
            rec.max_steps = max_steps;
            // Created here, on main before any spawn, so that every thread's use of it happens
            // after its creation (loom checks that causality).
            rec.loom_switch = Some(Arc::new(loom::sync::atomic::AtomicBool::new(false)));
        });
        // Main is the first loom thread the record sees: index 0, as under shuttle.
        runtime::with_record(|_| ());
        harness::run::<R, LoomThreads>(&outcome, &scenario);
        runtime::with_record(|rec| {
            rec.in_loom = false;
            // A loom object must not outlive its execution.
            rec.loom_switch = None;
        });
        let record = runtime::take_record().unwrap_or_default();
        if target.is_some_and(|t| n < t) {
            return;
        }
        let mut s = lock(&shared);
        let judged = match &record.abort {
            Some(abort) => Some(judge::abort_kind_named(abort, &crate::report::op_texts::<R>(&scenario, &[]).0).into()),
            None => {
                let outcome = lock(&outcome);
                let (judged, unknown) = judge::judge::<R>(
                    &record.events,
                    &record.labels,
                    &scenario,
                    &outcome,
                    Consistency::Sequential,
                    check_budget,
                );
                s.unknown += usize::from(unknown);
                judged
            }
        };
        if let Some(judged) = judged {
            let outputs = std::mem::take(&mut lock(&outcome).outputs);
            s.failure = Some((judged, *record, outputs));
        } else if let Some(closed) = s.watch.absorb::<R>(&record, &scenario) {
            let outputs = lock(&outcome).outputs.clone();
            s.inversion = Some((n, (closed.kind.into(), *record, outputs)));
        }
        if s.failure.is_some() || target.is_some() {
            drop(s);
            // Every thread but main has finished: stop exploring.
            std::panic::resume_unwind(Box::new(StopExploration));
        }
    }
}

/// Loom's threads, for the harness.
struct LoomThreads;

impl Threads for LoomThreads {
    type Handle = loom::thread::JoinHandle<()>;

    fn spawn(f: impl FnOnce() + Send + 'static) -> Self::Handle {
        runtime::loom_spawning();
        loom::thread::spawn(f)
    }

    fn join(handle: Self::Handle) {
        let _ = handle.join();
    }

    fn resource_panic(payload: &(dyn std::any::Any + Send)) -> Option<String> {
        if payload.is::<LoomStop>() {
            return None;
        }
        let message = panics::message(payload);
        // A data race loom found in a cell access: the resource's bug, named from the record.
        if message.contains("Causality violation") {
            runtime::with_record(|rec| {
                let race = runtime::clocks::loom_race(rec, &message);
                rec.abort.get_or_insert(Abort::DataRace(race)).clone()
            });
            return None;
        }
        let kind = loom_panic_kind(&message);
        if matches!(kind, FailureKind::Internal { .. }) {
            return Some(message);
        }
        // Loom's own report surfaced inside the resource: not the resource's panic.
        let abort = match kind {
            FailureKind::Deadlock { cycle } => Abort::Deadlock { cycle },
            _ => Abort::StepLimit { steps: 0 },
        };
        runtime::with_record(|rec| rec.abort.get_or_insert(abort).clone());
        None
    }
}

/// Runs a loom check: explores the plans, sharing `settings.budget` executions between them.
pub(crate) fn check<R: Resource>(plans: Vec<Plan<R::Op>>, settings: LoomSettings) -> Result<Report, Failure<R::Op>> {
    let started = Instant::now();
    let explored = explore::<R>(&plans, &settings).map_err(|(failure, _)| failure)?;
    let mut report = Report::new(std::any::type_name::<R>(), settings.scheduler.clone(), started);
    report.scenarios = explored.scenarios;
    report.schedules = explored.executions;
    report.exhausted = explored.complete;
    report.unknown = explored.unknown;
    report.incomplete = incomplete(&explored, &settings, plans.len());
    report.lock_stats = explored.lock_stats;
    Ok(report)
}

/// Why exploration was incomplete, naming the bound, or `None` when loom finished every scenario.
fn incomplete(explored: &Explored, settings: &LoomSettings, plans: usize) -> Option<String> {
    let bound = match settings.preemption_bound {
        Some(b) => format!(" (within preemption bound {b})"),
        None => String::new(),
    };
    let unexplored = plans - explored.scenarios;
    if explored.cut == 0 && unexplored == 0 {
        return None;
    }
    Some(format!(
        "the schedule budget (iterations = {}) ran out before loom explored every execution{bound} of {} of {} \
         scenarios; raise .iterations(..), lower the preemption bound, or make the scenarios smaller",
        settings.budget,
        explored.cut + unexplored,
        plans
    ))
}

/// Replays a loom token: reruns loom's exploration of the token's scenario up to the execution it
/// names, and judges that one.
pub(crate) fn replay<R: Resource>(
    plan: Plan<R::Op>,
    path: LoomPath,
    settings: LoomSettings,
) -> Result<Report, Failure<R::Op>> {
    let started = Instant::now();
    let settings = LoomSettings {
        preemption_bound: path.preemption_bound,
        target: Some(path.execution.max(1)),
        budget: path.execution.max(1),
        ..settings
    };
    let plans = [plan];
    match explore::<R>(&plans, &settings) {
        Ok(explored) => {
            if explored.executions < path.execution {
                return Err(Failure::usage(format!(
                    "this loom replay token names execution {} of loom's exploration, but loom explored only {} \
                     executions of its scenario: the resource or its operations changed since the token was \
                     recorded",
                    path.execution, explored.executions
                )));
            }
            let mut report = Report::new(std::any::type_name::<R>(), settings.scheduler, started);
            report.scenarios = 1;
            report.schedules = 1;
            report.unknown = explored.unknown;
            Ok(report)
        }
        Err((mut failure, _)) => {
            failure.data_mut().schedules = 1;
            Err(failure)
        }
    }
}
