//! The events the facade records, for the interleaving a failure report shows.

use std::fmt;

/// A value read or written by an atomic operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Value {
    Unsigned(u64),
    Signed(i64),
    Bool(bool),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Unsigned(v) => write!(f, "{v}"),
            Value::Signed(v) => write!(f, "{v}"),
            Value::Bool(v) => write!(f, "{v}"),
        }
    }
}

/// What kind of object an object id names, for its label in reports (`lock#0`, `atomic#1`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ObjectKind {
    Mutex,
    RwLock,
    Condvar,
    Atomic,
    File,
}

impl ObjectKind {
    fn prefix(self) -> &'static str {
        match self {
            ObjectKind::Mutex => "mutex",
            ObjectKind::RwLock => "rwlock",
            ObjectKind::Condvar => "condvar",
            ObjectKind::Atomic => "atomic",
            ObjectKind::File => "file",
        }
    }
}

/// An object as reports name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ObjectName(pub ObjectKind, pub usize);

impl fmt::Display for ObjectName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.0.prefix(), self.1)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum EventKind {
    /// The scheduler switched to this thread; `preempted` names the thread it switched away from
    /// when that thread could have continued.
    SwitchedTo {
        from: usize,
        preempted: bool,
    },
    OpBegin {
        op: usize,
    },
    OpEnd {
        op: usize,
    },
    LockBlocked {
        obj: usize,
        holder: Option<usize>,
    },
    LockAcquired {
        obj: usize,
        shared: bool,
    },
    LockReleased {
        obj: usize,
    },
    Wait {
        obj: usize,
    },
    Notify {
        obj: usize,
        all: bool,
    },
    Load {
        obj: usize,
        value: Value,
    },
    Store {
        obj: usize,
        value: Value,
    },
    Rmw {
        obj: usize,
        old: Value,
        new: Value,
    },
    CasFailed {
        obj: usize,
        current: Value,
    },
    FileWrite {
        obj: usize,
        bytes: Vec<u8>,
    },
    FileRead {
        obj: usize,
        len: usize,
    },
}

/// One recorded event: what happened, on which thread (a shuttle task id; 0 is main).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Event {
    pub thread: usize,
    pub kind: EventKind,
}
