use crate::arbitrary::Arbitrary;
use crate::sync::atomic::{AtomicBool, Ordering};
use crate::{Model, Resource};

/// A claimable flag's operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Arbitrary)]
pub enum ClaimOp {
    /// Claim the flag if it is free; returns whether this call claimed it.
    Claim,
    /// Free the flag; returns whether it was claimed.
    Release,
}

/// The specification: a flag that one `Claim` takes and `Release` frees.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ClaimModel(bool);

impl Model for ClaimModel {
    type Op = ClaimOp;
    type Output = bool;

    fn step(&mut self, op: &ClaimOp) -> bool {
        match op {
            ClaimOp::Claim => !std::mem::replace(&mut self.0, true),
            ClaimOp::Release => std::mem::replace(&mut self.0, false),
        }
    }
}

/// BUGGY: claims with one `compare_exchange_weak` and reports any failure as "taken". A weak CAS
/// may fail although the flag was free (std permits it; LL/SC machines such as ARM do it), so a
/// claim of a free flag can answer `false`.
#[derive(Debug)]
pub struct WeakClaim(AtomicBool);

impl Resource for WeakClaim {
    type Op = ClaimOp;
    type Output = bool;
    type Model = ClaimModel;

    fn new() -> Self {
        WeakClaim(AtomicBool::new(false))
    }

    fn apply(&self, op: &ClaimOp) -> bool {
        match op {
            ClaimOp::Claim => self
                .0
                .compare_exchange_weak(false, true, Ordering::AcqRel, Ordering::Acquire)
                .is_ok(),
            ClaimOp::Release => self.0.swap(false, Ordering::AcqRel),
        }
    }
}

/// Correct: claims with `compare_exchange`, which fails only when the flag is taken. (A weak CAS
/// in a loop that retries while the value it returns says "free" is correct too.)
#[derive(Debug)]
pub struct StrongClaim(AtomicBool);

impl Resource for StrongClaim {
    type Op = ClaimOp;
    type Output = bool;
    type Model = ClaimModel;

    fn new() -> Self {
        StrongClaim(AtomicBool::new(false))
    }

    fn apply(&self, op: &ClaimOp) -> bool {
        match op {
            ClaimOp::Claim => self
                .0
                .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
                .is_ok(),
            ClaimOp::Release => self.0.swap(false, Ordering::AcqRel),
        }
    }
}
