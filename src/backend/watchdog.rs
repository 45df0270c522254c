//! The hang watchdog: notices when the controlled thread running now has not come back to a
//! scheduling point for a bound of wall time, and ends the process with a message saying which
//! thread, which operation, the last event, and what usually causes it.
//!
//! Every controlled thread of a check runs on one OS thread, one at a time, and only gives control
//! back at the facade's scheduling points. A thread that blocks outside crosscheck's control (a
//! `std::sync::Mutex` held by a thread that is switched out, blocking I/O, a sleep, a loop that
//! never calls the facade) therefore blocks the whole check, and the OS thread cannot be
//! interrupted from outside. So the watchdog cannot turn a hang into a `Failure` the caller gets
//! back: it prints the diagnosis and exits the process with status [`EXIT_STATUS`], which `cargo
//! test` shows with the message instead of hanging for ever.
//!
//! The driver bumps a heartbeat at each of its entries and exits (two relaxed stores, and one for
//! the last event, per scheduling point); one monitor thread per process samples the heartbeats of
//! the running checks.

use std::io::Write;
use std::sync::atomic::{AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::{Duration, Instant};

use crate::record::{thread_name, Event, EventKind, ObjectInfo, ObjectKind};
use crate::runtime::ExecutionRecord;

/// How long a controlled thread may run between scheduling points when neither
/// `Checker::hang_timeout` nor `CROSSCHECK_HANG_TIMEOUT_MS` says otherwise.
pub const DEFAULT_HANG_TIMEOUT: Duration = Duration::from_secs(5);

/// The status the process exits with when the watchdog fires (a failing test's status).
pub(crate) const EXIT_STATUS: i32 = 101;

/// Tasks whose current operation is followed (later ones are named without their operation).
const TASKS: usize = 32;

thread_local! {
    /// The bound for checks run on this OS thread (`None`: off); set by the checker's scope.
    static TIMEOUT: std::cell::Cell<Option<Duration>> = const { std::cell::Cell::new(Some(DEFAULT_HANG_TIMEOUT)) };
    /// The heartbeat of the shuttle run on this OS thread, for the harness's operation notes.
    static CURRENT: std::cell::RefCell<Option<Arc<Heartbeat>>> = const { std::cell::RefCell::new(None) };
}

/// Sets the bound for checks on this OS thread; returns the previous one.
pub(crate) fn set_timeout(timeout: Option<Duration>) -> Option<Duration> {
    TIMEOUT.with(|t| t.replace(timeout))
}

/// What the monitor knows of one running check: written by the check's OS thread with relaxed
/// stores, read by the monitor only when it reports.
pub(crate) struct Heartbeat {
    /// Odd while a controlled thread runs, even while crosscheck's own code does; every change
    /// counts as progress.
    beat: AtomicU64,
    /// The task chosen at the last scheduling point.
    task: AtomicUsize,
    /// The last event recorded before the last scheduling point, packed (see [`pack`]).
    last: AtomicU64,
    /// The creation site of the last event's object.
    site: AtomicPtr<std::panic::Location<'static>>,
    /// The thread switched away from at the last switch, with the access it was about to make
    /// (`1 + task | (1 + kind) << 16 | obj << 32`; 0: none), and that object's site.
    from: AtomicU64,
    from_site: AtomicPtr<std::panic::Location<'static>>,
    /// By task: 1 + the index of the operation it runs (0: none yet).
    ops: [AtomicUsize; TASKS],
    timeout: Duration,
    /// The operation's text, and the name of the scenario thread running it.
    describe: Box<dyn Fn(usize) -> (String, String) + Send + Sync>,
}

impl Heartbeat {
    /// A heartbeat that has seen nothing yet.
    fn new(timeout: Duration, describe: Box<dyn Fn(usize) -> (String, String) + Send + Sync>) -> Heartbeat {
        Heartbeat {
            beat: AtomicU64::new(0),
            task: AtomicUsize::new(0),
            last: AtomicU64::new(0),
            site: AtomicPtr::new(std::ptr::null_mut()),
            from: AtomicU64::new(0),
            from_site: AtomicPtr::new(std::ptr::null_mut()),
            ops: std::array::from_fn(|_| AtomicUsize::new(0)),
            timeout,
            describe,
        }
    }

    /// Crosscheck's own code runs (the driver was entered).
    #[inline]
    pub(crate) fn idle(&self) {
        let b = self.beat.load(Ordering::Relaxed);
        self.beat.store((b | 1) + 1, Ordering::Relaxed);
    }

    /// A controlled thread runs from now on.
    #[inline]
    pub(crate) fn running(&self) {
        let b = self.beat.load(Ordering::Relaxed);
        self.beat.store((b + 1) | 1, Ordering::Relaxed);
    }

    /// Task `task` was chosen at a scheduling point after `current` ran.
    #[inline]
    pub(crate) fn chose(&self, task: usize, current: Option<usize>, rec: &ExecutionRecord) {
        self.task.store(task, Ordering::Relaxed);
        let (packed, site) = pack(rec.events.last(), &rec.objects);
        self.last.store(packed, Ordering::Relaxed);
        if let Some(site) = site {
            self.site.store(site as *const _ as *mut _, Ordering::Relaxed);
        }
        if let Some(from) = current.filter(|&c| c != task) {
            let access = rec.upcoming.get(from).copied().flatten();
            let object = access.and_then(|a| rec.objects.get(a.obj));
            let kind = object.map_or(0, |o| 1 + o.kind as u64);
            let obj = access.map_or(0, |a| a.obj.min(u32::MAX as usize) as u64);
            self.from.store(
                (1 + from.min(0xfffe)) as u64 | kind << 16 | obj << 32,
                Ordering::Relaxed,
            );
            let site = object
                .and_then(|o| o.site)
                .map_or(std::ptr::null_mut(), |s| s as *const _ as *mut _);
            self.from_site.store(site, Ordering::Relaxed);
        }
    }
}

/// The event as a tag (1 + a `KINDS` index, 0: none), its thread, its operation or object id, and
/// its object's kind; the object's site separately.
fn pack(event: Option<&Event>, objects: &[ObjectInfo]) -> (u64, Option<&'static std::panic::Location<'static>>) {
    let Some(e) = event else { return (0, None) };
    use EventKind::*;
    let (tag, id): (u64, usize) = match e.kind {
        SwitchedTo { .. } | Yielded => return (0, None),
        OpBegin { op } => (1, op),
        OpEnd { op } => (2, op),
        LockBlocked { obj, .. } => (3, obj),
        LockAcquired { obj, .. } => (4, obj),
        LockReleased { obj } => (5, obj),
        Wait { obj } | WaitTimedOut { obj } | WokeSpuriously { obj } => (6, obj),
        Notify { obj, .. } => (7, obj),
        Load { obj, .. } => (8, obj),
        Store { obj, .. } | Rmw { obj, .. } => (9, obj),
        CasFailed { obj, .. } | CasFailedSpuriously { obj, .. } => (10, obj),
        Park { obj } | ParkReturnedEarly { obj } => (11, obj),
        Unpark { obj, .. } => (12, obj),
        FileWrite { obj, .. } | FileWroteShort { obj, .. } | FileSetLen { obj, .. } => (13, obj),
        FileRead { obj, .. } | FileStat { obj, .. } => (14, obj),
        FileSync { obj } => (20, obj),
        LockTimedOut { obj } => (15, obj),
        Send { obj, .. } => (16, obj),
        Recv { obj, .. } => (17, obj),
        CellAccess { obj, write: false, .. } => (18, obj),
        CellAccess { obj, write: true, .. } => (19, obj),
    };
    let object = (tag > 2).then(|| objects.get(id)).flatten();
    let kind = object.map_or(0, |o| 1 + o.kind as u64);
    let packed = tag | (e.thread.min(0xffff) as u64) << 8 | kind << 24 | (id.min(u32::MAX as usize) as u64) << 32;
    (packed, object.and_then(|o| o.site))
}

/// `mutex#2 (created at src/x.rs:4)`, from a packed object kind (0: unknown) and id.
fn object_name(kind: usize, id: usize, site: &AtomicPtr<std::panic::Location<'static>>) -> String {
    let prefix = kind
        .checked_sub(1)
        .and_then(|k| OBJECT_KINDS.get(k))
        .map_or("object", |k| k.prefix());
    let site = site.load(Ordering::Relaxed);
    // SAFETY: the pointer is null or was made from a `&'static Location`, which lives for ever and
    // is never written.
    match unsafe { site.as_ref() } {
        Some(site) => format!("{prefix}#{id} (created at {}:{})", site.file(), site.line()),
        None => format!("{prefix}#{id}"),
    }
}

const VERBS: [&str; 20] = [
    "began",
    "returned from",
    "blocked on",
    "took",
    "released",
    "waited on",
    "notified",
    "loaded",
    "stored to",
    "failed a compare-exchange on",
    "parked on",
    "unparked",
    "wrote to",
    "read from",
    "gave up on",
    "sent on",
    "received from",
    "read",
    "wrote",
    "synced",
];

/// Every object kind, in declaration order (`kind as usize` indexes it).
const OBJECT_KINDS: [ObjectKind; 9] = [
    ObjectKind::Mutex,
    ObjectKind::RwLock,
    ObjectKind::Condvar,
    ObjectKind::Atomic,
    ObjectKind::File,
    ObjectKind::Parker,
    ObjectKind::Channel,
    ObjectKind::Cell,
    ObjectKind::AsyncMutex,
];

impl Heartbeat {
    fn thread_label(&self, task: usize) -> String {
        if task == 0 {
            return "main (the harness's thread: the resource's `new`, the init and post operations)".into();
        }
        match self.ops.get(task).map(|o| o.load(Ordering::Relaxed)) {
            Some(op) if op > 0 => (self.describe)(op - 1).1,
            _ => format!("task {task} (a thread the resource spawned)"),
        }
    }

    fn last_event(&self) -> String {
        let packed = self.last.load(Ordering::Relaxed);
        let tag = (packed & 0xff) as usize;
        if tag == 0 {
            return "none yet".into();
        }
        let thread = ((packed >> 8) & 0xffff) as usize;
        let kind = ((packed >> 24) & 0xff) as usize;
        let id = (packed >> 32) as usize;
        let what = if tag <= 2 {
            (self.describe)(id).0
        } else {
            object_name(kind, id, &self.site)
        };
        format!("{} {} {what}", self.short_label(thread), VERBS[tag - 1])
    }

    fn short_label(&self, task: usize) -> String {
        match task {
            0 => "main".to_string(),
            t => match self.ops.get(t).map(|o| o.load(Ordering::Relaxed)) {
                Some(op) if op > 0 => (self.describe)(op - 1).1,
                _ => format!("task {t}"),
            },
        }
    }

    /// The thread switched out before this one ran, and where: the thread that may hold what this
    /// one waits for.
    fn switched_out(&self) -> Option<String> {
        let packed = self.from.load(Ordering::Relaxed);
        let task = (packed & 0xffff).checked_sub(1)? as usize;
        let kind = ((packed >> 16) & 0xffff) as usize;
        let op = self.ops.get(task).map_or(0, |o| o.load(Ordering::Relaxed));
        let mut s = format!("{} was switched out", self.short_label(task));
        if op > 0 {
            s += &format!(" in operation {}", (self.describe)(op - 1).0);
        }
        if kind > 0 {
            s += &format!(
                ", just before its access to {}",
                object_name(kind, (packed >> 32) as usize, &self.from_site)
            );
        }
        Some(s + ": a lock crosscheck does not see, held there, blocks the threads that run after it")
    }

    fn report(&self, stuck_for: Duration) -> String {
        let task = self.task.load(Ordering::Relaxed);
        let op = self.ops.get(task).map_or(0, |o| o.load(Ordering::Relaxed));
        let operation = match op {
            0 => "outside any operation (the resource's `new`, its invariant, or a thread of its own)".to_string(),
            op => format!("in operation {}", (self.describe)(op - 1).0),
        };
        format!(
            "\ncrosscheck: usage error: the check hangs. Controlled thread {thread} has run for {secs:.1} s without \
             reaching a scheduling point, {operation}.\n\
             The last event recorded before it: {last}.{from}\n\
             All of a check's threads take turns on one OS thread, and a thread only gives the others their turn \
             at crosscheck's scheduling points; one that blocks or spins anywhere else stops them all. Likely \
             causes:\n  \
             - a std::sync primitive (Mutex, RwLock, Condvar, an mpsc channel, Barrier) where crosscheck::sync's \
             is meant: one import not switched, held across a crosscheck scheduling point, so the next thread \
             blocks on it for ever;\n  \
             - blocking I/O (a socket, a pipe, stdin), std::thread::sleep, std::thread::park, or joining a std \
             thread;\n  \
             - an infinite loop that never calls crosscheck::sync, crosscheck::thread or crosscheck::fs.\n\
             Use crosscheck's sync, thread and fs modules everywhere in the resource. The bound is \
             Checker::hang_timeout (or CROSSCHECK_HANG_TIMEOUT_MS), now {bound:.1} s.\n\
             crosscheck: the stuck thread cannot be interrupted, so the process exits now (status {EXIT_STATUS}).\n",
            thread = self.thread_label(task),
            secs = stuck_for.as_secs_f64(),
            last = self.last_event(),
            from = self.switched_out().map_or(String::new(), |s| format!("\n{s}.")),
            bound = self.timeout.as_secs_f64(),
        )
    }
}

/// A shuttle run's heartbeat, watched until the guard drops.
pub(crate) struct Watched(Option<Arc<Heartbeat>>);

impl Watched {
    pub(crate) fn heartbeat(&self) -> Option<&Arc<Heartbeat>> {
        self.0.as_ref()
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        if let Some(h) = &self.0 {
            h.idle();
            CURRENT.with(|c| c.borrow_mut().take());
        }
    }
}

/// Starts watching a shuttle run on this OS thread (nothing if the bound is off); `describe` names
/// an operation by its index: its text and the scenario thread that runs it.
pub(crate) fn watch(describe: Box<dyn Fn(usize) -> (String, String) + Send + Sync>) -> Watched {
    let Some(timeout) = TIMEOUT.with(|t| t.get()).filter(|t| !t.is_zero()) else {
        return Watched(None);
    };
    let heartbeat = Arc::new(Heartbeat::new(timeout, describe));
    CURRENT.with(|c| *c.borrow_mut() = Some(Arc::clone(&heartbeat)));
    let monitor = monitor();
    crate::backend::harness::lock(&monitor.watched).push(Arc::downgrade(&heartbeat));
    monitor.wake.notify_one();
    Watched(Some(heartbeat))
}

/// The running task began operation `index` (called by the harness, under shuttle).
pub(crate) fn operation(task: usize, index: usize) {
    CURRENT.with(|c| {
        if let Some(slot) = c.borrow().as_ref().and_then(|h| h.ops.get(task)) {
            slot.store(index + 1, Ordering::Relaxed);
        }
    });
}

struct Monitor {
    watched: Mutex<Vec<Weak<Heartbeat>>>,
    wake: Condvar,
}

fn monitor() -> &'static Monitor {
    static MONITOR: std::sync::OnceLock<&'static Monitor> = std::sync::OnceLock::new();
    MONITOR.get_or_init(|| {
        let monitor: &'static Monitor = Box::leak(Box::new(Monitor {
            watched: Mutex::new(Vec::new()),
            wake: Condvar::new(),
        }));
        std::thread::Builder::new()
            .name("crosscheck-watchdog".into())
            .spawn(move || run_monitor(monitor))
            .expect("crosscheck could not start its watchdog thread");
        monitor
    })
}

