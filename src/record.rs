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
    /// A thread's park token (`thread::park`/`unpark`).
    Parker,
    /// An `mpsc` channel.
    Channel,
    /// An `UnsafeCell` (accesses checked for data races).
    Cell,
    /// An async lock (`future::Mutex`), held across `.await`s.
    AsyncMutex,
}

impl ObjectKind {
    pub(crate) fn prefix(self) -> &'static str {
        match self {
            ObjectKind::Mutex => "mutex",
            ObjectKind::RwLock => "rwlock",
            ObjectKind::Condvar => "condvar",
            ObjectKind::Atomic => "atomic",
            ObjectKind::File => "file",
            ObjectKind::Parker => "park-token",
            ObjectKind::Channel => "channel",
            ObjectKind::Cell => "cell",
            ObjectKind::AsyncMutex => "async-mutex",
        }
    }
}

/// Where a facade object was created and what it is, for its name in reports. Everything in it is
/// fixed by the resource's code (no addresses), so reports stay deterministic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ObjectInfo {
    pub kind: ObjectKind,
    /// The `new` call that created it (`#[track_caller]`); `None` for objects the harness makes.
    pub site: Option<&'static std::panic::Location<'static>>,
    /// The type of the value it guards (`i64` for a `Mutex<i64>`); empty where there is none.
    pub value_type: &'static str,
    /// The name given with `.named(..)`.
    pub name: Option<std::borrow::Cow<'static, str>>,
    /// Part of another object (the lock guarding an async lock's state): the interleaving shows
    /// that object's events instead of its lock and unlock.
    pub internal: bool,
}

impl ObjectInfo {
    pub(crate) fn new(kind: ObjectKind) -> Self {
        ObjectInfo {
            kind,
            site: None,
            value_type: "",
            name: None,
            internal: false,
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
            ObjectKind::Parker => "park token",
            ObjectKind::Channel => "Channel",
            ObjectKind::Cell => "UnsafeCell",
            ObjectKind::AsyncMutex => "future::Mutex",
        };
        match self.kind {
            ObjectKind::Mutex
            | ObjectKind::RwLock
            | ObjectKind::Channel
            | ObjectKind::Cell
            | ObjectKind::AsyncMutex => {
                format!("{outer}<{}>", short_type(self.value_type))
            }
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
    /// `thread::park` (or `park_timeout`) looked at the thread's token: it consumes the token if
    /// present, and otherwise waits.
    Park {
        obj: usize,
    },
    /// `Thread::unpark` made the token available; `owner` is the thread it belongs to (`None`: a
    /// spawned thread that has not started yet).
    Unpark {
        obj: usize,
        owner: Option<usize>,
    },
    /// `thread::park` returned without an unpark: a surprise the scheduler chose.
    ParkReturnedEarly {
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
    /// A `write` that wrote only `bytes` of the `of` bytes it was given: a surprise the scheduler
    /// chose (`Checker::short_writes`), or what the OS did.
    FileWroteShort {
        obj: usize,
        bytes: Vec<u8>,
        of: usize,
    },
    /// `sync_all` or `sync_data`.
    FileSync {
        obj: usize,
    },
    /// `set_len`: the file is now `len` bytes long.
    FileSetLen {
        obj: usize,
        len: u64,
    },
    /// `metadata`, which said the file is `len` bytes long.
    FileStat {
        obj: usize,
        len: u64,
    },
    /// Message number `msg` (counted from 1 per channel) was sent on channel `obj`.
    Send {
        obj: usize,
        msg: u64,
    },
    /// Message number `msg` was received from channel `obj`.
    Recv {
        obj: usize,
        msg: u64,
    },
    /// A task yielded at an `.await` of `future::yield_now`: the scheduler may run another.
    Yielded,
    /// A read (`with`) or a write (`with_mut`) of `UnsafeCell` `obj` at `site`. Not an access the
    /// scheduler orders: its races are found from happens-before whatever the order.
    CellAccess {
        obj: usize,
        write: bool,
        site: &'static std::panic::Location<'static>,
    },
}

/// One recorded event: what happened, on which thread (a shuttle task id; 0 is main).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Event {
    pub thread: usize,
    pub kind: EventKind,
}

/// A scenario thread's name in reports: `Label(0)` is "T1". A plain index, so that naming the
/// threads of a wide scenario costs nothing per execution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Label(pub usize);

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "T{}", self.0 + 1)
    }
}

