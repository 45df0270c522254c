//! The workload of the overhead table by width, shared by `benches/overhead.rs` and
//! `examples/overhead_profile.rs` (which runs one side alone, for a profiler): N threads that each
//! add one to a counter, then a check of the total. Seed 7 on both sides.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use crosscheck::resources::{AtomicCounter, CounterOp};
use crosscheck::{Checker, Scenario, Scheduler};

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
