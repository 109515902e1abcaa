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

/// The saved state lists, one per finished block.
#[derive(Debug, Default)]
pub(super) struct Trace {
    weights: Vec<u64>,
    words: Vec<u64>,
    /// Where each block's states start in `weights`/`words`.
    starts: Vec<usize>,
}

impl Trace {
    /// Saves the state list at the end of a block: `(weight, word)` pairs
    /// in increasing weight.
    pub(super) fn close_block(&mut self, states: impl Iterator<Item = (u64, u64)>) {
        self.starts.push(self.weights.len());
        for (weight, word) in states {
            self.weights.push(weight);
            self.words.push(word);
        }
    }

    /// The word of the state of weight `weight` at the end of block `block`,
    /// if that block saved one.
    pub(super) fn word(&self, block: usize, weight: u64) -> Option<u64> {
        let start = *self.starts.get(block)?;
        let end = self
            .starts
            .get(block + 1)
            .copied()
            .unwrap_or(self.weights.len());
        let at = self.weights[start..end].binary_search(&weight).ok()?;
        Some(self.words[start + at])
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
    }
}
