//! The lock-order analysis of a stress check: the edges real threads recorded (see
//! `runtime::std_order`) go into the same lock-order graph the controlled backends use, one
//! iteration at a time, so a cycle is found, and described, exactly as under shuttle or loom.

use std::sync::Arc;

use crate::lock_order::LockOrder;
use crate::lock_stats::{Contention, LockStats};
use crate::record::{thread_name, Event, EventKind, ObjectInfo};
use crate::report::{self, FailureKind};
use crate::resource::Resource;
use crate::runtime::locks::{Figures, OrderEdge};
use crate::runtime::std_order::{StdClass, StdEdge, StdOrder};
use crate::runtime::ExecutionRecord;
use crate::scenario::Scenario;

/// The edges real threads record, and the check's graph of them.
pub(crate) struct StressOrder {
    shared: Arc<StdOrder>,
    /// The graph, when the analysis is on.
    graph: Option<LockOrder>,
    contention: Contention,
}

impl StressOrder {
    /// The analysis of one stress check (`lock_order: false`: only the contention figures).
    pub(crate) fn new(lock_order: bool) -> Self {
        StressOrder {
            shared: Arc::default(),
            graph: lock_order.then(LockOrder::default),
            contention: Contention::in_time(),
        }
    }

    /// Where the threads record their edges and figures.
    pub(crate) fn shared(&self) -> Option<Arc<StdOrder>> {
        Some(Arc::clone(&self.shared))
    }

    /// The contention figures of every iteration so far.
    pub(crate) fn stats(&mut self) -> Vec<LockStats> {
        std::mem::replace(&mut self.contention, Contention::in_time()).into_stats()
    }

    /// After an iteration of `scenario` passed: adds the edges it recorded; the inversion, when
    /// they closed the check's first cycle.
    pub(crate) fn absorb<R: Resource>(&mut self, scenario: &Scenario<R::Op>) -> Option<FailureKind> {
        let edges = self.shared.take();
        let record = as_record(&edges, &self.shared.take_figures(), scenario.threads.len());
        self.contention.absorb(&record);
        let graph = self.graph.as_mut()?;
        let names = report::op_texts::<R>(scenario, &[]).0;
        if !graph.absorb(&record, |op| names.get(op).cloned().unwrap_or_default()) {
            return None;
        }
        let inversion = graph.inversion()?;
        Some(FailureKind::LockOrderInversion {
            edges: inversion.edges.clone(),
            deadlock: None,
        })
    }
}

/// The edges and figures as an execution's record, the form the graph and the contention figures
/// read: one object per lock class, and before each edge its thread's operation.
fn as_record(edges: &[StdEdge], figures: &[(StdClass, Figures)], threads: usize) -> ExecutionRecord {
    let mut rec = ExecutionRecord {
        labels: (0..threads).map(|t| (t + 1, thread_name(t))).collect(),
        ..ExecutionRecord::default()
    };
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
                internal: false,
            });
            classes.len() - 1
        }
    };
    for (class, f) in figures {
        let obj = id(class, &mut rec);
        if rec.locks.figures.len() <= obj {
            rec.locks.figures.resize(obj + 1, Figures::default());
        }
        rec.locks.figures[obj] = *f;
    }
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
