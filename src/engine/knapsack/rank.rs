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
        let wg = candidates
            .iter()
            .fold(0u64, |g, &i| gcd(g, u64::from(weights[i])))
            .max(1);
        let vg = candidates
            .iter()
            .fold(0u64, |g, &i| gcd(g, values[i]))
            .max(1);
        let mut order: Vec<(u64, u64, usize)> = candidates
            .iter()
            .map(|&i| (u64::from(weights[i]) / wg, values[i] / vg, i))
            .collect();
        order.sort_unstable_by(|a, b| denser(a.1, a.0, b.1, b.0).then(a.2.cmp(&b.2)));
        let ranked = Ranked {
            weight: order.iter().map(|o| o.0).collect(),
            value: order.iter().map(|o| o.1).collect(),
            index: order.iter().map(|o| o.2).collect(),
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
    fn exact_on_huge_values() {
        // u64::MAX / 3 and (u64::MAX - 1) / 3: too close for f64.
        assert_eq!(denser(u64::MAX, 3, u64::MAX - 1, 3), Ordering::Less);
        assert_eq!(denser(u64::MAX - 1, 3, u64::MAX, 3), Ordering::Greater);
        assert_eq!(denser(6, 4, 3, 2), Ordering::Equal);
    }
}
