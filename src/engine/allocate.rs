//! Step 2, allocate: split the total across sections (docs/engine.md §2).
//!
//! 1. `reserved` is set aside (clamped to the total, with a warning).
//! 2. Absolute sections (`tokens`) get their tokens, clamped to their
//!    `min`/`max`. When they need more than is available they are scaled
//!    down in proportion, with a warning, rather than failing: the inspector
//!    must keep showing a plan while the user drags budgets around.
//! 3. Share sections split what remains in proportion to their shares
//!    (normalised, with a warning, when they do not add up to 100), under
//!    their `min`/`max` clamps: a clamped section is fixed at its bound and
//!    the rest is split again among the others.
//! 4. Integer rounding by largest remainder (ties to the earlier section), so
//!    section budgets plus `reserved` add up to the total exactly. When that
//!    is impossible (no share section takes the rest, or every share section
//!    is at its `max`, or the `min`s need more than there is) a warning says
//!    so and the sum stays at most the total.

use super::{ItemSet, SectionBudget};

/// Section budgets and the reserved pool.
pub(super) struct Allocation {
    /// Per section, in declared order.
    pub budgets: Vec<usize>,
    /// The reserved pool.
    pub reserved: usize,
}

pub(super) fn allocate(set: &ItemSet, total: usize, warnings: &mut Vec<String>) -> Allocation {
    let mut reserved = set.budget.reserved;
    if reserved > total {
        warnings.push(format!(
            "reserved pool of {reserved} tokens exceeds the total of {total}; reduced to {total}"
        ));
        reserved = total;
    }
    let available = total - reserved;
    let sections = &set.sections;
    let mut budgets = vec![0usize; sections.len()];

    // Absolute sections.
    let mut absolute = Vec::new();
    for (i, s) in sections.iter().enumerate() {
        if let SectionBudget::Tokens(t) = s.budget {
            let clamped = clamp(t, s.min, s.max);
            if clamped != t {
                warnings.push(format!(
                    "section `{}`: tokens {t} is outside its min/max; clamped to {clamped}",
                    s.name
                ));
            }
            budgets[i] = clamped;
            absolute.push(i);
        }
    }
    let absolute_sum: u128 = absolute.iter().map(|&i| budgets[i] as u128).sum();
    if absolute_sum > available as u128 {
        warnings.push(format!(
            "absolute section budgets add up to {absolute_sum} tokens, more than the {available} available (total {total} minus reserved {reserved}); scaled down in proportion"
        ));
        let weights: Vec<f64> = absolute.iter().map(|&i| budgets[i] as f64).collect();
        for (&i, b) in absolute.iter().zip(apportion(available, &weights)) {
            budgets[i] = b;
        }
    }
    let remaining = available - absolute.iter().map(|&i| budgets[i]).sum::<usize>();

    // Share sections.
    let shared: Vec<usize> = (0..sections.len())
        .filter(|&i| matches!(sections[i].budget, SectionBudget::Share(_)))
        .collect();
    if shared.is_empty() {
        if remaining > 0 {
            warnings.push(format!(
                "{remaining} tokens of the total are in no section: every section has an absolute budget"
            ));
        }
        return Allocation { budgets, reserved };
    }
    let mut weights: Vec<f64> = shared
        .iter()
        .map(|&i| match sections[i].budget {
            SectionBudget::Share(s) => s,
            SectionBudget::Tokens(_) => 0.0,
        })
        .collect();
    let share_sum: f64 = weights.iter().sum();
    if share_sum <= 0.0 {
        warnings.push("section shares add up to 0%; the budget is split evenly".to_string());
        weights.iter_mut().for_each(|w| *w = 1.0);
    } else if (share_sum - 100.0).abs() > 1e-6 {
        warnings.push(format!(
            "section shares add up to {}%, not 100%; normalised",
            trim_float(share_sum)
        ));
    }
    let bounds: Vec<(usize, Option<usize>)> = shared
        .iter()
        .map(|&i| (sections[i].min.unwrap_or(0), sections[i].max))
        .collect();
    let split = split_clamped(remaining, &weights, &bounds);
    match split.shortfall {
        Shortfall::None => {}
        Shortfall::Unallocated(n) => warnings.push(format!(
            "every share section is at its max; {n} tokens are in no section"
        )),
        Shortfall::MinsReduced(need) => warnings.push(format!(
            "section minimums need {need} tokens but only {remaining} remain after absolute sections and the reserve; reduced in proportion"
        )),
    }
    for (&i, b) in shared.iter().zip(split.budgets) {
        budgets[i] = b;
    }
    Allocation { budgets, reserved }
}

