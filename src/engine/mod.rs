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
//! The pieces: this module keeps the task table and the run loop; [`thread`] spawns and joins
//! threads and holds their thread-locals; [`sync`] has the locks, condition variables and atomics;
//! [`future`] runs futures as tasks. The facade (`crate::sync`, `crate::thread`, ...) uses these
//! under the controlled schedulers, and crosscheck's driver (`backend::shuttle`) is the scheduler.
//!
//! Every controlled thread of an execution, and the scheduler, run on the OS thread that called
//! [`run`], so the task table lives in a thread-local. No borrow of it is held across a switch.

pub(crate) mod atomic;
pub(crate) mod future;
pub(crate) mod sync;
pub(crate) mod thread;

#[cfg(test)]
mod parity;

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;

use corosensei::stack::DefaultStack;
use corosensei::{Coroutine, CoroutineResult, Yielder};

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
    /// Ids of the unfinished tasks, ascending: the decision walks these, not every task.
    live: Vec<usize>,
    detached_live: usize,
    current: Option<usize>,
    next: Next,
    yielding: bool,
    /// Set while the tasks left unfinished are unwound: nothing is scheduled any more.
    stopping: bool,
    runnable: Vec<usize>,
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
            live: Vec::new(),
            detached_live: 0,
            current: None,
            next: Next::Undecided,
            yielding: false,
            stopping: false,
            runnable: Vec::new(),
            pool: Vec::new(),
            stack_size: 0,
        }
    }

    fn task(&mut self, id: usize) -> &mut TaskEntry {
        &mut self.tasks[id]
    }

    /// Fills `runnable` and says what happens next when nothing can run.
    fn collect_runnable(&mut self) -> Option<Next> {
        self.runnable.clear();
        let mut attached_unfinished = false;
        let mut all_detached = true;
        for &id in &self.live {
            let task = &self.tasks[id];
            attached_unfinished |= !task.detached;
            if task.state == State::Runnable {
                all_detached &= task.detached;
                self.runnable.push(id);
            }
        }
        if self.runnable.is_empty() || (!attached_unfinished && all_detached) {
            return Some(Next::Finished);
        }
        None
    }

    /// Takes back the stack of task `id`, which has ended.
    fn recycle(&mut self, id: usize, stack: DefaultStack) {
        if self.tasks[id].pooled && self.pool.len() < POOL {
            self.pool.push(stack);
        }
    }

    fn finish(&mut self, id: usize) {
        let task = &mut self.tasks[id];
        if task.state == State::Finished {
            return;
        }
        task.state = State::Finished;
        task.yielder = std::ptr::null();
        if task.detached {
            self.detached_live -= 1;
        }
        if let Ok(i) = self.live.binary_search(&id) {
            self.live.remove(i);
        }
    }
}

thread_local! {
    static EXEC: RefCell<Exec> = const { RefCell::new(Exec::new()) };
    static SCHEDULER: RefCell<Option<Box<dyn Scheduler>>> = const { RefCell::new(None) };
    /// Whether a task of this thread's execution is running now (not the run loop).
    static IN_TASK: Cell<bool> = const { Cell::new(false) };
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
        e.task(me).state = State::Blocked;
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
    with(|e| {
        if let Some(task) = e.tasks.get_mut(id).filter(|t| t.state != State::Finished) {
            task.state = State::Runnable;
        }
    });
}

/// Blocks task `id` (not the running one): it lost the race for a lock it was woken for.
pub(crate) fn block(id: usize) {
    with(|e| {
        if let Some(task) = e.tasks.get_mut(id).filter(|t| t.state != State::Finished) {
            task.state = State::Blocked;
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
                task.state = State::Runnable;
            }
        }
    });
}

