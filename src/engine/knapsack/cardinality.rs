//! Bounds from the number of items a set can hold (the ideas of Pisinger's
//! `combo`): no set that fits holds more candidates than the lightest ones
//! that fit, and no set reaches a value with fewer candidates than the most
//! valuable ones. A Lagrangian relaxation weighs both against the capacity,
//! which proves what the plain linear bound cannot on instances where all
//! candidates are about equally dense.

use super::rank::Ranked;

/// Fixed-point shift of the Lagrange multipliers: `λ = a / 2^SHIFT`.
pub(super) const SHIFT: u32 = 24;

/// Prefix sums of the candidates sorted by weight and by value.
pub(super) struct Counts {
    /// `light[k]`: total weight of the `k` lightest candidates.
    light: Vec<u128>,
    /// `rich[k]`: total value of the `k` most valuable candidates.
    rich: Vec<u128>,
}

impl Counts {
    pub(super) fn new(ranked: &Ranked) -> Counts {
        let mut weights = ranked.weight.clone();
        weights.sort_unstable();
        let mut values = ranked.value.clone();
        values.sort_unstable_by(|a, b| b.cmp(a));
        let prefix = |xs: &[u64]| {
            let mut sums = Vec::with_capacity(xs.len() + 1);
            let mut total = 0u128;
            sums.push(0);
            for &x in xs {
                total += u128::from(x);
                sums.push(total);
            }
            sums
        };
        Counts {
            light: prefix(&weights),
            rich: prefix(&values),
        }
    }

    /// The most candidates a set of total weight at most `cap` can hold.
    pub(super) fn most(&self, cap: u64) -> usize {
        self.light.partition_point(|&s| s <= u128::from(cap)) - 1
    }

    /// The fewest candidates a set of total value at least `target` must
    /// hold; more than the number of candidates when no set reaches it.
    pub(super) fn fewest(&self, target: u128) -> usize {
        self.rich.partition_point(|&s| s < target)
    }
}

/// Lagrange multipliers for the capacity (`λ = a / 2^SHIFT`) and the item
/// count (`κ = k / 2^SHIFT`: `κ > 0` for "at least K_min items", `κ < 0` for
/// "at most K_max items"), with each ranked candidate's scaled reduced value
/// `rho = v·2^SHIFT − a·w + k`.
///
/// For a state (weight `w`, value `p`, `c` items), every completion that
/// fits `cap`, holds at most `K_max` and (when `κ > 0`) at least `K_min`
/// items has a value of at most
/// `(p·2^SHIFT − a·w + k·c + a·cap − k·K + Σ⁺ rho(free right) + Σ⁺ −rho(free left)) / 2^SHIFT`
/// where `K` is `K_min` when `κ ≥ 0` and `K_max` otherwise.
pub(super) struct Lagrange {
    pub(super) a: i128,
    pub(super) k: i128,
    pub(super) rho: Vec<i128>,
}

/// Limit on magnitudes so that every sum in the bound stays inside `i128`.
const LIMIT: i128 = 1 << 120;

impl Lagrange {
    /// Multipliers close to the optimum of the linear relaxation with the
    /// capacity and both count limits (`k_min ..= k_max` items). `None` when
    /// the numbers are too large for exact 128-bit evaluation.
    pub(super) fn new(ranked: &Ranked, capacity: u64, k_min: usize, k_max: usize) -> Option<Lagrange> {
        let n = ranked.len();
        if n == 0 || k_min == 0 || k_min > k_max || k_max > n {
            return None;
        }
        let lambda = best_lambda(ranked, capacity, k_min, k_max);
        let a = (lambda * f64::from(1u32 << SHIFT)).round() as i128;
        let a = a.max(0);
        let mut rho: Vec<i128> = Vec::with_capacity(n);
        for (&w, &v) in ranked.weight.iter().zip(&ranked.value) {
            let scaled = i128::from(v) << SHIFT;
            rho.push(scaled.checked_sub(a.checked_mul(i128::from(w))?)?);
        }
        // The exact best κ for this λ: the K-th largest reduced value.
        let mut scratch = rho.clone();
        let kth = |scratch: &mut Vec<i128>, k: usize| -> i128 {
            *scratch.select_nth_unstable_by(k - 1, |x, y| y.cmp(x)).1
        };
        let at_min = kth(&mut scratch, k_min);
        let at_max = kth(&mut scratch, k_max);
        let k = if at_min <= 0 {
            -at_min
        } else if at_max > 0 {
            -at_max
        } else {
            0
        };
        for r in &mut rho {
            *r += k;
        }
        // Every term of the bound must stay far inside i128.
        let total_weight: i128 = ranked.weight.iter().map(|&w| i128::from(w)).sum();
        let positive: i128 = rho.iter().map(|r| r.abs()).fold(0i128, |s, r| s.saturating_add(r));
        let fits = a.checked_mul(total_weight.max(i128::from(capacity)))?.abs() < LIMIT
            && k.checked_mul(n as i128)?.abs() < LIMIT
            && positive < LIMIT;
        fits.then_some(Lagrange { a, k, rho })
    }
}

