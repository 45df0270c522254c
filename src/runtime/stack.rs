//! The coroutine stacks controlled threads run on, and the guard that turns an overflow of one into
//! a message naming the setting instead of a silent SIGSEGV.
//!
//! The engine runs every task on a fixed-size coroutine stack (corosensei's, with a guard page below
//! it). An overflow faults in the guard page; Rust's own handler only knows the OS thread's stack,
//! so without this guard the process dies with SIGSEGV and prints nothing. Each controlled thread
//! notes where its stack is when it starts ([`enter`]); a SIGSEGV/SIGBUS handler, running on an
//! alternate signal stack (the faulting one is full), checks whether the faulting address is just
//! below one of those stacks, and if so writes the message and aborts. A thread that overflowed
//! cannot be resumed or unwound, so aborting is the only honest end. Any other fault goes to the
//! handler that was there before (Rust's), unchanged.

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;

/// The stack of each controlled thread when neither `Checker::stack_size` nor
/// `CROSSCHECK_STACK_SIZE` says otherwise: 2 MiB, what `std::thread::spawn` gives a thread, so that
/// code that runs on a plain thread of a debug build runs here too. The memory is reserved, not
/// committed: a thread that uses 20 KiB costs 20 KiB.
pub const DEFAULT_STACK_SIZE: usize = 2 << 20;

/// How far above the stack's lowest usable byte a thread's first frame may sit (the coroutine's
/// entry and the engine's task frames): the window that counts as "just below this stack" is this
/// much larger than the stack, so it holds the guard page wherever the frame is.
const SLACK: usize = 64 << 10;

/// Stacks seen so far: the address of a local in the thread's first frame and the size asked for.
/// The engine pools its stacks, so a handful of entries cover a whole process; when full, the oldest
/// entries are overwritten.
struct Seen {
    top: AtomicUsize,
    size: AtomicUsize,
}

const SLOTS: usize = 64;
#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: Seen = Seen {
    top: AtomicUsize::new(0),
    size: AtomicUsize::new(0),
};
static SEEN: [Seen; SLOTS] = [EMPTY; SLOTS];
static NEXT: AtomicUsize = AtomicUsize::new(0);
static PAGE: AtomicUsize = AtomicUsize::new(4096);

thread_local! {
    /// The stack size of the check running on this OS thread (its controlled threads share it).
    static SIZE: std::cell::Cell<usize> = const { std::cell::Cell::new(DEFAULT_STACK_SIZE) };
    /// The stack tops this OS thread registered already (a registration is a scan of [`SEEN`]).
    static KNOWN: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

/// Sets the stack size of checks on this OS thread; returns the previous one.
pub(crate) fn set_size(size: usize) -> usize {
    SIZE.with(|s| s.replace(size))
}

/// Prepares this OS thread to run controlled threads: installs the overflow handler (once per
/// process) and an alternate signal stack (once per OS thread).
pub(crate) fn prepare() {
    #[cfg(unix)]
    unix::prepare();
}

/// The stack size of the check running on this OS thread.
pub(crate) fn size() -> usize {
    SIZE.with(|s| s.get())
}

/// Notes the stack of the controlled thread starting now; call it from the thread's first frame.
#[inline(never)]
pub(crate) fn enter() {
    let local = 0u8;
    let top = std::hint::black_box(&local) as *const u8 as usize;
    let size = size();
    let known = KNOWN.with(|k| {
        let mut k = k.borrow_mut();
        let found = k.contains(&top);
        if !found {
            k.push(top);
        }
        found
    });
    if known {
        return;
    }
    let slot = &SEEN[NEXT.fetch_add(1, Ordering::Relaxed) % SLOTS];
    // A handler reading the slot between the two stores sees a mismatched pair at worst, for one
    // stack out of 64, during the few instructions of a registration.
    slot.size.store(size, Ordering::Relaxed);
    slot.top.store(top, Ordering::Release);
}

/// The stack size of the registered stack whose guard region holds `addr`.
fn overflowed(addr: usize) -> Option<usize> {
    let page = PAGE.load(Ordering::Relaxed);
    SEEN.iter().find_map(|s| {
        let top = s.top.load(Ordering::Acquire);
        let size = s.size.load(Ordering::Relaxed);
        let below = top.checked_sub(size + 2 * page + SLACK)?;
        let upper = (top + SLACK).checked_sub(size)?;
        (top != 0 && addr >= below && addr < upper).then_some(size)
    })
}

/// `n` in decimal into `buf`, without allocating (the handler may not allocate).
fn decimal(mut n: usize, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[i..];
        }
    }
}

/// The message's parts, around the size; written with `write(2)` by the handler.
const HEAD: &str = "\ncrosscheck: a controlled thread overflowed its stack of ";
const TAIL: &str = " bytes.\n\
crosscheck runs each thread of a check on a coroutine stack of a fixed size, and an operation of the \
resource (or the model, or code it calls) needed more: a large array on the stack, deep recursion, or \
the large frames of a debug build.\n\
Give the threads more stack: Checker::stack_size(bytes) in the test, or CROSSCHECK_STACK_SIZE (bytes, \
or with a k or m suffix, such as 8m) in the environment.\n\
The process aborts now: a thread that overflowed its stack can neither go on nor unwind.\n";

#[cfg(unix)]
mod unix {
    use super::*;
    use std::sync::OnceLock;

    /// The handlers that were installed before crosscheck's, for faults that are not its business.
    static PREVIOUS: OnceLock<[libc::sigaction; 2]> = OnceLock::new();
    static INSTALL: Once = Once::new();

