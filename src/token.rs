//! Replay tokens: one printable string that reruns exactly one execution.
//!
//! A token is self-contained: it holds the scenario (its bytes, see [`crate::scenario`]) and the
//! schedule (the thread chosen at each point where several could run, and the alternative taken at
//! each choice point such as a possible spurious wakeup), plus the resource type it
//! was recorded for and a checksum. It does not depend on the generator's seed or settings, so it
//! still replays after the user changes them.
//!
//! Layout, before base64url: version, type hash (4 bytes), type name (length-prefixed), scenario
//! (a tag, then bytes or a fingerprint), schedule (length-prefixed), if the schedule has choice
//! points an `S` section (their count, then their positions in the schedule, each as the gap from
//! the previous one), for a loom failure an `L` section (preemption bound + 1 or 0, execution
//! number), if the check offered short writes a `W` section (one byte: whether std's surprises were
//! on too), FNV-1a checksum (4 bytes). Tokens without these sections are byte-for-byte those of
//! earlier releases; a token without an `S` section replays with the surprises off, as it was
//! recorded (it met no choice point). Without a `W` section, std's surprises are on exactly when
//! the schedule has choice points, and short writes are off: the only case where the schedule
//! cannot say which kinds were offered is a check with short writes on, hence the section.

use std::fmt;

use crate::record::short_name;
use crate::scheduler::Choice;

const PREFIX: &str = "cc1_";
const VERSION: u8 = 1;

/// How a token names the scenario it ran.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TokenScenario {
    /// Generated: the scenario's own bytes.
    Bytes(Vec<u8>),
    /// Pinned by the test with `Checker::scenario`: a fingerprint of it, since an explicit
    /// scenario has no byte form; replay needs the same `.scenario(..)`.
    Pinned(u64),
}

/// Where a loom failure sits in loom's exploration: loom explores a scenario's executions in a
/// fixed depth-first order, so the preemption bound and the execution's number pin it exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LoomPath {
    pub preemption_bound: Option<usize>,
    /// 1-based number of the execution in loom's exploration of this scenario.
    pub execution: usize,
}

/// Which kinds of choice point the recorded execution offered: a replay must offer the same ones,
/// or its schedule stops fitting at the first point offered on one side only.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Offered {
    /// Std's surprises: spurious wakeups, weak-CAS failures, early park returns.
    pub spurious: bool,
    /// Short file writes (`Checker::short_writes`).
    pub short_writes: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Token {
    pub type_name: String,
    pub type_hash: u32,
    pub scenario: TokenScenario,
    pub schedule: Vec<Choice>,
    /// Set for a failure found under loom: replay it under loom, not shuttle.
    pub loom: Option<LoomPath>,
    /// Set when the check offered short writes (then it also says whether std's surprises were on).
    pub short_writes: Option<Offered>,
}

/// Why a string is not a usable replay token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TokenError {
    NotAToken,
    Malformed(String),
    Corrupted,
    Version(u8),
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenError::NotAToken => write!(
                f,
                "this is not a crosscheck replay token (tokens start with `{PREFIX}`)"
            ),
            TokenError::Malformed(why) => write!(f, "the replay token is malformed or truncated ({why})"),
            TokenError::Corrupted => write!(
                f,
                "the replay token is corrupted or truncated (its checksum does not match); copy it again, whole"
            ),
            TokenError::Version(v) => write!(
                f,
                "the replay token has format version {v}, which this version of crosscheck does not read"
            ),
        }
    }
}

