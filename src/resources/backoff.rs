//! Transfers that never wait for the second lock: take the first, try the second for a while, and
//! on timeout let the first go and start over. The seed's advice against lock-ordering deadlocks
//! when a global order is impractical, and its two classic mistakes.

use std::time::Duration;

use super::bank::{other, Accounts, BankModel, BankOp};
use crate::Resource;

/// How long a transfer waits for its second lock (logical time under the controlled schedulers).
const PATIENCE: Duration = Duration::from_millis(1);
/// How long a transfer backs off after a timeout.
const BACKOFF: Duration = Duration::from_micros(50);

/// One transfer attempt on the second lock: `Some(())` when the transfer happened.
fn attempt(accounts: &Accounts, from: super::Account, amount: u8, debit: &mut i64) -> Option<()> {
    let mut credit = accounts.lock_of(other(from)).try_lock_for(PATIENCE)?;
    *debit -= i64::from(amount);
    *credit += i64::from(amount);
    Some(())
}

/// Correct: a transfer locks the debited account, tries the credited one with `try_lock_for`, and
/// on timeout releases the first lock, backs off (`thread::sleep`), and retries. It takes locks in
/// both orders but never waits for the second, so it cannot deadlock, and the lock-order analysis
/// does not flag it (a timed acquisition adds no order edge).
#[derive(Debug)]
pub struct BackoffBank(Accounts);

impl Resource for BackoffBank {
    type Op = BankOp;
    type Output = Option<(i64, i64)>;
    type Model = BankModel;

    fn new() -> Self {
        BackoffBank(Accounts::new())
    }

    fn apply(&self, op: &BankOp) -> Option<(i64, i64)> {
        match *op {
            BankOp::Transfer { from, amount } => loop {
                let mut debit = self.0.lock_of(from).lock().unwrap();
                if attempt(&self.0, from, amount, &mut debit).is_some() {
                    return None;
                }
                drop(debit);
                crate::thread::sleep(BACKOFF);
            },
            BankOp::Audit => self.0.audit(),
        }
    }

    fn invariant(&self) -> std::result::Result<(), String> {
        self.0.total_conserved()
    }
}

/// BUGGY: on timeout the transfer keeps the first lock's guard (it is parked in a list instead of
/// dropped) and retries, taking the first lock again: it waits for a lock it holds, a deadlock.
#[derive(Debug)]
pub struct KeepLockBackoffBank(Accounts);

impl Resource for KeepLockBackoffBank {
    type Op = BankOp;
    type Output = Option<(i64, i64)>;
    type Model = BankModel;

    fn new() -> Self {
        KeepLockBackoffBank(Accounts::new())
    }

    fn apply(&self, op: &BankOp) -> Option<(i64, i64)> {
        match *op {
            BankOp::Transfer { from, amount } => {
                let mut parked = Vec::new();
                loop {
                    let mut debit = self.0.lock_of(from).lock().unwrap();
                    if attempt(&self.0, from, amount, &mut debit).is_some() {
                        return None;
                    }
                    parked.push(debit);
                    crate::thread::sleep(BACKOFF);
                }
            }
            BankOp::Audit => self.0.audit(),
        }
    }

    fn invariant(&self) -> std::result::Result<(), String> {
        self.0.total_conserved()
    }
}

/// BUGGY: on timeout the transfer releases the first lock and retries at once, without yielding or
/// backing off. Two transfers in opposite directions can collide forever, each taking its first
/// lock, timing out on the other's, and starting over: a livelock.
#[derive(Debug)]
pub struct EagerBackoffBank(Accounts);

impl Resource for EagerBackoffBank {
    type Op = BankOp;
    type Output = Option<(i64, i64)>;
    type Model = BankModel;

    fn new() -> Self {
        EagerBackoffBank(Accounts::new())
    }

    fn apply(&self, op: &BankOp) -> Option<(i64, i64)> {
        match *op {
            BankOp::Transfer { from, amount } => loop {
                let mut debit = self.0.lock_of(from).lock().unwrap();
                if attempt(&self.0, from, amount, &mut debit).is_some() {
                    return None;
                }
            },
            BankOp::Audit => self.0.audit(),
        }
    }

    fn invariant(&self) -> std::result::Result<(), String> {
        self.0.total_conserved()
    }
}
