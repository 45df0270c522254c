//! Backends run a scenario's executions and hand back what happened. One file per backend, plus
//! what they share: the harness every controlled execution runs, and the judge of an execution.

mod harness;
mod judge;
pub(crate) mod loom;
mod locks;
mod loom_report;
pub(crate) mod page;
pub(crate) mod shuttle;
mod stress_order;
pub(crate) mod stress;
