use crate::arbitrary::Arbitrary;
use crate::sync::{Condvar, Mutex};
use crate::{Model, Resource};

/// A one-message mailbox's operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Arbitrary)]
pub enum MailboxOp {
    /// Take the message out of the box (waiting while the box is empty), then put `v` in its
    /// place; returns the message taken.
    Pass(u8),
}

/// The specification: a box that always holds one message (0 at first); `Pass(v)` returns it and
/// leaves `v`. Passing is never empty-handed: `Some` every time.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct MailboxModel(u8);

impl Model for MailboxModel {
    type Op = MailboxOp;
    type Output = Option<u8>;

    fn step(&mut self, op: &MailboxOp) -> Option<u8> {
        let MailboxOp::Pass(v) = op;
        Some(std::mem::replace(&mut self.0, *v))
    }
}

/// The box and the condition variable that says it was filled. Between taking the message and
/// putting the next one the taker holds no lock, so the box is empty and others wait.
#[derive(Debug)]
struct Mailbox {
    slot: Mutex<Option<u8>>,
    filled: Condvar,
}

impl Mailbox {
    fn new() -> Self {
        Mailbox {
            slot: Mutex::new(Some(0)),
            filled: Condvar::new(),
        }
    }

    fn pass(&self, v: u8, recheck: bool) -> Option<u8> {
        let mut slot = self.slot.lock().unwrap();
        if recheck {
            while slot.is_none() {
                slot = self.filled.wait(slot).unwrap();
            }
        } else if slot.is_none() {
            slot = self.filled.wait(slot).unwrap();
        }
        let taken = slot.take();
        drop(slot);
        *self.slot.lock().unwrap() = Some(v);
        self.filled.notify_one();
        taken
    }
}

/// BUGGY: waits with `if slot.is_none()` instead of `while`, so it takes whatever is in the box
/// when the wait returns. A wait may return without a notification (std permits spurious wakeups,
/// and real machines produce them), and then the box is still empty: `Pass` returns `None`. With
/// two threads of one operation each, notifications alone never show the bug: only a spurious
/// wakeup does. (With more operations a notified waiter can also find its message taken by a
/// thread that arrived first, a second way the `if` breaks.)
#[derive(Debug)]
pub struct IfWaitMailbox(Mailbox);

impl Resource for IfWaitMailbox {
    type Op = MailboxOp;
    type Output = Option<u8>;
    type Model = MailboxModel;

    fn new() -> Self {
        IfWaitMailbox(Mailbox::new())
    }

    fn apply(&self, op: &MailboxOp) -> Option<u8> {
        let MailboxOp::Pass(v) = op;
        self.0.pass(*v, false)
    }
}

/// Correct: waits in a `while` loop, re-checking the box after every wakeup, notified or not.
#[derive(Debug)]
pub struct WhileWaitMailbox(Mailbox);

impl Resource for WhileWaitMailbox {
    type Op = MailboxOp;
    type Output = Option<u8>;
    type Model = MailboxModel;

    fn new() -> Self {
        WhileWaitMailbox(Mailbox::new())
    }

    fn apply(&self, op: &MailboxOp) -> Option<u8> {
        let MailboxOp::Pass(v) = op;
        self.0.pass(*v, true)
    }
}
