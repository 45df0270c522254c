//! crosscheck's own execution engine: runs the threads of one execution as coroutines on the
//! calling OS thread, and lets a [`Scheduler`] pick which one runs at every scheduling point.
//!
//! It does what shuttle's runner does for crosscheck, scheduling point for scheduling point: a
//! thread is switched before it spawns, before every atomic access, before it takes a free lock
//! and as it releases one, before it notifies a condition variable, and before the main thread
//! exits; a lock waiter wakes up when the lock is released and races for it. That is what keeps
//! every saved replay token, regression file and fuzz corpus entry meaning the same schedule. What
//! it leaves out is what crosscheck never used and paid for at every step: shuttle's vector
//! clocks, tracing spans, task labels and signatures, the schedule it keeps beside crosscheck's,
//! and a scan of every live task at every decision. `benches/overhead.rs` measures the difference.
//!
//! The pieces: this module keeps the task table and what a task does to itself and others (block,
//! wake, switch); `run.rs` the run loop and the teardown; [`thread`] spawns and joins threads and
//! holds their thread-locals; [`sync`] has the locks and condition variables, [`atomic`] the
//! atomics; [`future`] runs futures as tasks. `parity.rs` (a test) compares every scheduling point
//! of every execution of nine programs against shuttle's. The facade (`crate::sync`,
//! `crate::thread`, ...) uses these under the controlled schedulers, and crosscheck's driver
//! (`backend::shuttle`) is the scheduler.
//!
//! Every controlled thread of an execution, and the scheduler, run on the OS thread that called
//! [`run`], so the task table lives in a thread-local. No borrow of it is held across a switch.

pub(crate) mod atomic;
pub(crate) mod future;
pub(crate) mod sync;
pub(crate) mod thread;

mod run;
pub(crate) use run::run;

#[cfg(test)]
mod parity;
#[cfg(test)]
mod tests;

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

use corosensei::stack::DefaultStack;
use corosensei::{Coroutine, Yielder};

/// Chooses the task that runs at each scheduling point of each execution.
pub(crate) trait Scheduler {
    /// Prepares the next execution; `false` ends the run.
    fn new_execution(&mut self) -> bool;
    /// Picks the next task among `runnable` (ascending ids, never empty); `current` is the task
    /// that reached the point (`None` before the first step), `yielding` whether it yielded.
    /// `None` stops the execution.
    fn next_task(&mut self, runnable: &[usize], current: Option<usize>, yielding: bool) -> Option<usize>;
    /// A number for the running task, which asked through [`next_u64`].
    fn next_u64(&mut self) -> u64;
    /// The execution is over (finished, stopped, deadlocked or failed); the threads it left
    /// unfinished are unwound next, and what their destructors do belongs to no execution.
    fn execution_ended(&mut self) {}
}

/// How a run ended early.
pub(crate) enum Stopped {
    /// Every unfinished thread was blocked: the names of the blocked tasks.
    Deadlock(Vec<String>),
    /// A task, or the scheduler, panicked and nothing caught it.
    Panic(Box<dyn Any + Send>),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    Runnable,
    /// Waits until another task unblocks it.
    Blocked,
    /// A future (or a lock waiter) that was polled and is pending until its waker is called.
    Sleeping,
    Finished,
}

type Task = Coroutine<(), (), (), DefaultStack>;

struct TaskEntry {
    state: State,
    /// Its waker was called since it last went to sleep: the next sleep is skipped.
    woken: bool,
    /// A future task whose handle was dropped: the execution does not wait for it.
    detached: bool,
    /// The task joining this one.
    waiter: Option<usize>,
    name: Option<String>,
    /// The task's coroutine, while it is not running (the run loop holds it while it runs).
    coroutine: Option<Task>,
    /// Where the task's coroutine suspends itself; null until it starts and after it ends.
    yielder: *const Yielder<(), ()>,
    /// Thread-local values, by key address, in the order they were made.
    locals: Vec<(usize, Rc<dyn Any>)>,
    /// Its stack is one of the check's size, to reuse (not a larger one the thread asked for).
    pooled: bool,
}

/// What the scheduler decided at the last scheduling point.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Next {
    /// Not decided yet.
    Undecided,
    Task(usize),
    /// No task can run (or only detached ones, with nothing to wait for): the execution is over.
    Finished,
    /// The scheduler stopped the execution.
    Stopped,
}

