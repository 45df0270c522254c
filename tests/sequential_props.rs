//! The sequential-consistency checker (what loom's histories are held to) gets the tests the
//! linearizability checker has: histories made from runs are consistent, corrupted ones are not,
//! the witness and the evidence are what they claim, and on small random histories it agrees with
//! a brute-force search.

#[path = "support/histories.rs"]
mod histories;

use std::time::Duration;

use crosscheck::history::{History, OpId};
use crosscheck::linearizability::{check, check_sequential, Verdict};
use crosscheck::Model;
use histories::*;
use proptest::prelude::*;

const BUDGET: Duration = Duration::from_secs(20);

/// Whether `order` keeps each client's own order and the harness client's (0) real-time order,
/// includes every completed op, and replays on a fresh model with the recorded outputs.
fn valid_order<M: Model>(history: &History<M::Op, M::Output>, order: &[OpId]) -> Result<(), String> {
    let ops = history.operations();
    let position = |id: OpId| order.iter().position(|&o| o == id);
    for a in ops {
        let Some(pa) = position(a.id) else {
            if a.is_complete() {
                return Err(format!("completed op {} is missing", a.id));
            }
            continue;
        };
        for b in ops {
            let Some(pb) = position(b.id) else { continue };
            let same_client = a.client == b.client && a.invoked < b.invoked;
            let harness = (a.client == 0 || b.client == 0) && a.client != b.client && a.precedes(b);
            if (same_client || harness) && pa > pb {
                return Err(format!("{} must come before {}", a.id, b.id));
            }
        }
    }
    let mut model = M::default();
    for &id in order {
        let op = &ops[id.0];
        let output = op.output.as_ref().expect("only completed ops are ordered");
        if !model.step_matches(&op.op, output) {
            return Err(format!("{} does not replay", id));
        }
    }
    Ok(())
}

/// Plain exhaustive search for a sequentially consistent order, independent of the checker.
fn brute_force<M: Model>(history: &History<M::Op, M::Output>, done: &mut [bool], model: &M) -> bool {
    let ops = history.operations();
    let mut any = false;
    for b in ops {
        if !b.is_complete() || done[b.id.0] {
            continue;
        }
        any = true;
        let blocked = ops.iter().filter(|a| a.is_complete() && !done[a.id.0]).any(|a| {
            (a.client == b.client && a.invoked < b.invoked)
                || ((a.client == 0 || b.client == 0) && a.client != b.client && a.precedes(b))
        });
        if blocked {
            continue;
        }
        let mut next = model.clone();
        if next.step_matches(&b.op, b.output.as_ref().unwrap()) {
            done[b.id.0] = true;
            let found = brute_force(history, done, &next);
            done[b.id.0] = false;
            if found {
                return true;
            }
        }
    }
    !any
}

/// Each client runs its ops in program order; the global order interleaves the clients as `turns`
/// says; each op is invoked and returns at its turn (a sequential run, so also linearizable).
fn run_history(programs: &[Vec<RegOp>], turns: &[usize]) -> History<RegOp, RegOut> {
    let mut model = Register::default();
    let mut next = vec![0; programs.len()];
    let mut history = History::new();
    for &t in turns {
        let c = t % programs.len();
        let Some(op) = programs[c].get(next[c]) else { continue };
        next[c] += 1;
        let out = model.step(op);
        let id = history.invoke(c + 1, op.clone());
        history.ret(id, out).unwrap();
    }
    history
}

fn arb_op() -> impl Strategy<Value = RegOp> {
    prop_oneof![
        Just(RegOp::Read),
        (0..3i64).prop_map(RegOp::Write),
        (0..3i64, 0..3i64).prop_map(|(a, b)| RegOp::Cas(a, b))
    ]
}