fn clamp(v: usize, min: Option<usize>, max: Option<usize>) -> usize {
    let v = v.max(min.unwrap_or(0));
    max.map_or(v, |m| v.min(m))
}

fn trim_float(v: f64) -> String {
    let s = format!("{v:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

enum Shortfall {
    None,
    Unallocated(usize),
    MinsReduced(u128),
}

struct Split {
    budgets: Vec<usize>,
    shortfall: Shortfall,
}

/// Splits `target` in proportion to `weights`, each part within its
/// `(min, max)` bounds, in whole tokens adding up to `target` when the bounds
/// allow it.
fn split_clamped(target: usize, weights: &[f64], bounds: &[(usize, Option<usize>)]) -> Split {
    let n = weights.len();
    let mut fixed: Vec<Option<usize>> = vec![None; n];
    loop {
        let free: Vec<usize> = (0..n).filter(|&i| fixed[i].is_none()).collect();
        if free.is_empty() {
            break;
        }
        let fixed_sum: f64 = fixed.iter().flatten().map(|&v| v as f64).sum();
        let rest = target as f64 - fixed_sum;
        let w: f64 = free.iter().map(|&i| weights[i]).sum();
        let share = |i: usize| {
            if w > 0.0 {
                rest * weights[i] / w
            } else {
                rest / free.len() as f64
            }
        };
        let (mut raise, mut lower) = (0.0, 0.0);
        for &i in &free {
            let x = share(i);
            let (min, max) = bounds[i];
            if x < min as f64 {
                raise += min as f64 - x;
            } else if let Some(max) = max
                && x > max as f64
            {
                lower += x - max as f64;
            }
        }
        if raise == 0.0 && lower == 0.0 {
            break;
        }
        // Fix the side whose violation is larger; the other side may resolve
        // itself once those are fixed.
        for &i in &free {
            let x = share(i);
            let (min, max) = bounds[i];
            if raise >= lower && x < min as f64 {
                fixed[i] = Some(min);
            } else if raise < lower
                && let Some(max) = max
                && x > max as f64
            {
                fixed[i] = Some(max);
            }
        }
    }
    let fixed_sum: u128 = fixed.iter().flatten().map(|&v| v as u128).sum();
    let free: Vec<usize> = (0..n).filter(|&i| fixed[i].is_none()).collect();
    if free.is_empty() {
        // Every section is at a bound.
        let mut budgets: Vec<usize> = fixed.iter().map(|v| v.unwrap_or(0)).collect();
        if fixed_sum > target as u128 {
            let w: Vec<f64> = budgets.iter().map(|&b| b as f64).collect();
            budgets = apportion(target, &w);
            return Split {
                budgets,
                shortfall: Shortfall::MinsReduced(fixed_sum),
            };
        }
        let gap = target - fixed_sum as usize;
        let shortfall = if gap > 0 {
            Shortfall::Unallocated(gap)
        } else {
            Shortfall::None
        };
        return Split { budgets, shortfall };
    }
    // Free sections split what the fixed ones leave, in whole tokens. The
    // fixed ones never exceed the target here: a free section remains only
    // when its proportional part is at least its min (>= 0).
    let rest = (target as u128).saturating_sub(fixed_sum) as usize;
    let w: f64 = free.iter().map(|&i| weights[i]).sum();
    let free_weights: Vec<f64> = free
        .iter()
        .map(|&i| if w > 0.0 { weights[i] } else { 1.0 })
        .collect();
    let parts = apportion(rest, &free_weights);
    let mut budgets: Vec<usize> = fixed.iter().map(|v| v.unwrap_or(0)).collect();
    for (&i, p) in free.iter().zip(parts) {
        budgets[i] = p;
    }
    Split {
        budgets,
        shortfall: Shortfall::None,
    }
}

/// Splits `target` into whole parts in proportion to `weights` by largest
/// remainder: the parts add up to `target` exactly, each is the floor or the
/// ceiling of its exact share, and remainders tie to the earlier part.
/// Non-finite or negative weights count as 0; all-zero weights split evenly.
///
/// The one largest-remainder rounding: section budgets, and shares shown as
/// whole percentages that must add up to 100.
///
/// ```
/// use tokenscope::engine::apportion;
/// assert_eq!(apportion(100, &[1.0, 1.0, 1.0]), vec![34, 33, 33]);
/// assert_eq!(apportion(7, &[50.0, 25.0, 25.0]), vec![3, 2, 2]);
/// ```
pub fn apportion(target: usize, weights: &[f64]) -> Vec<usize> {
    let n = weights.len();
    if n == 0 {
        return Vec::new();
    }
    let mut w: Vec<f64> = weights
        .iter()
        .map(|&x| if x.is_finite() && x > 0.0 { x } else { 0.0 })
        .collect();
    let mut sum: f64 = w.iter().sum();
    if !(sum > 0.0 && sum.is_finite()) {
        w.iter_mut().for_each(|x| *x = 1.0);
        sum = n as f64;
    }
    let exact: Vec<f64> = w.iter().map(|&x| target as f64 * (x / sum)).collect();
    let mut parts: Vec<usize> = exact
        .iter()
        .map(|&q| (q.floor().max(0.0) as usize).min(target))
        .collect();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        let ra = exact[a] - exact[a].floor();
        let rb = exact[b] - exact[b].floor();
        rb.total_cmp(&ra).then(a.cmp(&b))
    });
    let mut total: u128 = parts.iter().map(|&p| p as u128).sum();
    // Floating point error on huge targets can overshoot: take back from the
    // parts with the smallest remainders.
    while total > target as u128 {
        let over = total - target as u128;
        let mut moved = false;
        for &i in order.iter().rev() {
            if parts[i] > 0 {
                let take = (parts[i] as u128).min(over.div_ceil(n as u128)) as usize;
                parts[i] -= take;
                total -= take as u128;
                moved = true;
                if total <= target as u128 {
                    break;
                }
            }
        }
        if !moved {
            break;
        }
    }
    let mut deficit = (target as u128 - total) as usize;
    if deficit >= n {
        // Only reachable through floating point error on huge targets.
        let each = deficit / n;
        for p in &mut parts {
            *p += each;
        }
        deficit -= each * n;
    }
    for &i in order.iter().take(deficit) {
        parts[i] += 1;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::apportion;

    #[test]
    fn apportion_adds_up_and_ties_go_first() {
        assert_eq!(apportion(10, &[1.0, 1.0, 1.0]), vec![4, 3, 3]);
        assert_eq!(apportion(7, &[50.0, 25.0, 25.0]), vec![3, 2, 2]);
        assert_eq!(apportion(0, &[1.0, 2.0]), vec![0, 0]);
        assert_eq!(apportion(5, &[0.0, 0.0]), vec![3, 2]);
        // Shares that do not add up to the total are scaled, never summed
        // past it (the inspector's copy floored the exact values and could
        // go over).
        assert_eq!(apportion(100, &[60.0, 60.0]), vec![50, 50]);
        assert_eq!(apportion(100, &[12.5, 12.5, 75.0]), vec![13, 12, 75]);
        let big = apportion(usize::MAX, &[1.0, 3.0, f64::NAN]);
        assert_eq!(
            big.iter().map(|&v| v as u128).sum::<u128>(),
            usize::MAX as u128
        );
    }
}
