//! The workload of the overhead table by width, shared by `benches/overhead.rs` and
//! `examples/overhead_profile.rs` (which runs one side alone, for a profiler): N threads that each
//! add one to a counter, then a check of the total. Seed 7 on both sides.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use crosscheck::resources::{AtomicCounter, CounterOp};
use crosscheck::{Checker, Scenario, Scheduler};
use shuttle::scheduler::{RandomScheduler, Schedule, Task, TaskId};

/// Raw shuttle's side: spawn N threads that each do one `fetch_add`, join them, assert the total.
pub fn counter_body(threads: usize) -> impl Fn() + Send + Sync + 'static {
    move || {
        let counter = Arc::new(shuttle::sync::atomic::AtomicU64::new(0));
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let counter = Arc::clone(&counter);
                shuttle::thread::spawn(move || {
                    counter.fetch_add(1, Ordering::SeqCst);
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(counter.load(Ordering::SeqCst), threads as u64);
    }
}

/// `schedules` schedules of raw shuttle's `check_random` on [`counter_body`].
pub fn raw_shuttle_wide(threads: usize, schedules: usize) {
    shuttle::check_random_with_seed(counter_body(threads), 7, schedules);
}

/// [`raw_shuttle_wide`] with each `fetch_add` and the final read noted as operations in a
/// `crosscheck::history::History`, judged against `CounterModel` in return order (where a correct
/// counter's history always fits): the floor under any history checker built on shuttle, at
/// this width.
pub fn raw_with_history(threads: usize, schedules: usize) {
    use crosscheck::history::History;
    use std::cell::RefCell;

    thread_local! {
        // Every task runs on the OS thread that runs shuttle: one log per OS thread.
        static LOG: RefCell<History<CounterOp, Option<u64>>> = RefCell::new(History::new());
    }
    let body = move || {
        LOG.with(|log| *log.borrow_mut() = History::new());
        let counter = Arc::new(shuttle::sync::atomic::AtomicU64::new(0));
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let counter = Arc::clone(&counter);
                shuttle::thread::spawn(move || {
                    let id = LOG.with(|log| log.borrow_mut().invoke(t, CounterOp::Inc));
                    counter.fetch_add(1, Ordering::SeqCst);
                    LOG.with(|log| log.borrow_mut().ret(id, None))
                        .expect("one response per call");
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let id = LOG.with(|log| log.borrow_mut().invoke(threads, CounterOp::Get));
        let total = counter.load(Ordering::SeqCst);
        LOG.with(|log| log.borrow_mut().ret(id, Some(total)))
            .expect("one response per call");
        LOG.with(|log| {
            let fits = super::locked::in_return_order(&log.borrow());
            assert!(fits, "a correct counter's history fits in return order");
        });
    };
    shuttle::check_random_with_seed(body, 7, schedules);
}

/// shuttle's random scheduler, except that the main thread keeps running until it has spawned
/// every thread, as crosscheck's harness does so that all of a scenario's threads start from the
/// same point. Raw shuttle's own schedules mostly run each thread as soon as it is spawned, so few
/// tasks are alive at any point; here all of them are, and shuttle's scheduler, which walks the
/// live tasks at every point, does the same work per point as under crosscheck.
struct StartTogether {
    random: RandomScheduler,
    threads: usize,
}

impl shuttle::scheduler::Scheduler for StartTogether {
    fn new_execution(&mut self) -> Option<Schedule> {
        self.random.new_execution()
    }

    fn next_task(&mut self, runnable: &[&Task], current: Option<TaskId>, is_yielding: bool) -> Option<TaskId> {
        let main = TaskId::from(0);
        // Until the last thread exists, main is at the scheduling point of its next spawn.
        let spawned = runnable.iter().map(|t| usize::from(t.id())).max().unwrap_or(0);
        if current == Some(main) && spawned < self.threads && runnable.iter().any(|t| t.id() == main) {
            return Some(main);
        }
        self.random.next_task(runnable, current, is_yielding)
    }

    fn next_u64(&mut self) -> u64 {
        self.random.next_u64()
    }
}

/// `schedules` schedules of [`counter_body`] under [`StartTogether`].
pub fn shuttle_start_together(threads: usize, schedules: usize) {
    let scheduler = StartTogether {
        random: RandomScheduler::new_from_seed(7, schedules),
        threads,
    };
    let mut config = shuttle::Config::new();
    config.silence_warnings = true;
    shuttle::Runner::new(scheduler, config).run(counter_body(threads));
}

/// crosscheck's side: a correct `AtomicCounter`, N threads x 1 `Inc`, then a post `Get`.
pub fn wide_scenario(threads: usize) -> Scenario<CounterOp> {
    Scenario {
        init: vec![],
        threads: vec![vec![CounterOp::Inc]; threads],
        post: vec![CounterOp::Get],
    }
}

/// `schedules` schedules of [`wide_scenario`] under `Scheduler::Random`.
pub fn crosscheck_wide(threads: usize, schedules: usize) {
    Checker::<AtomicCounter>::new()
        .scenario(wide_scenario(threads))
        .scheduler(Scheduler::Random)
        .iterations(schedules)
        .seed(7)
        .run()
        .expect("a correct counter passes");
}
