//! The exact 0/1 knapsack behind the `optimal` strategy (docs/engine.md §3).
//!
//! [`solve`] picks the items with the largest total value (priority) whose
//! total weight (tokens) fits the capacity (budget). It is exact: there is no
//! approximation and no time-out that settles for a worse answer.
//!
//! [`solve_within`] is the same search under [`Limits`] (a deadline, a
//! memory cap for the search's state lists and history, a cancellation
//! poll): when it finishes within them the answer is exactly [`solve`]'s;
//! when a limit stops it, it returns the best set found so far (at least
//! the greedy fill by density) with a proven upper bound on every set's
//! value, so the [`gap`](Solution::gap) says how far from optimal it can be.
//!
//! # What is chosen
//!
//! 1. Items of value 0 are never chosen; items heavier than the capacity are
//!    never chosen; items of weight 0 and positive value are always chosen.
//! 2. Among the sets of the remaining *candidates* that fit, the result has
//!    the largest total value, and among those the smallest total weight.
//! 3. Among sets equal in both, the tie rule below decides.
//!
//! # The tie rule
//!
//! Rank the candidates by density (value per weight, highest first; equal
//! densities by input order). The *greedy fill* takes ranked candidates while
//! they fit; the first one that does not fit is the *break item*. The
//! *expansion order* lists the candidates outward from the cut: the break
//! item, the candidate ranked just before it, the one just after the break
//! item, the second before it, and so on, alternating and starting on the
//! side of the break item; when one side runs out the rest of the other side
//! follows in ranked order.
//!
//! Two tied sets are compared on the candidate, latest in the expansion
//! order, that one of them includes and the other does not; the set that
//! agrees with the greedy fill on it wins. In words: the answer changes the
//! greedy fill only on candidates as close to the cut as possible. Among
//! identical items (equal weight and value) this always keeps the earlier
//! ones in input order.
//!
//! A lexicographic rule by input order would need, on instances with
//! astronomically many optimal sets (value equal to weight, or values on a
//! line in the weight), a separate optimisation per item; this rule is the one
//! the expanding search below decides on the fly, at no extra cost.
//!
//! # How
//!
//! An expanding-core dynamic programme in the spirit of Pisinger's `minknap`
//! and `combo`:
//!
//! - Weights and values are divided by their greatest common divisors (and
//!   the capacity rounded down), which changes nothing but sharpens bounds.
//! - Rank by density, start from the greedy fill, then widen a core of free
//!   candidates around the break item one at a time, in expansion order.
//! - Keep the non-dominated (weight, value) states of the core, each meaning
//!   "the greedy fill with these changes". Two equal states merge into the
//!   one that agrees with the greedy fill on the newest candidate: that is
//!   the tie rule, decided on the fly.
//! - Drop a state as soon as no completion can beat the best set found so
//!   far: by the Dembo–Hammer bound (density of the next free candidate on
//!   the side that can help); once the search has done some work also by
//!   count certificates (no fitting set holds more items than the lightest
//!   ones that fit, none reaches a value with fewer than the most valuable
//!   ones) and a Lagrangian bound that weighs the item count against the
//!   capacity. The latter settles instances whose candidates are all about
//!   equally dense (values on a line in the weight, equal items, similar
//!   weights), where the plain bound proves nothing.
//! - Stop when no state is left, usually long before the core covers every
//!   candidate.
//! - Each state keeps its changes of the last 64 steps in one word; every 64
//!   steps the state list is saved as (weight, word) pairs, and the chosen
//!   set is rebuilt backwards block by block. Memory is about a quarter byte
//!   per state per step, far below a table over the capacity.
//! - Subset sums (all candidates equally dense) whose best total the bounds
//!   cannot settle (say all weights multiples of 3 but one, and the capacity
//!   out of reach) go to a bitset of reachable totals, `n · C / 64` word
//!   operations with saved bitsets every 64 candidates.
//!
//! Values are summed in 128-bit arithmetic when their total exceeds `u64`;
//! bounds are exact integer cross-products, in plain 128-bit arithmetic
//! when the totals allow it and checked otherwise. The result is exact for
//! any input shorter than 2^32 items.
//!
//! # Speed
//!
//! At 10,000 items and capacity 128,000 (weights up to 4,000), one core:
//! random and token-count-like instances take about half a millisecond;
//! correlated, equal-item, similar-weight, subset-sum, circle and spanner
//! instances at most about a tenth of a second, with a few megabytes of
//! heap (see `benches/knapsack.rs` and `examples/knapsack_peak.rs`).
//! Instances built to defeat every bound
//! (values on a line or equal to weights with one value nudged, and a
//! capacity no set can reach for parity reasons) fall back to the
//! pseudo-polynomial worst case: about `n · C` state steps and a quarter
//! byte of memory each. Under [`Limits`] such instances stop at the deadline
//! or the memory cap; the best set found by then is typically within 0.05%
//! of the bound, subset sums within a few millionths (see
//! `examples/knapsack_peak.rs`).
//!
//! # Stopping early
//!
//! The clock and the cancellation poll are looked at every 16,384 states
//! carried (also inside one long step), the memory each step. The bound
//! of a stopped search is the largest linear (Dembo–Hammer) bound over the
//! states still alive: every other state was pruned or dominated because it
//! cannot beat the best set. Before the first step it is Dantzig's bound.

