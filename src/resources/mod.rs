//! Built-in resources, each family in a correct and a buggy variant with its model. They use only
//! crosscheck's public API, exactly as a user's resource would, and serve as examples, as the
//! tour's subjects, and as the test suite's known bugs.
//!
//! The fuzz builds compile the counter, log, map and bank files into a crate of their own as well
//! (`fuzz/resources/lib.rs`: libFuzzer sees the resource's coverage, not crosscheck's), so those
//! files name crosscheck only as `crate::{arbitrary, fs, sync, Model, Resource}` and their
//! dependencies as that crate has them (`arbitrary`, `tempfile`).
//!
//! | family | buggy | correct | the bug |
//! |---|---|---|---|
//! | counter | [`RacyCounter`] | [`LockedCounter`], [`AtomicCounter`] | load then store loses an update |
//! | async counter ([`AsyncResource`](crate::AsyncResource)) | [`RacyAsyncCounter`] | [`LockedAsyncCounter`] | reads under the async lock, lets go across an `.await`, writes: an update is lost |
//! | log | [`TornLog`] | [`LockedLog`] | records written in pieces interleave into torn lines |
//! | map | [`CheckThenInsertMap`] | [`LockedMap`], [`ShardedMap`] (a lock per key) | check, unlock, insert: two threads both "win" |
//! | bank | [`AbBaBank`] | [`OrderedBank`] | locks taken in argument order deadlock |
//! | bank, back-off | [`KeepLockBackoffBank`] (deadlock), [`EagerBackoffBank`] (livelock) | [`BackoffBank`] | on timeout the first lock is kept, or the retry never backs off |
//! | flag | [`RelaxedFlag`] | [`ReleaseAcquireFlag`] | a `Relaxed` flag lets a reader see stale data (weak memory only: `Scheduler::Loom`) |
//! | mailbox | [`IfWaitMailbox`] | [`WhileWaitMailbox`] | waits `if` empty, not `while`: a spurious wakeup takes from an empty box |
//! | claim | [`WeakClaim`] | [`StrongClaim`] | one `compare_exchange_weak`, its spurious failure read as "taken" |

mod async_counter;
mod backoff;
mod bank;
mod claim;
mod counter;
mod flag;
mod log;
mod mailbox;
mod map;

pub use async_counter::{LockedAsyncCounter, RacyAsyncCounter};
pub use backoff::{BackoffBank, EagerBackoffBank, KeepLockBackoffBank};
pub use bank::{AbBaBank, Account, BankModel, BankOp, OrderedBank};
pub use claim::{ClaimModel, ClaimOp, StrongClaim, WeakClaim};
pub use counter::{AtomicCounter, CounterModel, CounterOp, LockedCounter, RacyCounter};
pub use flag::{FlagModel, FlagOp, RelaxedFlag, ReleaseAcquireFlag, PUBLISHED};
pub use log::{LockedLog, LogModel, LogOp, TornLog};
pub use mailbox::{IfWaitMailbox, MailboxModel, MailboxOp, WhileWaitMailbox};
pub use map::{CheckThenInsertMap, Key, LockedMap, MapModel, MapOp, ShardedMap};