/// FNV-1a, 32 bits: small, stable across platforms and releases.
pub(crate) fn fnv32(bytes: &[u8]) -> u32 {
    bytes
        .iter()
        .fold(0x811c_9dc5u32, |h, &b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
}

/// FNV-1a, 64 bits.
pub(crate) fn fnv64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn push_varint(out: &mut Vec<u8>, mut n: usize) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

impl Token {
    /// A token for resource type `type_name` (its full path, from `std::any::type_name`).
    pub(crate) fn new(type_name: &str, scenario: TokenScenario, schedule: Vec<Choice>, loom: Option<LoomPath>) -> Self {
        Token {
            type_name: short_name(type_name).to_string(),
            type_hash: fnv32(type_name.as_bytes()),
            scenario,
            schedule,
            loom,
            short_writes: None,
        }
    }

    /// The same token, for a check that offered `offered`.
    pub(crate) fn offering(mut self, offered: Offered) -> Self {
        self.short_writes = offered.short_writes.then_some(offered);
        self
    }

    /// Which kinds of choice point the replay must offer.
    pub(crate) fn offered(&self) -> Offered {
        self.short_writes.unwrap_or(Offered {
            spurious: self.schedule.iter().any(|c| matches!(c, Choice::Alternative(_))),
            short_writes: false,
        })
    }

    /// Whether this token was recorded for resource type `type_name` (its full path). Tokens are
    /// keyed by the type's name without its module path, so that moving the type to another
    /// module, or renaming the crate, keeps saved tokens (and regression files) working; a type
    /// renamed outright needs new tokens.
    pub(crate) fn is_for(&self, type_name: &str) -> bool {
        self.type_name == short_name(type_name)
    }

    pub(crate) fn encode(&self) -> String {
        let mut out = vec![VERSION];
        out.extend_from_slice(&self.type_hash.to_le_bytes());
        let name = self.type_name.as_bytes();
        let name = &name[..name.len().min(255)];
        out.push(name.len() as u8);
        out.extend_from_slice(name);
        match &self.scenario {
            TokenScenario::Bytes(bytes) => {
                out.push(0);
                push_varint(&mut out, bytes.len());
                out.extend_from_slice(bytes);
            }
            TokenScenario::Pinned(fingerprint) => {
                out.push(1);
                out.extend_from_slice(&fingerprint.to_le_bytes());
            }
        }
        push_varint(&mut out, self.schedule.len());
        for &c in &self.schedule {
            push_varint(
                &mut out,
                match c {
                    Choice::Thread(t) => t,
                    Choice::Alternative(k) => k,
                },
            );
        }
        let points: Vec<usize> = (0..self.schedule.len())
            .filter(|&i| matches!(self.schedule[i], Choice::Alternative(_)))
            .collect();
        if !points.is_empty() {
            out.push(b'S');
            push_varint(&mut out, points.len());
            let mut previous = 0;
            for p in points {
                push_varint(&mut out, p - previous);
                previous = p;
            }
        }
        if let Some(offered) = self.short_writes {
            out.push(b'W');
            out.push(u8::from(offered.spurious));
        }
        if let Some(path) = self.loom {
            out.push(b'L');
            push_varint(&mut out, path.preemption_bound.map_or(0, |b| b + 1));
            push_varint(&mut out, path.execution);
        }
        let sum = fnv32(&out);
        out.extend_from_slice(&sum.to_le_bytes());
        format!("{PREFIX}{}", base64::encode(&out))
    }

    pub(crate) fn decode(text: &str) -> Result<Token, TokenError> {
        let text = text.trim();
        let body = text.strip_prefix(PREFIX).ok_or(TokenError::NotAToken)?;
        let bytes =
            base64::decode(body).ok_or_else(|| TokenError::Malformed("a character outside base64url".into()))?;
        if bytes.len() < 5 {
            return Err(TokenError::Malformed("too short".into()));
        }
        let (payload, sum) = bytes.split_at(bytes.len() - 4);
        if fnv32(payload).to_le_bytes() != sum {
            return Err(TokenError::Corrupted);
        }
        let mut r = Reader(payload);
        let version = r.byte()?;
        if version != VERSION {
            return Err(TokenError::Version(version));
        }
        let type_hash = u32::from_le_bytes(r.take(4)?.try_into().expect("4 bytes"));
        let name_len = r.byte()? as usize;
        let type_name = String::from_utf8(r.take(name_len)?.to_vec())
            .map_err(|_| TokenError::Malformed("the type name is not UTF-8".into()))?;
        let scenario = match r.byte()? {
            0 => {
                let len = r.varint()?;
                TokenScenario::Bytes(r.take(len)?.to_vec())
            }
            1 => TokenScenario::Pinned(u64::from_le_bytes(r.take(8)?.try_into().expect("8 bytes"))),
            t => return Err(TokenError::Malformed(format!("unknown scenario tag {t}"))),
        };
        let count = r.varint()?;
        let mut schedule = Vec::with_capacity(count.min(1 << 16));
        for _ in 0..count {
            schedule.push(Choice::Thread(r.varint()?));
        }
        if r.0.first() == Some(&b'S') {
            r.byte()?;
            let points = r.varint()?;
            let mut at = 0;
            for _ in 0..points {
                at += r.varint()?;
                let slot = schedule
                    .get_mut(at)
                    .ok_or_else(|| TokenError::Malformed("a choice point outside the schedule".into()))?;
                match *slot {
                    Choice::Thread(k) => *slot = Choice::Alternative(k),
                    Choice::Alternative(_) => {
                        return Err(TokenError::Malformed("a choice point listed twice".into()));
                    }
                }
            }
        }
        let short_writes = if r.0.first() == Some(&b'W') {
            r.byte()?;
            let spurious = match r.byte()? {
                0 => false,
                1 => true,
                b => return Err(TokenError::Malformed(format!("unknown surprise flag {b}"))),
            };
            Some(Offered {
                spurious,
                short_writes: true,
            })
        } else {
            None
        };
        let loom = if r.0.first() == Some(&b'L') {
            r.byte()?;
            let bound = r.varint()?;
            let execution = r.varint()?;
            Some(LoomPath {
                preemption_bound: bound.checked_sub(1),
                execution,
            })
        } else {
            None
        };
        if !r.0.is_empty() {
            return Err(TokenError::Malformed("unexpected bytes at the end".into()));
        }
        Ok(Token {
            type_name,
            type_hash,
            scenario,
            schedule,
            loom,
            short_writes,
        })
    }
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], TokenError> {
        if self.0.len() < n {
            return Err(TokenError::Malformed("it ends early".into()));
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }

    fn byte(&mut self) -> Result<u8, TokenError> {
        Ok(self.take(1)?[0])
    }

    fn varint(&mut self) -> Result<usize, TokenError> {
        let mut n: usize = 0;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            n |= usize::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err(TokenError::Malformed("a number is too long".into()))
    }
}

/// base64url without padding: tokens travel in shell commands and file names.
mod base64 {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    pub(super) fn encode(bytes: &[u8]) -> String {
        let mut out = String::with_capacity(bytes.len() * 4 / 3 + 3);
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
            for i in 0..=chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            }
        }
        out
    }

    pub(super) fn decode(text: &str) -> Option<Vec<u8>> {
        let digits: Vec<u32> = text
            .bytes()
            .map(|c| ALPHABET.iter().position(|&a| a == c).map(|p| p as u32))
            .collect::<Option<_>>()?;
        if digits.len() % 4 == 1 {
            return None;
        }
        let mut out = Vec::with_capacity(digits.len() * 3 / 4);
        for chunk in digits.chunks(4) {
            let n = chunk.iter().enumerate().fold(0u32, |n, (i, &d)| n | d << (18 - 6 * i));
            for i in 0..chunk.len() - 1 {
                out.push((n >> (16 - 8 * i)) as u8);
            }
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Token {
        Token {
            type_name: "RacyCounter".into(),
            type_hash: 0xdead_beef,
            scenario: TokenScenario::Bytes(vec![1, 0, 2, 1, 1, 0, 4, 1, 2, 3, 4, 4, 5, 6, 7, 8]),
            schedule: [1, 2, 2, 1, 300].map(Choice::Thread).to_vec(),
            loom: None,
            short_writes: None,
        }
    }

    #[test]
    fn round_trips() {
        let t = sample();
        assert_eq!(Token::decode(&t.encode()), Ok(t));
        let pinned = Token {
            scenario: TokenScenario::Pinned(42),
            ..sample()
        };
        assert_eq!(Token::decode(&pinned.encode()), Ok(pinned));
        let loom = Token {
            loom: Some(LoomPath {
                preemption_bound: Some(2),
                execution: 77,
            }),
            ..sample()
        };
        assert_eq!(Token::decode(&loom.encode()), Ok(loom));
        let surprises = Token {
            schedule: vec![
                Choice::Alternative(1),
                Choice::Thread(2),
                Choice::Alternative(0),
                Choice::Alternative(1),
                Choice::Thread(1),
            ],
            ..sample()
        };
        assert_eq!(Token::decode(&surprises.encode()), Ok(surprises.clone()));
        assert_eq!(
            surprises.offered(),
            Offered {
                spurious: true,
                short_writes: false
            }
        );
        for spurious in [false, true] {
            let offered = Offered {
                spurious,
                short_writes: true,
            };
            let short = surprises.clone().offering(offered);
            let decoded = Token::decode(&short.encode()).unwrap();
            assert_eq!(decoded, short);
            assert_eq!(decoded.offered(), offered);
        }
        // Short writes off: the token is the one earlier releases wrote.
        let off = surprises.clone().offering(Offered {
            spurious: true,
            short_writes: false,
        });
        assert_eq!(off.encode(), surprises.encode());
        for n in 0..10 {
            let bytes: Vec<u8> = (0..n).collect();
            assert_eq!(base64::decode(&base64::encode(&bytes)), Some(bytes));
        }
    }

    #[test]
    fn every_truncation_and_corruption_is_a_clear_error() {
        let text = sample().encode();
        for cut in 0..text.len() {
            assert!(Token::decode(&text[..cut]).is_err(), "a prefix of {cut} chars decoded");
        }
        let mut flipped = text.clone().into_bytes();
        let last = flipped.len() - 3;
        flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).unwrap();
        assert_eq!(Token::decode(&flipped), Err(TokenError::Corrupted));
        assert_eq!(Token::decode("hello"), Err(TokenError::NotAToken));
        assert!(matches!(Token::decode("cc1_!!"), Err(TokenError::Malformed(_))));

        // A `W` section with a flag this version does not know, under a valid checksum.
        let short = sample().offering(Offered {
            spurious: true,
            short_writes: true,
        });
        let mut payload = base64::decode(short.encode().strip_prefix(PREFIX).unwrap()).unwrap();
        payload.truncate(payload.len() - 4);
        *payload.last_mut().unwrap() = 7;
        let sum = fnv32(&payload);
        payload.extend_from_slice(&sum.to_le_bytes());
        let text = format!("{PREFIX}{}", base64::encode(&payload));
        assert_eq!(
            Token::decode(&text),
            Err(TokenError::Malformed("unknown surprise flag 7".into()))
        );
    }
}
