//! The run loop: executions one after another until the scheduler has no more, each step of an
//! execution a resumption of the task the scheduler picked, and the teardown that unwinds what an
//! execution left unfinished.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;

use corosensei::CoroutineResult;

use super::{schedule, spawn, thread, with, Exec, Next, Scheduler, State, Stopped, EXEC, IN_TASK, SCHEDULER, SERIAL};

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
        // The pool, and the size of its stacks, carry over from run to run (a fuzz input is one
        // run); a run inside a running execution starts a pool of its own.
        let mut fresh = Exec::new();
        if !e.active {
            fresh.pool = std::mem::take(&mut e.pool);
            fresh.stack_size = e.stack_size;
        }
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
    // A panic out of the scheduler between executions still restores what was there before.
    let ended = catch_unwind(AssertUnwindSafe(|| run_executions(&body)));
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
    match ended {
        Ok(ended) => (scheduler, ended),
        Err(payload) => std::panic::resume_unwind(payload),
    }
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
            e.runnable.clear();
            e.attached_live = 0;
            e.detached_live = 0;
            e.runnable_attached = 0;
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
    let blocked: Vec<String> = (0..e.tasks.len())
        .filter(|&id| e.tasks[id].state != State::Finished && !e.tasks[id].detached)
        .map(|id| match &e.tasks[id].name {
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
        e.runnable.clear();
        e.current = None;
    });
}
