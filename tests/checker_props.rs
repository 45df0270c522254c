//! Property tests: histories made from sequential runs are linearizable, corrupted ones are not,
//! and on small random histories the checker agrees with a brute-force search.

#[path = "support/histories.rs"]
mod histories;

use std::sync::Arc;
use std::time::Duration;

use crosscheck::history::History;
use crosscheck::linearizability::{check, Verdict};
use crosscheck::Model;
use histories::*;
use proptest::prelude::*;

const BUDGET: Duration = Duration::from_secs(20);

/// How one operation of a generated history is recorded.
#[derive(Clone, Copy, Debug)]
enum Fate {
    /// Returned normally.
    Returned,
    /// Took effect, but its client never saw the return.
    Pending,
    /// Invoked, never took effect, never returned (a client that crashed early).
    Phantom,
}

fn arb_fate() -> impl Strategy<Value = Fate> {
    prop_oneof![14 => Just(Fate::Returned), 1 => Just(Fate::Pending), 1 => Just(Fate::Phantom)]
}

/// Runs `ops` sequentially on `M::default()` (skipping phantoms), gives operation `i` the
/// linearization point `10 i + 5` and an interval around it stretched by `(before, after)` steps,
/// and records the events in time order. Invocations fall on times 4 mod 10 and returns on 6
/// mod 10, so an invocation and a return never tie.
fn history_from_run<M: Model>(ops: &[(M::Op, u8, u8, Fate)]) -> History<M::Op, M::Output> {
    let mut model = M::default();
    let mut events = Vec::new();
    let mut outputs = Vec::new();
    for (i, (op, before, after, fate)) in ops.iter().enumerate() {
        let point = 10 * i as i64 + 5;
        events.push((point - 1 - 10 * i64::from(*before), i, true));
        match fate {
            Fate::Phantom => outputs.push(None),
            Fate::Pending => {
                model.step(op);
                outputs.push(None);
            }
            Fate::Returned => {
                outputs.push(Some(model.step(op)));
                events.push((point + 1 + 10 * i64::from(*after), i, false));
            }
        }
    }
    events.sort_by_key(|&(time, i, _)| (time, i));
    let mut history = History::new();
    let mut ids = vec![None; ops.len()];
    for (_, i, is_invoke) in events {
        if is_invoke {
            ids[i] = Some(history.invoke(i, ops[i].0.clone()));
        } else {
            let output = outputs[i].clone().unwrap();
            history.ret(ids[i].unwrap(), output).unwrap();
        }
    }
    history
}

/// `history` with the output of the (returned) op of `client` replaced; clients are unique in
/// generated histories. Rebuilt from the events because `History` has no mutation API.
fn replace_output<M: Model>(
    history: &History<M::Op, M::Output>,
    client: usize,
    output: M::Output,
) -> History<M::Op, M::Output> {
    let mut events: Vec<(usize, usize, bool)> = Vec::new();
    for o in history.operations() {
        events.push((o.invoked, o.id.0, true));
        if let Some(r) = o.returned {
            events.push((r, o.id.0, false));
        }
    }
    events.sort_unstable();
    let mut rebuilt = History::new();
    let mut ids = vec![None; history.len()];
    for (_, i, is_invoke) in events {
        let o = &history.operations()[i];
        if is_invoke {
            ids[i] = Some(rebuilt.invoke(o.client, o.op.clone()));
        } else {
            let new = if o.client == client {
                output.clone()
            } else {
                o.output.clone().unwrap()
            };
            rebuilt.ret(ids[i].unwrap(), new).unwrap();
        }
    }
    rebuilt
}

/// Keeps the first `max` pending or phantom ops and makes the others return.
///
/// Every pending op stays a candidate until the end of the history, so when the search has to
/// backtrack, the configurations to explore multiply with their number, and more so when the
/// state space is large (a store with several keys). Real histories have few crashed clients.
fn cap_pending<O>(mut ops: Vec<(O, u8, u8, Fate)>, max: usize) -> Vec<(O, u8, u8, Fate)> {
    for op in ops.iter_mut().filter(|op| !matches!(op.3, Fate::Returned)).skip(max) {
        op.3 = Fate::Returned;
    }
    ops
}

fn arb_reg_op() -> impl Strategy<Value = RegOp> {
    prop_oneof![
        2 => Just(RegOp::Read),
        2 => (0..4i64).prop_map(RegOp::Write),
        1 => (0..4i64, 0..4i64).prop_map(|(a, b)| RegOp::Cas(a, b)),
    ]
}

fn arb_kv_op() -> impl Strategy<Value = KvOp> {
    let key = prop::sample::select(vec!["a", "b", "c", "d"]).prop_map(Arc::<str>::from);
    let value = prop::sample::select(vec!["x", "y", "z"]).prop_map(Arc::<str>::from);
    prop_oneof![
        2 => key.clone().prop_map(KvOp::Get),
        1 => (key.clone(), value.clone()).prop_map(|(k, v)| KvOp::Put(k, v)),
        2 => (key, value).prop_map(|(k, v)| KvOp::Append(k, v)),
    ]
}

fn assert_linearizable<M: Model>(history: &History<M::Op, M::Output>) {
    match check::<M>(history, BUDGET) {
        Verdict::Linearizable(w) => {
            if let Err(e) = check_witness::<M>(history, &w.order) {
                panic!("bad witness {w}: {e}\n{history:?}");
            }
        }
        other => panic!("expected linearizable, got {other}\n{history:?}"),
    }
}

