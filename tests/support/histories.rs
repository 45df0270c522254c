//! Shared by the tests and the benchmark: parsers for the Jepsen-style histories in
//! `../shared/histories`, the models they are checked against, and checks of verdict artefacts.
#![allow(dead_code)]

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crosscheck::history::{History, OpId};
use crosscheck::Model;

/// The shared histories folder, or why it is unusable.
pub fn histories_dir() -> Result<PathBuf, String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/histories");
    if dir.join("jepsen/VERDICTS").is_file() && dir.join("kv").is_dir() {
        Ok(dir)
    } else {
        Err(format!("{} (with jepsen/VERDICTS and kv/) not found", dir.display()))
    }
}

/// `(name, path, expected linearizable)` for every etcd history with a verdict.
pub fn etcd_cases(dir: &Path) -> Vec<(String, PathBuf, bool)> {
    let verdicts = std::fs::read_to_string(dir.join("jepsen/VERDICTS")).expect("read VERDICTS");
    verdicts
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let mut fields = line.split_whitespace();
            let name = fields.next().unwrap().to_string();
            let expected = match fields.next() {
                Some("linearizable") => true,
                Some("not-linearizable") => false,
                other => panic!("VERDICTS: bad verdict {other:?} in {line:?}"),
            };
            let path = dir.join(format!("jepsen/{name}.log"));
            (name, path, expected)
        })
        .collect()
}

