//! `crosscheck::sync::mpsc` as a user meets it: a work queue whose shutdown drains the channel.
//! Draining with `try_recv` loses a job a producer was still sending when the channel closed; the
//! race is caught, shrunk to one `Submit` against one `Shutdown` with one preemption, and shown
//! message by message. Draining with `recv` (which waits for every sender to go) passes 20,000
//! schedules. A receive nobody will answer, and a rendezvous send nobody will take, are
//! deadlocks that name the channel.

use crosscheck::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use crosscheck::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender, TryRecvError};
use crosscheck::sync::Mutex;
use crosscheck::{Checker, FailureKind, Model, Resource, Scenario, Scheduler};
use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Eq, Hash, crosscheck::arbitrary::Arbitrary)]
pub enum Op {
    /// Queues a job; returns whether the queue accepted it (it is not shut down).
    Submit,
    /// Closes the queue, runs every job queued, and returns how many jobs have run in all.
    Shutdown,
}

/// How `Shutdown` runs the queued jobs.
pub trait Drain: Send + Sync + 'static {
    fn drain(rx: &Receiver<()>, ran: &AtomicUsize);
}

pub struct WorkQueue<D> {
    tx: Mutex<Option<Sender<()>>>,
    rx: Mutex<Receiver<()>>,
    ran: AtomicUsize,
    drain: std::marker::PhantomData<D>,
}

impl<D: Drain> Resource for WorkQueue<D> {
    type Op = Op;
    type Output = usize;
    type Model = QueueModel;
    fn new() -> Self {
        let (tx, rx) = mpsc::channel();
        WorkQueue {
            tx: Mutex::new(Some(tx)),
            rx: Mutex::new(rx),
            ran: AtomicUsize::new(0),
            drain: std::marker::PhantomData,
        }
    }
    fn apply(&self, op: &Op) -> usize {
        match op {
            Op::Submit => {
                // The usual pattern: clone the sender under the lock, send outside it.
                let tx = self.tx.lock().unwrap().clone();
                usize::from(tx.is_some_and(|tx| tx.send(()).is_ok()))
            }
            Op::Shutdown => {
                drop(self.tx.lock().unwrap().take());
                D::drain(&self.rx.lock().unwrap(), &self.ran);
                self.ran.load(SeqCst)
            }
        }
    }
}

/// Submit returns 1 while the queue is open; Shutdown returns every job accepted so far.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct QueueModel {
    shut: bool,
    accepted: usize,
}

impl Model for QueueModel {
    type Op = Op;
    type Output = usize;
    fn step(&mut self, op: &Op) -> usize {
        match op {
            Op::Submit if self.shut => 0,
            Op::Submit => {
                self.accepted += 1;
                1
            }
            Op::Shutdown => {
                self.shut = true;
                self.accepted
            }
        }
    }
}

/// Runs what is queued now and stops: a producer still holding a sender is not waited for.
pub struct UntilEmpty;
impl Drain for UntilEmpty {
    fn drain(rx: &Receiver<()>, ran: &AtomicUsize) {
        while rx.try_recv().is_ok() {
            ran.fetch_add(1, SeqCst);
        }
    }
}

/// Runs jobs until every sender is gone.
pub struct UntilClosed;
impl Drain for UntilClosed {
    fn drain(rx: &Receiver<()>, ran: &AtomicUsize) {
        for () in rx.iter() {
            ran.fetch_add(1, SeqCst);
        }
    }
}

#[test]
fn draining_until_empty_loses_a_job_and_is_shrunk_to_one_submit_against_one_shutdown() {
    for seed in 0..3 {
        let f = Checker::<WorkQueue<UntilEmpty>>::new()
            .seed(seed)
            .run()
            .expect_err("a job sent after the drain is lost");
        assert!(matches!(f.kind(), FailureKind::NotLinearizable { .. }), "{f}");
        let s = f.scenario();
        let mut ops: Vec<&Op> = s.threads.iter().flatten().collect();
        ops.sort_by_key(|op| matches!(op, Op::Shutdown));
        assert_eq!(ops, [&Op::Submit, &Op::Shutdown], "{f}");
        assert!(s.init.is_empty() && s.post.is_empty(), "{f}");
        assert_eq!(f.preemptions(), 1, "{f}");
        let text = f.to_string();
        assert!(text.contains("sends message #1 on channel"), "{text}");
        assert!(
            !text.contains("receives message #1"),
            "the lost job is never received:\n{text}"
        );
    }
}

