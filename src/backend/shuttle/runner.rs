//! What every shuttle runner is made of: the body of each execution and the runner's settings,
//! shared by a run's own runner and the runner kept across fuzz inputs.

use std::sync::Arc;

use super::{harness, lock, State};
use crate::resource::Resource;
use crate::runtime;

/// The body of every execution: the harness runs the scenario the driver picked.
pub(super) fn body<R: Resource>(state: &State<R>) -> impl Fn() + Send + Sync + 'static {
    let (scenario, outcome) = (Arc::clone(&state.scenario), state.outcome);
    move || {
        let scenario = lock(&scenario)
            .clone()
            .expect("the driver picks a scenario before each execution");
        harness::run::<R, harness::ShuttleThreads>(&outcome, &scenario);
    }
}

/// The runner's settings: crosscheck enforces the step limit and keeps failures itself.
pub(super) fn config() -> shuttle::Config {
    let mut config = shuttle::Config::new();
    config.max_steps = shuttle::MaxSteps::None;
    config.failure_persistence = shuttle::FailurePersistence::None;
    config.silence_warnings = true;
    // The size the check asked for (see `Checker::stack_size`), with the overflow guard ready.
    config.stack_size = runtime::stack::size();
    runtime::stack::prepare();
    config
}
