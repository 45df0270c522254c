//! The overhead bench's first workload, shared by `benches/overhead.rs` and
//! `examples/overhead_profile.rs`: a correct locked counter, 2 threads x (Inc, Get, Inc), seed 7 on
//! both sides.

use std::sync::Arc;

use crosscheck::resources::{CounterOp, LockedCounter};
use crosscheck::{Checker, Scenario, Scheduler};
use shuttle::scheduler::RandomScheduler;

/// Raw shuttle's side: `schedules` schedules of two threads that each lock, apply and unlock a
/// mutex three times, then a check of the total.
pub fn raw_shuttle_locked(schedules: usize) {
    let scheduler = RandomScheduler::new_from_seed(7, schedules);
    let mut config = shuttle::Config::new();
    config.silence_warnings = true;
    shuttle::Runner::new(scheduler, config).run(|| {
        let counter = Arc::new(shuttle::sync::Mutex::new(0u64));
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let counter = Arc::clone(&counter);
                shuttle::thread::spawn(move || {
                    for op in [CounterOp::Inc, CounterOp::Get, CounterOp::Inc] {
                        let mut n = counter.lock().unwrap();
                        match op {
                            CounterOp::Inc => *n += 1,
                            CounterOp::Get => assert!(*n <= 4),
                        }
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(*counter.lock().unwrap(), 4);
    });
}

/// crosscheck's side: the same scenario pinned, a correct `LockedCounter`.
pub fn locked_scenario() -> Scenario<CounterOp> {
    let ops = vec![CounterOp::Inc, CounterOp::Get, CounterOp::Inc];
    Scenario {
        init: vec![],
        threads: vec![ops.clone(), ops],
        post: vec![],
    }
}

/// `schedules` schedules of [`locked_scenario`] under `Scheduler::Random`.
pub fn crosscheck_locked(schedules: usize) {
    Checker::<LockedCounter>::new()
        .scenario(locked_scenario())
        .scheduler(Scheduler::Random)
        .iterations(schedules)
        .seed(7)
        .run()
        .expect("a correct counter passes");
}
