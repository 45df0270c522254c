//! Regression files: every failure `Checker::check` finds is appended to a committed file, and
//! replayed first on every later run, so a bug once found stays checked (like proptest's
//! `proptest-regressions/`).
//!
//! The file is `crosscheck-regressions/<test name>.txt` under the crate being tested
//! (`CARGO_MANIFEST_DIR` at run time). Each line is a replay token, then `#` and a one-line summary;
//! lines starting with `#` are comments. crosscheck only ever appends: it never rewrites or
//! deletes what is there, and a line it cannot read is an error that names the file and line.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

const HEADER: &str = "\
# crosscheck regressions: failures that crosscheck found in this test.
# Each line is a replay token and a summary of what it found. crosscheck replays these first on
# every run, so a bug once found stays checked after it is fixed. Commit this file; delete a line
# to forget it. Set CROSSCHECK_REGRESSIONS=off to stop crosscheck from adding lines.
# Tokens are keyed by the resource type's name without its module path: moving the type to another
# module keeps them working; renaming the type retires them.
";

/// One saved failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    pub token: String,
    pub line: usize,
}

/// The regression file of one test.
#[derive(Clone, Debug)]
pub(crate) struct RegressionFile {
    pub path: PathBuf,
}

impl RegressionFile {
    /// The file for the test running on this thread (its libtest name), or for the caller's
    /// location when the thread has no test name.
    pub(crate) fn for_current_test(caller: &std::panic::Location<'_>) -> RegressionFile {
        let name = match std::thread::current().name() {
            Some(n) if n != "main" => n.to_string(),
            _ => format!("{}-{}", caller.file(), caller.line()),
        };
        let file: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let root = std::env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .unwrap_or_default();
        RegressionFile {
            path: root.join("crosscheck-regressions").join(format!("{file}.txt")),
        }
    }

    /// The saved tokens; a missing file has none. A line that is not a token is an error naming
    /// the file and line, and the file is left as it is.
    pub(crate) fn read(&self) -> Result<Vec<Entry>, String> {
        let text = match fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(format!("cannot read the regression file {}: {e}", self.path.display())),
        };
        let mut entries = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line_no = i + 1;
            let content = line.split('#').next().unwrap_or("").trim();
            if content.is_empty() {
                continue;
            }
            let token = content.split_whitespace().next().unwrap_or("");
            if let Err(e) = crate::token::Token::decode(token) {
                return Err(format!(
                    "{}:{line_no}: {e}; fix or delete that line (crosscheck does not change the file)",
                    self.path.display()
                ));
            }
            entries.push(Entry {
                token: token.to_string(),
                line: line_no,
            });
        }
        Ok(entries)
    }

    /// Appends a token with its summary, creating the file (with its header) if needed; a token
    /// already in the file is not added again.
    pub(crate) fn append(&self, token: &str, summary: &str) -> std::io::Result<()> {
        if self
            .read()
            .map(|es| es.iter().any(|e| e.token == token))
            .unwrap_or(false)
        {
            return Ok(());
        }
        if let Some(dir) = self.path.parent() {
            fs::create_dir_all(dir)?;
        }
        let new = !self.path.exists();
        let mut file = OpenOptions::new().create(true).append(true).open(&self.path)?;
        if new {
            file.write_all(HEADER.as_bytes())?;
        }
        writeln!(file, "{token} # {}", summary.replace('\n', " "))
    }

    /// Where the file is, relative to the current directory when possible, for messages.
    pub(crate) fn display(&self) -> String {
        let cwd = std::env::current_dir().unwrap_or_default();
        self.path
            .strip_prefix(&cwd)
            .unwrap_or(Path::new(&self.path))
            .display()
            .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token() -> String {
        crate::token::Token {
            type_name: "X".into(),
            type_hash: 1,
            scenario: crate::token::TokenScenario::Bytes(vec![1, 0, 1, 1, 0, 1, 7]),
            schedule: vec![crate::scheduler::Choice::Thread(1), crate::scheduler::Choice::Thread(2)],
            loom: None,
            short_writes: None,
        }
        .encode()
    }

    #[test]
    fn appends_once_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let file = RegressionFile {
            path: dir.path().join("sub").join("t.txt"),
        };
        assert_eq!(file.read().unwrap(), vec![]);
        file.append(&token(), "deadlock: 2 threads").unwrap();
        file.append(&token(), "again").unwrap();
        let entries = file.read().unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].token, token());
        let text = fs::read_to_string(&file.path).unwrap();
        assert!(text.starts_with("# crosscheck regressions"));
        assert!(text.contains("# deadlock: 2 threads"));
    }

    #[test]
    fn a_corrupt_line_is_an_error_naming_file_and_line_and_nothing_is_lost() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.txt");
        let text = format!("# header\n{} # ok\ncc1_garbage # broken\n", token());
        fs::write(&path, &text).unwrap();
        let file = RegressionFile { path: path.clone() };
        let err = file.read().unwrap_err();
        assert!(err.contains("t.txt:3"), "{err}");
        assert_eq!(fs::read_to_string(&path).unwrap(), text, "the file is untouched");
    }
}
