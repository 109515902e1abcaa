//! The exact 0/1 knapsack behind the `optimal` strategy (DESIGN.md §2.3).
//!
//! [`solve`] picks the items with the largest total value (priority) whose
//! total weight (tokens) fits the capacity (budget): the largest value, then
//! the smallest weight, then the earliest indices. Items of value 0 are never
//! chosen.
//!
//! This is a plain dynamic programme over the capacity (after dividing every
//! weight by their greatest common divisor), with one decision bit per item
//! and capacity step.

/// Chooses the items of largest total value whose weights fit `capacity`.
///
/// Returns the chosen indices in ascending order. Ties in value go to the set
/// of smaller total weight, then to the set that takes earlier indices.
/// Items of value 0, and items heavier than `capacity`, are never chosen.
///
/// ```
/// use tokenscope::engine::knapsack::solve;
/// // Capacity 10: items 0 and 2 (value 9) beat item 1 alone (value 8).
/// assert_eq!(solve(&[5, 10, 5], &[4, 8, 5], 10), vec![0, 2]);
/// ```
pub fn solve(weights: &[u32], values: &[u64], capacity: u64) -> Vec<usize> {
    let n = weights.len().min(values.len());
    let candidates: Vec<usize> = (0..n)
        .filter(|&i| values[i] > 0 && u64::from(weights[i]) <= capacity)
        .collect();
    let total_weight: u64 = candidates.iter().map(|&i| u64::from(weights[i])).sum();
    if total_weight <= capacity {
        // Every candidate fits: leaving any out only loses value.
        return candidates;
    }
    let divisor = candidates
        .iter()
        .fold(0u64, |g, &i| gcd(g, u64::from(weights[i])))
        .max(1);
    let cap = (capacity / divisor).min(total_weight / divisor);
    let Ok(cap) = usize::try_from(cap) else {
        return candidates;
    };
    let width = cap + 1;
    // best[c] = (value, weight) of the best set of the items seen so far
    // (processed from the last to the first) within capacity c.
    let mut best = vec![(0u64, 0u64); width];
    let words = width.div_ceil(64);
    let mut take = vec![0u64; words * candidates.len()];
    for (k, &i) in candidates.iter().enumerate().rev() {
        let w = usize::try_from(u64::from(weights[i]) / divisor).unwrap_or(usize::MAX);
        let v = values[i];
        if w > cap {
            continue;
        }
        let row = &mut take[k * words..(k + 1) * words];
        for c in (w..width).rev() {
            let (pv, pw) = best[c - w];
            let with = (pv.saturating_add(v), pw + w as u64);
            let cur = best[c];
            // Prefer taking this (earlier) item when the result is as good.
            if with.0 > cur.0 || (with.0 == cur.0 && with.1 <= cur.1) {
                best[c] = with;
                row[c / 64] |= 1 << (c % 64);
            }
        }
    }
    let mut chosen = Vec::new();
    let mut c = cap;
    for (k, &i) in candidates.iter().enumerate() {
        if take[k * words + c / 64] >> (c % 64) & 1 == 1 {
            chosen.push(i);
            c -= (u64::from(weights[i]) / divisor) as usize;
        }
    }
    chosen
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::solve;

    fn brute(weights: &[u32], values: &[u64], capacity: u64) -> (u64, u64) {
        let n = weights.len();
        let mut best = (0u64, 0u64);
        for mask in 0u32..(1 << n) {
            let (mut w, mut v) = (0u64, 0u64);
            for i in 0..n {
                if mask >> i & 1 == 1 {
                    w += u64::from(weights[i]);
                    v += values[i];
                }
            }
            if w <= capacity && (v > best.0 || (v == best.0 && w < best.1)) {
                best = (v, w);
            }
        }
        best
    }

    #[test]
    fn matches_brute_force_on_small_inputs() {
        let mut seed = 7u64;
        let mut next = || {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (seed >> 33) as u32
        };
        for _ in 0..300 {
            let n = (next() % 9) as usize;
            let weights: Vec<u32> = (0..n).map(|_| next() % 12).collect();
            let values: Vec<u64> = (0..n).map(|_| u64::from(next() % 7)).collect();
            let capacity = u64::from(next() % 30);
            let chosen = solve(&weights, &values, capacity);
            let w: u64 = chosen.iter().map(|&i| u64::from(weights[i])).sum();
            let v: u64 = chosen.iter().map(|&i| values[i]).sum();
            assert!(chosen.windows(2).all(|p| p[0] < p[1]));
            assert!(chosen.iter().all(|&i| values[i] > 0));
            assert_eq!((v, w), brute(&weights, &values, capacity));
        }
    }

    #[test]
    fn ties_prefer_earlier_items() {
        assert_eq!(solve(&[3, 3, 3], &[1, 1, 1], 6), vec![0, 1]);
        assert_eq!(solve(&[4, 2, 2], &[2, 1, 1], 4), vec![0]);
        assert_eq!(solve(&[4, 2, 2], &[2, 1, 2], 4), vec![1, 2]);
    }
}
