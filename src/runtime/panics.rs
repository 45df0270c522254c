//! Panics inside a check are expected (a resource's assertion, a poisoned lock), and each is
//! reported once, in crosscheck's own report. This hook keeps them off stderr, captures their
//! message and location for the report, and hands every other panic to the hook that was there.

use std::cell::{Cell, RefCell};
use std::panic::{self, PanicHookInfo};
use std::sync::Once;

thread_local! {
    /// Set while a check runs on this thread: panics are captured, not printed.
    static QUIET: Cell<bool> = const { Cell::new(false) };
    static LAST: RefCell<Option<String>> = const { RefCell::new(None) };
    /// Every quiet panic's message since `clear_seen`, first first (a few at most): a backend that
    /// sees a cascade of panics (loom's deadlock report, then its own consequences) needs the first.
    static SEEN: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Forgets the messages `seen` would return.
pub(crate) fn clear_seen() {
    SEEN.with(|s| s.borrow_mut().clear());
}

/// The quiet panics' messages since the last `clear_seen`, in order.
pub(crate) fn seen() -> Vec<String> {
    SEEN.with(|s| s.borrow().clone())
}

pub(crate) fn install() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if QUIET.with(|q| q.get()) {
                let message = describe(info);
                SEEN.with(|s| {
                    if let Ok(mut s) = s.try_borrow_mut() {
                        if s.len() < 16 {
                            s.push(message.clone());
                        }
                    }
                });
                LAST.with(|l| *l.borrow_mut() = Some(message));
            } else {
                previous(info);
            }
        }));
    });
}

fn describe(info: &PanicHookInfo<'_>) -> String {
    let payload = info.payload();
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(a panic payload that is not a string)".to_string());
    match info.location() {
        Some(loc) => format!("{message} (at {}:{})", loc.file(), loc.line()),
        None => message,
    }
}

/// Makes panics on this thread quiet until the guard drops.
pub(crate) struct Quiet(bool);

impl Quiet {
    pub(crate) fn new() -> Self {
        install();
        Quiet(QUIET.with(|q| q.replace(true)))
    }
}

impl Drop for Quiet {
    fn drop(&mut self) {
        QUIET.with(|q| q.set(self.0));
    }
}

/// The message and location of the last panic captured on this thread.
pub(crate) fn take_last() -> Option<String> {
    LAST.with(|l| l.borrow_mut().take())
}

/// Panics with crosscheck's report, printed by the original hook alone.
#[track_caller]
pub(crate) fn panic_with_report(report: String) -> ! {
    install();
    panic::panic_any(report)
}

/// The message of a caught panic payload (when the hook did not see it).
/// The message of the panic that produced `payload`: what the hook captured (with its location)
/// when it saw it, else the payload's own text.
pub(crate) fn message(payload: &(dyn std::any::Any + Send)) -> String {
    take_last().unwrap_or_else(|| payload_message(payload))
}

pub(crate) fn payload_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(a panic payload that is not a string)".to_string())
}
