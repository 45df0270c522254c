//! The engine's threads: spawning, joining, yielding, and thread-locals, with `std::thread`'s
//! shapes. A spawn is a scheduling point before the child exists; a join is one only when it waits
//! or when the thread it joins has finished already.

use std::any::Any;
use std::rc::Rc;
use std::sync::{Arc, Mutex, PoisonError};

use super::{exit_is_visible, exiting, switch, with};

/// A thread of an execution, by task id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct ThreadId(usize);

impl From<ThreadId> for usize {
    fn from(id: ThreadId) -> usize {
        id.0
    }
}

/// A thread's handle: its id and name.
#[derive(Clone, Debug)]
pub(crate) struct Thread {
    id: ThreadId,
    name: Option<String>,
}

impl Thread {
    pub(crate) fn id(&self) -> ThreadId {
        self.id
    }

    pub(crate) fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

/// Where a finished thread leaves what it returned.
type Slot<T> = Arc<Mutex<Option<std::thread::Result<T>>>>;

/// Joins a thread of the engine.
#[derive(Debug)]
pub(crate) struct JoinHandle<T> {
    thread: Thread,
    result: Slot<T>,
}

impl<T> JoinHandle<T> {
    /// Waits for the thread to finish and returns what it returned.
    pub(crate) fn join(self) -> std::thread::Result<T> {
        let target = self.thread.id.0;
        if super::finished(target) {
            switch();
        }
        if super::set_waiter(target) {
            switch();
        }
        let result = self.result.lock().unwrap_or_else(PoisonError::into_inner).take();
        result.unwrap_or_else(|| {
            Err(Box::new(
                "the thread was dropped at the end of the execution, without running",
            ))
        })
    }

    pub(crate) fn thread(&self) -> &Thread {
        &self.thread
    }
}

/// `std::thread::Builder`'s name and stack size.
#[derive(Debug, Default)]
pub(crate) struct Builder {
    name: Option<String>,
    stack_size: Option<usize>,
}

impl Builder {
    pub(crate) fn new() -> Self {
        Builder::default()
    }

    pub(crate) fn name(mut self, name: String) -> Self {
        self.name = Some(name);
        self
    }

    pub(crate) fn stack_size(mut self, size: usize) -> Self {
        self.stack_size = Some(size);
        self
    }

    pub(crate) fn spawn<F, T>(self, f: F) -> std::io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        switch();
        let result: Slot<T> = Arc::new(Mutex::new(None));
        let filled = Arc::clone(&result);
        let body = Box::new(move || body(f, Some(filled)));
        let id = super::spawn(body, self.name.clone(), self.stack_size);
        Ok(JoinHandle {
            thread: Thread {
                id: ThreadId(id),
                name: self.name,
            },
            result,
        })
    }
}

/// Spawns a thread running `f`.
pub(crate) fn spawn<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    Builder::new().spawn(f).expect("the engine's spawn does not fail")
}

/// What every thread runs: its function, then (where its exit is visible to others) a scheduling
/// point, then the end of its thread-locals, the hand-over of its value (dropped at once if nobody
/// holds the handle to join it) and the wake-up of its joiner.
pub(super) fn body<T>(f: impl FnOnce() -> T, slot: Option<Slot<T>>) {
    let ret = f();
    if exit_is_visible() {
        switch();
    }
    let slot = slot.filter(|slot| Arc::strong_count(slot) > 1);
    let ret = match slot {
        Some(_) => Some(ret),
        None => {
            drop(ret);
            None
        }
    };
    drop_locals();
    if let (Some(slot), Some(ret)) = (slot, ret) {
        *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(Ok(ret));
    }
    exiting();
}

/// The running thread.
pub(crate) fn current() -> Thread {
    let id = super::me();
    Thread {
        id: ThreadId(id),
        name: super::name(id),
    }
}

/// Lets the scheduler run another thread first; the running one stays runnable.
pub(crate) fn yield_now() {
    let me = super::me();
    super::wake(me);
    super::request_yield();
    switch();
}

/// A thread-local of the engine: each task gets its own value, made by `init` on first use.
pub struct LocalKey<T: 'static> {
    init: fn() -> T,
}

impl<T: 'static> LocalKey<T> {
    #[doc(hidden)]
    pub const fn new(init: fn() -> T) -> Self {
        LocalKey { init }
    }

    /// Runs `f` on the running task's value.
    pub fn with<F, R>(&'static self, f: F) -> R
    where
        F: FnOnce(&T) -> R,
    {
        let key = self as *const Self as usize;
        let found = with(|e| {
            let me = e.current.expect("a thread-local of a check is used inside its threads");
            local(&e.tasks[me].locals, key)
        });
        let value = match found {
            Some(value) => value,
            None => {
                // Made outside the table's borrow: `init` may use the facade.
                let made: Rc<dyn Any> = Rc::new((self.init)());
                with(|e| {
                    let me = e.current.expect("a task is running");
                    let locals = &mut e.tasks[me].locals;
                    match local(locals, key) {
                        Some(value) => value,
                        None => {
                            locals.push((key, Rc::clone(&made)));
                            made
                        }
                    }
                })
            }
        };
        f(value.downcast_ref::<T>().expect("a key's value has the key's type"))
    }
}

impl<T: 'static> std::fmt::Debug for LocalKey<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalKey").finish_non_exhaustive()
    }
}

fn local(locals: &[(usize, Rc<dyn Any>)], key: usize) -> Option<Rc<dyn Any>> {
    locals.iter().find(|(k, _)| *k == key).map(|(_, v)| Rc::clone(v))
}

/// Drops the running task's thread-locals, newest first, each outside the table's borrow.
pub(super) fn drop_locals() {
    loop {
        let popped = with(|e| {
            let me = e.current?;
            e.tasks[me].locals.pop()
        });
        match popped {
            Some(value) => drop(value),
            None => break,
        }
    }
}