fn arb_out() -> impl Strategy<Value = RegOut> {
    prop_oneof![
        prop::option::of(0..3i64).prop_map(RegOut::Read),
        Just(RegOut::Write),
        any::<bool>().prop_map(RegOut::Cas),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn runs_are_sequentially_consistent_with_a_valid_witness(
        programs in prop::collection::vec(prop::collection::vec(arb_op(), 0..6), 1..4),
        turns in prop::collection::vec(0..4usize, 0..30),
    ) {
        let history = run_history(&programs, &turns);
        match check_sequential::<Register>(&history, BUDGET) {
            Verdict::Linearizable(w) => prop_assert_eq!(valid_order::<Register>(&history, &w.order), Ok(())),
            other => prop_assert!(false, "expected consistent, got {}", other),
        }
    }

    #[test]
    fn reading_a_value_never_written_is_not_sequentially_consistent(
        programs in prop::collection::vec(prop::collection::vec(arb_op(), 0..6), 1..4),
        turns in prop::collection::vec(0..4usize, 0..30),
        client in 1..4usize,
    ) {
        let mut history = run_history(&programs, &turns);
        let id = history.invoke(client, RegOp::Read);
        history.ret(id, RegOut::Read(Some(99))).unwrap();
        match check_sequential::<Register>(&history, BUDGET) {
            Verdict::NotLinearizable(evidence) => {
                prop_assert!(evidence.unplaceable.contains(&id), "the bad read is named: {:?}", evidence);
                let prefix: Vec<OpId> = evidence.prefix.clone();
                // The prefix itself replays.
                let mut model = Register::default();
                for p in &prefix {
                    let op = &history.operations()[p.0];
                    prop_assert!(model.step_matches(&op.op, op.output.as_ref().unwrap()));
                }
            }
            other => prop_assert!(false, "expected inconsistent, got {}", other),
        }
    }

    #[test]
    fn agrees_with_brute_force_on_small_random_histories(
        spec in prop::collection::vec((arb_op(), arb_out(), 0..3usize, 0..8usize, 0..4usize), 0..7),
    ) {
        // Each op: a client (0 is the harness), invoked at 2*start, returned at 2*(start+len)+1;
        // ops of one client are made sequential by shifting them.
        let mut events = Vec::new();
        let mut client_end = [0usize; 3];
        for (i, (_, _, client, start, len)) in spec.iter().enumerate() {
            let start = (*start).max(client_end[*client]);
            let end = start + len + 1;
            client_end[*client] = end + 1;
            events.push((2 * start, i, true));
            events.push((2 * end + 1, i, false));
        }
        events.sort_unstable();
        let mut history = History::new();
        let mut ids = vec![None; spec.len()];
        for (_, i, is_invoke) in events {
            if is_invoke {
                ids[i] = Some(history.invoke(spec[i].2, spec[i].0.clone()));
            } else {
                history.ret(ids[i].unwrap(), spec[i].1.clone()).unwrap();
            }
        }
        let expected = brute_force(&history, &mut vec![false; history.len()], &Register::default());
        let verdict = check_sequential::<Register>(&history, BUDGET);
        prop_assert_eq!(verdict.is_linearizable(), expected, "{}", verdict);
        if let Verdict::Linearizable(w) = &verdict {
            prop_assert_eq!(valid_order::<Register>(&history, &w.order), Ok(()));
        }
        // Linearizable implies sequentially consistent.
        if check::<Register>(&history, BUDGET).is_linearizable() {
            prop_assert!(verdict.is_linearizable());
        }
    }
}

#[test]
fn a_stale_read_by_another_thread_is_consistent_but_one_after_the_harness_is_not() {
    let mut h = History::new();
    let w = h.invoke(1, RegOp::Write(1));
    h.ret(w, RegOut::Write).unwrap();
    let r = h.invoke(2, RegOp::Read);
    h.ret(r, RegOut::Read(None)).unwrap();
    assert!(!check::<Register>(&h, BUDGET).is_linearizable());
    assert!(check_sequential::<Register>(&h, BUDGET).is_linearizable());

    // The harness's post part runs after every thread joined: it cannot read the old value.
    let mut h = History::new();
    let w = h.invoke(1, RegOp::Write(1));
    h.ret(w, RegOut::Write).unwrap();
    let r = h.invoke(0, RegOp::Read);
    h.ret(r, RegOut::Read(None)).unwrap();
    match check_sequential::<Register>(&h, BUDGET) {
        Verdict::NotLinearizable(e) => {
            assert_eq!(e.prefix, vec![w]);
            assert_eq!(e.unplaceable, vec![r]);
        }
        other => panic!("expected inconsistent, got {other}"),
    }
}

#[test]
fn a_zero_budget_decides_nothing() {
    let mut h = History::new();
    let w = h.invoke(1, RegOp::Write(1));
    h.ret(w, RegOut::Write).unwrap();
    assert!(check_sequential::<Register>(&h, Duration::ZERO).is_unknown());
    assert!(check_sequential::<Register>(&History::new(), Duration::ZERO).is_linearizable());
}
