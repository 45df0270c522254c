//! What runs: an init part on one thread, a parallel part (one list of operations per thread), and
//! a post part on one thread once the others have joined.
//!
//! A generated scenario is represented by bytes crosscheck lays out itself: a small header of
//! counts, then one length-prefixed chunk per operation, each decoded with [`Arbitrary`]. Dropping a
//! thread or an operation, or simplifying an operation's value, is an edit of those bytes, so replay
//! tokens (and later shrinking and fuzzing) share one representation.

use std::fmt;
use std::ops::RangeInclusive;

use arbitrary::{Arbitrary, Unstructured};
use rand::{Rng, RngCore};

/// The version byte that starts every scenario encoding.
pub(crate) const LAYOUT_VERSION: u8 = 1;

/// A scenario: the operations each part of one execution performs.
///
/// ```
/// use crosscheck::Scenario;
/// let s = Scenario { init: vec![], threads: vec![vec!["inc"], vec!["inc"]], post: vec!["get"] };
/// assert_eq!(s.len(), 3);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scenario<Op> {
    /// Run first, on the harness's main thread, before any other thread starts.
    pub init: Vec<Op>,
    /// The parallel part: thread `i` runs `threads[i]` in order.
    pub threads: Vec<Vec<Op>>,
    /// Run last, on the main thread, after every thread has joined.
    pub post: Vec<Op>,
}

impl<Op> Default for Scenario<Op> {
    fn default() -> Self {
        Scenario {
            init: Vec::new(),
            threads: Vec::new(),
            post: Vec::new(),
        }
    }
}

impl<Op> Scenario<Op> {
    /// The operation at `index`, counting the init part, then each thread in order, then the post
    /// part (the numbering histories and reports use).
    ///
    /// # Panics
    /// If `index` is not below [`Scenario::len`].
    pub fn op(&self, index: usize) -> &Op {
        let mut i = index;
        if i < self.init.len() {
            return &self.init[i];
        }
        i -= self.init.len();
        for thread in &self.threads {
            if i < thread.len() {
                return &thread[i];
            }
            i -= thread.len();
        }
        &self.post[i]
    }

    /// How many operations the scenario has in all.
    pub fn len(&self) -> usize {
        self.init.len() + self.threads.iter().map(Vec::len).sum::<usize>() + self.post.len()
    }

    /// True if the scenario has no operation.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// "2 threads x 1 op, post 1": a short description of the scenario's size.
    pub fn shape(&self) -> String {
        let max = self.threads.iter().map(Vec::len).max().unwrap_or(0);
        let mut s = format!(
            "{} thread{} x {} op{}",
            self.threads.len(),
            plural(self.threads.len()),
            max,
            plural(max)
        );
        if !self.init.is_empty() {
            s += &format!(", init {}", self.init.len());
        }
        if !self.post.is_empty() {
            s += &format!(", post {}", self.post.len());
        }
        s
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The sizes generated scenarios are drawn from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Shape {
    pub init: RangeInclusive<usize>,
    pub threads: RangeInclusive<usize>,
    pub ops_per_thread: RangeInclusive<usize>,
    pub post: RangeInclusive<usize>,
}

impl Default for Shape {
    fn default() -> Self {
        Shape {
            init: 0..=1,
            threads: 2..=3,
            ops_per_thread: 1..=3,
            post: 0..=1,
        }
    }
}

/// Why scenario bytes could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ScenarioError {
    Truncated,
    Version(u8),
    Op { index: usize, reason: String },
    TrailingBytes(usize),
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScenarioError::Truncated => write!(f, "the scenario bytes end early"),
            ScenarioError::Version(v) => write!(f, "scenario layout version {v} is not one this crosscheck reads"),
            ScenarioError::Op { index, reason } => {
                write!(f, "operation {index} does not decode: {reason}")
            }
            ScenarioError::TrailingBytes(n) => {
                write!(f, "{n} unexpected bytes after the last operation")
            }
        }
    }
}

