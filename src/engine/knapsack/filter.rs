//! The test that keeps a state of the search only while some completion of
//! it could still beat the best set found so far.
//!
//! A completion *beats* the best set (value `V`, weight `W`) when it has a
//! larger value within the capacity (test one: value `≥ V + 1` within `C`),
//! or the same value with less weight (test two: value `≥ V` within
//! `W − 1`). A completion that only ties changes a candidate later in the
//! expansion order than the best set does, so the tie rule prefers the best
//! set and the state may go.
//!
//! Each test combines the Dembo–Hammer bound (the density of the next free
//! candidate on the side that can help), the count certificates of
//! [`Counts`] and, once the search has asked for it, the Lagrangian bound of
//! [`Lagrange`]. The bounds are rearranged so that a state costs two or three
//! 128-bit products against per-step thresholds.

use super::bound::Outlook;
use super::cardinality::{Counts, Lagrange, SHIFT};

/// Largest candidate total value for which the fast test's products fit.
pub(super) const FAST_VALUE_LIMIT: u128 = 1 << 90;

/// What the bounds of one step know, independent of the best set.
pub(super) struct Bounds<'a> {
    pub(super) outlook: Outlook,
    pub(super) capacity: u64,
    /// Use 128-bit thresholds (all magnitudes are small enough).
    pub(super) fast: bool,
    pub(super) counts: Option<&'a Counts>,
    /// The multipliers and `Σ⁺ rho` over the free candidates of this step.
    pub(super) lagrange: Option<(&'a Lagrange, i128)>,
}

/// One test, as thresholds.
#[derive(Debug, Clone, Copy)]
struct Test {
    cap: u64,
    target: u128,
    /// `p·wa − w·va ≥ add` when the state fits `cap`.
    add: i128,
    /// `p·wr − w·vr ≥ remove` when it does not (if anything can go).
    remove: i128,
    /// `p·2^SHIFT − a·w + k·c ≥ lagrange`.
    lagrange: Option<i128>,
}

/// The per-step, per-best-set test.
pub(super) struct Filter {
    outlook: Outlook,
    fast: bool,
    /// The add rate as `(weight, value)`; `(1, 0)` when nothing is left to add.
    add_rate: (i128, i128),
    remove_rate: Option<(i128, i128)>,
    multipliers: Option<(i128, i128)>,
    one: Option<Test>,
    two: Option<Test>,
}

impl Bounds<'_> {
    /// The test against the best set of weight `best_weight`, value
    /// `best_value`.
    pub(super) fn filter(&self, best_weight: u64, best_value: u128) -> Filter {
        let o = &self.outlook;
        let add_rate = o
            .add
            .map_or((1, 0), |r| (r.weight as i128, r.value as i128));
        let remove_rate = o.remove.map(|r| (r.weight as i128, r.value as i128));
        let test = |cap: u64, target: u128| -> Option<Test> {
            let mut lagrange = None;
            if let Some(counts) = self.counts {
                if counts.fewest(target) > counts.most(cap) {
                    return None;
                }
                if let Some((l, free)) = self.lagrange {
                    let k_bound = if l.k >= 0 {
                        counts.fewest(target)
                    } else {
                        counts.most(cap)
                    } as i128;
                    lagrange = Some(
                        ((target as i128) << SHIFT) - l.a * i128::from(cap) + l.k * k_bound - free,
                    );
                }
            }
            let (add, remove) = if self.fast {
                let t = target as i128;
                let c = i128::from(cap);
                (
                    t * add_rate.0 - c * add_rate.1,
                    remove_rate.map_or(0, |r| t * r.0 - c * r.1),
                )
            } else {
                (0, 0)
            };
            Some(Test {
                cap,
                target,
                add,
                remove,
                lagrange,
            })
        };
        Filter {
            outlook: self.outlook,
            fast: self.fast,
            add_rate,
            remove_rate,
            multipliers: self.lagrange.map(|(l, _)| (l.a, l.k)),
            one: test(self.capacity, best_value + 1),
            two: best_weight
                .checked_sub(1)
                .and_then(|cap| test(cap, best_value)),
        }
    }
}

impl Filter {
    /// Whether a state of total weight `weight`, value `value` and `count`
    /// items may still lead to a set that beats the best one.
    #[inline]
    pub(super) fn keep(&self, weight: u64, value: u128, count: u32) -> bool {
        self.one.is_some_and(|t| self.reach(&t, weight, value, count))
            || self.two.is_some_and(|t| self.reach(&t, weight, value, count))
    }

    #[inline]
    fn reach(&self, t: &Test, weight: u64, value: u128, count: u32) -> bool {
        let linear = if !self.fast {
            self.outlook.can_reach(weight, value, t.cap, t.target)
        } else if weight <= t.cap {
            value as i128 * self.add_rate.0 - i128::from(weight) * self.add_rate.1 >= t.add
        } else {
            match self.remove_rate {
                Some((rw, rv)) => {
                    weight - t.cap <= self.outlook.removable
                        && value as i128 * rw - i128::from(weight) * rv >= t.remove
                }
                None => false,
            }
        };
        linear
            && match (t.lagrange, self.multipliers) {
                (Some(threshold), Some((a, k))) => {
                    ((value as i128) << SHIFT) - a * i128::from(weight) + k * i128::from(count)
                        >= threshold
                }
                _ => true,
            }
    }
}
