//! Runs scenarios on real OS threads, uncontrolled: what the real machine does, including timing
//! and memory effects no model has. `crate::sync` maps to std here.
//!
//! Each iteration runs one scenario once. The threads start together (a spinning barrier, so that
//! none is still waking up while another has finished), and every operation's invocation and
//! return are timestamped with the monotonic clock; the history is built in that real-time order.
//! An operation takes effect somewhere between its two timestamps, so the history never orders two
//! operations that really overlapped: a correct resource is never flagged. A thread that does not
//! finish within the timeout is reported as a suspected deadlock, with what each thread was doing,
//! and left behind (detached): the check returns.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use super::judge::{self, Consistency, Judged, Outcome};
use super::stress_order::StressOrder;
use crate::history::History;
use crate::plan::Plan;
use crate::record::{thread_name, Label};
use crate::report::{self, Failure, FailureData, FailureKind, PartsInput, Report};
use crate::resource::Resource;
use crate::runtime::std_order::{self, StdOrder};
use crate::runtime::{panics, Backend, BackendGuard};
use crate::scenario::Scenario;

/// How long the threads of one iteration may take before it counts as a suspected deadlock.
pub const DEFAULT_STRESS_TIMEOUT: Duration = Duration::from_secs(10);

/// What a stress check needs from the checker.
pub(crate) struct StressSettings {
    pub budget: usize,
    pub timeout: Duration,
    pub check_budget: Duration,
    pub scheduler: String,
    pub seed: Option<u64>,
    /// Run the lock-order analysis (see `runtime::std_order`).
    pub lock_order: bool,
}

/// One operation as it ran: when it was invoked and returned (ns since the iteration began), on
/// which thread (0 is the harness's main thread, t + 1 the scenario's thread t), and its output.
struct Timed<Out> {
    begin: u64,
    end: Option<u64>,
    thread: usize,
    output: Option<Out>,
}

/// What went wrong in one iteration.
pub(crate) struct StressFailure<R: Resource> {
    pub judged: Judged,
    outputs: Vec<Option<R::Output>>,
}

/// A failing iteration: what went wrong, the iteration's number (1-based), and the plan it ran.
pub(crate) type Found<R> = (Box<StressFailure<R>>, usize, usize);

/// What each operation of an iteration returned.
type Outputs<R> = Vec<Option<<R as Resource>::Output>>;

/// Marks a thread that finished its operations in the progress table.
const DONE: usize = usize::MAX;

/// Runs the plans round-robin, `settings.budget` iterations in all: the report, or the first
/// failure with the iteration that found it and the plan it ran.
pub(crate) fn explore<R: Resource>(plans: &[Plan<R::Op>], settings: &StressSettings) -> Result<Report, Found<R>> {
    let started = Instant::now();
    let _backend = BackendGuard::set(Backend::Std);
    let _quiet = panics::Quiet::new();
    let mut report = Report::new(std::any::type_name::<R>(), settings.scheduler.clone(), started);
    let mut order = StressOrder::new(settings.lock_order);
    for iteration in 0..settings.budget {
        let p = iteration % plans.len();
        if p + 1 > report.scenarios {
            report.scenarios = p + 1;
            crate::progress::scenario_started();
        }
        let result = run_once::<R>(&plans[p].scenario, settings, order.shared());
        crate::progress::executed();
        match result {
            Ok((unknown, outputs)) => {
                report.unknown += usize::from(unknown);
                if let Some(kind) = order.absorb::<R>(&plans[p].scenario) {
                    // Every iteration passed, but the locks were taken in orders that can deadlock.
                    let judged = kind.into();
                    return Err((Box::new(StressFailure { judged, outputs }), iteration + 1, p));
                }
            }
            Err(failure) => return Err((failure, iteration + 1, p)),
        }
    }
    report.schedules = settings.budget;
    report.elapsed = started.elapsed();
    report.lock_stats = order.stats();
    Ok(report)
}

