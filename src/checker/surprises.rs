//! The settings for the behaviours std permits that a plain controlled run never shows: spurious
//! wakeups, weak-CAS failures and early park returns (on by default), and short file writes (off).
//! Each is a choice point of the schedule (see `scheduler::ChoiceKind`), so tokens replay it and
//! shrinking drops it when a failure does not need it.

use super::Checker;
use crate::resource::Resource;

impl<R: Resource> Checker<R> {
    /// Whether the controlled schedulers may produce the surprises std permits: a condition
    /// variable's `wait` returning without a notification (a spurious wakeup), a
    /// `compare_exchange_weak` failing although the value matched, `thread::park` returning without
    /// an `unpark`. On by default, since std
    /// allows them and real machines produce them: correct code handles them (waits in a `while`
    /// loop, retries a weak CAS). Turn them off only for code that knowingly
    /// relies on a platform guarantee; reports then say they were off. Loom never produces them;
    /// under `Stress` they are whatever the OS does. A replay follows its token, whatever this says.
    pub fn spurious(mut self, on: bool) -> Self {
        self.spurious = on;
        self
    }

    /// Whether a [`crate::fs::File`]'s `write` may write only part of its buffer, as std's
    /// `Write::write` permits (a full disk, a signal, a pipe): each `write` of two bytes or more
    /// becomes a choice point whose surprise writes the first half and returns that count. Code that
    /// ignores `write`'s count loses the rest, and the report marks the short write; `write_all`,
    /// `write!` and `writeln!` loop until everything is written, so code that uses them passes.
    /// Off by default (most code writes with `write_all`). Offered under the controlled schedulers
    /// only (loom and `Stress` write whole buffers, as a local file nearly always does); a replay
    /// follows its token, whatever this says.
    ///
    /// ```
    /// # use crosscheck::{Checker, resources::LockedCounter};
    /// let checker = Checker::<LockedCounter>::new().short_writes(true);
    /// # let _ = checker;
    /// ```
    pub fn short_writes(mut self, on: bool) -> Self {
        self.short_writes = on;
        self
    }
}
