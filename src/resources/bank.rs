use crate::arbitrary::{Arbitrary, Result, Unstructured};
use crate::sync::Mutex;
use crate::{Model, Resource};

/// One of the bank's two accounts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Arbitrary)]
pub enum Account {
    /// The first account (locked first in the global order).
    A,
    /// The second account.
    B,
}

/// The bank's operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BankOp {
    /// Move `amount` from `from` to the other account; returns `None`.
    Transfer {
        /// The account debited.
        from: Account,
        /// How much moves (1..=4).
        amount: u8,
    },
    /// Read both balances; returns `Some((a, b))`.
    Audit,
}

impl<'a> Arbitrary<'a> for BankOp {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let pick = u8::arbitrary(u)?;
        if pick % 4 == 3 {
            return Ok(BankOp::Audit);
        }
        Ok(BankOp::Transfer {
            from: Account::arbitrary(u)?,
            amount: u8::arbitrary(u)? % 4 + 1,
        })
    }

    fn size_hint(_depth: usize) -> (usize, Option<usize>) {
        (6, Some(6))
    }
}

/// Both accounts start with this much.
pub const OPENING_BALANCE: i64 = 100;

/// The bank's specification: two balances; transfers conserve the total.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BankModel(i64, i64);

impl Default for BankModel {
    fn default() -> Self {
        BankModel(OPENING_BALANCE, OPENING_BALANCE)
    }
}

impl Model for BankModel {
    type Op = BankOp;
    type Output = Option<(i64, i64)>;

    fn step(&mut self, op: &BankOp) -> Option<(i64, i64)> {
        match *op {
            BankOp::Transfer { from, amount } => {
                let amount = i64::from(amount);
                match from {
                    Account::A => (self.0, self.1) = (self.0 - amount, self.1 + amount),
                    Account::B => (self.0, self.1) = (self.0 + amount, self.1 - amount),
                }
                None
            }
            BankOp::Audit => Some((self.0, self.1)),
        }
    }
}

/// Two accounts, each under its own lock, named after the account in reports.
#[derive(Debug)]
pub(super) struct Accounts {
    a: Mutex<i64>,
    b: Mutex<i64>,
}

impl Accounts {
    pub(super) fn new() -> Self {
        Accounts {
            a: Mutex::new(OPENING_BALANCE).named("a"),
            b: Mutex::new(OPENING_BALANCE).named("b"),
        }
    }

    pub(super) fn lock_of(&self, account: Account) -> &Mutex<i64> {
        match account {
            Account::A => &self.a,
            Account::B => &self.b,
        }
    }

    pub(super) fn audit(&self) -> Option<(i64, i64)> {
        let a = self.a.lock().unwrap();
        let b = self.b.lock().unwrap();
        Some((*a, *b))
    }

    pub(super) fn total_conserved(&self) -> std::result::Result<(), String> {
        let (a, b) = self.audit().expect("audit returns balances");
        if a + b == 2 * OPENING_BALANCE {
            Ok(())
        } else {
            Err(format!(
                "the balances {a} + {b} do not add up to {}",
                2 * OPENING_BALANCE
            ))
        }
    }
}

pub(super) fn other(account: Account) -> Account {
    match account {
        Account::A => Account::B,
        Account::B => Account::A,
    }
}

/// BUGGY: a transfer locks the debited account, then the credited one: two transfers in opposite
/// directions each hold the lock the other waits for.
#[derive(Debug)]
pub struct AbBaBank(Accounts);

impl Resource for AbBaBank {
    type Op = BankOp;
    type Output = Option<(i64, i64)>;
    type Model = BankModel;

    fn new() -> Self {
        AbBaBank(Accounts::new())
    }

    fn apply(&self, op: &BankOp) -> Option<(i64, i64)> {
        match *op {
            BankOp::Transfer { from, amount } => {
                let mut debit = self.0.lock_of(from).lock().unwrap();
                let mut credit = self.0.lock_of(other(from)).lock().unwrap();
                *debit -= i64::from(amount);
                *credit += i64::from(amount);
                None
            }
            BankOp::Audit => self.0.audit(),
        }
    }

    fn invariant(&self) -> std::result::Result<(), String> {
        self.0.total_conserved()
    }
}

/// Correct: every transfer takes the locks in one global order (A before B).
#[derive(Debug)]
pub struct OrderedBank(Accounts);

impl Resource for OrderedBank {
    type Op = BankOp;
    type Output = Option<(i64, i64)>;
    type Model = BankModel;

    fn new() -> Self {
        OrderedBank(Accounts::new())
    }

    fn apply(&self, op: &BankOp) -> Option<(i64, i64)> {
        match *op {
            BankOp::Transfer { from, amount } => {
                let mut a = self.0.a.lock().unwrap();
                let mut b = self.0.b.lock().unwrap();
                let amount = i64::from(amount);
                match from {
                    Account::A => (*a, *b) = (*a - amount, *b + amount),
                    Account::B => (*a, *b) = (*a + amount, *b - amount),
                }
                None
            }
            BankOp::Audit => self.0.audit(),
        }
    }

    fn invariant(&self) -> std::result::Result<(), String> {
        self.0.total_conserved()
    }
}
