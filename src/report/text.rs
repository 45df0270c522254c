//! The report's text: the header, the "why" line, the scenario table, the interleaving and the
//! replay instructions, rendered from [`ReportParts`].

use super::FailureKind;
use crate::record::{thread_label, Event, EventKind, Label, ObjectInfo, ObjectName};

/// One operation of the scenario as the report shows it.
#[derive(Clone, Debug)]
pub(crate) struct OpLine {
    pub op: String,
    pub output: Option<String>,
    pub expected: Option<String>,
}

impl OpLine {
    fn cell(&self) -> String {
        let output = self.output.as_deref().unwrap_or("(did not return)");
        format!("{} -> {output}", self.op)
    }
}

/// Everything the report text is made of, already rendered to strings.
#[derive(Clone, Debug)]
pub(crate) struct ReportParts {
    pub resource: String,
    pub scheduler: String,
    pub seed: Option<u64>,
    pub preemptions: usize,
    pub shape: String,
    pub init: Vec<OpLine>,
    pub threads: Vec<Vec<OpLine>>,
    pub post: Vec<OpLine>,
    pub interleaving: Vec<String>,
    pub token: Option<String>,
    pub note: Option<String>,
    /// "shrunk from ... to ... in ..."
    pub shrink: Option<String>,
    /// Where the HTML page of this failure was written.
    pub page: Option<String>,
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

impl ReportParts {
    pub(crate) fn render(&self, kind: &FailureKind, schedules: usize, test: Option<&str>) -> String {
        let mut out = String::new();
        if let FailureKind::Internal { .. } = kind {
            out += &format!(
                "crosscheck itself failed while checking {} (a bug in crosscheck, not in your resource): {}\n",
                self.resource,
                kind.title()
            );
        } else {
            out += &format!("crosscheck found a bug in {}: {}\n", self.resource, kind.title());
        }
        let seed = self.seed.map(|s| format!(", seed {s}")).unwrap_or_default();
        out += &format!(
            "  found after {} ({}{seed})\n",
            plural(schedules, "schedule"),
            self.scheduler
        );
        if let Some(shrink) = &self.shrink {
            out += &format!("  {shrink}\n");
        }
        out += "\n";
        out += &match kind {
            FailureKind::NotLinearizable { explanation, .. } => format!("why: {explanation}\n"),
            FailureKind::InvariantViolated { message } => format!("why: the invariant failed: {message}\n"),
            FailureKind::Deadlock { cycle } => {
                let mut s = "why: the threads wait for each other forever:\n".to_string();
                for line in cycle {
                    s += &format!("  {line}\n");
                }
                s
            }
            FailureKind::Panicked { thread, op, message } => format!("why: {thread} panicked in {op}: {message}\n"),
            FailureKind::StepLimitExceeded { steps } => format!(
                "why: an execution took more than {steps} scheduling steps without finishing: probably a spin \
                 loop that waits for progress no other thread makes (a loop that waits must yield or sleep, \
                 and something must end the wait), or a livelock (raise the limit with Checker::max_steps if \
                 the resource really needs that many)\n"
            ),
            FailureKind::Livelock { steps, threads } => {
                let mut s = format!(
                    "why: livelock: no operation completed in {steps} scheduling steps while the threads kept \
                     running; each undoes what the other needs (a retry loop needs a back-off: release, yield or \
                     sleep, then retry):\n"
                );
                for line in threads {
                    s += &format!("  {line}\n");
                }
                s
            }
            FailureKind::LockOrderInversion { edges, deadlock } => {
                let mut s = "why: the locks are taken in orders that form a cycle, so some schedule can deadlock \
                             (lockdep's rule: take locks in one global order):\n"
                    .to_string();
                for line in edges {
                    s += &format!("  {line}\n");
                }
                match deadlock {
                    Some(token) => s += &format!("a schedule that deadlocks on them: {token}\n"),
                    None => s += "no explored schedule deadlocked on them (the order is still a bug waiting for one)\n",
                }
                s
            }
            FailureKind::DataRace { cell, first, second } => format!(
                "why: a data race on {cell}:\n  {first}\n  {second}\nand nothing orders the two (no lock held by \
                 both, no release/acquire pair, no spawn or join between them): on real hardware they can \
                 overlap, and the read sees a torn or stale value\n"
            ),
            FailureKind::Usage { message }
            | FailureKind::Internal { message }
            | FailureKind::Nondeterministic { message, .. } => format!("why: {message}\n"),
        };
        out += &format!("\nscenario ({}), each operation -> what it returned:\n", self.shape);
        out += &self.table();
        if !self.interleaving.is_empty() {
            out += &format!("\ninterleaving ({}):\n", plural(self.preemptions, "preemption"));
            for line in &self.interleaving {
                out += &format!("  {line}\n");
            }
        }
        if let Some(note) = &self.note {
            out += &format!("\n{note}\n");
        }
        if let Some(page) = &self.page {
            out += &format!("\nsee it drawn (open in a browser): {page}\n");
        }
        if let Some(token) = &self.token {
            let test = test.unwrap_or("<test name>");
            out += &format!(
                "\nreplay this exact execution:\n  CROSSCHECK_REPLAY={token} cargo test {test}\n  \
                 or in a test: Checker::<{}>::new().scheduler(Scheduler::Replay(\"{token}\".into())).check();\n",
                self.resource
            );
        }
        out
    }

