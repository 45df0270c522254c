//! crosscheck: find concurrency bugs before users do.
pub mod fs;
pub mod history;
pub mod linearizability;
pub mod resources;
pub mod sync;
pub mod thread;

mod backend;
mod checker;
mod report;
mod resource;
mod runtime;
mod scenario;
mod scheduler;
mod token;

pub use arbitrary;
pub use checker::{Checker, SizeRange};
pub use report::{Failure, FailureKind, Report};
pub use resource::{Model, Resource};
pub use scenario::Scenario;
pub use scheduler::Scheduler;
