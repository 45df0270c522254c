//! Backends run a scenario's executions and hand back what happened. One file per backend, plus
//! what they share: the harness every controlled execution runs, and the judge of an execution.

pub(crate) mod determinism;
pub(crate) mod harness;
mod judge;
mod locks;
pub(crate) mod loom;
mod loom_report;
pub(crate) mod page;
pub(crate) mod shuttle;
pub(crate) mod stress;
mod stress_order;
pub(crate) mod watchdog;
