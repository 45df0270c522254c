//! The body every controlled execution runs, whichever engine schedules it: create the resource,
//! run the init part, spawn one thread per scenario thread, join them, run the post part, check
//! the invariant. Written once, generic over how an engine spawns and joins its threads
//! ([`Threads`]), so shuttle and loom run exactly the same harness.

use std::any::Any;
use std::cell::RefCell;
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, MutexGuard};

use super::judge::Outcome;
use crate::record::{thread_name, EventKind};
use crate::resource::Resource;
use crate::runtime;
use crate::scenario::Scenario;

/// How an engine runs the scenario's threads.
pub(crate) trait Threads {
    /// A spawned thread, to join.
    type Handle;
    /// Spawns a thread of the engine running `f`.
    fn spawn(f: impl FnOnce() + Send + 'static) -> Self::Handle;
    /// Waits for a thread; the harness's threads catch their own panics, so a join cannot fail
    /// with a resource's panic.
    fn join(handle: Self::Handle);
    /// The scenario's threads are about to be spawned (`true`) or have been (`false`).
    fn spawning(_on: bool) {}
    /// The resource's panic message for `payload`, or `None` when the payload stands for the
    /// engine stopping the execution (already recorded as the execution's abort).
    fn resource_panic(payload: &(dyn Any + Send)) -> Option<String>;
}

/// Where the harness writes what it saw of an execution, for the driver to judge.
pub(crate) trait Outcomes<R: Resource>: Send + Sync + 'static {
    /// Runs `f` on the outcome. `f` never reaches a scheduling point.
    fn with<T>(&self, f: impl FnOnce(&mut Outcome<R>) -> T) -> T;
}

impl<R: Resource> Outcomes<R> for Arc<Mutex<Outcome<R>>> {
    fn with<T>(&self, f: impl FnOnce(&mut Outcome<R>) -> T) -> T {
        f(&mut lock(self))
    }
}

thread_local! {
    static OUTCOME: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };
}

/// The outcome of the shuttle execution running on this OS thread. Every execution of a run, and
/// the driver that judges it, run on the OS thread that called the runner (see `runtime`), so the
/// outcome can live in a thread-local, with no lock: a mutex cost two atomic read-modify-writes per
/// operation of the scenario, a visible share of a short execution.
pub(crate) struct ThreadOutcome<R>(PhantomData<fn() -> R>);

impl<R> ThreadOutcome<R> {
    pub(crate) fn new() -> Self {
        ThreadOutcome(PhantomData)
    }
}

impl<R> Clone for ThreadOutcome<R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<R> Copy for ThreadOutcome<R> {}

impl<R: Resource> Outcomes<R> for ThreadOutcome<R> {
    fn with<T>(&self, f: impl FnOnce(&mut Outcome<R>) -> T) -> T {
        OUTCOME.with(|slot| {
            let mut slot = slot.borrow_mut();
            // The last run on this thread may have checked another resource.
            if !slot.as_ref().is_some_and(|o| o.is::<Outcome<R>>()) {
                *slot = Some(Box::new(Outcome::<R>::default()));
            }
            let outcome = slot
                .as_mut()
                .and_then(|o| o.downcast_mut::<Outcome<R>>())
                .expect("an outcome of this resource is installed");
            f(outcome)
        })
    }
}

/// Locks crosscheck's own mutex; a panic while it was held is crosscheck's bug, and the data is
/// still usable.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Clears `outcome` for an execution of `scenario`.
pub(crate) fn reset<R: Resource>(outcome: &mut Outcome<R>, scenario: &Arc<Scenario<R::Op>>) {
    outcome.outputs.clear();
    outcome.outputs.resize(scenario.len(), None);
    outcome.panic = None;
    outcome.invariant = None;
    outcome.completed = false;
}

/// What the threads of one execution share, behind one reference count: each spawned thread
/// costs one atomic increment and decrement, not one per part.
struct Execution<R: Resource, O> {
    resource: R,
    shared: O,
    scenario: Arc<Scenario<R::Op>>,
}