/// One iteration; `Ok(true, _)` when its history was too large to check in time (unknown), with
/// what the operations returned. Its threads add their lock order to `order`.
fn run_once<R: Resource>(
    scenario: &Arc<Scenario<R::Op>>,
    settings: &StressSettings,
    order: Option<Arc<StdOrder>>,
) -> Result<(bool, Outputs<R>), Box<StressFailure<R>>> {
    let _watching = std_order::watch(order.clone(), 0);
    let epoch = Instant::now();
    let now = move || epoch.elapsed().as_nanos() as u64;
    let n = scenario.len();
    let mut timed: Vec<Option<Timed<R::Output>>> = (0..n).map(|_| None).collect();
    let mut panic: Option<(usize, Option<usize>, String)> = None;
    let labels: Vec<(usize, Label)> = (0..scenario.threads.len()).map(|t| (t + 1, thread_name(t))).collect();

    let resource = match catch_unwind(R::new) {
        Ok(r) => Arc::new(r),
        Err(payload) => {
            let message = panics::message(&*payload);
            panic = Some((0, None, message));
            return finish::<R>(scenario, timed, panic, None, &labels, settings);
        }
    };
    let mut index = 0;
    let sequential = |index: usize, op: &R::Op, timed: &mut Vec<Option<Timed<R::Output>>>| {
        std_order::set_op(Some(index));
        let begin = now();
        let result = catch_unwind(AssertUnwindSafe(|| resource.apply(op)));
        let end = now();
        match result {
            Ok(output) => {
                timed[index] = Some(Timed {
                    begin,
                    end: Some(end),
                    thread: 0,
                    output: Some(output),
                });
                None
            }
            Err(payload) => {
                timed[index] = Some(Timed {
                    begin,
                    end: None,
                    thread: 0,
                    output: None,
                });
                Some(panics::message(&*payload))
            }
        }
    };
    for op in &scenario.init {
        if let Some(message) = sequential(index, op, &mut timed) {
            panic = Some((0, Some(index), message));
            return finish::<R>(scenario, timed, panic, None, &labels, settings);
        }
        index += 1;
    }

    let threads = scenario.threads.len();
    let ready = Arc::new(AtomicUsize::new(0));
    let progress: Arc<Vec<AtomicUsize>> = Arc::new((0..threads).map(|_| AtomicUsize::new(0)).collect());
    let (tx, rx) = mpsc::channel();
    let mut handles = Vec::with_capacity(threads);
    for t in 0..threads {
        let (resource, scenario, ready, progress, tx, order) = (
            Arc::clone(&resource),
            Arc::clone(scenario),
            Arc::clone(&ready),
            Arc::clone(&progress),
            tx.clone(),
            order.clone(),
        );
        let base = index;
        index += scenario.threads[t].len();
        let spawned = std::thread::Builder::new()
            .name(format!("crosscheck-stress-T{}", t + 1))
            .spawn(move || {
                // This thread's panics are the report's business, not stderr's.
                let _quiet = panics::Quiet::new();
                let _watching = std_order::watch(order, t + 1);
                ready.fetch_add(1, Ordering::SeqCst);
                let mut spins = 0u32;
                while ready.load(Ordering::SeqCst) < threads {
                    spins += 1;
                    if spins % 1024 == 0 {
                        std::thread::yield_now();
                    } else {
                        std::hint::spin_loop();
                    }
                }
                let mut done = Vec::with_capacity(scenario.threads[t].len());
                let mut failed = None;
                for (k, op) in scenario.threads[t].iter().enumerate() {
                    progress[t].store(k + 1, Ordering::SeqCst);
                    std_order::set_op(Some(base + k));
                    let begin = now();
                    let result = catch_unwind(AssertUnwindSafe(|| resource.apply(op)));
                    let end = now();
                    match result {
                        Ok(output) => done.push((base + k, begin, Some(end), Some(output))),
                        Err(payload) => {
                            done.push((base + k, begin, None, None));
                            let message = panics::message(&*payload);
                            failed = Some((t + 1, Some(base + k), message));
                            break;
                        }
                    }
                }
                progress[t].store(DONE, Ordering::SeqCst);
                let _ = tx.send((t, done, failed));
            });
        match spawned {
            Ok(h) => handles.push(h),
            Err(e) => {
                let kind = FailureKind::Internal {
                    message: format!("could not start a stress thread: {e}"),
                };
                return Err(Box::new(StressFailure {
                    judged: kind.into(),
                    outputs: vec![None; n],
                }));
            }
        }
    }
    drop(tx);
    let deadline = Instant::now() + settings.timeout;
    let mut finished = 0;
    while finished < threads {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok((t, done, failed)) => {
                finished += 1;
                for (i, begin, end, output) in done {
                    timed[i] = Some(Timed {
                        begin,
                        end,
                        thread: t + 1,
                        output,
                    });
                }
                if panic.is_none() {
                    panic = failed;
                }
            }
            Err(_) => {
                // Stuck threads are left running, detached: the check must return.
                drop(handles);
                let cycle = stuck(scenario, &progress, settings.timeout);
                return Err(Box::new(StressFailure {
                    judged: FailureKind::Deadlock { cycle }.into(),
                    outputs: timed
                        .iter()
                        .map(|t| t.as_ref().and_then(|t| t.output.clone()))
                        .collect(),
                }));
            }
        }
    }
    for h in handles {
        let _ = h.join();
    }
    if panic.is_some() {
        return finish::<R>(scenario, timed, panic, None, &labels, settings);
    }
    for op in &scenario.post {
        if let Some(message) = sequential(index, op, &mut timed) {
            panic = Some((0, Some(index), message));
            return finish::<R>(scenario, timed, panic, None, &labels, settings);
        }
        index += 1;
    }
    let invariant = match catch_unwind(AssertUnwindSafe(|| resource.invariant())) {
        Ok(result) => Some(result),
        Err(payload) => {
            let message = panics::message(&*payload);
            panic = Some((0, None, message));
            None
        }
    };
    finish::<R>(scenario, timed, panic, invariant, &labels, settings)
}

