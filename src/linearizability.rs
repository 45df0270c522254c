//! PLACEHOLDER until the standalone checker lands (replaced wholesale).
use std::collections::HashSet;
use std::time::{Duration, Instant};

use crate::history::{History, OpId};
use crate::Model;

#[derive(Clone, Debug)]
pub struct Witness {
    pub order: Vec<OpId>,
}
#[derive(Clone, Debug)]
pub struct Evidence {
    pub partition: Option<u64>,
    pub prefix: Vec<OpId>,
    pub unplaceable: Vec<OpId>,
}
#[derive(Clone, Debug)]
pub struct Unknown {
    pub reason: String,
}
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Verdict {
    Linearizable(Witness),
    NotLinearizable(Evidence),
    Unknown(Unknown),
}

pub fn check<M: Model>(history: &History<M::Op, M::Output>, budget: Duration) -> Verdict {
    let ops = history.operations();
    let n = ops.len();
    let deadline = Instant::now() + budget;
    let mut seen: HashSet<(Vec<bool>, M)> = HashSet::new();
    let mut done = vec![false; n];
    let mut order = Vec::new();
    let mut best = (Vec::new(), Vec::new());
    fn rec<M: Model>(
        ops: &[crate::history::Operation<M::Op, M::Output>],
        model: &M,
        done: &mut Vec<bool>,
        order: &mut Vec<OpId>,
        seen: &mut HashSet<(Vec<bool>, M)>,
        best: &mut (Vec<OpId>, Vec<OpId>),
        deadline: Instant,
    ) -> Option<bool> {
        if Instant::now() > deadline {
            return None;
        }
        if ops.iter().all(|o| done[o.id.0] || o.returned.is_none()) {
            return Some(true);
        }
        if !seen.insert((done.clone(), model.clone())) {
            return Some(false);
        }
        let min_ret = ops
            .iter()
            .filter(|o| !done[o.id.0])
            .filter_map(|o| o.returned)
            .min()
            .unwrap_or(usize::MAX);
        let mut failed = Vec::new();
        let candidates: Vec<usize> = ops
            .iter()
            .filter(|o| !done[o.id.0] && o.invoked < min_ret)
            .map(|o| o.id.0)
            .collect();
        for o in candidates.into_iter().map(|i| &ops[i]) {
            let mut m = model.clone();
            let ok = match &o.output {
                Some(out) => m.step_matches(&o.op, out),
                None => {
                    m.step(&o.op);
                    true
                }
            };
            if !ok {
                failed.push(o.id);
                continue;
            }
            done[o.id.0] = true;
            order.push(o.id);
            let r = rec(ops, &m, done, order, seen, best, deadline)?;
            if r {
                return Some(true);
            }
            order.pop();
            done[o.id.0] = false;
        }
        if order.len() >= best.0.len() && !failed.is_empty() {
            *best = (order.clone(), failed);
        }
        Some(false)
    }
    match rec(
        ops,
        &M::default(),
        &mut done,
        &mut order,
        &mut seen,
        &mut best,
        deadline,
    ) {
        Some(true) => Verdict::Linearizable(Witness { order }),
        Some(false) => Verdict::NotLinearizable(Evidence {
            partition: None,
            prefix: best.0,
            unplaceable: best.1,
        }),
        None => Verdict::Unknown(Unknown {
            reason: "time budget ran out".into(),
        }),
    }
}