/// One execution's tasks, and the pool of stacks that outlives executions.
struct Exec {
    active: bool,
    /// Counts executions on this OS thread, so that an object can tell its waiters are stale.
    serial: u64,
    tasks: Vec<TaskEntry>,
    /// Ids of the runnable tasks, ascending, kept as tasks change state: a decision reads it as it
    /// is, where shuttle walks every live task.
    runnable: Vec<usize>,
    /// Unfinished tasks that are attached (the execution waits for them) and detached, and the
    /// runnable attached ones.
    attached_live: usize,
    detached_live: usize,
    runnable_attached: usize,
    current: Option<usize>,
    next: Next,
    yielding: bool,
    /// Set while the tasks left unfinished are unwound: nothing is scheduled any more.
    stopping: bool,
    /// Stacks of finished tasks, for the tasks spawned next; all of `stack_size` bytes.
    pool: Vec<DefaultStack>,
    stack_size: usize,
}

/// The most stacks kept for reuse: the widest scenarios run about a hundred threads.
const POOL: usize = 256;

impl Exec {
    const fn new() -> Self {
        Exec {
            active: false,
            serial: 0,
            tasks: Vec::new(),
            runnable: Vec::new(),
            attached_live: 0,
            detached_live: 0,
            runnable_attached: 0,
            current: None,
            next: Next::Undecided,
            yielding: false,
            stopping: false,
            pool: Vec::new(),
            stack_size: 0,
        }
    }

    fn task(&mut self, id: usize) -> &mut TaskEntry {
        &mut self.tasks[id]
    }

    /// Whether the execution is over: nothing can run, or only detached tasks with nothing
    /// attached left to wait for.
    fn over(&self) -> bool {
        self.runnable.is_empty() || (self.attached_live == 0 && self.runnable_attached == 0)
    }

    /// Moves task `id` to `state`, keeping the runnable set and its counts.
    fn set_state(&mut self, id: usize, state: State) {
        let task = &mut self.tasks[id];
        let (was, is) = (task.state == State::Runnable, state == State::Runnable);
        task.state = state;
        if was == is {
            return;
        }
        let attached = !task.detached;
        match self.runnable.binary_search(&id) {
            Ok(i) if !is => {
                self.runnable.remove(i);
            }
            Err(i) if is => self.runnable.insert(i, id),
            _ => {}
        }
        if attached {
            if is {
                self.runnable_attached += 1;
            } else {
                self.runnable_attached -= 1;
            }
        }
    }

    /// Makes task `id` runnable unless it has finished.
    fn make_runnable(&mut self, id: usize) {
        if self.tasks.get(id).is_some_and(|t| t.state != State::Finished) {
            self.set_state(id, State::Runnable);
        }
    }

    /// Takes back the stack of task `id`, which has ended.
    fn recycle(&mut self, id: usize, stack: DefaultStack) {
        if self.tasks[id].pooled && self.pool.len() < POOL {
            self.pool.push(stack);
        }
    }

    fn finish(&mut self, id: usize) {
        if self.tasks[id].state == State::Finished {
            return;
        }
        self.set_state(id, State::Finished);
        let task = &mut self.tasks[id];
        task.yielder = std::ptr::null();
        if task.detached {
            self.detached_live -= 1;
        } else {
            self.attached_live -= 1;
        }
    }
}

thread_local! {
    static EXEC: RefCell<Exec> = const { RefCell::new(Exec::new()) };
    static SCHEDULER: RefCell<Option<Box<dyn Scheduler>>> = const { RefCell::new(None) };
    /// Whether a task of this thread's execution is running now (not the run loop).
    static IN_TASK: Cell<bool> = const { Cell::new(false) };
}

#[cfg(test)]
thread_local! {
    /// Stacks mapped on this thread, for the tests of the pool.
    static MAPPED: Cell<usize> = const { Cell::new(0) };
}

fn with<T>(f: impl FnOnce(&mut Exec) -> T) -> T {
    EXEC.with(|e| f(&mut e.borrow_mut()))
}

/// Whether the code running now is a task of an execution of the engine.
pub(crate) fn in_task() -> bool {
    IN_TASK.with(Cell::get)
}

/// Whether the execution is being torn down (or none runs): primitives then neither switch nor
/// wake anybody, they only release what they hold.
pub(crate) fn stopping() -> bool {
    EXEC.with(|e| e.try_borrow().map_or(true, |e| !e.active || e.stopping))
}

