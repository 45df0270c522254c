//! `std::sync::mpsc`: multi-producer, single-consumer channels, unbounded ([`channel`]) and
//! bounded ([`sync_channel`], where a bound of 0 makes every send a rendezvous with a receive).
//!
//! Under the controlled schedulers and loom a channel is a queue behind crosscheck's own mutex and
//! two condition variables (all named `channel`, with the site that created the channel), so
//! every send and receive is scheduled, a receiver waiting for a message nobody will send (or a
//! sender waiting for room nobody will make) is a deadlock that names the channel, and the
//! interleaving shows each message by its number: `sends message #2 on channel (src/queue.rs:9)`,
//! then `receives message #2 from ..`. `recv_timeout` runs in logical time, as `Condvar`'s timed
//! wait does: it times out when the scheduler runs the receiver again before a message came.
//! Outside a check, and under `Scheduler::Stress`, these are std's channels.

use std::collections::VecDeque;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

pub use std::sync::mpsc::{RecvError, RecvTimeoutError, SendError, TryRecvError, TrySendError};

use super::{Condvar, Mutex, MutexGuard, PoisonError};
use crate::runtime::{self, Backend, EventKind, ObjectKind};

/// The shared state of a channel under a check.
struct Chan<T> {
    id: Option<usize>,
    state: Mutex<State<T>>,
    /// A message arrived, or the last sender left.
    readable: Condvar,
    /// Room for a bounded sender, a rendezvous message taken, or the receiver left.
    writable: Condvar,
    /// `None`: unbounded.
    bound: Option<usize>,
}

struct State<T> {
    queue: VecDeque<(u64, T)>,
    /// Messages sent and received so far; a message's number is `sent` after its send.
    sent: u64,
    received: u64,
    senders: usize,
    receiver: bool,
    /// Receivers blocked in `recv` (a rendezvous `try_send` succeeds only if one is).
    waiting: usize,
}

impl<T> Chan<T> {
    #[track_caller]
    fn new(bound: Option<usize>) -> Arc<Chan<T>> {
        Arc::new(Chan {
            id: runtime::new_sited::<T>(ObjectKind::Channel),
            state: Mutex::new(State {
                queue: VecDeque::new(),
                sent: 0,
                received: 0,
                senders: 1,
                receiver: true,
                waiting: 0,
            })
            .named("channel"),
            readable: Condvar::new().named("channel"),
            writable: Condvar::new().named("channel"),
            bound,
        })
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wait<'a>(&self, cv: &Condvar, st: MutexGuard<'a, State<T>>) -> MutexGuard<'a, State<T>> {
        cv.wait(st).unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `t` under the lock, numbered and recorded in queue order.
    fn push(&self, st: &mut State<T>, t: T) -> u64 {
        st.sent += 1;
        let msg = st.sent;
        if let Some(obj) = self.id {
            runtime::record(EventKind::Send { obj, msg });
        }
        st.queue.push_back((msg, t));
        msg
    }

    fn pop(&self, st: &mut State<T>) -> Option<T> {
        let (msg, t) = st.queue.pop_front()?;
        st.received = msg;
        if let Some(obj) = self.id {
            runtime::record(EventKind::Recv { obj, msg });
        }
        Some(t)
    }

    /// A bounded send: waits for room (or, with bound 0, for the receiver to take the message).
    fn send_bounded(&self, t: T, block: bool) -> Result<(), TrySendError<T>> {
        let bound = self.bound.unwrap_or(usize::MAX);
        let mut st = self.lock();
        loop {
            if !st.receiver {
                return Err(TrySendError::Disconnected(t));
            }
            let room = if bound == 0 {
                st.queue.is_empty() && (block || st.waiting > 0)
            } else {
                st.queue.len() < bound
            };
            if room {
                break;
            }
            if !block {
                return Err(TrySendError::Full(t));
            }
            st = self.wait(&self.writable, st);
        }
        let msg = self.push(&mut st, t);
        drop(st);
        self.readable.notify_one();
        if bound > 0 {
            return Ok(());
        }
        // A rendezvous: the send completes when the message is taken.
        let mut st = self.lock();
        while st.received < msg && st.receiver {
            st = self.wait(&self.writable, st);
        }
        if st.received >= msg {
            return Ok(());
        }
        // The receiver left with the message still queued: it is given back, as std does.
        let t = st
            .queue
            .pop_back()
            .map(|(_, t)| t)
            .expect("an untaken message is still queued");
        Err(TrySendError::Disconnected(t))
    }