/// The capacity multiplier minimising the Lagrangian dual, by golden-section
/// search (the dual is convex in λ once κ is chosen best for each λ). Floating
/// point is fine here: any λ gives a valid bound, this one a tight one.
fn best_lambda(ranked: &Ranked, capacity: u64, k_min: usize, k_max: usize) -> f64 {
    // At the optimum two candidates lie on the line v = λ·w − κ, so λ is at
    // most the largest value difference.
    let hi = ranked.value.iter().copied().max().unwrap_or(0) as f64;
    let mut dual = Dual {
        ranked,
        capacity: capacity as f64,
        k_min,
        k_max,
        scratch: vec![0f64; ranked.len()],
    };
    let ratio = 0.5 * (5f64.sqrt() - 1.0);
    let (mut lo, mut hi) = (0f64, hi);
    let mut x1 = hi - ratio * (hi - lo);
    let mut x2 = lo + ratio * (hi - lo);
    let mut f1 = dual.at(x1);
    let mut f2 = dual.at(x2);
    for _ in 0..100 {
        if f1 <= f2 {
            hi = x2;
            x2 = x1;
            f2 = f1;
            x1 = hi - ratio * (hi - lo);
            f1 = dual.at(x1);
        } else {
            lo = x1;
            x1 = x2;
            f1 = f2;
            x2 = lo + ratio * (hi - lo);
            f2 = dual.at(x2);
        }
    }
    // The ends are candidates too (λ = 0 for pure count limits).
    let mid = 0.5 * (lo + hi);
    [(0.0, dual.at(0.0)), (mid, dual.at(mid))]
        .into_iter()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map_or(mid, |(x, _)| x)
}

/// The Lagrangian dual as a function of λ, with κ chosen best.
struct Dual<'a> {
    ranked: &'a Ranked,
    capacity: f64,
    k_min: usize,
    k_max: usize,
    scratch: Vec<f64>,
}

impl Dual<'_> {
    fn at(&mut self, lambda: f64) -> f64 {
        let r = self.ranked;
        for ((u, &w), &v) in self.scratch.iter_mut().zip(&r.weight).zip(&r.value) {
            *u = v as f64 - lambda * w as f64;
        }
        let mut kth = |k: usize| -> f64 {
            *self
                .scratch
                .select_nth_unstable_by(k - 1, |x, y| y.total_cmp(x))
                .1
        };
        let at_min = kth(self.k_min);
        let at_max = kth(self.k_max);
        let (kappa, count_term) = if at_min <= 0.0 {
            (-at_min, at_min * self.k_min as f64)
        } else if at_max > 0.0 {
            (-at_max, at_max * self.k_max as f64)
        } else {
            (0.0, 0.0)
        };
        let above: f64 = self.scratch.iter().map(|&u| (u + kappa).max(0.0)).sum();
        lambda * self.capacity + count_term + above
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranked(weights: &[u32], values: &[u64]) -> Ranked {
        let all: Vec<usize> = (0..weights.len()).collect();
        Ranked::new(&all, weights, values, u64::MAX).0
    }

    #[test]
    fn counts_from_both_ends() {
        let r = ranked(&[5, 1, 3, 2], &[1, 9, 4, 7]);
        let c = Counts::new(&r);
        assert_eq!(c.most(0), 0);
        assert_eq!(c.most(3), 2);
        assert_eq!(c.most(5), 2);
        assert_eq!(c.most(6), 3);
        assert_eq!(c.most(100), 4);
        assert_eq!(c.fewest(0), 0);
        assert_eq!(c.fewest(9), 1);
        assert_eq!(c.fewest(10), 2);
        assert_eq!(c.fewest(21), 4);
        assert_eq!(c.fewest(22), 5);
    }

    #[test]
    fn equal_items_get_a_pure_count_multiplier() {
        // Ten equal items (divided down to weight 1, value 1), capacity 3.5
        // of them: at most 3 fit.
        let r = ranked(&[10; 10], &[7; 10]);
        assert_eq!((r.weight[0], r.value[0]), (1, 1));
        // No multipliers when the count limits contradict each other.
        assert!(Lagrange::new(&r, 3, 4, 3).is_none());
        // Otherwise the count limit carries the bound: λ = 0, κ = −1.
        let l = Lagrange::new(&r, 3, 1, 3).expect("multipliers");
        assert_eq!(l.a, 0);
        assert_eq!(l.k, -1 << SHIFT);
        assert!(l.rho.iter().all(|&r| r == 0));
    }
}