/// The running task's id, if a task runs.
fn running() -> Option<usize> {
    EXEC.with(|e| e.try_borrow().ok().and_then(|e| e.current))
}

/// The running task's id.
pub(crate) fn me() -> usize {
    with(|e| e.current.expect("crosscheck's engine: no task is running"))
}

/// This execution's number, unique in the process, for objects that keep task ids between calls
/// (0 outside an execution).
pub(crate) fn serial() -> u64 {
    EXEC.with(|e| e.try_borrow().map_or(0, |e| if e.active { e.serial } else { 0 }))
}

/// Numbers every execution of every run in the process.
static SERIAL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// Asks the scheduler for a number (see [`Scheduler::next_u64`]). Not a scheduling point.
pub(crate) fn next_u64() -> u64 {
    SCHEDULER.with(|s| s.borrow_mut().as_mut().map_or(0, |s| s.next_u64()))
}

/// The next switch is a yield of the running task (schedulers may deprioritise it).
pub(crate) fn request_yield() {
    with(|e| e.yielding = true);
}

/// The running task stops being runnable until another task unblocks it.
pub(crate) fn block_current() {
    with(|e| {
        let me = e.current.expect("a task is running");
        e.set_state(me, State::Blocked);
    });
}

/// [`wake`] for a waker made in execution `serial`: a waker that outlived its execution, or was
/// called from another OS thread, wakes nobody.
pub(crate) fn wake_in(serial: u64, id: usize) {
    if self::serial() == serial {
        wake(id);
    }
}

/// Makes a blocked or sleeping task runnable again.
pub(crate) fn unblock(id: usize) {
    with(|e| e.make_runnable(id));
}

/// Blocks task `id` (not the running one): it lost the race for a lock it was woken for.
pub(crate) fn block(id: usize) {
    with(|e| {
        if e.tasks.get(id).is_some_and(|t| t.state != State::Finished) {
            e.set_state(id, State::Blocked);
        }
    });
}

/// Whether task `id` has finished (or does not exist in this execution).
pub(crate) fn finished(id: usize) -> bool {
    with(|e| e.tasks.get(id).is_none_or(|t| t.state == State::Finished))
}

/// Calls task `id`'s waker: it runs again if it sleeps, and its next sleep is skipped.
pub(crate) fn wake(id: usize) {
    with(|e| {
        if !e.active || e.stopping {
            return;
        }
        if let Some(task) = e.tasks.get_mut(id).filter(|t| t.state != State::Finished) {
            task.woken = true;
            if task.state == State::Sleeping {
                e.set_state(id, State::Runnable);
            }
        }
    });
}

/// The running task sleeps until its waker is called, unless it was called since the last sleep.
pub(crate) fn sleep_unless_woken() {
    with(|e| {
        let me = e.current.expect("a task is running");
        if !std::mem::replace(&mut e.task(me).woken, false) {
            e.set_state(me, State::Sleeping);
        }
    });
}

/// Marks task `id` detached: the execution ends without waiting for it.
pub(crate) fn detach(id: usize) {
    with(|e| {
        if !e.active || e.stopping {
            return;
        }
        if let Some(task) = e
            .tasks
            .get_mut(id)
            .filter(|t| t.state != State::Finished && !t.detached)
        {
            task.detached = true;
            let runnable = task.state == State::Runnable;
            e.attached_live -= 1;
            e.detached_live += 1;
            if runnable {
                e.runnable_attached -= 1;
            }
        }
    });
}

/// A scheduling point: the scheduler picks the task that runs next, and the running task switches
/// out if it is another one. Returns at once while the execution is torn down or outside one.
pub(crate) fn switch() {
    if !in_task() {
        return;
    }
    let current = EXEC.with(|e| {
        let e = e.borrow();
        (e.active && !e.stopping).then_some(e.current).flatten()
    });
    let Some(current) = current else { return };
    // A task unwinding a panic switches out before the scheduler runs: the decision is then made
    // on the run loop's stack, and the unwinding goes on when the task is resumed.
    if !std::thread::panicking() {
        schedule();
        let stays = with(|e| {
            let stays = e.next == Next::Task(current);
            if stays {
                e.next = Next::Undecided;
            }
            stays
        });
        if stays {
            return;
        }
    }
    suspend_current();
}