    fn send_unbounded(&self, t: T) -> Result<(), SendError<T>> {
        let mut st = self.lock();
        if !st.receiver {
            return Err(SendError(t));
        }
        self.push(&mut st, t);
        drop(st);
        self.readable.notify_one();
        Ok(())
    }

    /// A receive: `None` waits as long as it takes; `Some(d)` at most one logical timeout.
    fn recv(&self, timeout: Option<Duration>, block: bool) -> Result<T, RecvTimeoutError> {
        let mut st = self.lock();
        loop {
            if let Some(t) = self.pop(&mut st) {
                drop(st);
                if self.bound.is_some() {
                    self.writable.notify_all();
                }
                return Ok(t);
            }
            if st.senders == 0 {
                return Err(RecvTimeoutError::Disconnected);
            }
            if !block {
                return Err(RecvTimeoutError::Timeout);
            }
            st.waiting += 1;
            let timed_out;
            (st, timed_out) = match timeout {
                None => (self.wait(&self.readable, st), false),
                Some(d) => {
                    let (g, r) = self
                        .readable
                        .wait_timeout(st, d)
                        .unwrap_or_else(PoisonError::into_inner);
                    (g, r.timed_out())
                }
            };
            st.waiting -= 1;
            if timed_out && st.queue.is_empty() {
                return Err(if st.senders == 0 {
                    RecvTimeoutError::Disconnected
                } else {
                    RecvTimeoutError::Timeout
                });
            }
        }
    }

    fn add_sender(&self) {
        self.lock().senders += 1;
    }

    fn drop_sender(&self) {
        let mut st = self.lock();
        st.senders -= 1;
        let last = st.senders == 0;
        drop(st);
        if last {
            self.readable.notify_all();
        }
    }

    fn drop_receiver(&self) {
        self.lock().receiver = false;
        self.writable.notify_all();
    }
}

/// Creates an unbounded channel: sends never block.
#[track_caller]
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    match runtime::backend() {
        Backend::Std => {
            let (s, r) = std::sync::mpsc::channel();
            (Sender(Flavor::Std(s)), Receiver::new(Flavor::Std(r)))
        }
        Backend::Shuttle | Backend::Loom => {
            let chan = Chan::new(None);
            (
                Sender(Flavor::Model(Arc::clone(&chan))),
                Receiver::new(Flavor::Model(chan)),
            )
        }
    }
}

/// Creates a channel holding at most `bound` messages: a send waits for room. With a bound of 0 a
/// send waits until the receiver takes its message.
#[track_caller]
pub fn sync_channel<T>(bound: usize) -> (SyncSender<T>, Receiver<T>) {
    match runtime::backend() {
        Backend::Std => {
            let (s, r) = std::sync::mpsc::sync_channel(bound);
            (SyncSender(Flavor::Std(s)), Receiver::new(Flavor::Std(r)))
        }
        Backend::Shuttle | Backend::Loom => {
            let chan = Chan::new(Some(bound));
            (
                SyncSender(Flavor::Model(Arc::clone(&chan))),
                Receiver::new(Flavor::Model(chan)),
            )
        }
    }
}

/// std's end of a channel outside a check, crosscheck's under one.
enum Flavor<S, T> {
    Std(S),
    Model(Arc<Chan<T>>),
}

/// The sending half of a [`channel`]; clone it for more producers.
pub struct Sender<T>(Flavor<std::sync::mpsc::Sender<T>, T>);

impl<T> Sender<T> {
    /// Sends `t`; fails (giving it back) only if the receiver is gone.
    pub fn send(&self, t: T) -> Result<(), SendError<T>> {
        match &self.0 {
            Flavor::Std(s) => s.send(t),
            Flavor::Model(c) => c.send_unbounded(t),
        }
    }
}

/// The sending half of a [`sync_channel`]; clone it for more producers.
pub struct SyncSender<T>(Flavor<std::sync::mpsc::SyncSender<T>, T>);

