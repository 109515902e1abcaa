//! The compact history that rebuilds the chosen set.
//!
//! Every state of the search carries a word with one bit per step of the
//! current block of [`BLOCK`] steps: set when the state changed the greedy
//! fill at that step. At each block's end the state list is saved as (weight,
//! word) pairs, sorted by weight, and the words restart at zero. A state at
//! the end of a block is found again by its weight, which is unique in a
//! non-dominated list.

/// Steps per block: the bits of one word.
pub(super) const BLOCK: usize = 64;

/// The saved state lists, one per finished block, each allocated at its
/// exact size so that the memory they take is known.
#[derive(Debug, Default)]
pub(super) struct Trace {
    /// Per block: the states' weights and words.
    blocks: Vec<Block>,
    /// Bytes the saved lists take.
    bytes: usize,
}

/// One block's saved states: weights (increasing) and words.
type Block = (Box<[u64]>, Box<[u64]>);

/// Bytes one saved state takes.
pub(super) const SAVED_STATE_BYTES: usize = 16;

impl Trace {
    /// Saves the state list at the end of a block: `(weight, word)` pairs
    /// in increasing weight.
    pub(super) fn close_block(&mut self, states: impl ExactSizeIterator<Item = (u64, u64)>) {
        let mut weights = Vec::with_capacity(states.len());
        let mut words = Vec::with_capacity(states.len());
        for (weight, word) in states {
            weights.push(weight);
            words.push(word);
        }
        self.bytes += weights.len() * SAVED_STATE_BYTES;
        if self.blocks.len() == self.blocks.capacity() {
            self.blocks.reserve_exact(self.blocks.len().max(16));
        }
        self.blocks
            .push((weights.into_boxed_slice(), words.into_boxed_slice()));
    }

    /// The word of the state of weight `weight` at the end of block `block`,
    /// if that block saved one.
    pub(super) fn word(&self, block: usize, weight: u64) -> Option<u64> {
        let (weights, words) = self.blocks.get(block)?;
        let at = weights.binary_search(&weight).ok()?;
        Some(words[at])
    }

    /// Bytes the saved lists take (with their index).
    pub(super) fn bytes(&self) -> usize {
        self.bytes + self.blocks.capacity() * std::mem::size_of::<Block>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_states_by_block_and_weight() {
        let mut t = Trace::default();
        t.close_block([(3, 1), (7, 2), (9, 4)].into_iter());
        t.close_block([(4, 8)].into_iter());
        assert_eq!(t.word(0, 7), Some(2));
        assert_eq!(t.word(0, 4), None);
        assert_eq!(t.word(1, 4), Some(8));
        assert_eq!(t.word(2, 4), None);
        assert!(t.bytes() >= 4 * SAVED_STATE_BYTES);
    }
}