/// `(name, path, expected linearizable)` for the kv histories.
pub fn kv_cases(dir: &Path) -> Vec<(String, PathBuf, bool)> {
    let mut cases = Vec::new();
    for clients in ["c01", "c10", "c50"] {
        for verdict in ["ok", "bad"] {
            let name = format!("{clients}-{verdict}");
            let path = dir.join(format!("kv/{name}.txt"));
            cases.push((name, path, verdict == "ok"));
        }
    }
    cases
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

// ---------------------------------------------------------------------------------------------
// Register (etcd)

/// A register holding an integer, initially empty.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Register(pub Option<i64>);

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegOp {
    Read,
    Write(i64),
    Cas(i64, i64),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegOut {
    Read(Option<i64>),
    Write,
    /// Whether the compare-and-set swapped.
    Cas(bool),
    /// The operation's result was lost (a timed-out read): anything matches.
    Unknown,
}

impl Model for Register {
    type Op = RegOp;
    type Output = RegOut;

    fn step(&mut self, op: &RegOp) -> RegOut {
        match *op {
            RegOp::Read => RegOut::Read(self.0),
            RegOp::Write(v) => {
                self.0 = Some(v);
                RegOut::Write
            }
            RegOp::Cas(from, to) => {
                let swapped = self.0 == Some(from);
                if swapped {
                    self.0 = Some(to);
                }
                RegOut::Cas(swapped)
            }
        }
    }

    fn step_matches(&mut self, op: &RegOp, actual: &RegOut) -> bool {
        let out = self.step(op);
        *actual == RegOut::Unknown || out == *actual
    }
}

pub fn parse_etcd(path: &Path) -> Result<History<RegOp, RegOut>, String> {
    parse_etcd_str(&path.display().to_string(), &read(path)?)
}

fn etcd_number(token: &str) -> Result<i64, String> {
    token.parse().map_err(|_| format!("expected a number, found {token:?}"))
}

/// Parses the `jepsen.util` lines of an etcd log; `name` is used in error messages.
pub fn parse_etcd_str(name: &str, text: &str) -> Result<History<RegOp, RegOut>, String> {
    let mut history = History::new();
    let mut pending: HashMap<usize, (OpId, RegOp)> = HashMap::new();
    for (index, line) in text.lines().enumerate() {
        let Some(at) = line.find("jepsen.util") else {
            continue;
        };
        let fail = |message: String| format!("{name}:{}: {message}: {line:?}", index + 1);
        let rest = &line[at + "jepsen.util".len()..];
        let rest = rest.trim_start().strip_prefix('-').unwrap_or(rest);
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.len() < 3 {
            return Err(fail("expected `PROCESS :TYPE :F [ARGS]`".into()));
        }
        let process: usize = fields[0]
            .parse()
            .map_err(|_| fail(format!("bad process number {:?}", fields[0])))?;
        let args = &fields[3..];
        let kind = fields[1];
        let f = fields[2];
        if kind == ":invoke" {
            let op = match (f, args) {
                (":read", _) => RegOp::Read,
                (":write", [v]) => RegOp::Write(etcd_number(v).map_err(&fail)?),
                (":cas", [a, b]) => {
                    let a = a.strip_prefix('[').ok_or_else(|| fail("expected `[FROM`".into()))?;
                    let b = b.strip_suffix(']').ok_or_else(|| fail("expected `TO]`".into()))?;
                    RegOp::Cas(etcd_number(a).map_err(&fail)?, etcd_number(b).map_err(&fail)?)
                }
                _ => return Err(fail(format!("bad invocation of {f}"))),
            };
            if pending.contains_key(&process) {
                return Err(fail(format!("process {process} invoked twice")));
            }
            let id = history.invoke(process, op.clone());
            pending.insert(process, (id, op));
            continue;
        }
        let Some((id, op)) = pending.remove(&process) else {
            return Err(fail(format!("no pending operation for process {process}")));
        };
        let expected_f = match op {
            RegOp::Read => ":read",
            RegOp::Write(_) => ":write",
            RegOp::Cas(..) => ":cas",
        };
        if f != expected_f {
            return Err(fail(format!("{f} completes a pending {expected_f}")));
        }
        let output = match (kind, &op) {
            (":info", _) => continue,
            (":ok", RegOp::Read) => match args {
                ["nil"] => RegOut::Read(None),
                [v] => RegOut::Read(Some(etcd_number(v).map_err(&fail)?)),
                _ => return Err(fail("expected the value read".into())),
            },
            (":ok", RegOp::Write(_)) => RegOut::Write,
            (":ok", RegOp::Cas(..)) => RegOut::Cas(true),
            (":fail", RegOp::Cas(..)) => RegOut::Cas(false),
            (":fail", RegOp::Read) => RegOut::Unknown,
            _ => return Err(fail(format!("unsupported event {kind} {f}"))),
        };
        history.ret(id, output).map_err(|e| fail(e.to_string()))?;
    }
    Ok(history)
}

// ---------------------------------------------------------------------------------------------
// Key-value store

/// A string value with a hash of its content maintained as it grows, so that the checker, which
/// clones, hashes and compares states at every step, does so in O(1) (clones share the text).
#[derive(Clone, Debug)]
pub struct Text {
    text: Arc<str>,
    hash: u64,
}

impl Text {
    fn new(text: &str) -> Text {
        Text {
            text: text.into(),
            hash: extend_hash(0, text),
        }
    }

    fn append(&self, suffix: &str) -> Text {
        let mut text = String::with_capacity(self.text.len() + suffix.len());
        text.push_str(&self.text);
        text.push_str(suffix);
        Text {
            text: text.into(),
            hash: extend_hash(self.hash, suffix),
        }
    }
}

/// A polynomial hash, so that the hash of `a + b` can be computed from the hash of `a`.
fn extend_hash(hash: u64, suffix: &str) -> u64 {
    suffix.bytes().fold(hash, |h, b| {
        h.wrapping_mul(0x100_0000_01b3).wrapping_add(u64::from(b) + 1)
    })
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.hash == other.hash && (Arc::ptr_eq(&self.text, &other.text) || self.text == other.text)
    }
}

impl Eq for Text {}

impl Hash for Text {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

/// A string key-value store; `PARTITIONED` says whether keys are checked separately. The
/// entries are few (one per key when partitioned), kept sorted by key in a `Vec`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct KvStore<const PARTITIONED: bool>(Vec<(Arc<str>, Text)>);

/// Checked key by key.
pub type Kv = KvStore<true>;
/// Checked as a whole (for comparison).
pub type KvUnpartitioned = KvStore<false>;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KvOp {
    Get(Arc<str>),
    Put(Arc<str>, Arc<str>),
    Append(Arc<str>, Arc<str>),
}

impl KvOp {
    pub fn key(&self) -> &Arc<str> {
        match self {
            KvOp::Get(k) | KvOp::Put(k, _) | KvOp::Append(k, _) => k,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KvOut {
    Value(String),
    Done,
    Unknown,
}

impl<const PARTITIONED: bool> KvStore<PARTITIONED> {
    fn get(&self, key: &str) -> &str {
        match self.0.binary_search_by(|(k, _)| (**k).cmp(key)) {
            Ok(i) => &self.0[i].1.text,
            Err(_) => "",
        }
    }

    fn update(&mut self, key: &Arc<str>, f: impl FnOnce(Option<&Text>) -> Text) {
        match self.0.binary_search_by(|(k, _)| (**k).cmp(key)) {
            Ok(i) => self.0[i].1 = f(Some(&self.0[i].1)),
            Err(i) => self.0.insert(i, (key.clone(), f(None))),
        }
    }
}

impl<const PARTITIONED: bool> Model for KvStore<PARTITIONED> {
    type Op = KvOp;
    type Output = KvOut;

    fn step(&mut self, op: &KvOp) -> KvOut {
        match op {
            KvOp::Get(k) => KvOut::Value(self.get(k).to_string()),
            KvOp::Put(k, v) => {
                self.update(k, |_| Text::new(v));
                KvOut::Done
            }
            KvOp::Append(k, v) => {
                self.update(k, |old| match old {
                    Some(old) => old.append(v),
                    None => Text::new(v),
                });
                KvOut::Done
            }
        }
    }

    fn step_matches(&mut self, op: &KvOp, actual: &KvOut) -> bool {
        match (op, actual) {
            // Compare reads in place rather than building the output.
            (KvOp::Get(k), KvOut::Value(v)) => self.get(k) == v,
            (_, KvOut::Unknown) => {
                self.step(op);
                true
            }
            _ => self.step(op) == *actual,
        }
    }

    fn partition(op: &KvOp) -> Option<u64> {
        if PARTITIONED {
            let mut hasher = DefaultHasher::new();
            op.key().hash(&mut hasher);
            Some(hasher.finish())
        } else {
            None
        }
    }
}

/// Splits `{:a 1, :b "x"}` into `(a, value)` pairs; string values are unquoted, `nil` is `None`.
fn parse_clojure_map(line: &str) -> Result<Vec<(String, Option<String>)>, String> {
    let body = line
        .trim()
        .strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
        .ok_or("expected a `{...}` map")?;
    let mut chars = body.chars().peekable();
    let mut pairs = Vec::new();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        match chars.next() {
            None => return Ok(pairs),
            Some(':') => {}
            Some(c) => return Err(format!("expected a `:keyword`, found {c:?}")),
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() || c == ',' {
                break;
            }
            key.push(c);
            chars.next();
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let value = if chars.peek() == Some(&'"') {
            chars.next();
            let mut s = String::new();
            loop {
                match chars.next() {
                    None => return Err(format!("unterminated string for :{key}")),
                    Some('"') => break,
                    Some('\\') => s.push(chars.next().ok_or("dangling escape")?),
                    Some(c) => s.push(c),
                }
            }
            Some(s)
        } else {
            let mut s = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || c == ',' {
                    break;
                }
                s.push(c);
                chars.next();
            }
            if s.is_empty() {
                return Err(format!("missing value for :{key}"));
            }
            (s != "nil").then_some(s)
        };
        pairs.push((key, value));
    }
}

pub fn parse_kv(path: &Path) -> Result<History<KvOp, KvOut>, String> {
    parse_kv_str(&path.display().to_string(), &read(path)?)
}

/// Parses a kv history, one Clojure map per line; `name` is used in error messages.
pub fn parse_kv_str(name: &str, text: &str) -> Result<History<KvOp, KvOut>, String> {
    let mut history = History::new();
    let mut pending: HashMap<usize, (OpId, KvOp)> = HashMap::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let fail = |message: String| format!("{name}:{}: {message}: {line:?}", index + 1);
        let pairs = parse_clojure_map(line).map_err(&fail)?;
        let field = |k: &str| {
            pairs
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
                .ok_or_else(|| fail(format!("missing :{k}")))
        };
        let required = |k: &str| field(k)?.ok_or_else(|| fail(format!(":{k} is nil")));
        let process: usize = required("process")?.parse().map_err(|_| fail("bad :process".into()))?;
        let kind = required("type")?;
        let f = required("f")?;
        if kind == ":invoke" {
            let key: Arc<str> = required("key")?.into();
            let op = match f.as_str() {
                ":get" => KvOp::Get(key),
                ":put" => KvOp::Put(key, required("value")?.into()),
                ":append" => KvOp::Append(key, required("value")?.into()),
                other => return Err(fail(format!("unknown :f {other}"))),
            };
            if pending.contains_key(&process) {
                return Err(fail(format!("process {process} invoked twice")));
            }
            let id = history.invoke(process, op.clone());
            pending.insert(process, (id, op));
            continue;
        }
        let Some((id, op)) = pending.remove(&process) else {
            return Err(fail(format!("no pending operation for process {process}")));
        };
        let output = match (kind.as_str(), &op) {
            (":info", _) => continue,
            (":ok", KvOp::Get(_)) => KvOut::Value(field("value")?.unwrap_or_default()),
            (":ok", _) => KvOut::Done,
            (":fail", KvOp::Get(_)) => KvOut::Unknown,
            (other, _) => return Err(fail(format!("unsupported :type {other} for {op:?}"))),
        };
        history.ret(id, output).map_err(|e| fail(e.to_string()))?;
    }
    Ok(history)
}

// ---------------------------------------------------------------------------------------------
// Checks of verdict artefacts

/// Checks that `order` lists distinct ops of `history`, respects real time, and replays on fresh
/// models (one per partition) with every completed op's recorded output.
pub fn check_order<M: Model>(history: &History<M::Op, M::Output>, order: &[OpId]) -> Result<(), String> {
    let mut seen = vec![false; history.len()];
    let mut models: HashMap<Option<u64>, M> = HashMap::new();
    let mut latest_invocation = 0;
    for (position, &id) in order.iter().enumerate() {
        let op = history.get(id).ok_or_else(|| format!("{id} is not in the history"))?;
        if std::mem::replace(&mut seen[id.0], true) {
            return Err(format!("{id} appears twice"));
        }
        // Some earlier op was invoked after this one returned.
        if op.returned.is_some_and(|r| r < latest_invocation) {
            return Err(format!("{id} at position {position} violates real-time order"));
        }
        latest_invocation = latest_invocation.max(op.invoked);
        let model = models.entry(M::partition(&op.op)).or_default();
        match (&op.output, op.returned) {
            (Some(output), Some(_)) => {
                if !model.step_matches(&op.op, output) {
                    return Err(format!(
                        "{id} ({:?}) at position {position} cannot return {output:?}",
                        op.op
                    ));
                }
            }
            _ => {
                model.step(&op.op);
            }
        }
    }
    Ok(())
}

/// Checks a witness: a replayable order containing every completed op.
pub fn check_witness<M: Model>(history: &History<M::Op, M::Output>, order: &[OpId]) -> Result<(), String> {
    check_order::<M>(history, order)?;
    let included: std::collections::HashSet<OpId> = order.iter().copied().collect();
    for op in history.operations() {
        if op.returned.is_some() && !included.contains(&op.id) {
            return Err(format!("completed op {} is missing from the witness", op.id));
        }
    }
    Ok(())
}

/// Checks evidence: the prefix replays, the unplaceable ops are non-empty, outside the prefix,
/// all in the reported partition, minimal in real time after the prefix, and rejected there.
pub fn check_evidence<M: Model>(
    history: &History<M::Op, M::Output>,
    partition: Option<u64>,
    prefix: &[OpId],
    unplaceable: &[OpId],
) -> Result<(), String> {
    check_order::<M>(history, prefix)?;
    if unplaceable.is_empty() {
        return Err("no unplaceable op".into());
    }
    let in_partition = |id: &OpId| history.get(*id).is_some_and(|op| M::partition(&op.op) == partition);
    if let Some(id) = prefix.iter().chain(unplaceable).find(|id| !in_partition(id)) {
        return Err(format!("{id} is not in partition {partition:?}"));
    }
    let mut model = M::default();
    for id in prefix {
        let op = history.get(*id).unwrap();
        model.step(&op.op);
    }
    let horizon = history
        .operations()
        .iter()
        .filter(|op| in_partition(&op.id) && !prefix.contains(&op.id))
        .filter_map(|op| op.returned)
        .min()
        .ok_or("every op of the partition is in the prefix")?;
    for id in unplaceable {
        if prefix.contains(id) {
            return Err(format!("unplaceable {id} is in the prefix"));
        }
        let op = history.get(*id).unwrap();
        if op.invoked > horizon {
            return Err(format!("unplaceable {id} is not minimal after the prefix"));
        }
        let output = op.output.as_ref().ok_or(format!("unplaceable {id} is pending"))?;
        if model.clone().step_matches(&op.op, output) {
            return Err(format!("unplaceable {id} can in fact be placed"));
        }
    }
    Ok(())
}
