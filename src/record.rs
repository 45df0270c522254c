//! The record of one execution: the events the facade writes while it runs (through `runtime`)
//! and the report reads afterwards, with how objects and threads are named. It depends on nothing
//! else in crosscheck, so the writer and the readers never depend on each other.

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
    /// A `compare_exchange_weak` that failed although the value matched: a surprise the scheduler
    /// chose.
    CasFailedSpuriously {
        obj: usize,
        current: Value,
    },
    /// A condition variable's wait that returned without a notification: a surprise the scheduler
    /// chose. The thread releases the lock, and takes it again, as after a notification.
    WokeSpuriously {
        obj: usize,
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

/// A thread's name in reports ("T1"); borrowed for the usual few threads, so that naming them
/// allocates nothing per execution.
pub(crate) type Label = std::borrow::Cow<'static, str>;

/// The name of the scenario's thread `t` (0-based): "T1", "T2", ...
pub(crate) fn thread_name(t: usize) -> Label {
    const NAMES: [&str; 8] = ["T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8"];
    match NAMES.get(t) {
        Some(name) => Label::Borrowed(name),
        None => Label::Owned(format!("T{}", t + 1)),
    }
}

/// "main" for the harness thread, "T1".. for the scenario's threads, "task N" for threads the
/// resource spawned itself.
pub(crate) fn thread_label(labels: &[(usize, Label)], task: usize) -> String {
    if task == 0 {
        return "main".into();
    }
    labels
        .iter()
        .find(|(t, _)| *t == task)
        .map(|(_, l)| l.to_string())
        .unwrap_or_else(|| format!("task {task}"))
}

/// "crosscheck::resources::counter::RacyCounter" -> "RacyCounter": how reports and tokens name a
/// resource type.
pub(crate) fn short_name(type_name: &str) -> &str {
    let base = type_name.split('<').next().unwrap_or(type_name);
    base.rsplit("::").next().unwrap_or(base)
}