impl<T> SyncSender<T> {
    /// Sends `t`, waiting for room; fails (giving it back) only if the receiver is gone.
    pub fn send(&self, t: T) -> Result<(), SendError<T>> {
        match &self.0 {
            Flavor::Std(s) => s.send(t),
            Flavor::Model(c) => c.send_bounded(t, true).map_err(|e| match e {
                TrySendError::Full(t) | TrySendError::Disconnected(t) => SendError(t),
            }),
        }
    }

    /// Sends `t` if there is room now (with bound 0: if the receiver is waiting).
    pub fn try_send(&self, t: T) -> Result<(), TrySendError<T>> {
        match &self.0 {
            Flavor::Std(s) => s.try_send(t),
            Flavor::Model(c) => c.send_bounded(t, false),
        }
    }
}

macro_rules! sender_common {
    ($name:ident) => {
        impl<T> Clone for $name<T> {
            fn clone(&self) -> Self {
                match &self.0 {
                    Flavor::Std(s) => $name(Flavor::Std(s.clone())),
                    Flavor::Model(c) => {
                        c.add_sender();
                        $name(Flavor::Model(Arc::clone(c)))
                    }
                }
            }
        }

        impl<T> Drop for $name<T> {
            fn drop(&mut self) {
                if let Flavor::Model(c) = &self.0 {
                    c.drop_sender();
                }
            }
        }

        impl<T> std::fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name)).finish_non_exhaustive()
            }
        }
    };
}

sender_common!(Sender);
sender_common!(SyncSender);

/// The receiving half of a channel. Like std's, it can be sent to another thread but not shared
/// (`Send`, not `Sync`): put it in a `Mutex` to share it.
pub struct Receiver<T> {
    flavor: Flavor<std::sync::mpsc::Receiver<T>, T>,
    not_sync: PhantomData<std::cell::Cell<()>>,
}

impl<T> Receiver<T> {
    fn new(flavor: Flavor<std::sync::mpsc::Receiver<T>, T>) -> Self {
        Receiver {
            flavor,
            not_sync: PhantomData,
        }
    }

    /// Waits for a message; fails once every sender is gone and the queue is empty.
    pub fn recv(&self) -> Result<T, RecvError> {
        match &self.flavor {
            Flavor::Std(r) => r.recv(),
            Flavor::Model(c) => c.recv(None, true).map_err(|_| RecvError),
        }
    }

    /// A message if one is queued now.
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        match &self.flavor {
            Flavor::Std(r) => r.try_recv(),
            Flavor::Model(c) => c.recv(None, false).map_err(|e| match e {
                RecvTimeoutError::Timeout => TryRecvError::Empty,
                RecvTimeoutError::Disconnected => TryRecvError::Disconnected,
            }),
        }
    }

    /// Waits for a message at most `timeout` (logical time under a check: see the module docs).
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        match &self.flavor {
            Flavor::Std(r) => r.recv_timeout(timeout),
            Flavor::Model(c) => c.recv(Some(timeout), true),
        }
    }

    /// The messages, waiting for each, until every sender is gone.
    pub fn iter(&self) -> Iter<'_, T> {
        Iter { rx: self }
    }

    /// The messages queued now, without waiting.
    pub fn try_iter(&self) -> TryIter<'_, T> {
        TryIter { rx: self }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if let Flavor::Model(c) = &self.flavor {
            c.drop_receiver();
        }
    }
}

impl<T> std::fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver").finish_non_exhaustive()
    }
}

/// [`Receiver::iter`]: waits for each message.
#[derive(Debug)]
pub struct Iter<'a, T> {
    rx: &'a Receiver<T>,
}

impl<T> Iterator for Iter<'_, T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.rx.recv().ok()
    }
}

/// [`Receiver::try_iter`]: the messages queued now.
#[derive(Debug)]
pub struct TryIter<'a, T> {
    rx: &'a Receiver<T>,
}

impl<T> Iterator for TryIter<'_, T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.rx.try_recv().ok()
    }
}

/// [`Receiver`]'s owning iterator.
#[derive(Debug)]
pub struct IntoIter<T> {
    rx: Receiver<T>,
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.rx.recv().ok()
    }
}

impl<T> IntoIterator for Receiver<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;
    fn into_iter(self) -> IntoIter<T> {
        IntoIter { rx: self }
    }
}

impl<'a, T> IntoIterator for &'a Receiver<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;
    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}
