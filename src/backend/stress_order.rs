//! The lock-order analysis of a stress check: the edges real threads recorded (see
//! `runtime::std_order`) go into the same lock-order graph the controlled backends use, one
//! iteration at a time, so a cycle is found, and described, exactly as under shuttle or loom.

use std::sync::Arc;

use crate::lock_order::LockOrder;
use crate::record::{thread_name, Event, EventKind, ObjectInfo};
use crate::report::{self, FailureKind};
use crate::resource::Resource;
use crate::runtime::locks::OrderEdge;
use crate::runtime::std_order::{StdClass, StdEdge, StdOrder};
use crate::runtime::ExecutionRecord;
use crate::scenario::Scenario;

/// The edges real threads record, and the check's graph of them.
pub(crate) struct StressOrder {
    shared: Option<Arc<StdOrder>>,
    graph: LockOrder,
}

impl StressOrder {
    /// The analysis of one stress check; `on: false` records nothing.
    pub(crate) fn new(on: bool) -> Self {
        StressOrder {
            shared: on.then(Arc::default),
            graph: LockOrder::default(),
        }
    }

    /// Where the threads record their edges (`None`: the analysis is off).
    pub(crate) fn shared(&self) -> Option<Arc<StdOrder>> {
        self.shared.clone()
    }

    /// After an iteration of `scenario` passed: adds the edges it recorded; the inversion, when
    /// they closed the check's first cycle.
    pub(crate) fn absorb<R: Resource>(&mut self, scenario: &Scenario<R::Op>) -> Option<FailureKind> {
        let edges = self.shared.as_ref()?.take();
        let record = as_record(&edges, scenario.threads.len());
        let names = report::op_texts::<R>(scenario, &[]).0;
        if !self
            .graph
            .absorb(&record, |op| names.get(op).cloned().unwrap_or_default())
        {
            return None;
        }
        let inversion = self.graph.inversion()?;
        Some(FailureKind::LockOrderInversion {
            edges: inversion.edges.clone(),
            deadlock: None,
        })
    }
}

/// The edges as an execution's record, the form the graph reads: one object per lock class, and
/// before each edge its thread's operation.
fn as_record(edges: &[StdEdge], threads: usize) -> ExecutionRecord {
    let mut rec = ExecutionRecord::default();
    rec.labels = (0..threads).map(|t| (t + 1, thread_name(t))).collect();
    let mut classes: Vec<StdClass> = Vec::new();
    let mut id = |class: &StdClass, rec: &mut ExecutionRecord| match classes.iter().position(|c| c == class) {
        Some(i) => i,
        None => {
            classes.push(class.clone());
            rec.objects.push(ObjectInfo {
                kind: class.kind,
                site: Some(class.site),
                value_type: class.value_type,
                name: class.name.clone(),
            });
            classes.len() - 1
        }
    };
    for e in edges {
        let (held, took) = (id(&e.held, &mut rec), id(&e.took, &mut rec));
        if let Some(op) = e.op {
            rec.events.push(Event {
                thread: e.thread,
                kind: EventKind::OpBegin { op },
            });
        }
        rec.locks.edges.push(OrderEdge {
            task: e.thread,
            held,
            held_site: e.held_site,
            took,
            took_site: e.took_site,
            event: rec.events.len(),
        });
    }
    rec
}