/// The name of the scenario's thread `t` (0-based): "T1", "T2", ...
pub(crate) fn thread_name(t: usize) -> Label {
    Label(t)
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

/// How a thread is about to touch a shared object, announced by the facade before the scheduling
/// point that precedes the access (shuttle's engine only sees which tasks can run, not what they
/// will do): what the event-aware schedulers and the partial-order reduction reason about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum AccessKind {
    /// A load, or anything else that changes nothing.
    Read,
    /// A store, a read-modify-write, a failed compare-exchange (it orders like a write under a
    /// sequentially consistent engine), a wait or notify.
    Write,
    /// Taking a lock exclusively.
    Lock,
    /// Taking a read lock.
    SharedLock,
}

/// One access to a shared object (an object id of the execution's record).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Access {
    pub obj: usize,
    pub kind: AccessKind,
}

impl Access {
    /// Whether the order of the two accesses can matter: same object, and not both reads (of a
    /// value, or of a read lock).
    pub(crate) fn conflicts(&self, other: &Access) -> bool {
        use AccessKind::*;
        self.obj == other.obj && !matches!((self.kind, other.kind), (Read, Read) | (SharedLock, SharedLock))
    }
}

impl EventKind {
    /// The access to a shared object this event is, if it is one (op boundaries, switches and
    /// blocked attempts are not).
    pub(crate) fn access(&self) -> Option<Access> {
        use EventKind::*;
        let (obj, kind) = match *self {
            Load { obj, .. } | FileStat { obj, .. } => (obj, AccessKind::Read),
            Store { obj, .. } | Rmw { obj, .. } | CasFailed { obj, .. } | CasFailedSpuriously { obj, .. } => {
                (obj, AccessKind::Write)
            }
            LockAcquired { obj, shared: true } => (obj, AccessKind::SharedLock),
            // A timed acquisition that gave up saw the lock taken: ordered against its holder.
            LockAcquired { obj, shared: false } | LockReleased { obj } | LockTimedOut { obj } => {
                (obj, AccessKind::Lock)
            }
            // A timed wait that ran out saw no notification: ordered against the notifiers.
            WaitTimedOut { obj } => (obj, AccessKind::Write),
            Wait { obj }
            | WokeSpuriously { obj }
            | Park { obj }
            | Unpark { obj, .. }
            | ParkReturnedEarly { obj }
            | Notify { obj, .. }
            | FileWrite { obj, .. }
            | FileRead { obj, .. }
            | FileWroteShort { obj, .. }
            | FileSync { obj }
            | FileSetLen { obj, .. }
            | Send { obj, .. }
            | Recv { obj, .. } => (obj, AccessKind::Write),
            SwitchedTo { .. } | OpBegin { .. } | OpEnd { .. } | LockBlocked { .. } | CellAccess { .. } | Yielded => {
                return None
            }
        };
        Some(Access { obj, kind })
    }
}

/// An operation's invocation or response inside a step, with the `Model::partition` group of the
/// operation (filled in by the driver, which knows the model).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Boundary {
    pub op: usize,
    pub end: bool,
    pub group: Option<u64>,
}

/// What one scheduling step (a thread running from one scheduling point to the next) did to shared
/// state: the partial-order reduction's unit of independence.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Footprint {
    pub thread: usize,
    pub accesses: Vec<Access>,
    pub boundaries: Vec<Boundary>,
    /// The step waited on or notified a condition variable, or parked or unparked a thread, whose
    /// effects (which waiter wakes, when the wait lets go of its lock) the footprint does not
    /// capture.
    pub opaque: bool,
    /// The step met a choice point (a surprise was offered): under the other alternative the same
    /// thread takes another step, so this one must not put its thread to sleep.
    pub chose: bool,
}

impl Footprint {
    /// Whether running the two steps in the other order can change the verdict: steps of one
    /// thread, conflicting accesses, or a response in one and an invocation in the other of two
    /// operations whose groups may be checked together (their real-time order is in the history).
    pub(crate) fn depends(&self, other: &Footprint) -> bool {
        if self.thread == other.thread {
            return true;
        }
        let conflict = self
            .accesses
            .iter()
            .any(|a| other.accesses.iter().any(|b| a.conflicts(b)));
        conflict
            || self.boundaries.iter().any(|a| {
                other
                    .boundaries
                    .iter()
                    .any(|b| a.end != b.end && (a.group.is_none() || b.group.is_none() || a.group == b.group))
            })
    }
}