/// Runs one execution of `scenario`, writing what happened into `shared`.
pub(crate) fn run<R: Resource, T: Threads>(shared: &(impl Outcomes<R> + Clone), scenario: &Arc<Scenario<R::Op>>) {
    if runtime::backend() == runtime::Backend::Shuttle {
        runtime::stack::enter();
    }
    let execution = match catch_unwind(R::new) {
        Ok(resource) => Arc::new(Execution {
            resource,
            shared: shared.clone(),
            scenario: Arc::clone(scenario),
        }),
        Err(payload) => return note_panic::<R, T>(shared, None, &*payload),
    };
    let resource = &execution.resource;
    let mut index = 0;
    for op in &scenario.init {
        if !run_op::<R, T>(shared, resource, index, op) {
            return;
        }
        index += 1;
    }
    let mut handles = Vec::with_capacity(scenario.threads.len());
    T::spawning(true);
    for t in 0..scenario.threads.len() {
        let execution = Arc::clone(&execution);
        let base = index;
        index += scenario.threads[t].len();
        handles.push(T::spawn(move || {
            runtime::with_record(|rec| rec.labels.push((rec.running, thread_name(t))));
            let Execution {
                resource,
                shared,
                scenario,
            } = &*execution;
            for (k, op) in scenario.threads[t].iter().enumerate() {
                if !run_op::<R, T>(shared, resource, base + k, op) {
                    break;
                }
            }
        }));
    }
    T::spawning(false);
    for h in handles {
        T::join(h);
    }
    if aborted() {
        return;
    }
    for op in &scenario.post {
        if !run_op::<R, T>(shared, resource, index, op) {
            return;
        }
        index += 1;
    }
    match catch_unwind(AssertUnwindSafe(|| resource.invariant())) {
        Ok(result) => shared.with(|s| {
            s.invariant = Some(result);
            s.completed = true;
        }),
        Err(payload) => note_panic::<R, T>(shared, None, &*payload),
    }
}

/// Whether the engine stopped this execution (a deadlock cycle closed, the step limit).
fn aborted() -> bool {
    runtime::with_record(|rec| rec.abort.is_some()).unwrap_or(false)
}

/// Runs one operation, recording its begin and end; `false` if the thread must stop (it panicked,
/// or the execution was stopped).
fn run_op<R: Resource, T: Threads>(shared: &impl Outcomes<R>, resource: &R, index: usize, op: &R::Op) -> bool {
    // Under shuttle the invocation is recorded at the operation's first shared access (see
    // runtime::steps): the strictest history of the same execution.
    let lazy = runtime::backend() == runtime::Backend::Shuttle;
    if lazy {
        // One visit to the record both notes the invocation and names the thread for the watchdog.
        let Some(task) = runtime::steps::begin_op(index) else {
            return false;
        };
        super::watchdog::operation(task, index);
    } else if aborted() {
        return false;
    }
    let result = catch_unwind(AssertUnwindSafe(|| {
        if !lazy {
            runtime::record(EventKind::OpBegin { op: index });
        }
        let output = resource.apply(op);
        runtime::record(EventKind::OpEnd { op: index });
        output
    }));
    match result {
        Ok(output) => {
            shared.with(|s| s.outputs[index] = Some(output));
            true
        }
        Err(payload) => {
            runtime::steps::flush_running();
            note_panic::<R, T>(shared, Some(index), &*payload);
            false
        }
    }
}

/// Keeps the first panic of the execution: later ones (a poisoned lock) are its consequences.
fn note_panic<R: Resource, T: Threads>(shared: &impl Outcomes<R>, op: Option<usize>, payload: &(dyn Any + Send)) {
    let Some(message) = T::resource_panic(payload) else {
        return;
    };
    let task = runtime::current_task();
    shared.with(|s| {
        if s.panic.is_none() {
            s.panic = Some((task, op, message));
        }
    });
}

/// Shuttle's threads (loom's are in `loom.rs`, with the rest of loom's sharp edges).
pub(super) struct ShuttleThreads;

impl Threads for ShuttleThreads {
    /// The handle, and the thread's spawn index in crosscheck's wait table.
    type Handle = (crate::engine::thread::JoinHandle<()>, Option<usize>);

    fn spawn(f: impl FnOnce() + Send + 'static) -> Self::Handle {
        let spawned = runtime::waits::spawned();
        let handle = crate::engine::thread::spawn(move || {
            runtime::waits::started(spawned);
            let _finish = runtime::waits::Finish(spawned);
            f()
        });
        (handle, spawned)
    }

    fn join((handle, spawned): Self::Handle) {
        runtime::waits::before_join(spawned);
        let _ = handle.join();
        runtime::waits::after_join();
    }

    fn spawning(on: bool) {
        // While the harness spawns, the driver keeps main running: the threads start together.
        runtime::with_record(|rec| rec.spawning = on);
    }

    fn resource_panic(payload: &(dyn std::any::Any + Send)) -> Option<String> {
        // While the engine unwinds the threads of an execution that is over, nothing panicked.
        (!crate::engine::stopping()).then(|| crate::runtime::panics::message(payload))
    }
}