/// The running task sleeps until its waker is called, unless it was called since the last sleep.
pub(crate) fn sleep_unless_woken() {
    with(|e| {
        let me = e.current.expect("a task is running");
        let task = e.task(me);
        if !std::mem::replace(&mut task.woken, false) {
            task.state = State::Sleeping;
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
            e.detached_live += 1;
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
        if let Some(next) = e.collect_runnable() {
            e.next = next;
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
        e.live.push(id);
        (id, stack, pooled)
    });
    let stack = match stack {
        Some(stack) => stack,
        None => {
            let check = with(|e| e.stack_size);
            let size = if pooled { check } else { stack_size.unwrap_or(check) };
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
        e.task(me).state = State::Blocked;
        true
    })
}

/// The running task's last act: wakes its joiner.
fn exiting() {
    with(|e| {
        let me = e.current.expect("a task is running");
        if let Some(waiter) = e.task(me).waiter.take() {
            if e.tasks[waiter].state != State::Finished {
                e.tasks[waiter].state = State::Runnable;
            }
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
        if e.tasks[me].detached || e.detached_live == 0 {
            return false;
        }
        e.live.iter().filter(|&&id| !e.tasks[id].detached).count() == 1
    })
}

/// Runs executions of `body` until `scheduler` has no more, each as a main task (id 0) that the
/// body's threads are spawned from. `stack_size` is every thread's stack unless it asks for more.
/// The scheduler is handed back with how the run ended.
pub(crate) fn run(
    scheduler: Box<dyn Scheduler>,
    body: Rc<dyn Fn()>,
    stack_size: usize,
) -> (Box<dyn Scheduler>, Result<(), Stopped>) {
    // A run inside a task of another run (a check inside a resource) gets a table of its own.
    let outer_exec = EXEC.with(|e| {
        let mut e = e.borrow_mut();
        let pool = if e.active {
            Vec::new()
        } else {
            std::mem::take(&mut e.pool)
        };
        let mut fresh = Exec::new();
        fresh.pool = pool;
        std::mem::replace(&mut *e, fresh)
    });
    let outer_scheduler = SCHEDULER.with(|s| s.borrow_mut().replace(scheduler));
    let outer_in_task = IN_TASK.with(|t| t.replace(false));
    with(|e| {
        if e.stack_size != stack_size {
            e.pool.clear();
            e.stack_size = stack_size;
        }
    });
    let ended = run_executions(&body);
    let scheduler = SCHEDULER
        .with(|s| std::mem::replace(&mut *s.borrow_mut(), outer_scheduler))
        .expect("the run's scheduler is in place");
    IN_TASK.with(|t| t.set(outer_in_task));
    EXEC.with(|e| {
        let mut e = e.borrow_mut();
        let mut outer = outer_exec;
        if !outer.active {
            outer.pool = std::mem::take(&mut e.pool);
            outer.stack_size = e.stack_size;
        }
        *e = outer;
    });
    (scheduler, ended)
}

fn run_executions(body: &Rc<dyn Fn()>) -> Result<(), Stopped> {
    loop {
        let more = SCHEDULER.with(|s| s.borrow_mut().as_mut().is_some_and(|s| s.new_execution()));
        if !more {
            return Ok(());
        }
        with(|e| {
            e.active = true;
            e.serial = SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            e.tasks.clear();
            e.live.clear();
            e.detached_live = 0;
            e.current = None;
            e.next = Next::Undecided;
            e.yielding = false;
            e.stopping = false;
        });
        let main = Rc::clone(body);
        spawn(Box::new(move || thread::body(move || main(), None)), None, None);
        let ended = run_execution();
        SCHEDULER.with(|s| {
            if let Some(s) = s.borrow_mut().as_mut() {
                s.execution_ended();
            }
        });
        tear_down();
        with(|e| e.active = false);
        ended?;
    }
}

/// Runs the current execution's tasks until it is over.
fn run_execution() -> Result<(), Stopped> {
    loop {
        let scheduled = catch_unwind(AssertUnwindSafe(schedule));
        if let Err(payload) = scheduled {
            return Err(Stopped::Panic(payload));
        }
        let next = with(|e| {
            let next = std::mem::replace(&mut e.next, Next::Undecided);
            if let Next::Task(id) = next {
                e.current = Some(id);
            }
            next
        });
        let id = match next {
            Next::Task(id) => id,
            Next::Stopped => return Ok(()),
            Next::Finished => {
                return match with(|e| deadlocked(e)) {
                    Some(blocked) => Err(Stopped::Deadlock(blocked)),
                    None => Ok(()),
                };
            }
            Next::Undecided => unreachable!("the scheduler decided"),
        };
        let mut coroutine = with(|e| e.tasks[id].coroutine.take()).expect("a runnable task has its coroutine");
        IN_TASK.with(|t| t.set(true));
        let resumed = catch_unwind(AssertUnwindSafe(|| coroutine.resume(())));
        IN_TASK.with(|t| t.set(false));
        match resumed {
            Ok(CoroutineResult::Yield(())) => with(|e| e.tasks[id].coroutine = Some(coroutine)),
            Ok(CoroutineResult::Return(())) => {
                let stack = coroutine.into_stack();
                with(|e| {
                    e.finish(id);
                    e.recycle(id, stack);
                });
            }
            Err(payload) => {
                with(|e| e.finish(id));
                return Err(Stopped::Panic(payload));
            }
        }
    }
}

/// The blocked tasks, if the execution ended with attached tasks unfinished.
fn deadlocked(e: &Exec) -> Option<Vec<String>> {
    let blocked: Vec<String> = e
        .live
        .iter()
        .filter(|&&id| !e.tasks[id].detached)
        .map(|&id| match &e.tasks[id].name {
            Some(name) => format!("{name} (task {id})"),
            None if id == 0 => format!("main (task {id})"),
            None => format!("task {id}"),
        })
        .collect();
    (!blocked.is_empty()).then_some(blocked)
}

/// Unwinds the tasks an execution left unfinished (it was stopped, deadlocked, or ended with
/// detached tasks), in id order, with nothing scheduled: their destructors release what they held,
/// and their stacks go back to the pool.
fn tear_down() {
    with(|e| e.stopping = true);
    let mut id = 0;
    while let Some(coroutine) = with(|e| e.tasks.get_mut(id).map(|t| t.coroutine.take())) {
        if let Some(mut coroutine) = coroutine {
            with(|e| e.current = Some(id));
            if !coroutine.done() {
                IN_TASK.with(|t| t.set(true));
                let unwound = catch_unwind(AssertUnwindSafe(|| coroutine.force_unwind()));
                IN_TASK.with(|t| t.set(false));
                // A destructor that panicked while the task unwound is the resource's bug, but the
                // execution is over already: its verdict stands.
                drop(unwound);
            }
            if coroutine.done() {
                let stack = coroutine.into_stack();
                with(|e| e.recycle(id, stack));
            } else {
                // Not unwound (a foreign panic escaped it): its stack cannot be reused.
                std::mem::forget(coroutine);
            }
            with(|e| e.finish(id));
        }
        id += 1;
    }
    // Thread-locals of tasks that never dropped theirs, dropped outside the table's borrow.
    let leftovers: Vec<_> = with(|e| e.tasks.iter_mut().map(|t| std::mem::take(&mut t.locals)).collect());
    drop(leftovers);
    with(|e| {
        e.tasks.clear();
        e.live.clear();
        e.current = None;
    });
}
