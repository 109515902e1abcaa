//! Subset sum: every candidate equally dense (value proportional to weight,
//! e.g. value equal to weight). The best set is then the heaviest that fits,
//! and the linear bounds cannot tell a reachable total from an unreachable
//! one, so on instances like "all weights a multiple of 3 but one" the
//! search would keep every reachable total. A bitset of reachable totals
//! settles them in `n · C / 64` word operations instead.
//!
//! The candidates are taken in the expansion order of the tie rule; walking
//! back from the best total, each candidate keeps its greedy decision
//! whenever the total stays reachable, which is the tie rule (every set with
//! a given total has the same value). The bitsets are saved every
//! [`SEGMENT`] candidates and recomputed one segment at a time on the way
//! back, so memory stays within [`MEMORY`] (and the solve's memory cap).
//!
//! Under a deadline the forward pass must end within half the time left
//! when it starts (the backward pass costs about as much); when it does not,
//! or a limit stops the bitsets, they answer `None` and the search goes on
//! from where it handed over.

use std::time::Instant;

use super::control::Control;
use super::rank::{Ranked, expansion};

/// Candidates per saved bitset.
const SEGMENT: usize = 64;

/// Most bytes the bitsets may take.
const MEMORY: usize = 256 << 20;

/// A subset-sum instance small enough for the bitsets.
pub(super) struct SubsetSum<'a> {
    ranked: &'a Ranked,
    capacity: usize,
    words: usize,
    bytes: usize,
}

