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
//! [`Lagrange`]. [`Fast`] rearranges them into per-step thresholds so that a
//! state costs a few multiplications; [`Exact`] evaluates them with checked
//! 128-bit arithmetic for inputs whose values are too large for that.

use super::bound::Outlook;
use super::cardinality::{Counts, Lagrange, SHIFT};

/// Largest candidate total value for which [`Fast`] applies (with a total
/// candidate weight below 2^62).
pub(super) const FAST_VALUE_LIMIT: u128 = 1 << 90;

/// What the bounds of one step know, independent of the best set.
pub(super) struct Bounds<'a> {
    pub(super) outlook: Outlook,
    pub(super) capacity: u64,
    pub(super) counts: Option<&'a Counts>,
    /// The multipliers and `Σ⁺ rho` over the free candidates of this step
    /// (only with [`Fast`]).
    pub(super) lagrange: Option<(&'a Lagrange, i128)>,
}

/// A state test built for one step and one best set.
pub(super) trait Filter: Sized {
    /// The test against the best set of weight `best_weight`, value
    /// `best_value`.
    fn new(bounds: &Bounds<'_>, best_weight: u64, best_value: u128) -> Self;

    /// Whether a state of total weight `weight`, value `value` and `count`
    /// items may still lead to a set that beats the best one.
    fn keep(&self, weight: u64, value: u128, count: u32) -> bool;
}

/// The two tests as (capacity, target value), `None` when the count
/// certificates already rule a test out.
fn tests(bounds: &Bounds<'_>, best_weight: u64, best_value: u128) -> [Option<(u64, u128)>; 2] {
    let possible = |cap: u64, target: u128| {
        bounds
            .counts
            .is_none_or(|c| c.fewest(target) <= c.most(cap))
            .then_some((cap, target))
    };
    [
        possible(bounds.capacity, best_value + 1),
        best_weight
            .checked_sub(1)
            .and_then(|cap| possible(cap, best_value)),
    ]
}

/// One test of [`Fast`].
#[derive(Debug, Clone, Copy)]
struct Test {
    active: bool,
    cap: u64,
    /// `target · add weight`: a state that fits needs
    /// `p·wa + (cap − w)·va ≥ need_add`.
    need_add: u128,
    /// `target · remove weight`: a state over `cap` needs
    /// `p·wr ≥ need_remove + (w − cap)·vr`.
    need_remove: u128,
    /// The Lagrangian bound needs `p·2^SHIFT − a·w + k·c ≥ lagrange`.
    lagrange: i128,
}

/// Thresholds in plain 128-bit arithmetic. Valid when the candidates' total
/// value is below [`FAST_VALUE_LIMIT`] and their total weight below 2^62.
#[derive(Debug, Clone, Copy)]
pub(super) struct Fast {
    one: Test,
    two: Test,
    /// The add rate; `(1, 0)` when nothing is left to add.
    add_weight: u128,
    add_value: u128,
    remove_weight: u128,
    remove_value: u128,
    can_remove: bool,
    removable: u64,
    use_lagrange: bool,
    a: i128,
    k: i128,
}

impl Filter for Fast {
    fn new(bounds: &Bounds<'_>, best_weight: u64, best_value: u128) -> Self {
        let o = &bounds.outlook;
        let (add_weight, add_value) = o.add.map_or((1, 0), |r| (r.weight, r.value));
        let (remove_weight, remove_value) = o.remove.map_or((1, 0), |r| (r.weight, r.value));
        let (a, k) = bounds.lagrange.map_or((0, 0), |(l, _)| (l.a, l.k));
        let make = |t: Option<(u64, u128)>| match t {
            None => Test {
                active: false,
                cap: 0,
                need_add: 0,
                need_remove: 0,
                lagrange: 0,
            },
            Some((cap, target)) => Test {
                active: true,
                cap,
                need_add: target * add_weight,
                need_remove: target * remove_weight,
                lagrange: match (bounds.lagrange, bounds.counts) {
                    (Some((l, free)), Some(counts)) => {
                        let limit = if l.k >= 0 {
                            counts.fewest(target)
                        } else {
                            counts.most(cap)
                        } as i128;
                        ((target as i128) << SHIFT) - l.a * i128::from(cap) + l.k * limit - free
                    }
                    _ => i128::MIN,
                },
            },
        };
        let [one, two] = tests(bounds, best_weight, best_value);
        Fast {
            one: make(one),
            two: make(two),
            add_weight,
            add_value,
            remove_weight,
            remove_value,
            can_remove: o.remove.is_some(),
            removable: o.removable,
            use_lagrange: bounds.lagrange.is_some(),
            a,
            k,
        }
    }

    #[inline(always)]
    fn keep(&self, weight: u64, value: u128, count: u32) -> bool {
        let lagrange = || {
            ((value as i128) << SHIFT) - self.a * i128::from(weight) + self.k * i128::from(count)
        };
        let reach = |t: &Test| {
            t.active
                && if weight <= t.cap {
                    value * self.add_weight + u128::from(t.cap - weight) * self.add_value
                        >= t.need_add
                } else {
                    self.can_remove
                        && weight - t.cap <= self.removable
                        && value * self.remove_weight
                            >= t.need_remove + u128::from(weight - t.cap) * self.remove_value
                }
                && (!self.use_lagrange || lagrange() >= t.lagrange)
        };
        reach(&self.one) || reach(&self.two)
    }
}

/// Exact checked evaluation of the linear bounds and the count
/// certificates, for any magnitudes.
#[derive(Debug, Clone, Copy)]
pub(super) struct Exact {
    outlook: Outlook,
    tests: [Option<(u64, u128)>; 2],
}

impl Filter for Exact {
    fn new(bounds: &Bounds<'_>, best_weight: u64, best_value: u128) -> Self {
        Exact {
            outlook: bounds.outlook,
            tests: tests(bounds, best_weight, best_value),
        }
    }

    fn keep(&self, weight: u64, value: u128, _count: u32) -> bool {
        self.tests
            .iter()
            .flatten()
            .any(|&(cap, target)| self.outlook.can_reach(weight, value, cap, target))
    }
}
