//! PLACEHOLDER until the standalone checker lands (replaced wholesale).
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OpId(pub usize);

impl fmt::Display for OpId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

#[derive(Clone, Debug)]
pub struct Operation<Op, Output> {
    pub id: OpId,
    pub client: usize,
    pub op: Op,
    pub output: Option<Output>,
    pub invoked: usize,
    pub returned: Option<usize>,
}

#[derive(Clone, Debug)]
pub struct History<Op, Output> {
    ops: Vec<Operation<Op, Output>>,
    events: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HistoryError {
    UnknownOp(OpId),
    AlreadyReturned(OpId),
}

impl fmt::Display for HistoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HistoryError::UnknownOp(id) => write!(f, "return for unknown operation {id}"),
            HistoryError::AlreadyReturned(id) => write!(f, "operation {id} returned twice"),
        }
    }
}

impl std::error::Error for HistoryError {}

impl<Op, Output> Default for History<Op, Output> {
    fn default() -> Self {
        History {
            ops: Vec::new(),
            events: 0,
        }
    }
}

impl<Op, Output> History<Op, Output> {
    pub fn new() -> Self {
        Self::default()
    }
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
    pub fn ret(&mut self, id: OpId, output: Output) -> Result<(), HistoryError> {
        let op = self.ops.get_mut(id.0).ok_or(HistoryError::UnknownOp(id))?;
        if op.returned.is_some() {
            return Err(HistoryError::AlreadyReturned(id));
        }
        op.output = Some(output);
        op.returned = Some(self.events);
        self.events += 1;
        Ok(())
    }
    pub fn len(&self) -> usize {
        self.ops.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
    pub fn operations(&self) -> &[Operation<Op, Output>] {
        &self.ops
    }
    pub fn get(&self, id: OpId) -> Option<&Operation<Op, Output>> {
        self.ops.get(id.0)
    }
}
