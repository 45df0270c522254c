//! The engine against shuttle 0.9, the runtime whose scheduling points it takes one for one: the
//! same programs, written once against both, explored exhaustively by the same depth-first
//! scheduler, must meet the same scheduling points with the same runnable threads in every
//! execution. Saved replay tokens, regression files and fuzz corpora mean the same schedules
//! because of this; a shuttle upgrade that moves a point shows up here first.

use std::rc::Rc;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;

use super::Scheduler;

/// One scheduling point: the runnable tasks, the task that reached it, whether it yielded, and
/// the task picked.
type Point = (Vec<usize>, Option<usize>, bool, usize);

/// Explores every choice of every scheduling point, depth first, keeping each execution's points.
#[derive(Default)]
pub(super) struct Dfs {
    /// (choice, choices) at each point of the execution running now, from its start.
    stack: Vec<(usize, usize)>,
    depth: usize,
    started: bool,
    current: Vec<Point>,
    executions: Vec<Vec<Point>>,
}

/// An exploration that has not ended after this many executions is a bug of the program or the
/// scheduler.
const LIMIT: usize = 100_000;

impl Dfs {
    fn next_execution(&mut self) -> bool {
        if self.started {
            self.executions.push(std::mem::take(&mut self.current));
            self.stack.truncate(self.depth);
            loop {
                match self.stack.pop() {
                    Some((choice, count)) if choice + 1 < count => {
                        self.stack.push((choice + 1, count));
                        break;
                    }
                    Some(_) => {}
                    None => return false,
                }
            }
            assert!(self.executions.len() < LIMIT, "the exploration does not end");
        }
        self.started = true;
        self.depth = 0;
        true
    }

    fn pick(&mut self, runnable: &[usize], current: Option<usize>, yielding: bool) -> usize {
        let choice = match self.stack.get(self.depth) {
            Some(&(choice, count)) => {
                assert_eq!(count, runnable.len(), "a replayed prefix met another point");
                choice
            }
            None => {
                self.stack.push((0, runnable.len()));
                0
            }
        };
        self.depth += 1;
        self.current
            .push((runnable.to_vec(), current, yielding, runnable[choice]));
        runnable[choice]
    }
}

/// The scheduler handed to the engine: the shared exploration.
pub(super) struct OnEngine(pub(super) Rc<std::cell::RefCell<Dfs>>);

impl Scheduler for OnEngine {
    fn new_execution(&mut self) -> bool {
        self.0.borrow_mut().next_execution()
    }

    fn next_task(&mut self, runnable: &[usize], current: Option<usize>, yielding: bool) -> Option<usize> {
        Some(self.0.borrow_mut().pick(runnable, current, yielding))
    }

    fn next_u64(&mut self) -> u64 {
        0
    }
}

/// The scheduler handed to shuttle's runner: the same exploration.
struct OnShuttle(Rc<std::cell::RefCell<Dfs>>);

impl shuttle::scheduler::Scheduler for OnShuttle {
    fn new_execution(&mut self) -> Option<shuttle::scheduler::Schedule> {
        self.0
            .borrow_mut()
            .next_execution()
            .then(|| shuttle::scheduler::Schedule::new(0))
    }

    fn next_task(
        &mut self,
        runnable: &[&shuttle::scheduler::Task],
        current: Option<shuttle::scheduler::TaskId>,
        yielding: bool,
    ) -> Option<shuttle::scheduler::TaskId> {
        let ids: Vec<usize> = runnable.iter().map(|t| usize::from(t.id())).collect();
        let picked = self.0.borrow_mut().pick(&ids, current.map(usize::from), yielding);
        runnable.iter().map(|t| t.id()).find(|&id| usize::from(id) == picked)
    }

    fn next_u64(&mut self) -> u64 {
        0
    }
}

/// Every execution's scheduling points of `program` on the engine.
fn on_engine(program: fn()) -> Vec<Vec<Point>> {
    let dfs = Rc::new(std::cell::RefCell::new(Dfs::default()));
    let (_, ended) = super::run(Box::new(OnEngine(Rc::clone(&dfs))), Rc::new(program), 256 << 10);
    assert!(ended.is_ok(), "the program ran to its end on the engine");
    let mut dfs = dfs.borrow_mut();
    std::mem::take(&mut dfs.executions)
}

/// Every execution's scheduling points of `program` on shuttle.
fn on_shuttle(program: fn()) -> Vec<Vec<Point>> {
    let dfs = Rc::new(std::cell::RefCell::new(Dfs::default()));
    let mut config = shuttle::Config::new();
    config.max_steps = shuttle::MaxSteps::None;
    config.failure_persistence = shuttle::FailurePersistence::None;
    config.silence_warnings = true;
    shuttle::Runner::new(OnShuttle(Rc::clone(&dfs)), config).run(program);
    let mut dfs = dfs.borrow_mut();
    std::mem::take(&mut dfs.executions)
}

/// Explores `program` (written against `$m`'s types) on both and compares every execution.
macro_rules! same_points {
    ($($name:ident => |$m:ident| $body:block)*) => {$(
        #[test]
        fn $name() {
            fn engine() {
                use engine_api as $m;
                $body
            }
            fn shuttle() {
                use shuttle_api as $m;
                $body
            }
            let (ours, theirs) = (on_engine(engine), on_shuttle(shuttle));
            assert!(ours.len() > 1, "the program has more than one schedule");
            assert_eq!(ours.len(), theirs.len(), "as many executions as shuttle");
            for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
                assert_eq!(a, b, "execution {i} met other scheduling points than under shuttle");
            }
        }
    )*};
}