    /// The scenario as a table: init above, one column per thread, post below; each operation
    /// with its output, and what the model allows where no order explains it.
    fn table(&self) -> String {
        let mut out = String::new();
        let annotated = |line: &OpLine| match &line.expected {
            Some(e) => format!("{}   <- the model allows {e}", line.cell()),
            None => line.cell(),
        };
        for line in &self.init {
            out += &format!("  init  {}\n", annotated(line));
        }
        let columns: Vec<Vec<String>> = self
            .threads
            .iter()
            .map(|ops| {
                let mut cells = Vec::new();
                for op in ops {
                    cells.push(op.cell());
                    if let Some(e) = &op.expected {
                        cells.push(format!("  ^ the model allows {e}"));
                    }
                }
                cells
            })
            .collect();
        let widths: Vec<usize> = columns
            .iter()
            .enumerate()
            .map(|(t, c)| {
                c.iter()
                    .map(|s| s.len())
                    .chain([format!("T{}", t + 1).len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let row = |cells: Vec<String>| -> String {
            let padded: Vec<String> = cells.iter().zip(&widths).map(|(c, &w)| format!("{c:w$}")).collect();
            format!("  | {} |\n", padded.join(" | "))
        };
        let rule = format!(
            "  +{}+\n",
            widths.iter().map(|w| "-".repeat(w + 2)).collect::<Vec<_>>().join("+")
        );
        // A failure shrunk to its init part alone (one thread's ops show it) has no table to draw.
        if !columns.is_empty() {
            out += &rule;
            out += &row((1..=columns.len()).map(|t| format!("T{t}")).collect());
            out += &rule;
            let depth = columns.iter().map(Vec::len).max().unwrap_or(0);
            for i in 0..depth {
                out += &row(columns.iter().map(|c| c.get(i).cloned().unwrap_or_default()).collect());
            }
            out += &rule;
        }
        for line in &self.post {
            out += &format!("  post  {}\n", annotated(line));
        }
        out
    }
}

/// Renders the recorded events as one line each, with each preemption marked.
pub(crate) fn interleaving(
    events: &[Event],
    labels: &[(usize, Label)],
    objects: &[ObjectInfo],
    op_names: &[String],
    op_outputs: &[Option<String>],
) -> Vec<String> {
    let label = |t: usize| thread_label(labels, t);
    let width = events.iter().map(|e| label(e.thread).len()).max().unwrap_or(4).max(4);
    let obj = |o: usize| ObjectName(objects, o).to_string();
    let op = |i: usize| op_names.get(i).cloned().unwrap_or_else(|| format!("op {i}"));
    let mut lines = Vec::new();
    for e in events {
        if let EventKind::LockAcquired { obj: o, .. } | EventKind::LockReleased { obj: o } = &e.kind {
            if objects.get(*o).is_some_and(|info| info.internal) {
                continue;
            }
        }
        let who = label(e.thread);
        let text = match &e.kind {
            EventKind::SwitchedTo { from, preempted } => {
                if *preempted {
                    lines.push(format!("{:-<width$}  preempted {}: {} runs", "", label(*from), who));
                }
                continue;
            }
            EventKind::OpBegin { op: i } => format!("{} begins", op(*i)),
            EventKind::OpEnd { op: i } => format!(
                "{} returns {}",
                op(*i),
                op_outputs.get(*i).cloned().flatten().unwrap_or_else(|| "?".into())
            ),
            EventKind::LockBlocked { obj: o, holder } => match holder {
                Some(h) => format!("  blocks on {} (held by {})", obj(*o), label(*h)),
                None => format!("  blocks on {}", obj(*o)),
            },
            EventKind::LockAcquired { obj: o, shared } => {
                format!("  {} {}", if *shared { "read-locks" } else { "locks" }, obj(*o))
            }
            EventKind::LockReleased { obj: o } => format!("  unlocks {}", obj(*o)),
            EventKind::LockTimedOut { obj: o } => format!("  gives up on {} (timed out)", obj(*o)),
            EventKind::WaitTimedOut { obj: o } => format!("  stops waiting on {} (timed out)", obj(*o)),
            EventKind::Wait { obj: o } => format!("  waits on {}", obj(*o)),
            EventKind::Notify { obj: o, all } => {
                format!(
                    "  {} {}",
                    if *all { "notifies all on" } else { "notifies one on" },
                    obj(*o)
                )
            }
            EventKind::Load { obj: o, value } => format!("  loads {} -> {value}", obj(*o)),
            EventKind::Store { obj: o, value } => format!("  stores {} <- {value}", obj(*o)),
            EventKind::Rmw { obj: o, old, new } => format!("  updates {}: {old} -> {new}", obj(*o)),
            EventKind::CasFailed { obj: o, current } => {
                format!("  compare-exchange on {} fails (it holds {current})", obj(*o))
            }
            EventKind::CasFailedSpuriously { obj: o, current } => {
                lines.push(format!(
                    "{:-<width$}  {who}'s compare_exchange_weak on {} failed spuriously (it holds {current}, the \
                     expected value)",
                    "",
                    obj(*o)
                ));
                continue;
            }
            EventKind::WokeSpuriously { obj: o } => {
                lines.push(format!(
                    "{:-<width$}  {who}'s wait on {} returned spuriously (no notification)",
                    "",
                    obj(*o)
                ));
                continue;
            }
            EventKind::CellAccess { obj: o, write, site } => format!(
                "  {} {} at {}:{}",
                if *write { "writes" } else { "reads" },
                obj(*o),
                site.file(),
                site.line()
            ),
            EventKind::Yielded => "  yields (future::yield_now)".to_string(),
            EventKind::Send { obj: o, msg } => format!("  sends message #{msg} on {}", obj(*o)),
            EventKind::Recv { obj: o, msg } => format!("  receives message #{msg} from {}", obj(*o)),
            EventKind::Park { obj: o } => format!("  parks ({})", obj(*o)),
            EventKind::Unpark { obj: o, owner } => match owner {
                Some(t) => format!("  unparks {} ({})", label(*t), obj(*o)),
                None => format!("  unparks a thread not started yet ({})", obj(*o)),
            },
            EventKind::ParkReturnedEarly { obj: o } => {
                lines.push(format!(
                    "{:-<width$}  {who}'s park returned early (no unpark; {} stays empty)",
                    "",
                    obj(*o)
                ));
                continue;
            }
            EventKind::FileWrite { obj: o, bytes } => {
                format!("  writes {:?} to {}", String::from_utf8_lossy(bytes), obj(*o))
            }
            EventKind::FileRead { obj: o, len } => format!("  reads {len} bytes of {}", obj(*o)),
            EventKind::FileSync { obj: o } => format!("  syncs {} to the device", obj(*o)),
            EventKind::FileSetLen { obj: o, len } => format!("  sets {} to {len} bytes", obj(*o)),
            EventKind::FileStat { obj: o, len } => format!("  reads the metadata of {} ({len} bytes)", obj(*o)),
            EventKind::FileWroteShort { obj: o, bytes, of } => {
                lines.push(format!(
                    "{:-<width$}  {who}'s write to {} was short: {} of {of} bytes ({:?})",
                    "",
                    obj(*o),
                    bytes.len(),
                    String::from_utf8_lossy(bytes)
                ));
                continue;
            }
        };
        lines.push(format!("{who:width$}  {text}"));
    }
    lines
}
