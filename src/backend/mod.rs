//! Backends run a scenario's executions and hand back what happened. One file per backend.

pub(crate) mod shuttle;
pub(crate) mod verdict;
