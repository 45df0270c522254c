//! The value trees behind crosscheck's proptest strategies. Both shrink the way crosscheck's own
//! shrinker does: structure first (a thread dropped, an operation dropped or moved out of the
//! parallel part), then values.
//!
//! proptest drives a tree with `simplify` (the last value still failed: go smaller) and
//! `complicate` (it passed: that step went too far). Here a structural step is one candidate of the
//! accepted layout; `simplify` after a candidate accepts it, `complicate` rejects it and moves to
//! the next one.

use std::fmt::{self, Debug};
use std::sync::Arc;

use ::proptest::strategy::ValueTree;

use crate::scenario::{Chunks, Scenario, ScenarioError};
use crate::shrink::{self, Parts};

/// Shrinks a scenario held as crosscheck's scenario bytes, with the shrinker's own candidate
/// edits (threads, operations, then the bytes of each operation's value).
pub struct BytesTree<Op> {
    accepted: Chunks,
    queue: Vec<(Chunks, Scenario<Op>)>,
    next: usize,
    trying: Option<usize>,
    current: Scenario<Op>,
}

impl<Op: Debug> Debug for BytesTree<Op> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BytesTree").field("current", &self.current).finish()
    }
}

impl<Op> BytesTree<Op>
where
    Op: Clone + Debug + for<'a> arbitrary::Arbitrary<'a>,
{
    pub(crate) fn new(bytes: &[u8]) -> Result<Self, ScenarioError> {
        let accepted = Chunks::parse(bytes)?;
        let current = accepted.decode()?;
        crate::proptest::remember(&current, bytes.to_vec());
        let mut tree = BytesTree {
            accepted,
            queue: Vec::new(),
            next: 0,
            trying: None,
            current,
        };
        tree.refill();
        Ok(tree)
    }

    /// The candidates of the accepted scenario that decode.
    fn refill(&mut self) {
        self.queue = shrink::candidates(&self.accepted)
            .into_iter()
            .filter_map(|c| c.decode().ok().map(|s| (c, s)))
            .collect();
        self.next = 0;
    }

    fn try_next(&mut self) -> bool {
        if self.next >= self.queue.len() {
            return false;
        }
        self.trying = Some(self.next);
        self.next += 1;
        let (chunks, scenario) = &self.queue[self.next - 1];
        crate::proptest::remember(scenario, chunks.encode());
        true
    }
}

impl<Op> ValueTree for BytesTree<Op>
where
    Op: Clone + Debug + for<'a> arbitrary::Arbitrary<'a>,
{
    type Value = Scenario<Op>;

    fn current(&self) -> Scenario<Op> {
        match self.trying {
            Some(i) => self.queue[i].1.clone(),
            None => self.current.clone(),
        }
    }

    fn simplify(&mut self) -> bool {
        if let Some(i) = self.trying.take() {
            // The candidate still failed: it is the new smallest failing case.
            let (chunks, scenario) = self.queue.swap_remove(i);
            self.accepted = chunks;
            self.current = scenario;
            self.refill();
        }
        self.try_next()
    }

    fn complicate(&mut self) -> bool {
        self.trying = None;
        self.try_next()
    }
}

/// Whether a candidate scenario may be tried (a state machine's preconditions).
pub(crate) type Valid<Op> = Arc<dyn Fn(&Scenario<Op>) -> bool + Send + Sync>;

/// Value-tree steps tried on one operation before moving on, so a tree that never settles cannot
/// stall shrinking.
const STEPS_PER_SLOT: usize = 256;

/// Shrinks a scenario whose operations are proptest value trees (`slots`): the layout with the
/// shrinker's structural edits, then each operation with its own tree.
pub struct OpsTree<T: ValueTree> {
    slots: Vec<T>,
    accepted: Parts<usize>,
    queue: Vec<Parts<usize>>,
    next: usize,
    trying: Option<usize>,
    /// Position, in the accepted layout's order, of the operation whose value is being shrunk.
    value: usize,
    value_pending: bool,
    steps: usize,
    valid: Option<Valid<T::Value>>,
}

impl<T: ValueTree> Debug for OpsTree<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpsTree")
            .field("current", &self.current())
            .finish_non_exhaustive()
    }
}

impl<T: ValueTree> OpsTree<T> {
    pub(crate) fn new(slots: Vec<T>, accepted: Parts<usize>, valid: Option<Valid<T::Value>>) -> Self {
        let mut tree = OpsTree {
            slots,
            accepted,
            queue: Vec::new(),
            next: 0,
            trying: None,
            value: 0,
            value_pending: false,
            steps: 0,
            valid,
        };
        tree.refill();
        tree
    }

    fn build(&self, p: &Parts<usize>) -> Scenario<T::Value> {
        let value = |&i: &usize| self.slots[i].current();
        Scenario {
            init: p.init.iter().map(value).collect(),
            threads: p.threads.iter().map(|t| t.iter().map(value).collect()).collect(),
            post: p.post.iter().map(value).collect(),
        }
    }

    fn is_valid(&self, p: &Parts<usize>) -> bool {
        self.valid.as_ref().is_none_or(|v| v(&self.build(p)))
    }

    fn refill(&mut self) {
        let all = shrink::structural(&self.accepted);
        self.queue = all.into_iter().filter(|p| self.is_valid(p)).collect();
        self.next = 0;
    }

    fn try_structural(&mut self) -> bool {
        if self.next >= self.queue.len() {
            return false;
        }
        self.trying = Some(self.next);
        self.next += 1;
        true
    }

    /// The accepted layout's slots in order: init, the threads, post.
    fn order(&self) -> Vec<usize> {
        let p = &self.accepted;
        p.init
            .iter()
            .chain(p.threads.iter().flatten())
            .chain(p.post.iter())
            .copied()
            .collect()
    }

    /// Simplifies the value of the operation at `self.value` or a later one; `true` once one
    /// changed into a valid scenario.
    fn try_value(&mut self) -> bool {
        let order = self.order();
        while self.value < order.len() {
            let slot = order[self.value];
            while self.steps < STEPS_PER_SLOT && self.slots[slot].simplify() {
                self.steps += 1;
                if self.is_valid(&self.accepted) {
                    self.value_pending = true;
                    return true;
                }
                // Broke a precondition: back off towards the last accepted value.
                while self.slots[slot].complicate() {
                    if self.is_valid(&self.accepted) {
                        self.value_pending = true;
                        return true;
                    }
                }
            }
            self.value += 1;
            self.steps = 0;
        }
        false
    }
}

impl<T: ValueTree> ValueTree for OpsTree<T> {
    type Value = Scenario<T::Value>;

    fn current(&self) -> Scenario<T::Value> {
        match self.trying {
            Some(i) => self.build(&self.queue[i]),
            None => self.build(&self.accepted),
        }
    }

    fn simplify(&mut self) -> bool {
        if let Some(i) = self.trying.take() {
            self.accepted = self.queue.swap_remove(i);
            self.refill();
        }
        // A value step that still failed is kept; the same operation is simplified further.
        self.value_pending = false;
        self.try_structural() || self.try_value()
    }

    fn complicate(&mut self) -> bool {
        if self.trying.take().is_some() {
            return self.try_structural() || self.try_value();
        }
        if self.value_pending {
            let slot = self.order()[self.value];
            while self.slots[slot].complicate() {
                if self.is_valid(&self.accepted) {
                    return true;
                }
            }
            self.value_pending = false;
            self.value += 1;
            self.steps = 0;
            return self.try_value();
        }
        false
    }
}
