//! Backends run a scenario's executions and hand back what happened. One file per backend, plus
//! what they share: the verdict on an execution, and the shuttle reproduction of a stress failure.

pub(crate) mod loom;
mod loom_report;
pub(crate) mod page;
pub(crate) mod reproduce;
pub(crate) mod shuttle;
pub(crate) mod stress;
pub(crate) mod verdict;