    thread_local! {
        static ALT_STACK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }

    pub(super) fn prepare() {
        INSTALL.call_once(install);
        if !ALT_STACK.with(|a| a.replace(true)) {
            alt_stack();
        }
    }

    fn install() {
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        if page > 0 {
            PAGE.store(page as usize, Ordering::Relaxed);
        }
        let mut previous = [empty(), empty()];
        for (k, signal) in [libc::SIGSEGV, libc::SIGBUS].into_iter().enumerate() {
            let mut action = empty();
            let handler: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) = handler;
            action.sa_sigaction = handler as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            // SAFETY: `action` is fully initialised (zeroed, then the handler, flags and an empty
            // mask set); `previous[k]` is valid for writes. The handler only does async-signal-safe
            // things: atomic loads, write(2), abort(3), and calling the previous handler.
            unsafe {
                libc::sigemptyset(&mut action.sa_mask);
                libc::sigaction(signal, &action, &mut previous[k]);
            }
        }
        let _ = PREVIOUS.set(previous);
    }

    fn empty() -> libc::sigaction {
        // SAFETY: sigaction is plain data, for which all-zero is a valid value (no handler, no
        // flags, an empty mask).
        unsafe { std::mem::zeroed() }
    }

    /// Gives this OS thread an alternate signal stack if it has none (Rust gives one to the threads
    /// it starts while its own overflow handler is installed; a thread started otherwise may
    /// have none, and a handler cannot run on the full stack).
    fn alt_stack() {
        const SIZE: usize = 64 << 10;
        // SAFETY: a null new stack only queries; `current` is valid for writes.
        let mut current: libc::stack_t = unsafe { std::mem::zeroed() };
        unsafe { libc::sigaltstack(std::ptr::null(), &mut current) };
        if current.ss_flags & libc::SS_DISABLE == 0 {
            return;
        }
        // The memory lives as long as the thread may take a signal, that is for ever: leaked on
        // purpose, once per OS thread that runs a check.
        let memory: &'static mut [u8] = Box::leak(vec![0u8; SIZE].into_boxed_slice());
        let stack = libc::stack_t {
            ss_sp: memory.as_mut_ptr().cast(),
            ss_flags: 0,
            ss_size: SIZE,
        };
        // SAFETY: `stack` describes SIZE bytes of memory that is never freed or otherwise used.
        unsafe { libc::sigaltstack(&stack, std::ptr::null_mut()) };
    }

    fn write_all(bytes: &[u8]) {
        let mut rest = bytes;
        while !rest.is_empty() {
            // SAFETY: `rest` is valid for reads of its length; write(2) is async-signal-safe.
            let n = unsafe { libc::write(2, rest.as_ptr().cast(), rest.len()) };
            if n <= 0 {
                return;
            }
            rest = &rest[n as usize..];
        }
    }

    extern "C" fn handler(signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
        // SAFETY: the kernel passes a valid siginfo_t to an SA_SIGINFO handler of SIGSEGV/SIGBUS,
        // for which si_addr is the faulting address.
        let addr = unsafe { (*info).si_addr() } as usize;
        if let Some(size) = overflowed(addr) {
            let mut buf = [0u8; 20];
            write_all(HEAD.as_bytes());
            write_all(decimal(size, &mut buf));
            write_all(TAIL.as_bytes());
            // SAFETY: abort(3) is async-signal-safe and does not return.
            unsafe { libc::abort() };
        }
        let k = usize::from(signal == libc::SIGBUS);
        let Some(previous) = PREVIOUS.get().map(|p| p[k]) else {
            return reset(signal);
        };
        match previous.sa_sigaction {
            libc::SIG_DFL | libc::SIG_IGN => reset(signal),
            f if previous.sa_flags & libc::SA_SIGINFO != 0 => {
                // SAFETY: with SA_SIGINFO the previous handler has this signature, and gets the
                // arguments the kernel gave this one.
                let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                    unsafe { std::mem::transmute(f) };
                f(signal, info, context);
            }
            f => {
                // SAFETY: without SA_SIGINFO the previous handler takes the signal number only.
                let f: extern "C" fn(libc::c_int) = unsafe { std::mem::transmute(f) };
                f(signal);
            }
        }
    }

    /// Restores the default action: returning re-runs the faulting instruction, which then kills
    /// the process the usual way.
    fn reset(signal: libc::c_int) {
        let mut action = empty();
        action.sa_sigaction = libc::SIG_DFL;
        // SAFETY: `action` is a valid default action; sigaction is async-signal-safe.
        unsafe { libc::sigaction(signal, &action, std::ptr::null_mut()) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_written_without_allocating() {
        let mut buf = [0u8; 20];
        assert_eq!(decimal(0, &mut buf), b"0");
        assert_eq!(decimal(2_097_152, &mut buf), b"2097152");
        assert_eq!(decimal(usize::MAX, &mut buf), usize::MAX.to_string().as_bytes());
    }

    #[test]
    fn a_fault_just_below_a_noted_stack_is_an_overflow() {
        let top = 0x7000_0000_0000usize;
        let slot = &SEEN[NEXT.fetch_add(1, Ordering::Relaxed) % SLOTS];
        slot.size.store(1 << 20, Ordering::Relaxed);
        slot.top.store(top, Ordering::Release);
        assert_eq!(overflowed(top - (1 << 20) - 100), Some(1 << 20));
        assert_eq!(overflowed(top - (4 << 20)), None);
        assert_eq!(overflowed(top + (1 << 20)), None);
        slot.top.store(0, Ordering::Release);
    }
}
