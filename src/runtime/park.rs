//! `thread::park` under the engine: each thread's park token, owned by the execution.
//!
//! shuttle's `park` lets its scheduler wake a parked thread whenever it likes, a surprise
//! crosscheck could neither record, replay, shrink nor turn off. So the token is built here from
//! an engine mutex and condition variable (which never wake spuriously), and the early return std
//! permits is a choice point like a condition variable's spurious wakeup.

use std::sync::Arc;

use super::{announce, choose, record, with_record, AccessKind, EventKind, ObjectKind};
use crate::scheduler::ChoiceKind;

/// One thread's park token (std: "a token, initially absent").
pub(crate) struct Parker {
    /// The token's object id in this execution's record (`None` when not recorded), given at first
    /// use so that a thread nobody parks or unparks leaves the numbering of objects as it was.
    id: std::sync::OnceLock<Option<usize>>,
    token: crate::engine::sync::Mutex<bool>,
    unparked: crate::engine::sync::Condvar,
    /// The task whose token this is, once it has started.
    owner: std::sync::OnceLock<usize>,
}

impl Parker {
    fn new() -> Self {
        Parker {
            id: std::sync::OnceLock::new(),
            token: crate::engine::sync::Mutex::new(false),
            unparked: crate::engine::sync::Condvar::new(),
            owner: std::sync::OnceLock::new(),
        }
    }

    /// A token for a thread about to be spawned: the child registers it as its own when it starts
    /// ([`adopt`]), so the parent's handle can unpark it before it ever runs.
    pub(crate) fn for_child() -> Arc<Parker> {
        Arc::new(Parker::new())
    }

    fn id(&self) -> Option<usize> {
        *self
            .id
            .get_or_init(|| super::new_object(super::ObjectInfo::new(ObjectKind::Parker)))
    }

    /// Makes the token available and wakes its thread if it is parked.
    pub(crate) fn unpark(&self) {
        announce(self.id(), AccessKind::Write);
        let mut token = lock(&self.token);
        if let Some(obj) = self.id() {
            record(EventKind::Unpark {
                obj,
                owner: self.owner.get().copied(),
            });
        }
        *token = true;
        super::clocks::token(self.id(), true);
        super::waits::notified(self.id(), false);
        self.unparked.notify_one();
    }

    /// Blocks until the token is available and consumes it; may return early when the scheduler
    /// chooses the surprise.
    pub(crate) fn park(&self) {
        announce(self.id(), AccessKind::Write);
        let mut token = lock(&self.token);
        if let Some(obj) = self.id() {
            record(EventKind::Park { obj });
        }
        if *token {
            *token = false;
            super::clocks::token(self.id(), false);
            return;
        }
        if choose(ChoiceKind::EarlyParkReturn, 2) == 1 {
            if let Some(obj) = self.id() {
                record(EventKind::ParkReturnedEarly { obj });
            }
            return;
        }
        while !*token {
            // In crosscheck's wait-for graph as a wait on the token, so that a park nobody will
            // end is reported as a deadlock that names it.
            super::waits::before_wait(self.id(), None);
            token = self.unparked.wait(token).unwrap_or_else(|p| p.into_inner());
            super::waits::after_wait();
        }
        *token = false;
        super::clocks::token(self.id(), false);
    }

    /// `park_timeout` in logical time: consumes the token if it is there; otherwise lets another
    /// thread run first (a yield after which the driver schedules some other thread, when one can
    /// run) and returns, consuming the token if it arrived meanwhile. A loop around it therefore
    /// advances with the other threads, and an exhaustive search of it stays finite.
    ///
    /// Why this loses no behaviour: `park_timeout` may return early whenever it likes, so its
    /// callers loop; and staying parked for a while is the same, to every other thread, as this
    /// thread not being scheduled after the yield for that while, which the scheduler can choose.
    /// It never blocks, so a thread whose timeout would save it is never reported as deadlocked.
    pub(crate) fn park_timeout(&self) {
        if self.try_consume() {
            return;
        }
        with_record(|rec| rec.timed_parker = Some(rec.running));
        crate::engine::thread::yield_now();
        self.try_consume();
    }

    fn try_consume(&self) -> bool {
        announce(self.id(), AccessKind::Write);
        let mut token = lock(&self.token);
        if let Some(obj) = self.id() {
            record(EventKind::Park { obj });
        }
        let taken = std::mem::replace(&mut *token, false);
        if taken {
            super::clocks::token(self.id(), false);
        }
        taken
    }
}

fn lock(m: &crate::engine::sync::Mutex<bool>) -> crate::engine::sync::MutexGuard<'_, bool> {
    // Only this module locks the token and it never panics while holding it.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The running thread's token, made on first use.
pub(crate) fn current() -> Arc<Parker> {
    let existing = with_record(|rec| {
        let task = rec.running;
        rec.parkers.iter().find(|(t, _)| *t == task).map(|(_, p)| Arc::clone(p))
    })
    .flatten();
    existing.unwrap_or_else(|| {
        let parker = Arc::new(Parker::new());
        adopt(Arc::clone(&parker));
        parker
    })
}

/// Registers `parker` as the running thread's token (a spawned thread's first act).
pub(crate) fn adopt(parker: Arc<Parker>) {
    with_record(|rec| {
        let task = rec.running;
        let _ = parker.owner.set(task);
        rec.parkers.retain(|(t, _)| *t != task);
        rec.parkers.push((task, parker));
    });
}
