//! Every `CROSSCHECK_*` environment variable, read and parsed in this one place: what each means, how it is
//! parsed, and a warning (once per process) for a `CROSSCHECK_*` variable crosscheck does not know,
//! which is usually a typo that would otherwise be silently ignored.

use std::path::PathBuf;
use std::sync::Once;
use std::time::Duration;

/// The variables crosscheck reads, with what each does (the README's table says the same).
pub(crate) const KNOWN: &[(&str, &str)] = &[
    ("CROSSCHECK_REPLAY", "check() runs only this replay token"),
    ("CROSSCHECK_SEED", "the seed of checks that do not call .seed(..)"),
    (
        "CROSSCHECK_SHRINK_BUDGET",
        "schedules shrinking may spend (default 50,000; 0 turns it off)",
    ),
    (
        "CROSSCHECK_REGRESSIONS",
        "`off` stops check() from adding to regression files",
    ),
    (
        "CROSSCHECK_HTML",
        "`off`: no HTML page for failures; a directory: pages there instead of target/crosscheck/ (html.rs)",
    ),
    (
        "CROSSCHECK_PROGRESS",
        "always|never|auto: the live progress line on stderr (progress.rs)",
    ),
    (
        "CROSSCHECK_PROGRESS_DELAY_MS",
        "how long a check runs before the progress line appears (default 2000)",
    ),
    (
        "CROSSCHECK_SHARD",
        "k/n: run the k-th of n disjoint parts of each check (checker/shard.rs)",
    ),
    (
        "CROSSCHECK_STACK_SIZE",
        "stack of each controlled thread: bytes, or with a k or m suffix (default 2m)",
    ),
    (
        "CROSSCHECK_HANG_TIMEOUT_MS",
        "how long a controlled thread may run without reaching a scheduling point (default 5000; 0: off)",
    ),
    (
        "CROSSCHECK_DETERMINISM",
        "failures|every|off: replay schedules to detect uncontrolled nondeterminism (default failures)",
    ),
    (
        "CROSSCHECK_SHRINK_SEEDS",
        "seeds of crosscheck's own shrink-minimality test (tests/shrink.rs)",
    ),
];

/// The settings the environment gives, parsed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Env {
    pub replay: Option<String>,
    pub seed: Option<u64>,
    pub shrink_budget: Option<usize>,
    /// `false` when `CROSSCHECK_REGRESSIONS=off`.
    pub regressions: bool,
    /// `CROSSCHECK_SHARD=k/n` as `(k, n)`.
    pub shard: Option<(usize, usize)>,
    /// `CROSSCHECK_PROGRESS`.
    pub progress: Progress,
    /// `CROSSCHECK_PROGRESS_DELAY_MS`.
    pub progress_delay: Option<Duration>,
    /// `CROSSCHECK_HTML`.
    pub pages: Pages,
    /// `CROSSCHECK_STACK_SIZE`, in bytes.
    pub stack_size: Option<usize>,
    /// `CROSSCHECK_HANG_TIMEOUT_MS` (`Duration::ZERO`: off).
    pub hang_timeout: Option<Duration>,
    /// `CROSSCHECK_DETERMINISM`.
    pub determinism: Option<Determinism>,
}

/// When schedules are replayed to detect uncontrolled nondeterminism (`CROSSCHECK_DETERMINISM`);
/// re-exported as `crosscheck::Determinism`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Determinism {
    /// Never.
    Off,
    /// A failure's schedule, before its token is given out: the token must replay what it shows.
    #[default]
    Failures,
    /// Every schedule, right after it ran (each schedule then costs two executions), and failures.
    EverySchedule,
}

/// The smallest stack size accepted for controlled threads: the engine's and crosscheck's own
/// frames need about 16 KiB.
pub(crate) const MIN_STACK_SIZE: usize = 64 << 10;

/// A stack size as `CROSSCHECK_STACK_SIZE` takes it: bytes, or with a `k` or `m` suffix (KiB,
/// MiB), at least [`MIN_STACK_SIZE`].
pub(crate) fn parse_stack_size(text: &str) -> Result<usize, String> {
    let usage = || {
        format!(
            "CROSSCHECK_STACK_SIZE={text:?}: give a stack size in bytes, or with a k or m suffix (such as 512k or \
             8m), of at least {} KiB",
            MIN_STACK_SIZE >> 10
        )
    };
    let t = text.trim().to_ascii_lowercase();
    let (digits, unit) = if let Some(d) = t.strip_suffix('k') {
        (d, 1 << 10)
    } else if let Some(d) = t.strip_suffix('m') {
        (d, 1 << 20)
    } else {
        (t.as_str(), 1)
    };
    let n: usize = digits.trim().parse().map_err(|_| usage())?;
    match n.checked_mul(unit) {
        Some(bytes) if bytes >= MIN_STACK_SIZE => Ok(bytes),
        _ => Err(usage()),
    }
}