/// How often the monitor looks at the heartbeats: a small part of the shortest bound.
fn tick(shortest: Duration) -> Duration {
    (shortest / 8).clamp(Duration::from_millis(10), Duration::from_millis(250))
}

fn run_monitor(monitor: &'static Monitor) {
    // By heartbeat: the beat last seen, and when it was first seen.
    let mut seen: Vec<(Weak<Heartbeat>, u64, Instant)> = Vec::new();
    loop {
        let live: Vec<Arc<Heartbeat>> = {
            let mut watched = crate::backend::harness::lock(&monitor.watched);
            watched.retain(|w| w.strong_count() > 0);
            while watched.is_empty() {
                seen.clear();
                watched = monitor.wake.wait(watched).unwrap_or_else(|e| e.into_inner());
                watched.retain(|w| w.strong_count() > 0);
            }
            watched.iter().filter_map(Weak::upgrade).collect()
        };
        let shortest = live.iter().map(|h| h.timeout).min().unwrap_or(DEFAULT_HANG_TIMEOUT);
        seen.retain(|(w, _, _)| w.strong_count() > 0);
        let now = Instant::now();
        for h in &live {
            let beat = h.beat.load(Ordering::Relaxed);
            let entry = seen
                .iter_mut()
                .find(|(w, _, _)| std::ptr::eq(w.as_ptr(), Arc::as_ptr(h)));
            match entry {
                Some((_, last, since)) if *last == beat => {
                    let stuck = now.duration_since(*since);
                    if beat % 2 == 1 && stuck >= h.timeout {
                        let message = h.report(stuck);
                        // Straight to the process's stderr: a test harness captures only the
                        // print macros, and this message must be seen.
                        let _ = std::io::stderr().write_all(message.as_bytes());
                        std::process::exit(EXIT_STATUS);
                    }
                }
                Some(entry) => {
                    entry.1 = beat;
                    entry.2 = now;
                }
                None => seen.push((Arc::downgrade(h), beat, now)),
            }
        }
        drop(live);
        std::thread::sleep(tick(shortest));
    }
}

