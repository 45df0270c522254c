//! `Checker::check`: the outer edge. It replays this test's saved regressions first, runs the
//! check, saves a new failure to the regression file, and panics with the report; with
//! `CROSSCHECK_REPLAY` set it runs only that token.

use std::time::Instant;

use super::Checker;
use crate::backend::loom as loom_backend;
use crate::backend::shuttle;
use crate::env;
use crate::plan::StrategyFactory;
use crate::record::short_name;
use crate::regressions::RegressionFile;
use crate::report::{Failure, Report};
use crate::resource::Resource;
use crate::runtime::panics;
use crate::scheduler::{self, Scheduler};
use crate::shrink;
use crate::token::{Token, TokenScenario};

impl<R: Resource> Checker<R> {
    /// Runs the check and panics with the full failure report if it fails; returns the report
    /// otherwise.
    ///
    /// Unlike [`Checker::run`], `check` keeps regressions: the failures saved in this test's
    /// regression file (`crosscheck-regressions/<test name>.txt` under the crate) are replayed
    /// first, and a new failure is appended to it (unless `CROSSCHECK_REGRESSIONS=off`). With
    /// `CROSSCHECK_REPLAY=<token>` set, it runs only that token (and skips, with a note, a check of
    /// another resource type).
    #[track_caller]
    pub fn check(&self) -> Report {
        let caller = std::panic::Location::caller();
        match self.check_inner(caller) {
            Ok(report) => report,
            Err(failure) => panics::panic_with_report(failure.to_string()),
        }
    }

    fn check_inner(&self, caller: &std::panic::Location<'_>) -> Result<Report, Failure<R::Op>> {
        let _scope = self.guards()?.enter();
        let ours = |token: &str| Token::decode(token).is_ok_and(|t| t.is_for(std::any::type_name::<R>()));
        let env = env::read().map_err(Failure::usage)?;
        if let Some(token) = env.replay {
            if Token::decode(&token).is_ok() && !ours(&token) {
                eprintln!(
                    "crosscheck: CROSSCHECK_REPLAY names another resource type; skipping this check of {}",
                    short_name(std::any::type_name::<R>())
                );
                return Ok(Report::new(
                    std::any::type_name::<R>(),
                    "Replay (skipped)",
                    Instant::now(),
                ));
            }
            let mut replay = self.clone();
            replay.scheduler = Scheduler::Replay(token);
            return replay.run();
        }

        let file = self
            .regression_file
            .clone()
            .map(|path| RegressionFile { path })
            .unwrap_or_else(|| RegressionFile::for_current_test(caller));
        let entries: Vec<_> = file
            .read()
            .map_err(Failure::usage)?
            .into_iter()
            .filter(|e| ours(&e.token))
            .collect();
        for entry in &entries {
            if let Err(mut failure) = self.replay_regression(&entry.token) {
                failure.write_page();
                failure.add_note(format!(
                    "this failure is a saved regression ({}:{}), replayed before any new scenario",
                    file.display(),
                    entry.line
                ));
                return Err(failure);
            }
        }
        let mut failure = match self.run() {
            Ok(mut report) => {
                report.regressions = entries.len();
                return Ok(report);
            }
            Err(failure) => failure,
        };
        if let (Some(token), true) = (failure.token().map(str::to_string), env.regressions) {
            let summary = format!(
                "{:?}: {}, {} preemption(s)",
                failure.kind(),
                failure.scenario().shape(),
                failure.preemptions()
            );
            let summary: String = summary.chars().take(200).collect();
            let note = match file.append(&token, &summary) {
                Ok(()) => format!(
                    "saved to {} (keyed by the resource type's name, `{}`, so moving the type to another module \
                     keeps it): this failure is replayed first from now on (commit the file)",
                    file.display(),
                    short_name(std::any::type_name::<R>())
                ),
                Err(e) => format!("could not save this failure to {}: {e}", file.display()),
            };
            failure.add_note(note);
        }
        Err(failure)
    }

    /// Reruns a saved failure: its schedule where it still fits, then a short bounded search of its
    /// scenario, so that a regression still counts after the code around the bug has changed.
    fn replay_regression(&self, token: &str) -> Result<(), Failure<R::Op>> {
        if let Ok(Token {
            scenario: TokenScenario::Pinned(fingerprint),
            ..
        }) = Token::decode(token)
        {
            // Saved with a pinned scenario that this check no longer pins: not this check's to run.
            if self.pinned.as_ref().map(Self::fingerprint) != Some(fingerprint) {
                return Ok(());
            }
        }
        let (plan, schedule, loom, offered) = self.replay_plan(token)?;
        if let Some(path) = loom {
            // A loom failure replays only under loom (it may need weak memory).
            let settings = self.loom_settings(None, 1, None);
            return loom_backend::replay::<R>(plan, path, settings).map(|_| ());
        }
        let replay: StrategyFactory = Box::new(move |_| Box::new(scheduler::Replay::lenient(schedule.clone())));
        let bounded: StrategyFactory = Box::new(|_| Box::new(scheduler::Dfs::new(Some(2))));
        for (make, budget, name) in [
            (replay, 1, "Replay (saved regression)"),
            (bounded, 500, "Bounded { preemptions: 2 } (saved regression)"),
        ] {
            // The saved schedule offers what it was recorded with; the search, what this check does.
            let mut settings = self.run_settings(budget, name.to_string(), None);
            if budget == 1 {
                settings.spurious = offered.spurious;
                settings.short_writes = offered.short_writes;
            }
            if let Err(failure) = shuttle::run::<R>(vec![plan.clone()], make, settings) {
                let shrink = self.shrink_settings()?;
                return Err(shrink::shrink::<R>(
                    failure,
                    &Scheduler::Bounded { preemptions: 2 },
                    0,
                    &shrink,
                ));
            }
        }
        Ok(())
    }

    /// Where `check` keeps this test's regression file, instead of
    /// `crosscheck-regressions/<test name>.txt` under the crate.
    pub fn regression_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.regression_file = Some(path.into());
        self
    }
}