/// How many bytes to draw for one operation of type `Op`.
pub(crate) fn chunk_len<Op: for<'a> Arbitrary<'a>>() -> usize {
    let (lo, hi) = Op::size_hint(0);
    hi.unwrap_or(lo + 8).clamp(lo.max(1), 64).min(255)
}

/// Draws the bytes of one scenario of the given shape.
pub(crate) fn generate(rng: &mut impl RngCore, shape: &Shape, chunk: usize) -> Vec<u8> {
    let mut pick = |r: &RangeInclusive<usize>| rng.gen_range(r.clone()).min(255);
    let init = pick(&shape.init);
    let threads = pick(&shape.threads);
    let per_thread: Vec<usize> = (0..threads).map(|_| pick(&shape.ops_per_thread)).collect();
    let post = pick(&shape.post);
    lay_out(init, &per_thread, post, chunk, |bytes| rng.fill_bytes(bytes))
}

/// The one writer of the scenario layout: the header of counts, then one `chunk`-byte chunk per
/// operation (init, each thread, post), each filled by `fill`. Counts are capped at 255.
pub(crate) fn lay_out(
    init: usize,
    per_thread: &[usize],
    post: usize,
    chunk: usize,
    mut fill: impl FnMut(&mut [u8]),
) -> Vec<u8> {
    let cap = |n: usize| n.min(255) as u8;
    let per_thread = &per_thread[..per_thread.len().min(255)];
    let mut bytes = vec![LAYOUT_VERSION, cap(init), cap(per_thread.len())];
    bytes.extend(per_thread.iter().map(|&n| cap(n)));
    bytes.push(cap(post));
    let ops = usize::from(cap(init))
        + per_thread.iter().map(|&n| usize::from(cap(n))).sum::<usize>()
        + usize::from(cap(post));
    let chunk = chunk.min(255);
    for _ in 0..ops {
        bytes.push(chunk as u8);
        let start = bytes.len();
        bytes.resize(start + chunk, 0);
        fill(&mut bytes[start..]);
    }
    bytes
}

/// A scenario's bytes split into its parts: one chunk per operation. Shrinking edits this form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Chunks {
    pub init: Vec<Vec<u8>>,
    pub threads: Vec<Vec<Vec<u8>>>,
    pub post: Vec<Vec<u8>>,
}

impl Chunks {
    /// Splits bytes laid out by [`generate`] (or [`Chunks::encode`]).
    pub(crate) fn parse(bytes: &[u8]) -> Result<Chunks, ScenarioError> {
        let mut rest = bytes;
        let byte = |rest: &mut &[u8]| -> Result<u8, ScenarioError> {
            let (&b, tail) = rest.split_first().ok_or(ScenarioError::Truncated)?;
            *rest = tail;
            Ok(b)
        };
        let version = byte(&mut rest)?;
        if version != LAYOUT_VERSION {
            return Err(ScenarioError::Version(version));
        }
        let init = byte(&mut rest)? as usize;
        let threads = byte(&mut rest)? as usize;
        let mut per_thread = Vec::with_capacity(threads);
        for _ in 0..threads {
            per_thread.push(byte(&mut rest)? as usize);
        }
        let post = byte(&mut rest)? as usize;
        let chunk = |rest: &mut &[u8]| -> Result<Vec<u8>, ScenarioError> {
            let (&len, tail) = rest.split_first().ok_or(ScenarioError::Truncated)?;
            if tail.len() < len as usize {
                return Err(ScenarioError::Truncated);
            }
            let (c, tail) = tail.split_at(len as usize);
            *rest = tail;
            Ok(c.to_vec())
        };
        let mut chunks = Chunks {
            init: Vec::new(),
            threads: Vec::new(),
            post: Vec::new(),
        };
        for _ in 0..init {
            chunks.init.push(chunk(&mut rest)?);
        }
        for &n in &per_thread {
            let mut ops = Vec::with_capacity(n);
            for _ in 0..n {
                ops.push(chunk(&mut rest)?);
            }
            chunks.threads.push(ops);
        }
        for _ in 0..post {
            chunks.post.push(chunk(&mut rest)?);
        }
        if !rest.is_empty() {
            return Err(ScenarioError::TrailingBytes(rest.len()));
        }
        Ok(chunks)
    }

