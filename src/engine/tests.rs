//! How the engine ends an execution (a deadlock, a stop), and the stacks its threads get.

use std::rc::Rc;
use std::sync::{Arc, Mutex as StdMutex};

use super::parity::{Dfs, OnEngine};
use super::sync::Mutex;
use super::{thread, Scheduler};

#[test]
fn a_program_that_deadlocks_names_the_blocked_threads() {
    fn program() {
        let (a, b) = (Arc::new(Mutex::new(())), Arc::new(Mutex::new(())));
        let (a2, b2) = (Arc::clone(&a), Arc::clone(&b));
        let t = thread::spawn(move || {
            let _b = b2.lock().unwrap();
            let _a = a2.lock().unwrap();
        });
        let _a = a.lock().unwrap();
        let _b = b.lock().unwrap();
        drop((_a, _b));
        t.join().unwrap();
    }
    let dfs = Rc::new(std::cell::RefCell::new(Dfs::default()));
    let (_, ended) = super::run(Box::new(OnEngine(Rc::clone(&dfs))), Rc::new(program), 256 << 10);
    match ended {
        Err(super::Stopped::Deadlock(blocked)) => assert_eq!(blocked, ["main (task 0)", "task 1"]),
        Err(super::Stopped::Panic(_)) => panic!("the deadlock was reported as a panic"),
        Ok(()) => panic!("no execution deadlocked"),
    }
}

#[test]
fn a_stopped_execution_unwinds_its_threads_and_releases_their_locks() {
    /// Stops every execution at its fifth point, with the spawned thread holding the lock.
    struct StopEarly(usize, Arc<StdMutex<usize>>);

    impl Scheduler for StopEarly {
        fn new_execution(&mut self) -> bool {
            self.0 = 0;
            let mut runs = self.1.lock().unwrap();
            *runs += 1;
            *runs <= 3
        }

        fn next_task(&mut self, runnable: &[usize], _: Option<usize>, _: bool) -> Option<usize> {
            self.0 += 1;
            (self.0 < 5).then(|| runnable[runnable.len() - 1])
        }

        fn next_u64(&mut self) -> u64 {
            0
        }
    }

    static LOCK: Mutex<()> = Mutex::new(());
    fn program() {
        let t = thread::spawn(|| {
            let _held = LOCK.lock().unwrap();
            thread::yield_now();
        });
        t.join().unwrap();
    }
    let runs = Arc::new(StdMutex::new(0));
    let (_, ended) = super::run(Box::new(StopEarly(0, Arc::clone(&runs))), Rc::new(program), 256 << 10);
    assert!(ended.is_ok());
    assert_eq!(*runs.lock().unwrap(), 4, "three executions ran, each stopped early");
    // Every execution found the lock free: the stopped thread's guard was dropped as it unwound.
    assert!(LOCK.try_lock().is_ok());
}

#[test]
fn a_thread_that_asks_for_a_larger_stack_than_the_check_gets_it() {
    /// About `depth` KiB of stack.
    fn deep(depth: usize) -> usize {
        let frame = std::hint::black_box([depth as u8; 1024]);
        if depth == 0 {
            frame[0] as usize
        } else {
            deep(depth - 1) + frame[1] as usize
        }
    }
    fn program() {
        let big = thread::Builder::new().stack_size(4 << 20).spawn(|| deep(1_000));
        big.expect("the engine spawns").join().unwrap();
    }
    let dfs = Rc::new(std::cell::RefCell::new(Dfs::default()));
    // The check's stacks are 256 KiB; the thread needs about 1 MiB and asks for 4.
    let (_, ended) = super::run(Box::new(OnEngine(Rc::clone(&dfs))), Rc::new(program), 256 << 10);
    assert!(ended.is_ok());
}

#[test]
fn stacks_are_mapped_once_and_reused_by_every_later_run() {
    fn program() {
        let threads: Vec<_> = (0..3).map(|_| thread::spawn(thread::yield_now)).collect();
        for t in threads {
            t.join().unwrap();
        }
    }
    let run = || {
        let dfs = Rc::new(std::cell::RefCell::new(Dfs::default()));
        let (_, ended) = super::run(Box::new(OnEngine(dfs)), Rc::new(program), 256 << 10);
        assert!(ended.is_ok());
    };
    let mapped = || super::MAPPED.with(|m| m.get());
    run();
    let first = mapped();
    assert!(first >= 4, "main and three threads got stacks");
    // Every execution of this run and of the next ones (a fuzz input is one run) reuses them.
    for _ in 0..3 {
        run();
    }
    assert_eq!(mapped(), first, "no run after the first mapped a stack");
}
