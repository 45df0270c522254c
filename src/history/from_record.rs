//! The history of a controlled execution, read off its record: each operation's begin and end
//! events, in the order they happened, are its invocation and return.

use super::{History, OpId};
use crate::record::{Event, EventKind};
use crate::resource::Resource;
use crate::scenario::Scenario;

/// The history of an execution, from its begin/end events in the order they happened; also the
/// scenario op index of each history op.
pub(crate) fn from_record<R: Resource>(
    events: &[Event],
    scenario: &Scenario<R::Op>,
    outputs: &[Option<R::Output>],
) -> (History<R::Op, R::Output>, Vec<usize>) {
    let mut history = History::new();
    let mut ids: Vec<Option<OpId>> = vec![None; scenario.len()];
    let mut order = Vec::new();
    for e in events {
        match e.kind {
            EventKind::OpBegin { op } => {
                ids[op] = Some(history.invoke(e.thread, scenario.op(op).clone()));
                order.push(op);
            }
            EventKind::OpEnd { op } => {
                if let (Some(id), Some(out)) = (ids[op], outputs[op].clone()) {
                    // Each op ends once, after it began: the harness writes both events.
                    let _ = history.ret(id, out);
                }
            }
            _ => {}
        }
    }
    (history, order)
}