/// The label of the scenario thread `t`, for `describe` closures.
pub(crate) fn scenario_thread(t: Option<usize>) -> String {
    match t {
        Some(t) => thread_name(t).to_string(),
        None => "main".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Value;

    fn heartbeat() -> Heartbeat {
        Heartbeat::new(
            Duration::from_secs(1),
            Box::new(|i| (format!("Op{i}"), format!("T{}", i + 1))),
        )
    }

    #[test]
    fn events_pack_with_their_object() {
        let mut rec = ExecutionRecord {
            objects: vec![ObjectInfo::new(ObjectKind::Atomic), ObjectInfo::new(ObjectKind::Mutex)],
            ..ExecutionRecord::default()
        };
        rec.events.push(Event {
            thread: 2,
            kind: EventKind::LockAcquired { obj: 1, shared: false },
        });
        let h = heartbeat();
        h.ops[2].store(1, Ordering::Relaxed);
        h.ops[3].store(2, Ordering::Relaxed);
        h.chose(2, None, &rec);
        assert_eq!(h.last_event(), "T1 took mutex#1");
        assert_eq!(h.switched_out(), None);
        rec.events.push(Event {
            thread: 0,
            kind: EventKind::Load {
                obj: 0,
                value: Value::Unsigned(3),
            },
        });
        rec.upcoming = vec![
            None,
            None,
            None,
            Some(crate::record::Access {
                obj: 0,
                kind: crate::record::AccessKind::Write,
            }),
        ];
        h.chose(2, Some(3), &rec);
        assert_eq!(h.last_event(), "main loaded atomic#0");
        let report = h.report(Duration::from_secs(2));
        assert!(report.contains("Controlled thread T1 has run for 2.0 s"), "{report}");
        assert!(report.contains("in operation Op0"), "{report}");
        assert!(
            report.contains("T2 was switched out in operation Op1, just before its access to atomic#0"),
            "{report}"
        );
        assert!(report.contains("std::sync primitive"), "{report}");
    }

    #[test]
    fn object_kinds_are_in_declaration_order() {
        for (i, k) in OBJECT_KINDS.iter().enumerate() {
            assert_eq!(*k as usize, i);
        }
    }

    #[test]
    fn the_beat_is_odd_while_a_thread_runs() {
        let h = heartbeat();
        h.running();
        let a = h.beat.load(Ordering::Relaxed);
        h.idle();
        let b = h.beat.load(Ordering::Relaxed);
        h.running();
        let c = h.beat.load(Ordering::Relaxed);
        assert!(a % 2 == 1 && b % 2 == 0 && c % 2 == 1 && a < b && b < c);
    }
}
