//! The checker against public Jepsen-style histories with known verdicts (see
//! `../shared/histories/README.md`), plus the `History` error cases.

#[path = "support/histories.rs"]
mod histories;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crosscheck::history::{History, HistoryError, OpId};
use crosscheck::linearizability::{check, Verdict};
use crosscheck::Model;
use histories::*;

const BUDGET: Duration = Duration::from_secs(30);

fn dir_or_skip(test: &str) -> Option<PathBuf> {
    match histories_dir() {
        Ok(dir) => Some(dir),
        Err(why) => {
            eprintln!("{test}: skipped: {why}");
            None
        }
    }
}

/// Checks `history`, asserts the expected verdict and validates the witness or evidence.
fn check_case<M: Model>(name: &str, history: &History<M::Op, M::Output>, expected: bool) {
    match check::<M>(history, BUDGET) {
        Verdict::Linearizable(witness) => {
            assert!(expected, "{name}: expected not linearizable, got a witness");
            if let Err(e) = check_witness::<M>(history, &witness.order) {
                panic!("{name}: bad witness: {e}");
            }
        }
        Verdict::NotLinearizable(evidence) => {
            assert!(!expected, "{name}: expected linearizable, got: {evidence}");
            if let Err(e) = check_evidence::<M>(history, evidence.partition, &evidence.prefix, &evidence.unplaceable) {
                panic!("{name}: bad evidence ({evidence}): {e}");
            }
        }
        other => panic!("{name}: {other}"),
    }
}

#[test]
fn etcd_verdicts() {
    let Some(dir) = dir_or_skip("etcd_verdicts") else {
        return;
    };
    let cases = etcd_cases(&dir);
    assert_eq!(cases.len(), 102);
    let start = Instant::now();
    for (name, path, expected) in &cases {
        let history = parse_etcd(path).unwrap();
        check_case::<Register>(name, &history, *expected);
    }
    eprintln!("102 etcd histories checked in {:?}", start.elapsed());
}

#[test]
fn kv_verdicts() {
    let Some(dir) = dir_or_skip("kv_verdicts") else {
        return;
    };
    for (name, path, expected) in kv_cases(&dir) {
        let history = parse_kv(&path).unwrap();
        let start = Instant::now();
        check_case::<Kv>(&name, &history, expected);
        eprintln!("{name}: {} ops checked in {:?}", history.len(), start.elapsed());
    }
}

#[test]
fn kv_unpartitioned_small() {
    let Some(dir) = dir_or_skip("kv_unpartitioned_small") else {
        return;
    };
    for name in ["c01-ok", "c01-bad"] {
        let history = parse_kv(&dir.join(format!("kv/{name}.txt"))).unwrap();
        check_case::<KvUnpartitioned>(name, &history, name.ends_with("ok"));
    }
}

#[test]
fn tiny_budget_gives_unknown_quickly() {
    let Some(dir) = dir_or_skip("tiny_budget_gives_unknown_quickly") else {
        return;
    };
    let history = parse_etcd(&dir.join("jepsen/etcd_002.log")).unwrap();
    for budget in [Duration::ZERO, Duration::from_micros(1)] {
        let start = Instant::now();
        let verdict = check::<Register>(&history, budget);
        assert!(verdict.is_unknown(), "{verdict}");
        assert!(start.elapsed() < Duration::from_millis(100), "{:?}", start.elapsed());
    }
    let history = parse_kv(&dir.join("kv/c50-ok.txt")).unwrap();
    let verdict = check::<Kv>(&history, Duration::ZERO);
    assert!(verdict.is_unknown(), "{verdict}");
    assert!(verdict.to_string().contains("budget"), "{verdict}");
}

#[test]
fn history_rejects_unknown_id_and_double_return() {
    let mut h: History<RegOp, RegOut> = History::new();
    let id = h.invoke(0, RegOp::Write(1));
    let e = h.ret(OpId(5), RegOut::Write).unwrap_err();
    assert_eq!(e, HistoryError::UnknownOp(OpId(5)));
    assert!(e.to_string().contains("#5"), "{e}");
    h.ret(id, RegOut::Write).unwrap();
    let e = h.ret(id, RegOut::Write).unwrap_err();
    assert_eq!(e, HistoryError::AlreadyReturned(id));
    assert!(e.to_string().contains("#0"), "{e}");
    assert_eq!(h.len(), 1);
    assert_eq!(h.get(id).unwrap().output, Some(RegOut::Write));
}

#[test]
fn parsers_accept_spaces_tabs_and_info_without_arguments() {
    let text = "noise line\n\
        INFO  jepsen.util - 1\t:invoke\t:write\t3\n\
        INFO  jepsen.util - 2   :invoke   :cas   [3 4]\n\
        INFO  jepsen.util - 3 :invoke :read nil\n\
        INFO  jepsen.util - 1\t:ok\t:write\t3\n\
        INFO  jepsen.util - 3 :fail :read :timed-out\n\
        INFO  jepsen.util - 2 :info :cas\n";
    let h = parse_etcd_str("mem", text).unwrap();
    let ops = h.operations();
    assert_eq!(ops.len(), 3);
    assert_eq!(ops[1].op, RegOp::Cas(3, 4));
    assert_eq!(ops[1].returned, None);
    assert_eq!(ops[2].output, Some(RegOut::Unknown));
    assert!(check::<Register>(&h, BUDGET).is_linearizable());

    let text = "{:process 0, :type :invoke, :f :put, :key \"k\", :value \"a\"}\n\
        {:process 0,\t:type :ok, :f :put,  :key \"k\", :value \"a\"}\n\
        {:process 1, :type :invoke, :f :get, :key \"k\", :value nil}\n\
        {:process 1, :type :ok, :f :get, :key \"k\", :value \"b\"}\n";
    let h = parse_kv_str("mem", text).unwrap();
    assert_eq!(h.operations()[1].output, Some(KvOut::Value("b".into())));
    assert!(matches!(check::<Kv>(&h, BUDGET), Verdict::NotLinearizable(_)));
}

#[test]
fn parsers_name_file_and_line_of_malformed_input() {
    let bad_etcd = [
        "INFO  jepsen.util - 1\t:invoke\t:write\tx\n",
        "INFO  jepsen.util - 1 :invoke :write 1\nINFO  jepsen.util - 1 :invoke :read nil\n",
        "INFO  jepsen.util - 1 :invoke :cas [1 2\n",
        "\nINFO  jepsen.util - 1 :ok :read 1\n",
        "INFO  jepsen.util - 1 :invoke\n",
    ];
    let lines = [1, 2, 1, 2, 1];
    for (text, line) in bad_etcd.iter().zip(lines) {
        let e = parse_etcd_str("etcd_x.log", text).unwrap_err();
        assert!(e.starts_with(&format!("etcd_x.log:{line}:")), "{e}");
    }
    let bad_kv = [
        "{:process 0, :type :invoke, :f :get, :key \"k\", :value nil}\n{:process 0 :type}\n",
        "{:process 0, :type :invoke, :f :get, :key \"k}\n",
        "\n\n{:process 0, :type :ok, :f :get, :key \"k\", :value \"\"}\n",
        ":process 0\n",
    ];
    let lines = [2, 1, 3, 1];
    for (text, line) in bad_kv.iter().zip(lines) {
        let e = parse_kv_str("c00.txt", text).unwrap_err();
        assert!(e.starts_with(&format!("c00.txt:{line}:")), "{e}");
    }
    let missing = Path::new("/nonexistent/etcd.log");
    assert!(parse_etcd(missing).unwrap_err().contains("/nonexistent/etcd.log"));
}
