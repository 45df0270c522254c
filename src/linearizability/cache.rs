//! The memo table of the search: every (set of linearized ops, model state) pair already reached.
//!
//! Lowe's observation is that two search paths reaching the same set of linearized operations with
//! the same model state have the same future, so the second one can be pruned. The table is an
//! open-addressing hash set whose entries live in flat arenas (bitsets back to back in one `Vec`),
//! which avoids one allocation per entry; it also owns the model states, so the search refers to
//! its current state by index and never clones a state except to step it.

use std::hash::{Hash, Hasher};

/// A small, fast, deterministic hasher (the rustc "Fx" hash). Quality is adequate because the
/// table re-mixes the final value; speed matters because every explored state is hashed.
#[derive(Default)]
pub(crate) struct FxHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 59));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

/// Hash of a model state.
#[inline]
pub(super) fn hash_state<T: Hash>(state: &T) -> u64 {
    let mut hasher = FxHasher::default();
    state.hash(&mut hasher);
    hasher.finish()
}

/// A well-mixed 64-bit value derived from `x` (splitmix64 finaliser).
#[inline]
pub(super) fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The set of visited (bitset, state) pairs. Entry 0 is the initial state with the empty set.
pub(super) struct Cache<M> {
    words: usize,
    /// Open addressing with linear probing. A slot is 0 when empty, else the low 32 bits of the
    /// mixed hash (a tag, so that probing rarely touches the arenas) above `index + 1`; the slot
    /// position comes from the top bits of the mixed hash, so tag and position are independent.
    slots: Vec<u64>,
    shift: u32,
    hashes: Vec<u64>,
    bits: Vec<u64>,
    states: Vec<M>,
}

const INITIAL_SLOTS_LOG2: u32 = 10;

impl<M: Eq> Cache<M> {
    /// A table for bitsets of `words` 64-bit words, holding `initial` with the empty set.
    pub(super) fn new(words: usize, initial: M, initial_hash: u64) -> Self {
        let mut cache = Cache {
            words,
            slots: vec![0; 1 << INITIAL_SLOTS_LOG2],
            shift: 64 - INITIAL_SLOTS_LOG2,
            hashes: Vec::new(),
            bits: Vec::new(),
            states: Vec::new(),
        };
        let empty = vec![0; words];
        cache.insert(initial_hash, &empty, initial);
        cache
    }

    pub(super) fn len(&self) -> usize {
        self.states.len()
    }

    pub(super) fn state(&self, index: u32) -> &M {
        &self.states[index as usize]
    }

    /// Inserts the pair unless present; returns the new entry's index, or `None` if it was present.
    #[inline]
    pub(super) fn insert(&mut self, hash: u64, bits: &[u64], state: M) -> Option<u32> {
        debug_assert_eq!(bits.len(), self.words);
        let mixed = mix(hash);
        let tag = mixed << 32;
        let mask = self.slots.len() - 1;
        let mut slot = (mixed >> self.shift) as usize;
        loop {
            let entry = self.slots[slot];
            if entry == 0 {
                break;
            }
            if entry & !0xffff_ffff == tag {
                let i = (entry & 0xffff_ffff) as usize - 1;
                if self.hashes[i] == hash
                    && words_equal(&self.bits[i * self.words..(i + 1) * self.words], bits)
                    && self.states[i] == state
                {
                    return None;
                }
            }
            slot = (slot + 1) & mask;
        }
        let index = u32::try_from(self.states.len())
            .ok()
            .filter(|&i| i < u32::MAX)
            .expect("cache size is bounded well below u32::MAX");
        self.slots[slot] = tag | u64::from(index + 1);
        self.hashes.push(hash);
        self.bits.extend_from_slice(bits);
        self.states.push(state);
        // Keep the load factor under 1/2 so that probe sequences stay short.
        if self.states.len() * 2 > self.slots.len() {
            self.grow();
        }
        Some(index)
    }

    fn grow(&mut self) {
        let size = self.slots.len() * 2;
        let mask = size - 1;
        self.shift -= 1;
        let mut slots = vec![0u64; size];
        for (index, &hash) in self.hashes.iter().enumerate() {
            let mixed = mix(hash);
            let mut slot = (mixed >> self.shift) as usize;
            while slots[slot] != 0 {
                slot = (slot + 1) & mask;
            }
            slots[slot] = (mixed << 32) | (index as u64 + 1);
        }
        self.slots = slots;
    }
}

/// Bitsets are a few words long: a plain loop beats a call to `memcmp`.
#[inline]
fn words_equal(a: &[u64], b: &[u64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserts_once_and_grows() {
        let mut cache = Cache::new(1, 0u32, hash_state(&0u32));
        assert_eq!(cache.insert(hash_state(&0u32), &[0], 0), None);
        for i in 1..5000u64 {
            let state = (i % 7) as u32;
            let h = i ^ hash_state(&state);
            assert!(cache.insert(h, &[i], state).is_some());
            assert_eq!(cache.insert(h, &[i], state), None);
        }
        assert_eq!(cache.len(), 5000);
        assert_eq!(*cache.state(7), 0);
    }
}