/// What each thread was doing when the timeout ran out.
fn stuck<Op: std::fmt::Debug>(scenario: &Scenario<Op>, progress: &[AtomicUsize], timeout: Duration) -> Vec<String> {
    let mut lines = vec![format!(
        "suspected deadlock: not every thread finished within {:.1} s on real threads (they are left running)",
        timeout.as_secs_f64()
    )];
    for (t, ops) in scenario.threads.iter().enumerate() {
        let line = match progress[t].load(Ordering::SeqCst) {
            DONE => format!("T{} finished its {} operations", t + 1, ops.len()),
            0 => format!("T{} never started its first operation", t + 1),
            k => format!(
                "T{} is stuck in operation {} of {}: {:?}",
                t + 1,
                k,
                ops.len(),
                ops[k - 1]
            ),
        };
        lines.push(line);
    }
    lines
}

/// Builds the real-time history and judges it; `Ok(true)` when the check could not decide in time.
fn finish<R: Resource>(
    scenario: &Scenario<R::Op>,
    timed: Vec<Option<Timed<R::Output>>>,
    panic: Option<(usize, Option<usize>, String)>,
    invariant: Option<Result<(), String>>,
    labels: &[(usize, Label)],
    settings: &StressSettings,
) -> Result<(bool, Outputs<R>), Box<StressFailure<R>>> {
    let outcome = Outcome::<R> {
        outputs: timed
            .iter()
            .map(|t| t.as_ref().and_then(|t| t.output.clone()))
            .collect(),
        completed: panic.is_none(),
        panic,
        invariant,
    };
    if let Some(kind) = judge::panic_kind::<R>(labels, scenario, &outcome) {
        return Err(Box::new(StressFailure {
            judged: kind.into(),
            outputs: outcome.outputs,
        }));
    }
    // Invocations before returns at equal times: operations that might have overlapped are
    // treated as overlapping, which only ever allows more orders.
    let mut points: Vec<(u64, u8, usize)> = Vec::with_capacity(2 * timed.len());
    for (i, t) in timed.iter().enumerate() {
        if let Some(t) = t {
            points.push((t.begin, 0, i));
            if let (Some(end), Some(_)) = (t.end, &t.output) {
                points.push((end, 1, i));
            }
        }
    }
    points.sort_unstable();
    let mut history = History::new();
    let mut ids = vec![None; timed.len()];
    let mut index = Vec::new();
    for (_, kind, i) in points {
        let t = timed[i].as_ref().expect("a point comes from a timed op");
        if kind == 0 {
            ids[i] = Some(history.invoke(t.thread, scenario.op(i).clone()));
            index.push(i);
        } else if let (Some(id), Some(output)) = (ids[i], t.output.clone()) {
            let _ = history.ret(id, output);
        }
    }
    let check = judge::judge_history::<R>(
        &history,
        &index,
        labels,
        &outcome,
        Consistency::Linearizable,
        settings.check_budget,
    );
    match check {
        (Some(judged), _) => Err(Box::new(StressFailure {
            judged,
            outputs: outcome.outputs,
        })),
        (None, unknown) => Ok((unknown, outcome.outputs)),
    }
}

/// The report of a stress failure that shuttle did not reproduce: no interleaving (the threads
/// were not controlled) and no token.
pub(crate) fn describe<R: Resource>(
    plan: &Plan<R::Op>,
    settings: &StressSettings,
    failure: StressFailure<R>,
    iterations: usize,
    note: String,
) -> Failure<R::Op> {
    let Judged { kind, evidence } = failure.judged;
    let mut parts = report::report_parts::<R>(PartsInput {
        kind: &kind,
        scenario: &plan.scenario,
        outputs: &failure.outputs,
        interleaving: Vec::new(),
        type_name: std::any::type_name::<R>(),
        scheduler: settings.scheduler.clone(),
        seed: settings.seed,
        preemptions: 0,
    });
    parts.note = Some(note);
    let mut data = FailureData::new(kind, (*plan.scenario).clone());
    data.schedules = iterations;
    data.parts = Some(parts);
    data.evidence = evidence;
    data.source = Some(plan.source.clone());
    Failure::new(data)
}