mod engine_api {
    pub(super) use crate::engine::atomic::AtomicUsize;
    pub(super) use crate::engine::future::{block_on, spawn as spawn_future, yield_now as yield_future};
    pub(super) use crate::engine::sync::{Condvar, Mutex, RwLock};
    pub(super) use crate::engine::thread::{spawn, yield_now};
}

mod shuttle_api {
    pub(super) use shuttle::future::{block_on, spawn as spawn_future, yield_now as yield_future};
    pub(super) use shuttle::sync::atomic::AtomicUsize;
    pub(super) use shuttle::sync::{Condvar, Mutex, RwLock};
    pub(super) use shuttle::thread::{spawn, yield_now};
}

same_points! {
    contended_mutex => |m| {
        let lock = Arc::new(m::Mutex::new(0));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let lock = Arc::clone(&lock);
                m::spawn(move || {
                    for _ in 0..2 {
                        *lock.lock().unwrap() += 1;
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*lock.lock().unwrap(), 4);
    }

    three_threads_on_one_mutex => |m| {
        let lock = Arc::new(m::Mutex::new(Vec::new()));
        let threads: Vec<_> = (0..3)
            .map(|i| {
                let lock = Arc::clone(&lock);
                m::spawn(move || lock.lock().unwrap().push(i))
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
    }

    readers_and_a_writer => |m| {
        let lock = Arc::new(m::RwLock::new(0));
        let threads: Vec<_> = (0..2)
            .map(|i| {
                let lock = Arc::clone(&lock);
                m::spawn(move || {
                    if i == 0 {
                        *lock.write().unwrap() += 1;
                    } else {
                        let _ = *lock.read().unwrap();
                        let _ = lock.try_write().is_ok();
                    }
                })
            })
            .collect();
        let _ = *lock.read().unwrap();
        for t in threads {
            t.join().unwrap();
        }
    }

    condvar_notify_one => |m| {
        let pair = Arc::new((m::Mutex::new(false), m::Condvar::new()));
        let waiter = Arc::clone(&pair);
        let consumer = m::spawn(move || {
            let (lock, ready) = &*waiter;
            let mut set = lock.lock().unwrap();
            while !*set {
                set = ready.wait(set).unwrap();
            }
        });
        let (lock, ready) = &*pair;
        *lock.lock().unwrap() = true;
        ready.notify_one();
        consumer.join().unwrap();
    }

    condvar_notify_all_to_two_waiters => |m| {
        let pair = Arc::new((m::Mutex::new(false), m::Condvar::new()));
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let pair = Arc::clone(&pair);
                m::spawn(move || {
                    let (lock, ready) = &*pair;
                    let mut set = lock.lock().unwrap();
                    while !*set {
                        set = ready.wait(set).unwrap();
                    }
                })
            })
            .collect();
        let (lock, ready) = &*pair;
        *lock.lock().unwrap() = true;
        ready.notify_all();
        for w in waiters {
            w.join().unwrap();
        }
    }

    notify_one_twice_to_two_waiters => |m| {
        let pair = Arc::new((m::Mutex::new(0), m::Condvar::new()));
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let pair = Arc::clone(&pair);
                m::spawn(move || {
                    let (lock, ready) = &*pair;
                    let mut count = lock.lock().unwrap();
                    while *count == 0 {
                        count = ready.wait(count).unwrap();
                    }
                    *count -= 1;
                })
            })
            .collect();
        let (lock, ready) = &*pair;
        for _ in 0..2 {
            *lock.lock().unwrap() += 1;
            ready.notify_one();
        }
        for w in waiters {
            w.join().unwrap();
        }
    }

    atomics_and_try_lock_with_yields => |m| {
        let count = Arc::new(m::AtomicUsize::new(0));
        let lock = Arc::new(m::Mutex::new(()));
        let (count2, lock2) = (Arc::clone(&count), Arc::clone(&lock));
        let t = m::spawn(move || {
            count2.fetch_add(1, SeqCst);
            for _ in 0..2 {
                if let Ok(_held) = lock2.try_lock() {
                    break;
                }
                m::yield_now();
            }
            let _ = count2.load(SeqCst);
        });
        drop(lock.lock().unwrap());
        count.fetch_add(1, SeqCst);
        t.join().unwrap();
    }

    nested_spawns_and_a_detached_future => |m| {
        let seen = Arc::new(m::Mutex::new(0));
        let inner = Arc::clone(&seen);
        let outer = m::spawn(move || {
            let again = Arc::clone(&inner);
            let child = m::spawn(move || *again.lock().unwrap() += 1);
            *inner.lock().unwrap() += 1;
            child.join().unwrap();
        });
        let counted = Arc::clone(&seen);
        drop(m::spawn_future(async move {
            m::yield_future().await;
            *counted.lock().unwrap() += 1;
        }));
        outer.join().unwrap();
    }

    futures_joined_by_block_on => |m| {
        let seen = Arc::new(m::AtomicUsize::new(0));
        let tasks: Vec<_> = (0..2)
            .map(|_| {
                let seen = Arc::clone(&seen);
                m::spawn_future(async move {
                    seen.fetch_add(1, SeqCst);
                    m::yield_future().await;
                    seen.fetch_add(1, SeqCst);
                })
            })
            .collect();
        m::block_on(async move {
            for t in tasks {
                let _ = t.await;
            }
        });
        assert_eq!(seen.load(SeqCst), 4);
    }
}