mod bound;
mod cardinality;
mod control;
mod expand;
mod filter;
mod rank;
mod subset;
mod trace;

use std::time::Instant;

use control::Control;
use filter::FAST_VALUE_LIMIT;
use rank::Ranked;
use subset::SubsetSum;

/// Exact 0/1 knapsack: the indices of the chosen items, ascending.
///
/// Item `i` has weight `weights[i]` and value `values[i]`; the chosen set has
/// the largest total value whose total weight is at most `capacity`, then
/// the smallest total weight, then follows the tie rule of the
/// [module documentation](self). Items beyond the shorter of the two slices
/// are ignored.
///
/// ```
/// use tokenscope::engine::knapsack::solve;
///
/// // Two light items are worth more than the heavy one they displace.
/// assert_eq!(solve(&[6, 4, 3], &[10, 6, 6], 7), vec![1, 2]);
/// // Value 0 is never taken; weight 0 with value is always taken.
/// assert_eq!(solve(&[1, 0, 9], &[0, 5, 9], 8), vec![1]);
/// ```
pub fn solve(weights: &[u32], values: &[u64], capacity: u64) -> Vec<usize> {
    solve_within(weights, values, capacity, &Limits::default()).chosen
}

/// The default cap on the memory of a search's state lists and history
/// (and of the subset-sum bitsets): 256 MiB.
pub const DEFAULT_MEMORY: usize = 256 << 20;

/// What may stop [`solve_within`] early. The default has no limit.
#[derive(Clone, Copy, Default)]
pub struct Limits<'a> {
    /// Stop when this instant has passed.
    pub deadline: Option<Instant>,
    /// Most bytes the search's state lists and saved history (or the
    /// subset-sum bitsets) may take; `None`: no cap.
    pub memory: Option<usize>,
    /// Polled while solving; once it answers `true` the solve stops.
    pub cancel: Option<&'a dyn Fn() -> bool>,
}

impl std::fmt::Debug for Limits<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limits")
            .field("deadline", &self.deadline)
            .field("memory", &self.memory)
            .field("cancel", &self.cancel.is_some())
            .finish()
    }
}

/// Which limit stopped a solve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The deadline passed.
    Deadline,
    /// The memory cap would have been exceeded.
    Memory,
    /// The cancellation poll answered `true`.
    Cancelled,
}

/// The answer of [`solve_within`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Solution {
    /// The chosen item indices, ascending; they always fit the capacity.
    pub chosen: Vec<usize>,
    /// Their total value.
    pub value: u128,
    /// No set that fits has a larger total value (equal to `value` when the
    /// solve finished).
    pub bound: u128,
    /// The limit that stopped the solve; `None` when it finished, and
    /// `chosen` is exactly [`solve`]'s answer.
    pub stopped: Option<Stop>,
}

impl Solution {
    /// `(bound − value) / bound` when a limit stopped the solve (0 when the
    /// bound is 0); `None` when it finished, proving `chosen` optimal.
    pub fn gap(&self) -> Option<f64> {
        self.stopped?;
        if self.bound == 0 {
            return Some(0.0);
        }
        Some((self.bound - self.value) as f64 / self.bound as f64)
    }
}