#[test]
fn draining_until_closed_passes_20_000_schedules_and_every_backend() {
    let report = Checker::<WorkQueue<UntilClosed>>::new()
        .iterations(20_000)
        .run()
        .unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(report.schedules(), 20_000);
    let small = Scenario {
        threads: vec![vec![Op::Submit, Op::Submit], vec![Op::Shutdown]],
        ..Scenario::default()
    };
    for scheduler in [
        Scheduler::Dfs { max_iterations: None },
        Scheduler::Loom {
            preemption_bound: Some(2),
        },
    ] {
        Checker::<WorkQueue<UntilClosed>>::new()
            .scenario(small.clone())
            .scheduler(scheduler.clone())
            .run()
            .unwrap_or_else(|f| panic!("{scheduler:?}:\n{f}"));
    }
    Checker::<WorkQueue<UntilClosed>>::new()
        .iterations(300)
        .scheduler(Scheduler::Stress)
        .run()
        .unwrap_or_else(|f| panic!("stress:\n{f}"));
}

#[test]
fn loom_finds_the_lost_job_too() {
    let f = Checker::<WorkQueue<UntilEmpty>>::new()
        .scenario(Scenario {
            threads: vec![vec![Op::Submit], vec![Op::Shutdown]],
            ..Scenario::default()
        })
        .scheduler(Scheduler::Loom {
            preemption_bound: Some(2),
        })
        .run()
        .expect_err("loom interleaves the late send too");
    assert!(matches!(f.kind(), FailureKind::NotLinearizable { .. }), "{f}");
}

/// Sends and receives on a channel the resource keeps both ends of.
pub struct Pipe {
    tx: SyncSender<u8>,
    rx: Mutex<Receiver<u8>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, crosscheck::arbitrary::Arbitrary)]
pub enum PipeOp {
    Send,
    Recv,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Anything;
impl Model for Anything {
    type Op = PipeOp;
    type Output = ();
    fn step(&mut self, _op: &PipeOp) {}
}

/// A rendezvous pipe (`sync_channel(0)`).
impl Resource for Pipe {
    type Op = PipeOp;
    type Output = ();
    type Model = Anything;
    fn new() -> Self {
        let (tx, rx) = mpsc::sync_channel(0);
        Pipe { tx, rx: Mutex::new(rx) }
    }
    fn apply(&self, op: &PipeOp) {
        match op {
            PipeOp::Send => self.tx.send(7).unwrap(),
            PipeOp::Recv => assert_eq!(self.rx.lock().unwrap().recv(), Ok(7)),
        }
    }
}

fn pipe(threads: Vec<Vec<PipeOp>>) -> Checker<Pipe> {
    Checker::<Pipe>::new()
        .scenario(Scenario {
            threads,
            ..Scenario::default()
        })
        .scheduler(Scheduler::Dfs { max_iterations: None })
}

#[test]
fn a_rendezvous_meets_and_its_half_alone_is_a_deadlock() {
    pipe(vec![vec![PipeOp::Send], vec![PipeOp::Recv]])
        .run()
        .unwrap_or_else(|f| panic!("a send meets a receive:\n{f}"));
    for alone in [PipeOp::Recv, PipeOp::Send] {
        let f = pipe(vec![vec![alone.clone()]]).run().expect_err("nobody answers");
        assert!(matches!(f.kind(), FailureKind::Deadlock { .. }), "{alone:?}: {f}");
        assert!(f.to_string().contains("condvar \"channel\" (tests/channels.rs:"), "{f}");
    }
}

/// Every call's answer, as std gives it: numbering, disconnection, try/timeout answers, bounded
/// room. `timeout` is real outside a check and logical under one (where it never sleeps).
fn answers_as_std_does(timeout: Duration) {
    let (tx, rx) = mpsc::channel();
    let tx2 = tx.clone();
    tx.send(1).unwrap();
    tx2.send(2).unwrap();
    assert_eq!(rx.try_iter().collect::<Vec<_>>(), [1, 2]);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(rx.recv_timeout(timeout), Err(RecvTimeoutError::Timeout));
    drop((tx, tx2));
    assert_eq!(rx.recv(), Err(mpsc::RecvError));
    let (tx, rx) = mpsc::sync_channel(1);
    tx.try_send(1).unwrap();
    assert!(matches!(tx.try_send(2), Err(mpsc::TrySendError::Full(2))));
    assert_eq!(rx.recv(), Ok(1));
    drop(rx);
    assert!(tx.send(3).is_err());
}

#[test]
fn outside_a_check_the_channels_are_std_s() {
    answers_as_std_does(Duration::from_millis(1));
}

/// The same calls under a check.
pub struct Calls;
impl Resource for Calls {
    type Op = PipeOp;
    type Output = ();
    type Model = Anything;
    fn new() -> Self {
        Calls
    }
    fn apply(&self, _op: &PipeOp) {
        answers_as_std_does(Duration::from_secs(60));
    }
}

#[test]
fn under_a_check_the_channels_answer_as_std_s_do() {
    for scheduler in [
        Scheduler::Random,
        Scheduler::Loom {
            preemption_bound: Some(1),
        },
    ] {
        Checker::<Calls>::new()
            .scenario(Scenario {
                threads: vec![vec![PipeOp::Send]],
                ..Scenario::default()
            })
            .iterations(5)
            .scheduler(scheduler)
            .run()
            .unwrap_or_else(|f| panic!("{f}"));
    }
}
