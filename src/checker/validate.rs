//! `Checker` settings checked before anything runs: a usage error says which setting is wrong and
//! what to write instead.

use std::ops::RangeInclusive;

use super::Checker;
use crate::report::Failure;
use crate::resource::Resource;
use crate::scheduler::Scheduler;

impl<R: Resource> Checker<R> {
    /// The settings' usage errors, if any.
    pub(crate) fn validate(&self) -> Result<(), Failure<R::Op>> {
        let range_ok = |name: &str, r: &RangeInclusive<usize>, min: usize| {
            if r.is_empty() {
                Err(Failure::usage(format!("{name}({r:?}) is an empty range")))
            } else if *r.start() < min {
                Err(Failure::usage(format!(
                    "{name} must be at least {min}, got {}",
                    r.start()
                )))
            } else if *r.end() > 255 {
                Err(Failure::usage(format!("{name} can be at most 255, got {}", r.end())))
            } else {
                Ok(())
            }
        };
        if matches!(self.scheduler, Scheduler::Replay(_)) {
            return Ok(());
        }
        if self.iterations == 0 {
            return Err(Failure::usage("iterations(0) runs nothing: give at least 1 schedule"));
        }
        if self.scenarios == Some(0) {
            return Err(Failure::usage("scenarios(0) runs nothing: give at least 1 scenario"));
        }
        if self.max_steps == 0 {
            return Err(Failure::usage("max_steps(0) stops every execution before it starts"));
        }
        self.scheduler.validate().map_err(Failure::usage)?;
        let loom = matches!(self.scheduler, Scheduler::Loom { .. });
        let too_large = |threads: usize| {
            Failure::usage(format!(
                "scenario too large for loom: {threads} threads plus the harness's main thread, and loom models at                  most {} threads in all; use .threads(..=4) (2 keeps loom's exploration small)",
                loom::MAX_THREADS
            ))
        };
        if let Some(s) = &self.pinned {
            if s.threads.is_empty() {
                return Err(Failure::usage("the pinned scenario has no threads: give it at least 1"));
            }
            if loom && s.threads.len() > crate::runtime::LOOM_MAX_SPAWNED {
                return Err(too_large(s.threads.len()));
            }
            return Ok(());
        }
        if loom && *self.shape.threads.end() > crate::runtime::LOOM_MAX_SPAWNED {
            return Err(too_large(*self.shape.threads.end()));
        }
        range_ok("threads", &self.shape.threads, 1)?;
        range_ok("ops_per_thread", &self.shape.ops_per_thread, 1)?;
        range_ok("init_ops", &self.shape.init, 0)?;
        range_ok("post_ops", &self.shape.post, 0)
    }
}