/// Asks the scheduler for the next task (unless it was asked at this point already).
fn schedule() {
    let decided = with(|e| {
        if e.next != Next::Undecided {
            return None;
        }
        if e.over() {
            e.next = Next::Finished;
            return None;
        }
        let yielding = std::mem::replace(&mut e.yielding, false);
        Some((std::mem::take(&mut e.runnable), e.current, yielding))
    });
    let Some((runnable, current, yielding)) = decided else {
        return;
    };
    let picked = SCHEDULER.with(|s| {
        s.borrow_mut()
            .as_mut()
            .and_then(|s| s.next_task(&runnable, current, yielding))
    });
    with(|e| {
        e.next = match picked {
            Some(id) if runnable.binary_search(&id).is_ok() => Next::Task(id),
            Some(id) => panic!("crosscheck's engine: the scheduler picked task {id}, which cannot run"),
            None => Next::Stopped,
        };
        e.runnable = runnable;
    });
}

/// Suspends the running task; returns when the run loop resumes it.
fn suspend_current() {
    let yielder = with(|e| {
        let me = e.current.expect("a task is running");
        e.tasks[me].yielder
    });
    assert!(
        !yielder.is_null(),
        "crosscheck's engine: a task without a stack cannot switch"
    );
    // SAFETY: `yielder` is the reference corosensei handed to the running task's closure (see
    // `spawn`), stored as it started and nulled (in `Exec::finish`) only once the closure has
    // returned. A yielder is valid for as long as its coroutine's closure runs, and the closure is
    // running: this is the running task (`current`), called from its own stack (`in_task`). Its
    // coroutine is not dropped meanwhile: the run loop holds it for the whole `resume`.
    let yielder = unsafe { &*yielder };
    yielder.suspend(());
}

/// Creates a task running `f`, runnable, and returns its id. `stack_size` is the stack it asks for
/// (`None`: the check's).
pub(crate) fn spawn(f: Box<dyn FnOnce()>, name: Option<String>, stack_size: Option<usize>) -> usize {
    let (id, stack, pooled) = with(|e| {
        let id = e.tasks.len();
        let pooled = stack_size.is_none_or(|size| size <= e.stack_size);
        let stack = if pooled { e.pool.pop() } else { None };
        e.tasks.push(TaskEntry {
            state: State::Runnable,
            woken: false,
            detached: false,
            waiter: None,
            name,
            coroutine: None,
            yielder: std::ptr::null(),
            locals: Vec::new(),
            pooled,
        });
        // Ids grow: the new task goes last.
        e.runnable.push(id);
        e.attached_live += 1;
        e.runnable_attached += 1;
        (id, stack, pooled)
    });
    let stack = match stack {
        Some(stack) => stack,
        None => {
            let check = with(|e| e.stack_size);
            let size = if pooled { check } else { stack_size.unwrap_or(check) };
            #[cfg(test)]
            MAPPED.with(|m| m.set(m.get() + 1));
            DefaultStack::new(size).unwrap_or_else(|err| {
                panic!("crosscheck's engine: cannot map a stack of {size} bytes for a thread: {err}")
            })
        }
    };
    let coroutine = Coroutine::with_stack(stack, move |yielder: &Yielder<(), ()>, ()| {
        with(|e| e.tasks[id].yielder = yielder as *const _);
        f();
    });
    with(|e| e.tasks[id].coroutine = Some(coroutine));
    id
}

/// The name of task `id`, if it was given one.
pub(crate) fn name(id: usize) -> Option<String> {
    with(|e| e.tasks.get(id).and_then(|t| t.name.clone()))
}

/// Registers the running task as the joiner of `target`; `false` if `target` finished already.
pub(crate) fn set_waiter(target: usize) -> bool {
    with(|e| {
        let me = e.current.expect("a task is running");
        let task = e.task(target);
        if task.state == State::Finished {
            return false;
        }
        task.waiter = Some(me);
        e.set_state(me, State::Blocked);
        true
    })
}

/// The running task's last act: wakes its joiner.
fn exiting() {
    with(|e| {
        let me = e.current.expect("a task is running");
        if let Some(waiter) = e.task(me).waiter.take() {
            e.make_runnable(waiter);
        }
    });
}

/// Whether the running task's exit can end the execution before other tasks' work (it is the main
/// thread, or the last attached task with detached ones left): shuttle makes that exit a
/// scheduling point.
pub(crate) fn exit_is_visible() -> bool {
    with(|e| {
        let me = e.current.expect("a task is running");
        if me == 0 {
            return true;
        }
        !e.tasks[me].detached && e.detached_live > 0 && e.attached_live == 1
    })
}
