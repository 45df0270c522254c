//! The live progress line of a long check, drawn by indicatif on stderr.
//!
//! A check that is still running after [`DELAY`] shows schedules done out of the budget, the
//! rate, elapsed and estimated time left, scenarios and failures so far, and while shrinking the
//! current size of the failing scenario. It stays quiet when stderr is not a terminal or when a
//! test harness runs the check (libtest captures `eprintln!` but not a terminal line), unless
//! `CROSSCHECK_PROGRESS=always`; `CROSSCHECK_PROGRESS=never` turns it off everywhere.
//!
//! One check at a time per thread owns the line: the checker opens a [`Session`] in `run`, and the
//! backend and the shrinker report to it through thread-local calls, which cost nothing when no
//! session is open.

use std::cell::RefCell;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How long a check runs before its progress line appears (`CROSSCHECK_PROGRESS_DELAY_MS`
/// changes it).
pub(crate) const DELAY: Duration = Duration::from_secs(2);

/// [`DELAY`], or `CROSSCHECK_PROGRESS_DELAY_MS`.
fn delay() -> Duration {
    crate::env::read().ok().and_then(|e| e.progress_delay).unwrap_or(DELAY)
}
/// Executions between two looks at the clock.
const EVERY: usize = 64;

/// When to draw, from `CROSSCHECK_PROGRESS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// On a terminal, outside a test harness.
    Auto,
    Always,
    Never,
}

impl Mode {
    /// Reads `CROSSCHECK_PROGRESS`; an unknown value is an error naming the accepted ones.
    pub(crate) fn from_env() -> Result<Mode, String> {
        Ok(match crate::env::read()?.progress {
            crate::env::Progress::Auto => Mode::Auto,
            crate::env::Progress::Always => Mode::Always,
            crate::env::Progress::Never => Mode::Never,
        })
    }

    fn draws(self) -> bool {
        match self {
            Mode::Always => true,
            Mode::Never => false,
            // libtest runs each test on a thread named after it; the main thread is a program's.
            Mode::Auto => std::io::stderr().is_terminal() && std::thread::current().name() == Some("main"),
        }
    }
}

struct State {
    resource: String,
    budget: usize,
    started: Instant,
    done: usize,
    scenarios: usize,
    failures: usize,
    shrinking: Option<String>,
    bar: Option<ProgressBar>,
    draws: bool,
    delay: Duration,
    since_look: usize,
}

thread_local! {
    static CURRENT: RefCell<Option<State>> = const { RefCell::new(None) };
}

/// The progress line of one check; dropping it clears the line.
pub(crate) struct Session {
    owner: bool,
}

impl Session {
    /// Opens the line for a check of `budget` schedules, unless a check on this thread already has
    /// one (a replay inside a check, a cross-check): then this session is silent.
    pub(crate) fn open(resource: &str, budget: usize, mode: Mode) -> Session {
        let owner = CURRENT.with(|c| {
            let mut c = c.borrow_mut();
            if c.is_some() {
                return false;
            }
            *c = Some(State {
                resource: resource.to_string(),
                budget,
                started: Instant::now(),
                done: 0,
                scenarios: 0,
                failures: 0,
                shrinking: None,
                bar: None,
                draws: mode.draws(),
                delay: delay(),
                since_look: 0,
            });
            true
        });
        Session { owner }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if self.owner {
            if let Some(bar) = CURRENT.with(|c| c.borrow_mut().take()).and_then(|s| s.bar) {
                bar.finish_and_clear();
            }
        }
    }
}

fn with(f: impl FnOnce(&mut State)) {
    CURRENT.with(|c| {
        if let Some(state) = c.borrow_mut().as_mut() {
            f(state);
        }
    });
}

/// One execution ran.
pub(crate) fn executed() {
    with(|s| {
        s.done += 1;
        s.since_look += 1;
        if s.since_look >= EVERY {
            s.since_look = 0;
            s.refresh();
        }
    });
}

/// A new scenario started.
pub(crate) fn scenario_started() {
    with(|s| s.scenarios += 1);
}

/// A failure was found; shrinking follows.
pub(crate) fn failure_found() {
    with(|s| s.failures += 1);
}

/// Shrinking reached a smaller failing scenario of this shape.
pub(crate) fn shrinking(shape: String) {
    with(|s| {
        s.shrinking = Some(shape);
        s.refresh();
    });
}

impl State {
    fn refresh(&mut self) {
        if !self.draws || self.started.elapsed() < self.delay {
            return;
        }
        let bar = self.bar.get_or_insert_with(|| {
            let target = ProgressDrawTarget::term_like_with_hz(Box::new(console::Term::stderr()), 4);
            let bar = ProgressBar::with_draw_target(Some(0), target);
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix} {pos}/{len} schedules, {per_sec}, {elapsed} elapsed, ~{eta} left, {msg}",
                )
                .expect("a valid template"),
            );
            bar.set_prefix(format!("crosscheck {}:", self.resource));
            bar
        });
        bar.set_length(self.budget.max(self.done) as u64);
        bar.set_position(self.done as u64);
        let mut msg = format!("{} scenarios, {} failures", self.scenarios, self.failures);
        if let Some(shape) = &self.shrinking {
            msg += &format!(", shrinking: now {shape}");
        }
        bar.set_message(msg);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mode_comes_from_the_environment_names() {
        assert!(!Mode::Auto.draws(), "tests run on named threads");
        assert!(Mode::Always.draws());
        assert!(!Mode::Never.draws());
    }

    #[test]
    fn a_nested_session_leaves_the_line_to_the_outer_one() {
        let outer = Session::open("R", 10, Mode::Never);
        let inner = Session::open("R", 5, Mode::Never);
        assert!(outer.owner && !inner.owner);
        executed();
        drop(inner);
        CURRENT.with(|c| assert_eq!(c.borrow().as_ref().map(|s| s.done), Some(1)));
        drop(outer);
        CURRENT.with(|c| assert!(c.borrow().is_none()));
    }
}
