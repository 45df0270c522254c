use std::collections::{HashMap, HashSet};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{Alternatives, Pos, Strategy, Upcoming};
use crate::record::{Access, AccessKind, Event, EventKind, Value};

/// An access of one execution: the task and the access's index among the task's accesses.
type Id = (usize, usize);

/// One access of the execution that ran, in execution order.
#[derive(Clone, Copy)]
struct Seen {
    id: Id,
    access: Access,
    /// Scheduling decisions taken before the step that made it: following the same decisions
    /// reaches the point just before it.
    decision: usize,
    /// The value an atomic read returned or an atomic write stored, filled in when the execution
    /// has ended (`None`: not an atomic, a failed compare-exchange, or the execution stopped first).
    value: Option<Value>,
}

/// An execution kept for mutation: its decisions and its accesses.
struct Parent {
    decisions: Vec<usize>,
    trace: Vec<Seen>,
}

/// What a mutated execution does: follow the parent's first decisions, then run one thread until it
/// has made a given access (so that a read moves before the write it used to read from), then
/// sample the rest with POS.
struct Plan {
    prefix: Vec<usize>,
    runner: usize,
    until: usize,
}

/// Reads-from feedback in the spirit of RFF (Wolff et al., ASPLOS 2024). Every execution's
/// reads-from pairs (which write each atomic load observed, or the initial value) are collected;
/// an execution that showed a pair never seen before joins a pool. Most executions then mutate a
/// pool member: pick a read (an object first, uniformly, so the one load of a rarely read object
/// is as likely as any of a hundred loads of another), pick an older write for it to read (see
/// [`target`]: a value it did not see comes first), replay the parent up to just before the write
/// that hid that value (or before the lock its writer took for it), and run the reader until it
/// has made that read. The rest, and every fourth execution, is partial order sampling. The values
/// come from the execution's record when it ends ([`Strategy::finished`]).
pub(crate) struct Rff {
    rng: ChaCha8Rng,
    pos: Pos,
    decisions: Vec<usize>,
    /// Whether the current step was chosen by `next` (rather than forced).
    decided: bool,
    trace: Vec<Seen>,
    /// By task: accesses already in the trace (a blocked lock is announced to `ran` again).
    counted: Vec<usize>,
    last_write: HashMap<usize, Id>,
    pairs: HashSet<(Id, Option<Id>)>,
    new_pair: bool,
    pool: Vec<Parent>,
    plan: Option<Plan>,
    runner_done: bool,
    started: bool,
}

/// Parents kept; the oldest goes first.
const POOL: usize = 64;

impl Rff {
    pub(crate) fn new(seed: u64) -> Self {
        Rff {
            rng: ChaCha8Rng::seed_from_u64(seed),
            pos: Pos::new(seed ^ 0x5EED_F00D),
            decisions: Vec::new(),
            decided: false,
            trace: Vec::new(),
            counted: Vec::new(),
            last_write: HashMap::new(),
            pairs: HashSet::new(),
            new_pair: false,
            pool: Vec::new(),
            plan: None,
            runner_done: false,
            started: false,
        }
    }