    /// Lays the chunks out as scenario bytes. Parts longer than 255 operations, or chunks longer
    /// than 255 bytes, are cut: the layout has one byte for each count.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let cap = |n: usize| n.min(255) as u8;
        let mut bytes = vec![LAYOUT_VERSION, cap(self.init.len()), cap(self.threads.len())];
        bytes.extend(self.threads.iter().take(255).map(|t| cap(t.len())));
        bytes.push(cap(self.post.len()));
        let ops = self.init.iter().take(255);
        let ops = ops.chain(self.threads.iter().take(255).flat_map(|t| t.iter().take(255)));
        for c in ops.chain(self.post.iter().take(255)) {
            bytes.push(cap(c.len()));
            bytes.extend_from_slice(&c[..c.len().min(255)]);
        }
        bytes
    }

    /// Decodes every chunk with `Arbitrary`.
    pub(crate) fn decode<Op: for<'a> Arbitrary<'a>>(&self) -> Result<Scenario<Op>, ScenarioError> {
        let mut index = 0;
        let mut op = |chunk: &Vec<u8>| -> Result<Op, ScenarioError> {
            let decoded = Op::arbitrary_take_rest(Unstructured::new(chunk)).map_err(|e| ScenarioError::Op {
                index,
                reason: e.to_string(),
            });
            index += 1;
            decoded
        };
        Ok(Scenario {
            init: self.init.iter().map(&mut op).collect::<Result<_, _>>()?,
            threads: self
                .threads
                .iter()
                .map(|t| t.iter().map(&mut op).collect::<Result<_, _>>())
                .collect::<Result<_, _>>()?,
            post: self.post.iter().map(&mut op).collect::<Result<_, _>>()?,
        })
    }

    /// What shrinking makes smaller, most important first: threads, operations that run in
    /// parallel, operations, then the bytes of their values.
    pub(crate) fn size(&self) -> (usize, usize, usize, usize, u64) {
        let all = || {
            self.init
                .iter()
                .chain(self.threads.iter().flatten())
                .chain(self.post.iter())
        };
        (
            self.threads.len(),
            self.threads.iter().map(Vec::len).sum(),
            all().count(),
            all().map(Vec::len).sum(),
            all().flatten().map(|&b| u64::from(b)).sum(),
        )
    }
}

/// Decodes scenario bytes laid out by [`generate`].
pub(crate) fn decode<Op: for<'a> Arbitrary<'a>>(bytes: &[u8]) -> Result<Scenario<Op>, ScenarioError> {
    Chunks::parse(bytes)?.decode()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[derive(Clone, Debug, PartialEq, Arbitrary)]
    enum Op {
        A,
        B(u8),
    }

    #[test]
    fn generated_bytes_decode_to_the_drawn_shape() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        for _ in 0..200 {
            let bytes = generate(&mut rng, &Shape::default(), chunk_len::<Op>());
            let s: Scenario<Op> = decode(&bytes).unwrap();
            assert!((2..=3).contains(&s.threads.len()));
            assert!(s.threads.iter().all(|t| (1..=3).contains(&t.len())));
            assert!(s.init.len() <= 1 && s.post.len() <= 1);
        }
    }

    #[test]
    fn truncated_or_foreign_bytes_are_errors() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
        let bytes = generate(&mut rng, &Shape::default(), chunk_len::<Op>());
        for cut in 0..bytes.len() {
            assert!(decode::<Op>(&bytes[..cut]).is_err(), "prefix of {cut} bytes decoded");
        }
        let mut wrong = bytes.clone();
        wrong[0] = 9;
        assert_eq!(decode::<Op>(&wrong), Err(ScenarioError::Version(9)));
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(decode::<Op>(&longer), Err(ScenarioError::TrailingBytes(1)));
        assert_eq!(Chunks::parse(&bytes).unwrap().encode(), bytes);
    }
}
