//! How the fuzz targets are built: `fuzz/rustc-sancov`, the `RUSTC_WRAPPER` that keeps cargo-fuzz's
//! coverage instrumentation on the code under test only, and `fuzz/env.sh`, which sets it up for
//! `fuzz.sh` and ClusterFuzzLite. A fake rustc prints the arguments it was given, one per line.
//! Needs bash (these are shell scripts); without it the tests print that they skipped.

use std::path::{Path, PathBuf};
use std::process::Command;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

fn have_bash() -> bool {
    let found = Command::new("bash")
        .arg("-c")
        .arg("true")
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        eprintln!("skipped: bash is not available, and fuzz/rustc-sancov and fuzz/env.sh are bash scripts");
    }
    found
}

/// A script that prints `prefix` (if any) and then each argument on a line of its own.
fn printer(dir: &Path, name: &str, prefix: &str) -> PathBuf {
    let path = dir.join(name);
    let body = if prefix.is_empty() {
        "#!/usr/bin/env bash\nprintf '%s\\n' \"$@\"\n".to_string()
    } else {
        // A wrapper: says it ran, then runs the rustc it was given with the rest.
        format!("#!/usr/bin/env bash\necho {prefix}\nexec \"$@\"\n")
    };
    std::fs::write(&path, body).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    path
}

/// What the wrapper passes on to the fake rustc for these arguments and environment.
fn wrapped(args: &[&str], env: &[(&str, &str)]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let rustc = printer(dir.path(), "rustc", "");
    let mut command = Command::new("bash");
    command.arg(fuzz_dir().join("rustc-sancov")).arg(&rustc).args(args);
    for name in ["CARGO_PRIMARY_PACKAGE", "FUZZ_INSTRUMENT", "FUZZ_RUSTC_WRAPPER"] {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    output_lines(&mut command, "the wrapper")
}

/// The lines `command` printed; it must succeed.
fn output_lines(command: &mut Command, what: &str) -> Vec<String> {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// The flags that must survive, in the order they must come out: the crate, then what cargo and
/// the user add (a `-C` of each spelling among them).
const KEPT: [&[&str]; 3] = [
    &["--crate-name", "shuttle", "--edition=2021"],
    &["-Copt-level=3", "--cfg", "fuzzing", "-Cdebug-assertions"],
    &["-C", "llvm-args=-inline-threshold=300", "-Csanitizer=address"],
];

/// cargo-fuzz's coverage flags, in both spellings of `-C`, in two runs between the kept ones.
const COVERAGE: [&[&str]; 2] = [
    &["-Cpasses=sancov-module", "-Cllvm-args=-sanitizer-coverage-level=4"],
    &[
        "-C",
        "llvm-args=-sanitizer-coverage-trace-compares",
        "-Cllvm-args=-simplifycfg-branch-fold-threshold=0",
    ],
];

/// What cargo-fuzz hands rustc: the kept flags with the coverage flags between them.
fn all_flags() -> Vec<&'static str> {
    [KEPT[0], COVERAGE[0], KEPT[1], COVERAGE[1], KEPT[2]].concat()
}

fn without_coverage() -> Vec<&'static str> {
    KEPT.concat()
}

#[test]
fn a_crate_that_is_not_under_test_loses_the_coverage_flags_and_keeps_the_rest() {
    if !have_bash() {
        return;
    }
    assert_eq!(wrapped(&all_flags(), &[]), without_coverage());
    assert_eq!(
        wrapped(&all_flags(), &[("FUZZ_INSTRUMENT", "crosscheck,my_resources")]),
        without_coverage()
    );
    // The target crate too (cargo's primary package): the generic code it instantiates is the
    // tester's, not the resource's.
    assert_eq!(
        wrapped(
            &all_flags(),
            &[("CARGO_PRIMARY_PACKAGE", "1"), ("FUZZ_INSTRUMENT", "x")]
        ),
        without_coverage()
    );
}

#[test]
fn the_named_crates_keep_every_flag() {
    if !have_bash() {
        return;
    }
    assert_eq!(
        wrapped(&all_flags(), &[("FUZZ_INSTRUMENT", "crosscheck, shuttle")]),
        all_flags()
    );
    assert_eq!(wrapped(&all_flags(), &[("FUZZ_INSTRUMENT", "shuttle")]), all_flags());
    // cargo's own queries (`rustc -vV`) name no crate and pass through untouched.
    assert_eq!(wrapped(&["-vV"], &[]), ["-vV"]);
}

#[test]
fn a_wrapper_the_user_had_runs_inside() {
    if !have_bash() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let inner = printer(dir.path(), "sccache", "inner-wrapper-ran");
    let inner = inner.display().to_string();
    let mut expected = vec!["inner-wrapper-ran"];
    expected.extend(without_coverage());
    assert_eq!(wrapped(&all_flags(), &[("FUZZ_RUSTC_WRAPPER", &inner)]), expected);
}

/// What `fuzz_env <target>` sets, for each target in turn in one shell (as build.sh's loop does).
fn env_for(targets: &[&str], user_rustflags: &str, user_instrument: &str) -> Vec<String> {
    let script = format!(
        "source {}; for t in {}; do fuzz_env $t; echo \"$t|$target_dir|$FUZZ_INSTRUMENT|$RUSTFLAGS|$RUSTC_WRAPPER\"; done",
        fuzz_dir().join("env.sh").display(),
        targets.join(" ")
    );
    output_lines(
        Command::new("bash")
            .arg("-c")
            .arg(script)
            .env("RUSTFLAGS", user_rustflags)
            .env("FUZZ_INSTRUMENT", user_instrument)
            .env_remove("RUSTC_WRAPPER"),
        "env.sh",
    )
}

#[test]
fn every_target_instruments_the_resources_and_decode_also_crosscheck_in_a_folder_of_its_own() {
    if !have_bash() {
        return;
    }
    let fuzz = fuzz_dir().canonicalize().unwrap().display().to_string();
    let wrapper = format!("{fuzz}/rustc-sancov");
    const RES: &str = "crosscheck_fuzz_resources";
    const DECODE: &str = "crosscheck,crosscheck_fuzz_resources,decode";
    let lines = env_for(&["counter_ok", "decode", "map"], "-Cfoo", "");
    assert_eq!(
        lines,
        [
            format!("counter_ok|{fuzz}/target|{RES}|-Cfoo --cfg=crosscheck_fuzz_instrumented=\"{RES}\"|{wrapper}"),
            format!(
                "decode|{fuzz}/target/whole|{DECODE}|-Cfoo --cfg=crosscheck_fuzz_instrumented=\"{DECODE}\"|{wrapper}"
            ),
            // Nothing of decode's setting is left over for the next target.
            format!("map|{fuzz}/target|{RES}|-Cfoo --cfg=crosscheck_fuzz_instrumented=\"{RES}\"|{wrapper}"),
        ]
    );
    // The user's crates join the set, sorted, whichever way they were separated.
    let lines = env_for(&["decode"], "", "zeta, alpha");
    assert!(
        lines[0].contains(&format!(
            "|alpha,{DECODE},zeta| --cfg=crosscheck_fuzz_instrumented=\"alpha,{DECODE},zeta\"|"
        )),
        "{lines:?}"
    );
}