    /// A mutation of a random pool member, if one can be made.
    fn mutate(&mut self) -> Option<Plan> {
        let parent = &self.pool[self.rng.gen_range(0..self.pool.len())];
        let mut objects: Vec<usize> = parent
            .trace
            .iter()
            .filter(|s| s.access.kind == AccessKind::Read)
            .map(|s| s.access.obj)
            .collect();
        objects.sort_unstable();
        objects.dedup();
        for _ in 0..8 {
            let obj = *objects.get(self.rng.gen_range(0..objects.len().max(1)))?;
            let reads: Vec<usize> = (0..parent.trace.len())
                .filter(|&i| {
                    parent.trace[i].access
                        == Access {
                            obj,
                            kind: AccessKind::Read,
                        }
                })
                .collect();
            let r = reads[self.rng.gen_range(0..reads.len())];
            // The writes on the object before the read, oldest first: the read saw the last one.
            let writes: Vec<usize> = (0..r)
                .filter(|&i| {
                    let a = parent.trace[i].access;
                    a.obj == obj && a.kind == AccessKind::Write
                })
                .collect();
            if writes.is_empty() {
                continue;
            }
            let read = parent.trace[r].id;
            let Some(k) = target(&mut self.rng, &self.pairs, parent, read, parent.trace[r].value, &writes) else {
                continue;
            };
            let before = writes[k];
            // A write made under a lock cannot be overtaken by a reader that needs the same lock:
            // move the read before the writer's last lock acquisition instead.
            let writer = parent.trace[before].id.0;
            let at = (0..before)
                .rev()
                .take_while(|&i| parent.trace[i].id.0 != writer || parent.trace[i].access.kind != AccessKind::Write)
                .find(|&i| parent.trace[i].id.0 == writer && parent.trace[i].access.kind == AccessKind::Lock)
                .unwrap_or(before);
            let decision = parent.trace[at].decision;
            return Some(Plan {
                prefix: parent.decisions[..decision.min(parent.decisions.len())].to_vec(),
                runner: read.0,
                until: read.1,
            });
        }
        None
    }
}

/// Which write to move a read before, as an index into `writes` (the writes on its object before
/// it, oldest first): moving it before `writes[0]` makes it read the initial value, before
/// `writes[k]` makes it read `writes[k - 1]`. A program tells reads-from pairs apart only by the
/// value read, so the targets that give the read a value it did not see come first (the initial
/// value counts as one unless known to be the same), then any pair not seen yet; within them each
/// distinct value is equally likely, so the one write of a rare value is not drowned by a hundred
/// writes of a common one.
fn target(
    rng: &mut ChaCha8Rng,
    pairs: &HashSet<(Id, Option<Id>)>,
    parent: &Parent,
    read: Id,
    observed: Option<Value>,
    writes: &[usize],
) -> Option<usize> {
    // (index into `writes`, the value the read would see, whether its pair is new)
    let options: Vec<(usize, Option<Value>, bool)> = (0..writes.len())
        .map(|k| {
            if k == 0 {
                (0, None, !pairs.contains(&(read, None)))
            } else {
                let w = &parent.trace[writes[k - 1]];
                (k, w.value, !pairs.contains(&(read, Some(w.id))))
            }
        })
        .collect();
    let differs = |v: Option<Value>| v.is_none() || observed.is_none() || v != observed;
    // Preferred: a value the read did not see, by a pair not seen yet; then a value it did not
    // see, even by a pair seen in another execution (with its other reads it is a new
    // combination); then a new pair; then anything.
    let tiers: [fn(bool, bool) -> bool; 4] = [|d, n| d && n, |d, _| d, |_, n| n, |_, _| true];
    let tier: Vec<(usize, Option<Value>)> = tiers
        .iter()
        .map(|keep| {
            options
                .iter()
                .filter(|o| keep(differs(o.1), o.2))
                .map(|o| (o.0, o.1))
                .collect::<Vec<_>>()
        })
        .find(|t| !t.is_empty())?;
    // Distinct values in first-seen order (the initial value, unknown, stands alone).
    let mut values: Vec<Option<Value>> = Vec::new();
    for &(k, v) in &tier {
        if k == 0 || !values.contains(&v) {
            values.push(v);
        }
    }
    let pick = rng.gen_range(0..values.len());
    if tier[0].0 == 0 && pick == 0 {
        return Some(0);
    }
    let v = values[pick];
    let with_value: Vec<usize> = tier
        .iter()
        .filter(|&&(k, w)| k != 0 && w == v)
        .map(|&(k, _)| k)
        .collect();
    Some(with_value[rng.gen_range(0..with_value.len())])
}