impl<'a> SubsetSum<'a> {
    /// `Some` when every candidate has the same density and the bitsets fit
    /// in [`MEMORY`] and in `memory` bytes.
    pub(super) fn new(ranked: &'a Ranked, capacity: u64, memory: usize) -> Option<SubsetSum<'a>> {
        let (&w0, &v0) = ranked.weight.first().zip(ranked.value.first())?;
        let proportional = ranked
            .weight
            .iter()
            .zip(&ranked.value)
            .all(|(&w, &v)| u128::from(v) * u128::from(w0) == u128::from(v0) * u128::from(w));
        let capacity = usize::try_from(capacity).ok()?;
        let words = capacity / 64 + 1;
        let bitsets = ranked.len() / SEGMENT + 2 + SEGMENT;
        let bytes = bitsets.checked_mul(words)?.checked_mul(8)?;
        let fits = bytes <= MEMORY.min(memory);
        (proportional && fits).then_some(SubsetSum {
            ranked,
            capacity,
            words,
            bytes,
        })
    }

    /// About the most bytes the bitsets take.
    pub(super) fn bytes(&self) -> usize {
        self.bytes
    }

    /// The ranked positions of the heaviest set that fits, by the tie rule;
    /// `None` when `control` stops it or its forward pass runs past half the
    /// time left.
    pub(super) fn solve(&self, control: &Control<'_>) -> Option<Vec<usize>> {
        let halfway = control.halfway();
        let late = || halfway.is_some_and(|h| Instant::now() >= h);
        let r = self.ranked;
        let n = r.len();
        let words = self.words;
        let mut brk = 0;
        let mut fill = 0u64;
        while brk < n && fill + r.weight[brk] <= self.capacity as u64 {
            fill += r.weight[brk];
            brk += 1;
        }
        let order = expansion(n, brk);
        // Forward: reachable totals, saved at the start of every segment.
        let mut saved: Vec<u64> = Vec::with_capacity((n / SEGMENT + 1) * words);
        let mut reach = vec![0u64; words];
        reach[0] = 1;
        for (k, &pos) in order.iter().enumerate() {
            if k.is_multiple_of(SEGMENT) {
                if late() {
                    return None;
                }
                saved.extend_from_slice(&reach);
            }
            if control.tick(words).is_some() {
                return None;
            }
            self.add(&mut reach, r.weight[pos]);
        }
        let best = (0..words)
            .rev()
            .find(|&i| reach[i] != 0)
            .map_or(0, |i| i * 64 + 63 - reach[i].leading_zeros() as usize);
        // Backward, one segment at a time.
        let mut take = vec![false; n];
        let mut total = best;
        let mut before = vec![0u64; SEGMENT * words];
        for (segment, start) in (0..n).step_by(SEGMENT).enumerate().rev() {
            let end = (start + SEGMENT).min(n);
            let mut bits = saved[segment * words..(segment + 1) * words].to_vec();
            for k in start..end {
                if control.tick(2 * words).is_some() {
                    return None;
                }
                before[(k - start) * words..(k - start + 1) * words].copy_from_slice(&bits);
                self.add(&mut bits, r.weight[order[k]]);
            }
            for k in (start..end).rev() {
                let prev = &before[(k - start) * words..(k - start + 1) * words];
                let has = |t: usize| prev[t / 64] >> (t % 64) & 1 == 1;
                let pos = order[k];
                let w = r.weight[pos] as usize;
                // `total` is reachable after this candidate: keep its greedy
                // decision if the rest can still make `total`.
                let include = if pos < brk {
                    total >= w && has(total - w)
                } else {
                    !has(total)
                };
                if include {
                    take[pos] = true;
                    total -= w;
                }
            }
        }
        debug_assert_eq!(total, 0);
        Some((0..n).filter(|&pos| take[pos]).collect())
    }

    /// `reach |= reach << weight`, cut at the capacity.
    fn add(&self, reach: &mut [u64], weight: u64) {
        let Ok(weight) = usize::try_from(weight) else {
            return;
        };
        if weight > self.capacity {
            return;
        }
        let (shift_words, shift_bits) = (weight / 64, weight % 64);
        for i in (shift_words..self.words).rev() {
            let mut moved = reach[i - shift_words] << shift_bits;
            if shift_bits > 0 && i > shift_words {
                moved |= reach[i - shift_words - 1] >> (64 - shift_bits);
            }
            reach[i] |= moved;
        }
        let top = self.capacity % 64;
        if top < 63 {
            reach[self.words - 1] &= (1u64 << (top + 1)) - 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::knapsack::Limits;

    fn ranked(weights: &[u32], values: &[u64]) -> (Ranked, u64) {
        let all: Vec<usize> = (0..weights.len()).collect();
        Ranked::new(&all, weights, values, u64::MAX)
    }

    #[test]
    fn only_for_equal_densities() {
        let (r, _) = ranked(&[3, 5, 7], &[6, 10, 14]);
        assert!(SubsetSum::new(&r, 10, usize::MAX).is_some());
        let (r, _) = ranked(&[3, 5, 7], &[6, 10, 15]);
        assert!(SubsetSum::new(&r, 10, usize::MAX).is_none());
        // Bitsets too large for the memory budget, or the solve's cap.
        let (r, _) = ranked(&[3, 5, 7], &[3, 5, 7]);
        assert!(SubsetSum::new(&r, 1 << 40, usize::MAX).is_none());
        assert!(SubsetSum::new(&r, 1 << 20, 1 << 20).is_none());
        assert!(SubsetSum::new(&r, 1 << 20, 64 << 20).is_some());
    }

    #[test]
    fn finds_the_heaviest_total() {
        // Multiples of 3 and one 1: 200 is not reachable, 199 is.
        let weights = [3, 6, 9, 1, 30, 60, 90, 99];
        let (r, _) = ranked(&weights, &weights.map(u64::from));
        let s = SubsetSum::new(&r, 200, usize::MAX).expect("subset sum");
        let control = Control::new(&Limits::default());
        let taken = s.solve(&control).expect("no limits");
        let total: u64 = taken.iter().map(|&p| r.weight[p]).sum();
        assert_eq!(total, 199);
        // Cancelled at once: no answer.
        let cancel = || true;
        let control = Control::new(&Limits {
            cancel: Some(&cancel),
            ..Limits::default()
        });
        control.look();
        assert!(s.solve(&control).is_none());
    }

    #[test]
    fn shifts_across_words() {
        let s = SubsetSum {
            ranked: &ranked(&[1], &[1]).0,
            capacity: 200,
            words: 4,
            bytes: 0,
        };
        let mut reach = vec![1u64 | 1 << 63, 0, 0, 0];
        s.add(&mut reach, 70);
        assert_eq!(reach, vec![1 | 1 << 63, 1 << 6, 1 << 5, 0]);
        s.add(&mut reach, 130);
        // 0+130, 63+130 = 193, 70+130 = 200, 133+130 out of range.
        assert_eq!(reach[2], 1 << 5 | 1 << 2);
        assert_eq!(reach[3], 1 << 1 | 1 << 8);
    }
}