/// [`solve`] under `limits`: the exact answer when it finishes in time and
/// memory; otherwise the best set found so far, with a bound.
///
/// ```
/// use std::time::Instant;
/// use tokenscope::engine::knapsack::{Limits, solve_within};
///
/// // No limits: proven optimal, the bound is the value.
/// let s = solve_within(&[6, 4, 3], &[10, 6, 6], 7, &Limits::default());
/// assert_eq!(s.gap(), None);
/// assert_eq!((s.chosen, s.value, s.bound), (vec![1, 2], 12, 12));
/// // Under a deadline already passed: whatever it found fits and is worth
/// // at most the bound (this small solve finishes before it first looks
/// // at the clock, and proves its answer).
/// let limits = Limits { deadline: Some(Instant::now()), ..Limits::default() };
/// let s = solve_within(&[6, 4, 3], &[12, 6, 6], 7, &limits);
/// assert!(12 <= s.value && s.value <= s.bound);
/// ```
pub fn solve_within(
    weights: &[u32],
    values: &[u64],
    capacity: u64,
    limits: &Limits<'_>,
) -> Solution {
    let n = weights.len().min(values.len());
    solve_tuned(weights, values, capacity, Tuning::for_items(n), limits)
}

/// When the search brings in its heavier tools, in states carried through
/// steps ("work"), and which arithmetic it uses. The answer never depends on
/// these, only the time.
#[derive(Debug, Clone, Copy)]
struct Tuning {
    /// Add the count bounds; below the default the plain linear bound
    /// usually finishes first.
    count_bounds_after: usize,
    /// Hand a subset-sum instance to the bitsets; random ones finish far
    /// earlier.
    subset_sum_after: usize,
    /// Evaluate bounds with checked 128-bit arithmetic even when the
    /// magnitudes allow the fast thresholds.
    checked: bool,
}

impl Tuning {
    fn for_items(n: usize) -> Tuning {
        Tuning {
            count_bounds_after: n.saturating_mul(4).saturating_add(20_000),
            subset_sum_after: n.saturating_mul(200).saturating_add(100_000),
            checked: false,
        }
    }
}

/// Largest total candidate weight for the fast thresholds.
const FAST_WEIGHT_LIMIT: u128 = 1 << 62;

