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
    /// the numbers are too large for exact 128-bit evaluation. The search
    /// for the best multiplier ends early once `stop` answers `true` (any
    /// multiplier gives a valid bound).
    pub(super) fn new(
        ranked: &Ranked,
        capacity: u64,
        k_min: usize,
        k_max: usize,
        stop: &dyn Fn() -> bool,
    ) -> Option<Lagrange> {
        let n = ranked.len();
        if n == 0 || k_min == 0 || k_min > k_max || k_max > n {
            return None;
        }
        let lambda = best_lambda(ranked, capacity, k_min, k_max, stop);
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
        let positive: i128 = rho
            .iter()
            .map(|r| r.abs())
            .fold(0i128, |s, r| s.saturating_add(r));
        let fits = a.checked_mul(total_weight.max(i128::from(capacity)))?.abs() < LIMIT
            && k.checked_mul(n as i128)?.abs() < LIMIT
            && positive < LIMIT;
        fits.then_some(Lagrange { a, k, rho })
    }
}

/// The capacity multiplier minimising the Lagrangian dual (κ chosen best
/// for each λ), by bisection on its subgradient, until `stop`. Floating
/// point is fine here: any λ gives a valid bound, this one a tight one.
fn best_lambda(
    ranked: &Ranked,
    capacity: u64,
    k_min: usize,
    k_max: usize,
    stop: &dyn Fn() -> bool,
) -> f64 {
    // At the optimum two candidates lie on the line v = λ·w − κ, so λ is at
    // most the largest value difference.
    let mut hi = ranked.value.iter().copied().max().unwrap_or(0) as f64;
    let mut lo = 0f64;
    let weight: Vec<f64> = ranked.weight.iter().map(|&w| w as f64).collect();
    let value: Vec<f64> = ranked.value.iter().map(|&v| v as f64).collect();
    let mut u = vec![0f64; ranked.len()];
    let mut scratch = vec![0f64; ranked.len()];
    let mut on_line: Vec<f64> = Vec::new();
    let cap = capacity as f64;
    for _ in 0..100 {
        let lambda = 0.5 * (lo + hi);
        if stop() {
            return lambda;
        }
        if hi - lo <= f64::max(1.0 / f64::from(1u32 << (SHIFT + 4)), lambda * 1e-15) {
            return lambda;
        }
        for ((u, &w), &v) in u.iter_mut().zip(&weight).zip(&value) {
            *u = v - lambda * w;
        }
        scratch.copy_from_slice(&u);
        let by_desc = |x: &f64, y: &f64| y.total_cmp(x);
        let at_min = *scratch.select_nth_unstable_by(k_min - 1, by_desc).1;
        let at_max = *scratch[k_min - 1..]
            .select_nth_unstable_by(k_max - k_min, by_desc)
            .1;
        // κ and the item counts the count limits then allow.
        let (kappa, count_lo, count_hi) = if at_min <= 0.0 {
            (-at_min, k_min, k_min)
        } else if at_max > 0.0 {
            (-at_max, k_max, k_max)
        } else {
            (0.0, k_min, k_max)
        };
        let (mut above, mut above_weight) = (0usize, 0f64);
        on_line.clear();
        for (&u, &w) in u.iter().zip(&weight) {
            let r = u + kappa;
            if r > 0.0 {
                above += 1;
                above_weight += w;
            } else if r == 0.0 {
                on_line.push(w);
            }
        }
        // Candidates on the line may be taken in part, as the counts allow:
        // the slope ranges from taking the heaviest to taking the lightest.
        on_line.sort_unstable_by(f64::total_cmp);
        let need_lo = count_lo.saturating_sub(above).min(on_line.len());
        let need_hi = count_hi.saturating_sub(above).min(on_line.len());
        let lightest: f64 = on_line[..need_lo].iter().sum();
        let heaviest: f64 = on_line[on_line.len() - need_hi..].iter().sum();
        if cap - above_weight - heaviest > 0.0 {
            hi = lambda;
        } else if cap - above_weight - lightest < 0.0 {
            lo = lambda;
        } else {
            return lambda;
        }
    }
    0.5 * (lo + hi)
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
        assert!(Lagrange::new(&r, 3, 4, 3, &|| false).is_none());
        // Otherwise any λ in [0, 1] with κ = λ − 1 is optimal: every item on
        // the line, and the bound λ·3 − κ·3 is the linear optimum 3.
        let l = Lagrange::new(&r, 3, 1, 3, &|| false).expect("multipliers");
        assert!(l.rho.iter().all(|&r| r == 0));
        assert_eq!(l.a * 3 - l.k * 3, 3 << SHIFT);
    }

    #[test]
    fn values_on_a_line_get_the_line() {
        // v = w + 10; at most 2 items fit in 7: the bound 7 + 2·10 = 27 is
        // exact, with λ = 1 and κ = −10.
        let r = ranked(&[2, 3, 4, 5], &[12, 13, 14, 15]);
        let counts = Counts::new(&r);
        assert_eq!(counts.most(7), 2);
        let l = Lagrange::new(&r, 7, 1, 2, &|| false).expect("multipliers");
        assert_eq!(l.a, 1 << SHIFT);
        assert_eq!(l.k, -10 << SHIFT);
        assert!(l.rho.iter().all(|&r| r == 0));
    }
}
