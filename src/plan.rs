//! What a run is given: the scenarios to run (each with how a replay token names it) and how to
//! make the strategy that schedules each. Neutral ground between the checker that builds plans, the
//! backends that run them and the shrinker that makes smaller ones.

use std::sync::Arc;

use crate::scenario::Scenario;
use crate::scheduler::Strategy;
use crate::token::TokenScenario;

/// One scenario to run, with how a token names it.
pub(crate) struct Plan<Op> {
    pub scenario: Arc<Scenario<Op>>,
    pub source: TokenScenario,
}

impl<Op> Clone for Plan<Op> {
    fn clone(&self) -> Self {
        Plan {
            scenario: Arc::clone(&self.scenario),
            source: self.source.clone(),
        }
    }
}

/// Makes the strategy for the plan with the given index.
pub(crate) type StrategyFactory = Box<dyn Fn(usize) -> Box<dyn Strategy>>;
