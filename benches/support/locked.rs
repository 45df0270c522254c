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

/// The floor under any history checker built on shuttle: [`raw_shuttle_locked`], with each operation's
/// invocation and response noted in a `crosscheck::history::History` and every execution's history
/// judged against `CounterModel`, in return order where that fits and otherwise by
/// crosscheck's linearizability search where it does not. Nothing else: no events, no lock table,
/// no scheduling decisions of its own. Its rate over raw shuttle's is what recording and judging a
/// history costs; what crosscheck costs beyond it is everything else it does at each point.
pub fn shuttle_with_history(schedules: usize) {
    use crosscheck::history::History;
    use crosscheck::resources::CounterModel;
    use std::cell::RefCell;

    thread_local! {
        // Every task runs on the OS thread that runs shuttle, so one log per OS thread is the
        // execution's log.
        static LOG: RefCell<History<CounterOp, Option<u64>>> = RefCell::new(History::new());
    }
    const OPS: [CounterOp; 3] = [CounterOp::Inc, CounterOp::Get, CounterOp::Inc];

    let scheduler = RandomScheduler::new_from_seed(7, schedules);
    let mut config = shuttle::Config::new();
    config.silence_warnings = true;
    shuttle::Runner::new(scheduler, config).run(|| {
        LOG.with(|log| *log.borrow_mut() = History::new());
        let counter = Arc::new(shuttle::sync::Mutex::new(0u64));
        let handles: Vec<_> = (0..2)
            .map(|t| {
                let counter = Arc::clone(&counter);
                shuttle::thread::spawn(move || {
                    for op in OPS {
                        let id = LOG.with(|log| log.borrow_mut().invoke(t, op));
                        let mut n = counter.lock().unwrap();
                        let output = match op {
                            CounterOp::Inc => {
                                *n += 1;
                                None
                            }
                            CounterOp::Get => {
                                assert!(*n <= 4);
                                Some(*n)
                            }
                        };
                        drop(n);
                        LOG.with(|log| log.borrow_mut().ret(id, output))
                            .expect("one response per call");
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(*counter.lock().unwrap(), 4);
        LOG.with(|log| {
            let history = log.borrow();
            let fits = in_return_order(&history)
                || crosscheck::linearizability::check::<CounterModel>(&history, std::time::Duration::from_secs(1))
                    .is_linearizable();
            assert!(fits, "a correct counter's history is linearizable");
        });
    });
}

/// Whether a counter's history fits `CounterModel` with its operations taken in return order: the
/// floor sides' cheap judgement, which most of a correct counter's histories pass.
pub fn in_return_order(history: &crosscheck::history::History<CounterOp, Option<u64>>) -> bool {
    use crosscheck::Model;
    let mut ops: Vec<_> = history.operations().iter().collect();
    ops.sort_by_key(|op| op.returned);
    let mut model = crosscheck::resources::CounterModel::default();
    ops.iter().all(|op| op.output.as_ref() == Some(&model.step(&op.op)))
}