/// [`solve`] with the given [`Tuning`].
fn solve_tuned(
    weights: &[u32],
    values: &[u64],
    capacity: u64,
    tuning: Tuning,
    limits: &Limits<'_>,
) -> Solution {
    let n = weights.len().min(values.len());
    let mut chosen = Vec::new();
    let mut candidates = Vec::new();
    let mut total_weight: u128 = 0;
    let mut total_value: u128 = 0;
    for (i, (&w, &v)) in weights.iter().zip(values).enumerate().take(n) {
        if v == 0 || u64::from(w) > capacity {
            continue;
        }
        if w == 0 {
            chosen.push(i);
            continue;
        }
        candidates.push(i);
        total_weight += u128::from(w);
        total_value += u128::from(v);
    }
    let forced: u128 = chosen.iter().map(|&i| u128::from(values[i])).sum();
    if total_weight <= u128::from(capacity) {
        // Everything fits: any other set has a smaller value.
        chosen.extend(candidates);
        chosen.sort_unstable();
        let value = forced + total_value;
        return Solution {
            chosen,
            value,
            bound: value,
            stopped: None,
        };
    }
    let control = Control::new(limits);
    let (ranked, capacity) = Ranked::new(&candidates, weights, values, capacity);
    let subset_sum = SubsetSum::new(&ranked, capacity, control.memory());
    let options = expand::Options {
        fast: !tuning.checked && total_value < FAST_VALUE_LIMIT && total_weight < FAST_WEIGHT_LIMIT,
        count_bounds_after: tuning.count_bounds_after,
        hand_over: subset_sum.as_ref().map(|s| (tuning.subset_sum_after, s)),
    };
    let found = if total_value <= u128::from(u64::MAX) {
        expand::solve::<u64>(&ranked, capacity, options, &control)
    } else {
        expand::solve::<u128>(&ranked, capacity, options, &control)
    };
    let taken: u128 = found
        .taken
        .iter()
        .map(|&pos| u128::from(values[ranked.index[pos]]))
        .sum();
    chosen.extend(found.taken.into_iter().map(|pos| ranked.index[pos]));
    chosen.sort_unstable();
    let value = forced + taken;
    let bound = match found.bound {
        None => value,
        Some(bound) => {
            let bound =
                forced.saturating_add(bound.saturating_mul(u128::from(ranked.value_divisor)));
            debug_assert!(bound >= value, "bound {bound} under the value {value}");
            bound.max(value)
        }
    };
    Solution {
        chosen,
        value,
        bound,
        stopped: found
            .bound
            .and(Some(control.stopped().unwrap_or(Stop::Deadline))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator for instances.
    struct Lcg(u64);

    impl Lcg {
        fn below(&mut self, n: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 33) % n.max(1)
        }
    }

    /// (value, weight) of a set.
    fn totals(w: &[u32], v: &[u64], set: &[usize]) -> (u128, u64) {
        set.iter().fold((0, 0), |(tv, tw), &i| {
            (tv + u128::from(v[i]), tw + u64::from(w[i]))
        })
    }

    /// The best (value, then least weight) over all subsets.
    fn best_by_search(w: &[u32], v: &[u64], cap: u64) -> (u128, u64) {
        let n = w.len();
        let mut best = (0u128, 0u64);
        for mask in 0u32..1 << n {
            let set: Vec<usize> = (0..n).filter(|&i| mask >> i & 1 == 1).collect();
            let (tv, tw) = totals(w, v, &set);
            if tw <= cap && (tv > best.0 || (tv == best.0 && tw < best.1)) {
                best = (tv, tw);
            }
        }
        best
    }

    /// The count bounds only prune, the subset-sum bitsets find the same set
    /// as the search, and the checked arithmetic agrees with the fast
    /// thresholds: whichever tools join, and when, the answer is the same.
    #[test]
    fn count_bounds_never_change_the_answer() {
        let mut rng = Lcg(3);
        for round in 0..600 {
            let n = 1 + rng.below(60) as usize;
            let r = 1 + rng.below(200);
            let shape = round % 6;
            let mut w = Vec::with_capacity(n);
            let mut v = Vec::with_capacity(n);
            for _ in 0..n {
                let x = 1 + rng.below(r);
                let value = match shape {
                    0 => 1 + rng.below(1_000),
                    1 => x + r / 10,
                    2 => x.saturating_sub(r / 10).max(1),
                    3 => x,
                    4 => 5,
                    _ => u64::MAX - rng.below(1 << 20),
                };
                w.push(x as u32);
                v.push(value);
            }
            let total: u64 = w.iter().map(|&x| u64::from(x)).sum();
            let cap = rng.below(total + 1);
            let never = solve_tuned(
                &w,
                &v,
                cap,
                Tuning {
                    count_bounds_after: usize::MAX,
                    subset_sum_after: usize::MAX,
                    checked: false,
                },
                &Limits::default(),
            )
            .chosen;
            if n <= 14 {
                assert_eq!(totals(&w, &v, &never), best_by_search(&w, &v, cap));
            }
            for (after, checked) in [(0, false), (1, false), (7, false), (50, false), (0, true)] {
                let tuning = Tuning {
                    count_bounds_after: after,
                    subset_sum_after: after,
                    checked,
                };
                assert_eq!(
                    solve_tuned(&w, &v, cap, tuning, &Limits::default()).chosen,
                    never,
                    "tools after {after}: cap {cap}, weights {w:?}, values {v:?}"
                );
            }
        }
    }

    /// Stopped at any poll, also in the middle of a long step (the state
    /// lists here grow past the poll interval), the answer fits, is worth
    /// what it says, and the bound is at least the optimum.
    #[test]
    fn stopping_mid_step_keeps_answer_and_bound_consistent() {
        let mut rng = Lcg(11);
        let mut w: Vec<u32> = (0..3_000)
            .map(|_| 3 * (1 + rng.below(1_000) as u32))
            .collect();
        w[0] = 1;
        let v: Vec<u64> = w.iter().map(|&x| u64::from(x)).collect();
        // 2 above a multiple of 3: the best total is one less.
        let cap = 200_000;
        let optimum = u128::from(cap - 1);
        let search_only = Tuning {
            subset_sum_after: usize::MAX,
            ..Tuning::for_items(w.len())
        };
        for k in [1, 2, 3, 5, 8, 13] {
            let polls = std::cell::Cell::new(0);
            let cancel = || {
                polls.set(polls.get() + 1);
                polls.get() >= k
            };
            let limits = Limits {
                cancel: Some(&cancel),
                ..Limits::default()
            };
            let s = solve_tuned(&w, &v, cap, search_only, &limits);
            let (value, weight) = totals(&w, &v, &s.chosen);
            assert!(weight <= cap);
            assert_eq!(value, s.value);
            assert_eq!(s.stopped, Some(Stop::Cancelled), "poll {k}");
            assert!(s.value <= optimum && optimum <= s.bound, "poll {k}: {s:?}");
            assert!(s.gap().is_some_and(|g| g < 1e-4), "poll {k}");
        }
        // Unstopped, the bitsets prove the optimum.
        let s = solve_within(&w, &v, cap, &Limits::default());
        assert_eq!((s.value, s.stopped), (optimum, None));
    }
}
