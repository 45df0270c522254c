//! One shuttle runner kept across runs on a thread, for a caller that runs one execution at a time
//! many times over: fuzzing, one run per input.
//!
//! A runner's continuation pool holds the coroutine stacks of its tasks. A new runner per run maps,
//! guards and unmaps a stack for every task and faults in fresh pages: most of what a fuzz input
//! cost. But `shuttle::Runner::run` returns only when its scheduler has no execution left, so the
//! kept runner runs inside a coroutine of its own: when a run is over, its driver suspends that
//! coroutine instead of ending the runner (see [`Waiter`]), and the next run installs its plans in
//! the driver's state and resumes it. Everything but the stacks is fresh for every run (a new
//! [`State`], strategy and record), so a run behaves exactly as under [`super::run`].

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::time::Instant;

use corosensei::stack::DefaultStack;
use corosensei::{Coroutine, CoroutineResult, Yielder};

use super::failure::finish;
use super::{body, config, Driver, RunSettings, State};
use crate::plan::{Plan, StrategyFactory};
use crate::report::{Failure, Report};
use crate::resource::Resource;
use crate::runtime::{panics, Backend, BackendGuard};

/// The stack of the kept runner's own code: the driver, the judge and a failure's report, which
/// under [`super::run`] run on the caller's stack. Pages are committed only as they are touched.
const RUNNER_STACK: usize = 8 << 20;

thread_local! {
    /// The kept runner of this thread (a `Kept<R>`). One at a time: shuttle points a thread-local
    /// at the continuation pool of the runner that started last and restores it when that runner
    /// ends, so two suspended runners would each find the other's pool, or a stale one.
    static KEPT: RefCell<Option<Box<dyn Retire>>> = const { RefCell::new(None) };
}

/// Where the driver of a kept runner waits between runs.
pub(crate) struct Waiter(*const Yielder<(), ()>);

impl Waiter {
    /// Suspends the runner's coroutine until the next run is installed.
    pub(crate) fn wait(&self) {
        // SAFETY: the pointer is the yielder handed to the coroutine's closure in `Kept::new`,
        // which lives until that closure returns. The closure creates the only driver holding this
        // waiter and hands it to a runner that `Runner::run` consumes before the closure returns;
        // the driver is called only from inside `Runner::run`, on the coroutine's own stack. So
        // whenever this runs, the yielder is alive and belongs to the coroutine running it.
        let yielder = unsafe { &*self.0 };
        yielder.suspend(());
    }
}

/// A runner kept for resource `R`: the state its driver reads, the coroutine it runs in, and
/// whether it is being retired (then the unwinding that ends it is no failure).
struct Kept<R: Resource> {
    state: Rc<RefCell<State<R>>>,
    coroutine: Option<Coroutine<(), (), (), DefaultStack>>,
    retiring: Rc<Cell<bool>>,
}

impl<R: Resource> Kept<R> {
    fn new(state: State<R>, stack: DefaultStack) -> Self {
        let state = Rc::new(RefCell::new(state));
        let inner = Rc::clone(&state);
        let retiring = Rc::new(Cell::new(false));
        let ending = Rc::clone(&retiring);
        let coroutine = Coroutine::with_stack(stack, move |yielder: &Yielder<(), ()>, ()| {
            let body = body(&inner.borrow());
            let runner = shuttle::Runner::new(Driver(Rc::clone(&inner), Some(Waiter(yielder))), config());
            // A kept runner never runs out of executions: it ends only when a panic escapes it
            // (shuttle's deadlock report), and the next run starts a new one.
            if let Err(payload) = catch_unwind(AssertUnwindSafe(|| runner.run(body))) {
                if !ending.get() {
                    inner.borrow_mut().evaluate_panic(panics::message(&*payload));
                }
            }
        });
        Kept {
            state,
            coroutine: Some(coroutine),
            retiring,
        }
    }
}

/// A kept runner of any resource type.
trait Retire: Any {
    /// Ends the runner now: its coroutine unwinds the runner, which restores what shuttle's
    /// thread-local pointed at before the runner started.
    fn retire(self: Box<Self>);
    fn as_any(&self) -> &dyn Any;
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
}

impl<R: Resource> Retire for Kept<R> {
    fn retire(mut self: Box<Self>) {
        self.retiring.set(true);
        // Dropped here, not in `Drop`: a normal time to unwind it.
        drop(self.coroutine.take());
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
}

impl<R: Resource> Drop for Kept<R> {
    fn drop(&mut self) {
        // Dropping a suspended coroutine unwinds the runner on it, which runs shuttle's and
        // tracing's teardown; when the thread exits, their thread-locals may be gone already. So
        // a runner still suspended then is let go instead: its stacks stay mapped until the
        // process exits (one runner per thread that fuzzed).
        if let Some(coroutine) = self.coroutine.take().filter(|c| !c.done()) {
            std::mem::forget(coroutine);
        }
    }
}

impl<R: Resource> State<R> {
    /// A fresh state for the next run of a kept runner, keeping what the runner's body holds (the
    /// scenario slot) and the buffers the last run grew.
    fn renew(&mut self, plans: Vec<Plan<R::Op>>, settings: RunSettings, make_strategy: StrategyFactory) {
        let old = std::mem::replace(self, State::new(plans, settings, make_strategy));
        self.scenario = old.scenario;
        self.spare = old.spare;
        self.ids = old.ids;
        self.order = old.order;
    }
}

/// [`super::run`] on this thread's kept runner for `R`: the same result, without a new runner.
pub(crate) fn run<R: Resource>(
    plans: Vec<Plan<R::Op>>,
    make_strategy: StrategyFactory,
    settings: RunSettings,
) -> Result<Report, Failure<R::Op>> {
    let started = Instant::now();
    // Taken out while it runs: a run inside a run gets a runner of its own.
    let taken = match KEPT.with(|k| k.borrow_mut().take()) {
        Some(kept) if kept.as_any().is::<Kept<R>>() => kept.into_any().downcast::<Kept<R>>().ok(),
        Some(other) => {
            other.retire();
            None
        }
        None => None,
    };
    let mut kept = match taken {
        Some(kept) => {
            kept.state.borrow_mut().renew(plans, settings, make_strategy);
            kept
        }
        None => match DefaultStack::new(RUNNER_STACK) {
            Ok(stack) => Box::new(Kept::new(State::new(plans, settings, make_strategy), stack)),
            // No memory for a stack: a runner of its own, as every run had before.
            Err(_) => return super::run::<R>(plans, make_strategy, settings),
        },
    };
    let ended = {
        let _quiet = panics::Quiet::new();
        let _backend = BackendGuard::set(Backend::Shuttle);
        kept.coroutine.as_mut().map(|c| c.resume(()))
    };
    let result = finish(&mut kept.state.borrow_mut(), started);
    if let Some(CoroutineResult::Yield(())) = ended {
        if let Some(other) = KEPT.with(|k| k.borrow_mut().replace(kept)) {
            other.retire();
        }
    }
    result
}
