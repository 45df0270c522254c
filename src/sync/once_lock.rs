use super::once::{Gate, State};
use crate::runtime::{self, Backend};

/// `std::sync::OnceLock`: a cell written once, by whichever thread gets there first.
///
/// Under the controlled schedulers and loom, initialisation follows std's protocol with
/// crosscheck's primitives (named `once_lock`, with the creation site): `get` is an atomic load
/// that shows in the interleaving, and callers of `get_or_init` that arrive while another thread
/// initialises wait for it. If the initialiser panics, the cell stays empty and the next caller
/// tries again, as in std. Outside a check it is std's.
pub struct OnceLock<T> {
    value: std::sync::OnceLock<T>,
    /// `None` outside a check: then `value` alone is std's `OnceLock`.
    gate: Option<Box<Gate>>,
}

impl<T> OnceLock<T> {
    /// An empty cell.
    #[track_caller]
    pub fn new() -> OnceLock<T> {
        let gate = match runtime::backend() {
            Backend::Std => None,
            Backend::Shuttle | Backend::Loom => Some(Box::new(Gate::new("once_lock"))),
        };
        OnceLock {
            value: std::sync::OnceLock::new(),
            gate,
        }
    }

    /// The value, if the cell has been written (and the write is visible to this thread).
    pub fn get(&self) -> Option<&T> {
        match &self.gate {
            None => self.value.get(),
            Some(gate) => gate.is_done().then(|| self.value.get()).flatten(),
        }
    }

    /// The value, mutably, if written.
    pub fn get_mut(&mut self) -> Option<&mut T> {
        self.value.get_mut()
    }

    /// Writes `value` if the cell is empty; otherwise gives it back.
    pub fn set(&self, value: T) -> Result<(), T> {
        let Some(gate) = &self.gate else {
            return self.value.set(value);
        };
        let mut slot = Some(value);
        gate.run(State::Incomplete, false, |_| {
            if let Some(v) = slot.take() {
                // Only the gate's runner writes, once.
                let _ = self.value.set(v);
            }
        });
        match slot {
            None => Ok(()),
            Some(v) => Err(v),
        }
    }

    /// The value, initialised with `f` first if the cell is empty. Callers that arrive while
    /// another thread runs its `f` wait for it.
    pub fn get_or_init<F: FnOnce() -> T>(&self, f: F) -> &T {
        let Some(gate) = &self.gate else {
            return self.value.get_or_init(f);
        };
        gate.run(State::Incomplete, false, |_| {
            let _ = self.value.set(f());
        });
        self.value
            .get()
            .expect("the gate completes only after the value is set")
    }

    /// The value, if written, consuming the cell.
    pub fn into_inner(self) -> Option<T> {
        self.value.into_inner()
    }

    /// Takes the value out, leaving the cell empty (and ready to be written again).
    #[track_caller]
    pub fn take(&mut self) -> Option<T> {
        if self.gate.is_some() {
            self.gate = Some(Box::new(Gate::new("once_lock")));
        }
        self.value.take()
    }
}

impl<T> Default for OnceLock<T> {
    #[track_caller]
    fn default() -> Self {
        OnceLock::new()
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for OnceLock<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // No scheduling point: formatting is not an access the resource makes.
        match self.value.get() {
            Some(v) => f.debug_tuple("OnceLock").field(v).finish(),
            None => f.write_str("OnceLock(<uninit>)"),
        }
    }
}

/// `std::sync::LazyLock`: a value computed by `F` on first use, by whichever thread uses it first.
///
/// Built on [`OnceLock`], so under a check its first use is the same scheduled, recorded
/// protocol. If `F` panics the `LazyLock` is poisoned: later uses panic, as in std.
pub struct LazyLock<T, F = fn() -> T> {
    cell: OnceLock<T>,
    init: std::sync::Mutex<Option<F>>,
}

impl<T, F: FnOnce() -> T> LazyLock<T, F> {
    /// A lazy value computed by `f` on first use.
    #[track_caller]
    pub fn new(f: F) -> LazyLock<T, F> {
        LazyLock {
            cell: OnceLock::new(),
            init: std::sync::Mutex::new(Some(f)),
        }
    }

    /// The value, computing it first if this is the first use.
    pub fn force(this: &LazyLock<T, F>) -> &T {
        this.cell.get_or_init(|| {
            // Held only to take `F` out: no scheduling point happens under this std lock.
            let f = this
                .init
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .take();
            match f {
                Some(f) => f(),
                None => panic!("LazyLock instance has previously been poisoned"),
            }
        })
    }
}

impl<T, F: FnOnce() -> T> std::ops::Deref for LazyLock<T, F> {
    type Target = T;

    fn deref(&self) -> &T {
        LazyLock::force(self)
    }
}

impl<T: std::fmt::Debug, F> std::fmt::Debug for LazyLock<T, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.cell.value.get() {
            Some(v) => f.debug_tuple("LazyLock").field(v).finish(),
            None => f.write_str("LazyLock(<uninit>)"),
        }
    }
}
