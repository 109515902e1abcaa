//! Candidates ranked by density (value per weight).

use std::cmp::Ordering;

/// The candidates in ranked order: densest first, equal densities by input
/// order. Position `pos` in the ranking is item `index[pos]` of the input.
pub(super) struct Ranked {
    /// Weight of each ranked candidate (at least 1, at most `u32::MAX`).
    pub(super) weight: Vec<u64>,
    /// Value of each ranked candidate (at least 1).
    pub(super) value: Vec<u64>,
    /// The input index of each ranked candidate.
    pub(super) index: Vec<usize>,
    /// What the input values were divided by.
    pub(super) value_divisor: u64,
}

impl Ranked {
    /// Ranks the input items `candidates` (ascending input indices).
    ///
    /// Weights are divided by their greatest common divisor, and `capacity`
    /// rounded down to match (returned); values are divided by theirs. The
    /// same sets fit and compare the same way, and the bounds get sharper
    /// (all weights even and an odd capacity, say).
    pub(super) fn new(
        candidates: &[usize],
        weights: &[u32],
        values: &[u64],
        capacity: u64,
    ) -> (Ranked, u64) {
        let wg = common_divisor(candidates.iter().map(|&i| u64::from(weights[i])));
        let vg = common_divisor(candidates.iter().map(|&i| values[i]));
        // Sort by a floating-point density first (cheap to compare), then
        // re-sort exactly every run of densities too close for floating
        // point to tell apart.
        let mut order: Vec<(f64, usize)> = candidates
            .iter()
            .map(|&i| (values[i] as f64 / f64::from(weights[i]), i))
            .collect();
        order.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let exact = |a: &(f64, usize), b: &(f64, usize)| {
            let (wa, va) = (u64::from(weights[a.1]), values[a.1]);
            let (wb, vb) = (u64::from(weights[b.1]), values[b.1]);
            denser(va, wa, vb, wb).then(a.1.cmp(&b.1))
        };
        let mut start = 0;
        while start < order.len() {
            let mut end = start + 1;
            while end < order.len() && close(order[end - 1].0, order[end].0) {
                end += 1;
            }
            if end - start > 1 {
                order[start..end].sort_unstable_by(exact);
            }
            start = end;
        }
        let ranked = Ranked {
            weight: order.iter().map(|o| u64::from(weights[o.1]) / wg).collect(),
            value: order.iter().map(|o| values[o.1] / vg).collect(),
            index: order.iter().map(|o| o.1).collect(),
            value_divisor: vg,
        };
        (ranked, capacity / wg)
    }

    /// The number of candidates.
    pub(super) fn len(&self) -> usize {
        self.weight.len()
    }
}

/// The expansion order of the tie rule over `len` ranked candidates with
/// the break item at `brk`: `brk`, `brk − 1`, `brk + 1`, `brk − 2`, … and the
/// rest of the longer side once the other runs out.
pub(super) fn expansion(len: usize, brk: usize) -> Vec<usize> {
    let mut order = Vec::with_capacity(len);
    let (mut right, mut left) = (brk, brk.min(len));
    let mut go_right = true;
    loop {
        let take_right = match (right < len, left > 0) {
            (false, false) => break,
            (true, false) => true,
            (false, true) => false,
            (true, true) => go_right,
        };
        go_right = !take_right;
        if take_right {
            order.push(right);
            right += 1;
        } else {
            left -= 1;
            order.push(left);
        }
    }
    order
}

/// Whether two floating-point densities (the larger first) may be in the
/// wrong order or equal: each is within 2^-52 relative of the exact ratio
/// (one rounding of the value, one of the division), so a gap of more than
/// 2^-40 relative is certain.
fn close(larger: f64, smaller: f64) -> bool {
    larger - smaller <= larger * f64::powi(2.0, -40)
}

/// The greatest common divisor of `xs` (1 for none).
fn common_divisor(xs: impl Iterator<Item = u64>) -> u64 {
    let mut g = 0;
    for x in xs {
        g = gcd(g, x);
        if g == 1 {
            break;
        }
    }
    g.max(1)
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Orders value/weight ratios densest first: `Less` when `va/wa > vb/wb`.
/// Exact: compares the cross-products in 128 bits.
fn denser(va: u64, wa: u64, vb: u64, wb: u64) -> Ordering {
    (u128::from(vb) * u128::from(wa)).cmp(&(u128::from(va) * u128::from(wb)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_by_density_then_input_order() {
        // densities: 2, 1, 3, 2, 0.5
        let weights = [2, 5, 1, 4, 2];
        let values = [4, 5, 3, 8, 1];
        let (r, cap) = Ranked::new(&[0, 1, 2, 3, 4], &weights, &values, 9);
        assert_eq!(r.index, vec![2, 0, 3, 1, 4]);
        assert_eq!(r.weight, vec![1, 2, 4, 5, 2]);
        assert_eq!(r.value, vec![3, 4, 8, 5, 1]);
        assert_eq!(cap, 9);
    }

    #[test]
    fn divides_out_common_factors() {
        let weights = [4, 6, 10, 7];
        let values = [30, 45, 15, 1];
        // Only the first three are candidates: weights share 2, values 15.
        let (r, cap) = Ranked::new(&[0, 1, 2], &weights, &values, 13);
        assert_eq!(r.index, vec![0, 1, 2]);
        assert_eq!(r.weight, vec![2, 3, 5]);
        assert_eq!(r.value, vec![2, 3, 1]);
        assert_eq!(r.value_divisor, 15);
        assert_eq!(cap, 6);
        assert_eq!(gcd(0, 5), 5);
        assert_eq!(gcd(12, 18), 6);
    }

    #[test]
    fn expansion_alternates_from_the_break() {
        assert_eq!(expansion(6, 2), vec![2, 1, 3, 0, 4, 5]);
        assert_eq!(expansion(4, 3), vec![3, 2, 1, 0]);
        assert_eq!(expansion(3, 0), vec![0, 1, 2]);
        assert_eq!(expansion(0, 0), Vec::<usize>::new());
    }

    #[test]
    fn densities_too_close_for_floats_are_ranked_exactly() {
        // (2^60 + 1) / 2^30 and 2^30 / 1 differ by 2^-30, and the float ratio
        // of the first rounds to the second's; equal densities keep input
        // order.
        let weights = [1 << 30, 1, 2, 2 << 30];
        let values = [(1 << 60) + 1, 1 << 30, 1 << 31, (1 << 61) + 2];
        let (r, _) = Ranked::new(&[0, 1, 2, 3], &weights, &values, u64::MAX);
        assert_eq!(r.index, vec![0, 3, 1, 2]);
    }

    #[test]
    fn exact_on_huge_values() {
        // u64::MAX / 3 and (u64::MAX - 1) / 3: too close for f64.
        assert_eq!(denser(u64::MAX, 3, u64::MAX - 1, 3), Ordering::Less);
        assert_eq!(denser(u64::MAX - 1, 3, u64::MAX, 3), Ordering::Greater);
        assert_eq!(denser(6, 4, 3, 2), Ordering::Equal);
    }
}