fn assert_not_linearizable<M: Model>(history: &History<M::Op, M::Output>) {
    match check::<M>(history, BUDGET) {
        Verdict::NotLinearizable(e) => {
            if let Err(why) = check_evidence::<M>(history, e.partition, &e.prefix, &e.unplaceable) {
                panic!("bad evidence {e}: {why}\n{history:?}");
            }
        }
        other => panic!("expected not linearizable, got {other}\n{history:?}"),
    }
}

/// Whether some order of the remaining ops, starting from `model`, respects real time and the
/// recorded outputs; plain exhaustive search, independent of the checker's data structures.
fn brute_force<M: Model>(history: &History<M::Op, M::Output>, done: &mut [bool], model: &M) -> bool {
    let ops = history.operations();
    let horizon = ops.iter().filter(|o| !done[o.id.0]).filter_map(|o| o.returned).min();
    let Some(horizon) = horizon else {
        return true;
    };
    for o in ops {
        if done[o.id.0] || o.invoked >= horizon {
            continue;
        }
        let mut next = model.clone();
        let ok = match (&o.output, o.returned) {
            (Some(out), Some(_)) => next.step_matches(&o.op, out),
            _ => {
                next.step(&o.op);
                true
            }
        };
        if ok {
            done[o.id.0] = true;
            let found = brute_force(history, done, &next);
            done[o.id.0] = false;
            if found {
                return true;
            }
        }
    }
    false
}

fn arb_reg_output() -> impl Strategy<Value = RegOut> {
    prop_oneof![
        (prop::option::of(0..3i64)).prop_map(RegOut::Read),
        Just(RegOut::Write),
        any::<bool>().prop_map(RegOut::Cas),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn sequential_runs_with_overlaps_are_linearizable(
        ops in prop::collection::vec((arb_reg_op(), 0..4u8, 0..4u8, arb_fate()), 0..60)
    ) {
        let history = history_from_run::<Register>(&ops);
        assert_linearizable::<Register>(&history);
    }

    #[test]
    fn reading_a_value_never_written_is_not_linearizable(
        ops in prop::collection::vec((arb_reg_op(), 0..4u8, 0..4u8, arb_fate()), 1..60),
        pick in any::<prop::sample::Index>(),
    ) {
        let mut history = history_from_run::<Register>(&ops);
        let reads: Vec<usize> = history
            .operations()
            .iter()
            .filter(|o| o.op == RegOp::Read && o.returned.is_some())
            .map(|o| o.client)
            .collect();
        prop_assume!(!reads.is_empty());
        let victim = reads[pick.index(reads.len())];
        history = replace_output::<Register>(&history, victim, RegOut::Read(Some(99)));
        assert_not_linearizable::<Register>(&history);
    }

    #[test]
    fn kv_runs_are_linearizable(
        ops in prop::collection::vec((arb_kv_op(), 0..4u8, 0..4u8, arb_fate()), 1..80),
    ) {
        let ops = cap_pending(ops, 4);
        let history = history_from_run::<Kv>(&ops);
        assert_linearizable::<Kv>(&history);
        assert_linearizable::<KvUnpartitioned>(&history);
    }

    // Proving non-linearizability is exhaustive, hence exponential in concurrency and in the
    // number of pending ops: these histories are kept short.
    #[test]
    fn kv_runs_with_a_get_of_a_value_never_written_are_not_linearizable(
        ops in prop::collection::vec((arb_kv_op(), 0..3u8, 0..3u8, arb_fate()), 1..25),
        at in 0..25usize,
    ) {
        let mut ops = ops;
        let at = at.min(ops.len());
        ops.insert(at, (KvOp::Get("a".into()), 1, 1, Fate::Returned));
        let bad = replace_output::<Kv>(&history_from_run::<Kv>(&ops), at, KvOut::Value("never".into()));
        assert_not_linearizable::<Kv>(&bad);
        assert_not_linearizable::<KvUnpartitioned>(&bad);
    }

    #[test]
    fn agrees_with_brute_force_on_small_random_histories(
        spec in prop::collection::vec(
            (arb_reg_op(), prop::option::of(arb_reg_output()), 0..12usize, 0..12usize),
            0..7,
        )
    ) {
        // Each op: invoked at time 2*start, returned at time 2*(start+len)+1 (or never).
        let mut events = Vec::new();
        for (i, (_, output, start, len)) in spec.iter().enumerate() {
            events.push((2 * start, i, true));
            if output.is_some() {
                events.push((2 * (start + len) + 1, i, false));
            }
        }
        events.sort_unstable();
        let mut history = History::new();
        let mut ids = vec![None; spec.len()];
        for (_, i, is_invoke) in events {
            if is_invoke {
                ids[i] = Some(history.invoke(i, spec[i].0.clone()));
            } else {
                history.ret(ids[i].unwrap(), spec[i].1.clone().unwrap()).unwrap();
            }
        }
        let expected = brute_force(&history, &mut vec![false; history.len()], &Register::default());
        if expected {
            assert_linearizable::<Register>(&history);
        } else {
            assert_not_linearizable::<Register>(&history);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, ..ProptestConfig::default() })]

    /// Large enough to take the multi-threaded path and to merge many partitions' witnesses.
    #[test]
    fn large_partitioned_histories(
        ops in prop::collection::vec((arb_kv_op(), 0..3u8, 0..3u8, arb_fate()), 1100..1300),
    ) {
        let ops = cap_pending(ops, 8);
        let history = history_from_run::<Kv>(&ops);
        assert_linearizable::<Kv>(&history);
        // A key of its own, so that the failing partition is cheap to refute.
        let mut bad = history.clone();
        let id = bad.invoke(1000, KvOp::Get("e".into()));
        bad.ret(id, KvOut::Value("never".into())).unwrap();
        assert_not_linearizable::<Kv>(&bad);
    }
}
