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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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

/// Where a facade object was created and what it is, for its name in reports. Everything in it is
/// fixed by the resource's code (no addresses), so reports stay deterministic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ObjectInfo {
    pub kind: ObjectKind,
    /// The `new` call that created it (`#[track_caller]`); `None` for files, named by path.
    pub site: Option<&'static std::panic::Location<'static>>,
    /// The type of the value it guards (`i64` for a `Mutex<i64>`); empty where there is none.
    pub value_type: &'static str,
    /// The name given with `.named(..)`.
    pub name: Option<std::borrow::Cow<'static, str>>,
}

impl ObjectInfo {
    pub(crate) fn new(kind: ObjectKind) -> Self {
        ObjectInfo {
            kind,
            site: None,
            value_type: "",
            name: None,
        }
    }

    /// `Mutex<i64>`, `Condvar`, `AtomicUsize`: the type as a reader would write it.
    pub(crate) fn type_text(&self) -> String {
        let outer = match self.kind {
            ObjectKind::Mutex => "Mutex",
            ObjectKind::RwLock => "RwLock",
            ObjectKind::Condvar => "Condvar",
            ObjectKind::Atomic => self.value_type,
            ObjectKind::File => "File",
        };
        match self.kind {
            ObjectKind::Mutex | ObjectKind::RwLock => format!("{outer}<{}>", short_type(self.value_type)),
            _ => short_type(outer),
        }
    }
}

/// A type name without its module paths: `alloc::vec::Vec<core::option::Option<i64>>` reads
/// `Vec<Option<i64>>`.
pub(crate) fn short_type(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut word = String::new();
    for c in name.chars() {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            word.push(c);
        } else {
            out += word.rsplit("::").next().unwrap_or("");
            word.clear();
            out.push(c);
        }
    }
    out += word.rsplit("::").next().unwrap_or("");
    out
}

/// An object as reports name it: `mutex "from" (src/bank.rs:14)` when it was named,
/// `mutex#0 (src/bank.rs:14)` otherwise (the number tells apart objects created at one site).
#[derive(Clone, Copy, Debug)]
pub(crate) struct ObjectName<'a>(pub &'a [ObjectInfo], pub usize);

impl fmt::Display for ObjectName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(info) = self.0.get(self.1) else {
            return write!(f, "object#{}", self.1);
        };
        match &info.name {
            Some(name) => write!(f, "{} {name:?}", info.kind.prefix())?,
            None => write!(f, "{}#{}", info.kind.prefix(), self.1)?,
        }
        if let Some(site) = info.site {
            write!(f, " ({}:{})", site.file(), site.line())?;
        }
        Ok(())
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
    /// A timed acquisition gave up: the lock was still taken when its logical time ran out.
    LockTimedOut {
        obj: usize,
    },
    /// A condition variable's timed wait ended by its timeout, not a notification.
    WaitTimedOut {
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
