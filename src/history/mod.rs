//! Concurrent histories: operations with their invocation and return events.
//!
//! A [`History`] is a sequence of events. Each [`History::invoke`] starts an operation and each
//! [`History::ret`] completes one. The order in which events are recorded *is* the real-time order:
//! operation `a` precedes operation `b` when `a` returned before `b` was invoked.

mod from_record;

pub(crate) use from_record::from_record;

use std::fmt;

/// The index of an operation in a [`History`], in invocation order (the first invoked op is `#0`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OpId(pub usize);

impl fmt::Display for OpId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// One operation of a [`History`].
#[derive(Clone, Debug, PartialEq)]
pub struct Operation<Op, Output> {
    /// Its id (its index in [`History::operations`]).
    pub id: OpId,
    /// The client (thread, process) that invoked it.
    pub client: usize,
    /// What was asked.
    pub op: Op,
    /// What was returned, or `None` if the operation never returned (crashed or timed-out client).
    pub output: Option<Output>,
    /// Position of the invocation event in the history's event sequence.
    pub invoked: usize,
    /// Position of the return event in the event sequence, `None` if it never returned.
    pub returned: Option<usize>,
}

impl<Op, Output> Operation<Op, Output> {
    /// Whether the operation returned (its output is then checked).
    pub fn is_complete(&self) -> bool {
        self.returned.is_some()
    }

    /// Whether `self` precedes `other` in real time: `self` returned before `other` was invoked.
    pub fn precedes<O2, Out2>(&self, other: &Operation<O2, Out2>) -> bool {
        self.returned.is_some_and(|r| r < other.invoked)
    }
}

/// Why an event was rejected by [`History::ret`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HistoryError {
    /// The op id was never returned by [`History::invoke`].
    UnknownOp(OpId),
    /// The operation had already returned.
    AlreadyReturned(OpId),
}

impl fmt::Display for HistoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HistoryError::UnknownOp(id) => {
                write!(f, "return for operation {id}, which was never invoked")
            }
            HistoryError::AlreadyReturned(id) => {
                write!(f, "second return for operation {id}, which had already returned")
            }
        }
    }
}

impl std::error::Error for HistoryError {}

/// A concurrent history: operations in invocation order plus the event order, which is real time.
///
/// Operations that never return are allowed; a checker may consider them to have taken effect at
/// any time after their invocation, or never.
#[derive(Clone, Debug)]
pub struct History<Op, Output> {
    ops: Vec<Operation<Op, Output>>,
    events: usize,
}

impl<Op, Output> Default for History<Op, Output> {
    fn default() -> Self {
        Self::new()
    }
}

impl<Op, Output> History<Op, Output> {
    /// An empty history.
    pub fn new() -> Self {
        History {
            ops: Vec::new(),
            events: 0,
        }
    }

    /// Records that `client` invoked `op` now; returns the id to pass to [`History::ret`].
    pub fn invoke(&mut self, client: usize, op: Op) -> OpId {
        let id = OpId(self.ops.len());
        self.ops.push(Operation {
            id,
            client,
            op,
            output: None,
            invoked: self.events,
            returned: None,
        });
        self.events += 1;
        id
    }

    /// Records that operation `id` returned `output` now.
    ///
    /// Rejects ids that were never invoked and operations that already returned.
    pub fn ret(&mut self, id: OpId, output: Output) -> Result<(), HistoryError> {
        let operation = self.ops.get_mut(id.0).ok_or(HistoryError::UnknownOp(id))?;
        if operation.returned.is_some() {
            return Err(HistoryError::AlreadyReturned(id));
        }
        operation.output = Some(output);
        operation.returned = Some(self.events);
        self.events += 1;
        Ok(())
    }

    /// Number of operations (returned or not).
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether no operation was invoked.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// All operations, indexed by [`OpId`].
    pub fn operations(&self) -> &[Operation<Op, Output>] {
        &self.ops
    }

    /// The operation with this id, if any.
    pub fn get(&self, id: OpId) -> Option<&Operation<Op, Output>> {
        self.ops.get(id.0)
    }

    /// Number of events (invocations plus returns) recorded so far.
    pub fn event_count(&self) -> usize {
        self.events
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_positions_and_rejects_bad_returns() {
        let mut h: History<&str, u32> = History::new();
        let a = h.invoke(0, "a");
        let b = h.invoke(1, "b");
        h.ret(a, 1).unwrap();
        assert_eq!(h.ret(a, 2), Err(HistoryError::AlreadyReturned(a)));
        assert_eq!(h.ret(OpId(7), 2), Err(HistoryError::UnknownOp(OpId(7))));
        let c = h.invoke(0, "c");
        let ops = h.operations();
        assert_eq!((ops[0].invoked, ops[0].returned), (0, Some(2)));
        assert_eq!(ops[1].returned, None);
        assert!(ops[0].precedes(&ops[2]));
        assert!(!ops[1].precedes(&ops[2]));
        assert_eq!(h.get(c).unwrap().invoked, 3);
        assert_eq!(h.get(b).unwrap().output, None);
        assert!(HistoryError::UnknownOp(OpId(7)).to_string().contains("#7"));
    }
}
