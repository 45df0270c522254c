//! The body every controlled execution runs, whichever engine schedules it: create the resource,
//! run the init part, spawn one thread per scenario thread, join them, run the post part, check
//! the invariant. Written once, generic over how an engine spawns and joins its threads
//! ([`Threads`]), so shuttle and loom run exactly the same harness.

use std::any::Any;
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

/// Runs one execution of `scenario`, writing what happened into `shared`.
pub(crate) fn run<R: Resource, T: Threads>(shared: &Arc<Mutex<Outcome<R>>>, scenario: &Arc<Scenario<R::Op>>) {
    if runtime::backend() == runtime::Backend::Shuttle {
        runtime::stack::enter();
    }
    let resource = match catch_unwind(R::new) {
        Ok(r) => Arc::new(r),
        Err(payload) => return note_panic::<R, T>(shared, None, &*payload),
    };
    let mut index = 0;
    for op in &scenario.init {
        if !run_op::<R, T>(shared, &*resource, index, op) {
            return;
        }
        index += 1;
    }
    let mut handles = Vec::with_capacity(scenario.threads.len());
    T::spawning(true);
    for t in 0..scenario.threads.len() {
        let (shared, resource, scenario) = (Arc::clone(shared), Arc::clone(&resource), Arc::clone(scenario));
        let base = index;
        index += scenario.threads[t].len();
        handles.push(T::spawn(move || {
            let me = runtime::current_task();
            runtime::with_record(|rec| rec.labels.push((me, thread_name(t))));
            for (k, op) in scenario.threads[t].iter().enumerate() {
                if !run_op::<R, T>(&shared, &*resource, base + k, op) {
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
        if !run_op::<R, T>(shared, &*resource, index, op) {
            return;
        }
        index += 1;
    }
    match catch_unwind(AssertUnwindSafe(|| resource.invariant())) {
        Ok(result) => {
            let mut s = lock(shared);
            s.invariant = Some(result);
            s.completed = true;
        }
        Err(payload) => note_panic::<R, T>(shared, None, &*payload),
    }
}

/// Whether the engine stopped this execution (a deadlock cycle closed, the step limit).
fn aborted() -> bool {
    runtime::with_record(|rec| rec.abort.is_some()).unwrap_or(false)
}

/// Runs one operation, recording its begin and end; `false` if the thread must stop (it panicked,
/// or the execution was stopped).
fn run_op<R: Resource, T: Threads>(shared: &Mutex<Outcome<R>>, resource: &R, index: usize, op: &R::Op) -> bool {
    if aborted() {
        return false;
    }
    let result = catch_unwind(AssertUnwindSafe(|| {
        // Under shuttle the invocation is recorded at the operation's first shared access (see
        // runtime::steps): the strictest history of the same execution.
        if runtime::backend() == runtime::Backend::Shuttle {
            super::watchdog::operation(runtime::current_task(), index);
            runtime::steps::begin_op(index);
        } else {
            runtime::record(EventKind::OpBegin { op: index });
        }
        let output = resource.apply(op);
        runtime::record(EventKind::OpEnd { op: index });
        output
    }));
    match result {
        Ok(output) => {
            lock(shared).outputs[index] = Some(output);
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
fn note_panic<R: Resource, T: Threads>(shared: &Mutex<Outcome<R>>, op: Option<usize>, payload: &(dyn Any + Send)) {
    let Some(message) = T::resource_panic(payload) else {
        return;
    };
    let mut s = lock(shared);
    if s.panic.is_none() {
        s.panic = Some((runtime::current_task(), op, message));
    }
}

/// Shuttle's threads (loom's are in `loom.rs`, with the rest of loom's sharp edges).
pub(super) struct ShuttleThreads;

impl Threads for ShuttleThreads {
    /// The handle, and the thread's spawn index in crosscheck's wait table.
    type Handle = (shuttle::thread::JoinHandle<()>, Option<usize>);

    fn spawn(f: impl FnOnce() + Send + 'static) -> Self::Handle {
        let spawned = runtime::waits::spawned();
        let handle = shuttle::thread::spawn(move || {
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
        Some(crate::runtime::panics::message(payload))
    }
}
