//! Helpers for tests that compare report text.

/// The report without its one wall-clock figure (how long shrinking took), so that two runs with
/// the same seed compare equal.
pub fn without_timing(report: &str) -> String {
    let mut out = String::new();
    let mut rest = report;
    while let Some(i) = rest.find(" in ") {
        out += &rest[..i];
        let after = &rest[i + 4..];
        let digits = after.chars().take_while(|c| c.is_ascii_digit() || *c == '.').count();
        if digits > 0 && after[digits..].starts_with(" s") {
            out += " in <time> s";
            rest = &after[digits + 2..];
        } else {
            out += " in ";
            rest = after;
        }
    }
    out + rest
}

/// The report with the HTML page's directory left out (it depends on the target directory and the
/// working directory), keeping the file name.
#[allow(dead_code)] // not every test binary that includes this file compares pages
pub fn without_page_dir(report: &str) -> String {
    const LINE: &str = "see it drawn (open in a browser): ";
    report
        .lines()
        .map(|l| match l.strip_prefix(LINE) {
            Some(path) => format!("{LINE}<dir>/{}", path.rsplit(['/', '\\']).next().unwrap_or(path)),
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
        + if report.ends_with('\n') { "\n" } else { "" }
}