/// When the progress line is drawn (`CROSSCHECK_PROGRESS`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Progress {
    /// On a terminal, outside a test harness.
    #[default]
    Auto,
    Always,
    Never,
}

/// Where failure pages go (`CROSSCHECK_HTML`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) enum Pages {
    /// `target/crosscheck/` of the running build.
    #[default]
    Default,
    Off,
    Dir(PathBuf),
}

/// `k/n` with `1 <= k <= n`, as `CROSSCHECK_SHARD` takes it.
pub(crate) fn parse_shard(text: &str) -> Result<(usize, usize), String> {
    let usage = || format!("CROSSCHECK_SHARD={text:?}: give k/n with 1 <= k <= n, such as 2/4");
    let (k, n) = text.trim().split_once('/').ok_or_else(usage)?;
    let k: usize = k.trim().parse().map_err(|_| usage())?;
    let n: usize = n.trim().parse().map_err(|_| usage())?;
    if k == 0 || k > n {
        return Err(usage());
    }
    Ok((k, n))
}

/// Reads the environment; a value that does not parse is an error naming the variable.
pub(crate) fn read() -> Result<Env, String> {
    warn_unknown_once();
    read_from(|name| std::env::var(name).ok())
}

/// [`read`] over any source of variables (the tests use a map).
pub(crate) fn read_from(var: impl Fn(&str) -> Option<String>) -> Result<Env, String> {
    let number = |name: &str| -> Result<Option<u64>, String> {
        match var(name) {
            None => Ok(None),
            Some(text) => text
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| format!("{name}={text:?} is not a whole number")),
        }
    };
    let regressions = match var("CROSSCHECK_REGRESSIONS").as_deref().map(str::trim) {
        None | Some("" | "on" | "1" | "true" | "yes") => true,
        Some("off" | "0" | "false" | "no") => false,
        Some(other) => {
            return Err(format!(
                "CROSSCHECK_REGRESSIONS={other:?} is not understood: use `off` to stop saving failures, or unset it"
            ))
        }
    };
    let progress = match var("CROSSCHECK_PROGRESS") {
        None => Progress::Auto,
        Some(v) => match v.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => Progress::Auto,
            "always" => Progress::Always,
            "never" => Progress::Never,
            _ => return Err(format!("CROSSCHECK_PROGRESS={v:?}: use always, never or auto")),
        },
    };
    let pages = match var("CROSSCHECK_HTML") {
        Some(v) if v.trim().eq_ignore_ascii_case("off") => Pages::Off,
        Some(v) if !v.trim().is_empty() => Pages::Dir(PathBuf::from(v.trim())),
        _ => Pages::Default,
    };
    let shard = match var("CROSSCHECK_SHARD") {
        Some(text) if !text.trim().is_empty() => Some(parse_shard(&text)?),
        _ => None,
    };
    let stack_size = match var("CROSSCHECK_STACK_SIZE") {
        Some(text) if !text.trim().is_empty() => Some(parse_stack_size(&text)?),
        _ => None,
    };
    let determinism = match var("CROSSCHECK_DETERMINISM") {
        None => None,
        Some(v) => Some(match v.trim().to_ascii_lowercase().as_str() {
            "" | "failures" => Determinism::Failures,
            "every" => Determinism::EverySchedule,
            "off" => Determinism::Off,
            _ => return Err(format!("CROSSCHECK_DETERMINISM={v:?}: use failures, every or off")),
        }),
    };
    Ok(Env {
        stack_size,
        hang_timeout: number("CROSSCHECK_HANG_TIMEOUT_MS")?.map(Duration::from_millis),
        determinism,
        replay: var("CROSSCHECK_REPLAY").filter(|t| !t.trim().is_empty()),
        seed: number("CROSSCHECK_SEED")?,
        shrink_budget: number("CROSSCHECK_SHRINK_BUDGET")?.map(|n| n.min(usize::MAX as u64) as usize),
        regressions,
        shard,
        progress,
        progress_delay: number("CROSSCHECK_PROGRESS_DELAY_MS")?.map(Duration::from_millis),
        pages,
    })
}