impl Strategy for Rff {
    fn new_execution(&mut self) -> bool {
        if self.started && self.new_pair {
            if self.pool.len() >= POOL {
                self.pool.remove(0);
            }
            self.pool.push(Parent {
                decisions: std::mem::take(&mut self.decisions),
                trace: std::mem::take(&mut self.trace),
            });
        }
        self.started = true;
        self.decisions.clear();
        self.trace.clear();
        self.counted.clear();
        self.last_write.clear();
        self.new_pair = false;
        self.runner_done = false;
        self.pos.new_execution();
        self.plan = if !self.pool.is_empty() && self.rng.gen_range(0..4) != 0 {
            self.mutate()
        } else {
            None
        };
        true
    }

    fn wants_upcoming(&self) -> bool {
        true
    }

    fn upcoming(&mut self, upcoming: &Upcoming<'_>) {
        self.pos.upcoming(upcoming);
    }

    fn choose(&mut self, point: &Alternatives) -> Option<usize> {
        // The surprises std permits, drawn uniformly as `Random` does.
        Some(self.rng.gen_range(0..point.count))
    }

    fn next(&mut self, runnable: &[usize], _current: Option<usize>, _yielding: bool) -> Option<usize> {
        let at = self.decisions.len();
        let forced = match &mut self.plan {
            Some(plan) if at < plan.prefix.len() => {
                if runnable.contains(&plan.prefix[at]) {
                    Some(plan.prefix[at])
                } else {
                    // The execution left the parent's path: go straight to the reader.
                    plan.prefix.truncate(at);
                    runnable.contains(&plan.runner).then_some(plan.runner)
                }
            }
            Some(plan) if !self.runner_done && runnable.contains(&plan.runner) => Some(plan.runner),
            _ => None,
        };
        let choice = self.pos.next_or(runnable, forced)?;
        self.decisions.push(choice);
        self.decided = true;
        Some(choice)
    }

    fn ran(&mut self, task: usize, access: Option<(Access, usize)>) {
        let decision = self.decisions.len() - usize::from(std::mem::take(&mut self.decided));
        let Some((access, index)) = access else { return };
        if self.counted.len() <= task {
            self.counted.resize(task + 1, 0);
        }
        if index < self.counted[task] {
            return;
        }
        self.counted[task] = index + 1;
        if let Some(plan) = &self.plan {
            if plan.runner == task && index >= plan.until {
                self.runner_done = true;
            }
        }
        let id = (task, index);
        match access.kind {
            AccessKind::Read => {
                let from = self.last_write.get(&access.obj).copied();
                if self.pairs.insert((id, from)) {
                    self.new_pair = true;
                }
            }
            AccessKind::Write => {
                self.last_write.insert(access.obj, id);
            }
            AccessKind::Lock | AccessKind::SharedLock => {}
        }
        self.trace.push(Seen {
            id,
            access,
            decision,
            value: None,
        });
    }

    fn finished(&mut self, events: &[Event]) {
        // The k-th value event of a task on an atomic is the value of its k-th access to it in
        // the trace: each announced atomic access records exactly one event after it runs.
        let mut values: HashMap<(usize, usize), Vec<Option<Value>>> = HashMap::new();
        for e in events {
            let (obj, value) = match e.kind {
                EventKind::Load { obj, value } | EventKind::Store { obj, value } => (obj, Some(value)),
                EventKind::Rmw { obj, new, .. } => (obj, Some(new)),
                EventKind::CasFailed { obj, .. } | EventKind::CasFailedSpuriously { obj, .. } => (obj, None),
                _ => continue,
            };
            values.entry((e.thread, obj)).or_default().push(value);
        }
        let mut taken: HashMap<(usize, usize), usize> = HashMap::new();
        for seen in &mut self.trace {
            let key = (seen.id.0, seen.access.obj);
            let Some(list) = values.get(&key) else { continue };
            let k = taken.entry(key).or_insert(0);
            seen.value = list.get(*k).copied().flatten();
            *k += 1;
        }
    }
}
