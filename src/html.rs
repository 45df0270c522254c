//! A failure you can look at: one self-contained HTML page (inline CSS and a few lines of inline
//! script; no network, no external fonts) drawing an execution or a history.
//!
//! The page is built from plain data ([`Page`], [`Section`], [`Bar`], [`Mark`]) so that every
//! source draws the same way: a failed execution (`backend::page`), and any [`History`] with its
//! verdict (`linearizability::page`). Each section has one lane per thread or client; each
//! operation is a bar from its invocation to its return; the interleaving's events sit on the same
//! time axis, preemptions drawn across every lane; a linearization order is numbered on the bars;
//! the operation that cannot come next is highlighted; a wait-for cycle is drawn between lanes.
//! Clicking an operation shows the model state before and after it.
//!
//! [`History`]: crate::history::History

mod render;

use std::path::{Path, PathBuf};

pub(crate) use render::render;

/// A whole page: a title, summary lines, and one section per history (or partition).
#[derive(Clone, Debug, Default)]
pub(crate) struct Page {
    pub title: String,
    /// Shown above the sections, verbatim (the failure's "why", the replay command).
    pub summary: Vec<String>,
    pub sections: Vec<Section>,
}

/// Which part of a scenario an operation belongs to (drawn in different colours).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Part {
    Init,
    Parallel,
    Post,
}

/// One operation: a bar on its lane from its invocation to its return.
#[derive(Clone, Debug)]
pub(crate) struct Bar {
    pub lane: usize,
    pub part: Part,
    /// What was asked, as the report writes it.
    pub op: String,
    /// What it returned; `None` if it never returned.
    pub output: Option<String>,
    /// Positions on the section's time axis.
    pub start: usize,
    pub end: Option<usize>,
    /// The model state before and after the operation, where a linearization places it.
    pub before: Option<String>,
    pub after: Option<String>,
}

/// One event of the interleaving, a tick on its lane.
#[derive(Clone, Debug)]
pub(crate) struct Mark {
    pub lane: usize,
    pub at: usize,
    pub text: String,
    /// A preemption: the scheduler switched away from a thread that could have continued.
    pub preemption: bool,
}

/// One history drawn on one time axis.
#[derive(Clone, Debug, Default)]
pub(crate) struct Section {
    pub heading: String,
    /// A sentence under the heading: the verdict for this section.
    pub verdict: String,
    pub lanes: Vec<String>,
    pub bars: Vec<Bar>,
    pub marks: Vec<Mark>,
    /// Bars (indices into `bars`) in linearization order: the longest linearizable prefix when
    /// the section is not linearizable, else a whole linearization.
    pub order: Vec<usize>,
    /// Bars that cannot come next after `order`.
    pub highlighted: Vec<usize>,
    /// What the model allows instead, for the highlighted bars.
    pub allows: Option<String>,
    /// A wait-for cycle: (waiting lane, lane it waits for, what it waits on).
    pub cycle: Vec<(usize, usize, String)>,
}

impl Section {
    /// The last position on the time axis.
    pub(crate) fn end(&self) -> usize {
        let bars = self.bars.iter().map(|b| b.end.unwrap_or(b.start));
        bars.chain(self.marks.iter().map(|m| m.at)).max().unwrap_or(0)
    }
}

/// Where pages go: `CROSSCHECK_HTML` (a directory, or `off`), else `target/crosscheck/` of the
/// build running this code. `None` when turned off.
pub(crate) fn pages_dir() -> Option<PathBuf> {
    match crate::env::read().map(|e| e.pages) {
        Ok(crate::env::Pages::Off) => None,
        Ok(crate::env::Pages::Dir(dir)) => Some(dir),
        _ => Some(target_dir().join("crosscheck")),
    }
}

/// The cargo target directory: `CARGO_TARGET_DIR`, else the ancestor of this executable that
/// cargo marked with `CACHEDIR.TAG`, else `./target`.
fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| {
            exe.ancestors()
                .find(|d| d.join("CACHEDIR.TAG").is_file())
                .map(Path::to_path_buf)
        })
        .unwrap_or_else(|| PathBuf::from("target"))
}

/// Writes `page` as `<dir>/<name>.html` (the name made file-safe) and returns the path, shown
/// relative to the current directory when it is under it.
pub(crate) fn write(page: &Page, dir: &Path, name: &str) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let path = dir.join(format!("{safe}.html"));
    std::fs::write(&path, render(page))?;
    let shown = std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(&cwd).ok().map(Path::to_path_buf))
        .unwrap_or(path);
    Ok(shown)
}