/// The `CROSSCHECK_*` names among `names` that crosscheck does not know.
pub(crate) fn unknown<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    names
        .into_iter()
        .filter(|n| n.starts_with("CROSSCHECK_") && !KNOWN.iter().any(|(k, _)| k == n))
        .collect()
}

fn warn_unknown_once() {
    static WARNED: Once = Once::new();
    WARNED.call_once(|| {
        let names: Vec<String> = std::env::vars_os().filter_map(|(k, _)| k.into_string().ok()).collect();
        for name in unknown(names.iter().map(String::as_str)) {
            let known: Vec<&str> = KNOWN.iter().map(|(k, _)| *k).collect();
            eprintln!(
                "crosscheck: warning: {name} is set but crosscheck does not read it (a typo?); the variables it reads \
                 are {}",
                known.join(", ")
            );
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> Result<Env, String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        read_from(|name| map.get(name).cloned())
    }

    #[test]
    fn nothing_set_means_defaults() {
        assert_eq!(
            env(&[]).unwrap(),
            Env {
                regressions: true,
                ..Env::default()
            }
        );
    }

    #[test]
    fn values_are_parsed_and_bad_ones_named() {
        let e = env(&[("CROSSCHECK_SEED", " 7 "), ("CROSSCHECK_SHRINK_BUDGET", "0")]).unwrap();
        assert_eq!((e.seed, e.shrink_budget), (Some(7), Some(0)));
        let err = env(&[("CROSSCHECK_SEED", "seven")]).unwrap_err();
        assert!(err.contains("CROSSCHECK_SEED=\"seven\" is not a whole number"), "{err}");
        assert!(!env(&[("CROSSCHECK_REGRESSIONS", "off")]).unwrap().regressions);
        assert!(env(&[("CROSSCHECK_REGRESSIONS", "nope")])
            .unwrap_err()
            .contains("`off`"));
        assert_eq!(env(&[("CROSSCHECK_REPLAY", "  ")]).unwrap().replay, None);
        let e = env(&[
            ("CROSSCHECK_SHARD", "2/4"),
            ("CROSSCHECK_PROGRESS", "Never"),
            ("CROSSCHECK_PROGRESS_DELAY_MS", "5"),
            ("CROSSCHECK_HTML", "off"),
        ])
        .unwrap();
        assert_eq!(e.shard, Some((2, 4)));
        assert_eq!(e.progress, Progress::Never);
        assert_eq!(e.progress_delay, Some(Duration::from_millis(5)));
        assert_eq!(e.pages, Pages::Off);
        assert!(env(&[("CROSSCHECK_PROGRESS", "loud")])
            .unwrap_err()
            .contains("always, never or auto"));
        assert!(env(&[("CROSSCHECK_SHARD", "5/4")]).unwrap_err().contains("1 <= k <= n"));
        let e = env(&[
            ("CROSSCHECK_STACK_SIZE", "8m"),
            ("CROSSCHECK_HANG_TIMEOUT_MS", "0"),
            ("CROSSCHECK_DETERMINISM", "Every"),
        ])
        .unwrap();
        assert_eq!(e.stack_size, Some(8 << 20));
        assert_eq!(e.hang_timeout, Some(Duration::ZERO));
        assert_eq!(e.determinism, Some(Determinism::EverySchedule));
        assert!(env(&[("CROSSCHECK_DETERMINISM", "always")])
            .unwrap_err()
            .contains("failures, every or off"));
    }

    #[test]
    fn stack_sizes_parse_with_units() {
        assert_eq!(parse_stack_size("262144"), Ok(256 << 10));
        assert_eq!(parse_stack_size(" 512K "), Ok(512 << 10));
        assert_eq!(parse_stack_size("8m"), Ok(8 << 20));
        assert!(parse_stack_size("8 GB").unwrap_err().contains("k or m suffix"));
        assert!(parse_stack_size("1k").unwrap_err().contains("at least 64 KiB"));
        assert!(parse_stack_size("99999999999999999999m").is_err());
    }

    #[test]
    fn unknown_variables_are_found() {
        let names = ["CROSSCHECK_SEED", "CROSSCHECK_SEEED", "PATH", "CROSSCHECK_REPLAY"];
        assert_eq!(unknown(names), vec!["CROSSCHECK_SEEED"]);
    }
}
