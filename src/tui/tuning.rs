//! The settings the user changed in the inspector, kept apart from the loaded
//! item set so that they survive a reload of the input files, and so that
//! undo and redo are a stack of small values.

use std::collections::BTreeMap;

use crate::engine::{ItemSet, Overflow, SectionBudget, Strategy};

/// One item's changed settings.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ItemTuning {
    /// Pinned or not, when changed.
    pub pinned: Option<bool>,
    /// The priority, when changed.
    pub priority: Option<f64>,
}

/// Everything the user changed; `None` (or absent) keeps the loaded value.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Tuning {
    /// The model, by registry name.
    pub model: Option<String>,
    /// The total budget.
    pub total: Option<usize>,
    /// The output reserve.
    pub reserve_output: Option<usize>,
    /// The default strategy.
    pub strategy: Option<Strategy>,
    /// The default overflow mode.
    pub overflow: Option<Overflow>,
    /// Reallocation on or off.
    pub reallocate: Option<bool>,
    /// Section budgets by section name.
    pub sections: BTreeMap<String, SectionBudget>,
    /// Item settings by item id.
    pub items: BTreeMap<String, ItemTuning>,
}

impl Tuning {
    /// Resets `target` (a clone of `base`, possibly changed since) to `base`'s
    /// tunable values and applies these settings. Only settings are copied:
    /// item texts are left alone, so this is cheap for large sets.
    ///
    /// The total is settled here: the tuned total, else the set's, limited to
    /// the model's `context_window` minus the output reserve
    /// ([`crate::session::settle_budget`], whose warnings join the
    /// set's; with no total and no known window, the default model's window).
    pub fn apply_in_place(
        &self,
        base: &ItemSet,
        target: &mut ItemSet,
        context_window: Option<usize>,
    ) {
        if target.items.len() != base.items.len() || target.sections.len() != base.sections.len() {
            *target = base.clone();
        }
        let mut budget = base.budget.clone();
        if let Some(m) = &self.model {
            // A model picked in the inspector counts with its own tokenizer.
            budget.model = Some(m.clone());
            budget.encoding = None;
        }
        if let Some(r) = self.reserve_output {
            budget.reserve_output = r;
        }
        if let Some(s) = self.strategy {
            budget.strategy = s;
        }
        if let Some(o) = self.overflow {
            budget.overflow = o;
        }
        if let Some(r) = self.reallocate {
            budget.reallocate = r;
        }
        budget.total = self.total.or(base.budget.total);
        let model = budget.model.clone();
        let warnings = crate::session::settle_budget(&mut budget, context_window, model.as_deref());
        target.budget = budget;
        target.warnings.clone_from(&base.warnings);
        target.warnings.extend(warnings);
        for (t, b) in target.sections.iter_mut().zip(&base.sections) {
            t.budget = self.sections.get(&b.name).copied().unwrap_or(b.budget);
        }
        if self.items.is_empty() {
            for (t, b) in target.items.iter_mut().zip(&base.items) {
                t.pinned = b.pinned;
                t.priority = b.priority;
            }
        } else {
            for (t, b) in target.items.iter_mut().zip(&base.items) {
                let tuned = self.items.get(&b.id);
                t.pinned = tuned.and_then(|x| x.pinned).unwrap_or(b.pinned);
                t.priority = tuned.and_then(|x| x.priority).unwrap_or(b.priority);
            }
        }
    }

    /// `base` with these settings applied (a full copy).
    pub fn apply(&self, base: &ItemSet, context_window: Option<usize>) -> ItemSet {
        let mut set = base.clone();
        self.apply_in_place(base, &mut set, context_window);
        set
    }

    /// The budgets of `base`'s sections under these settings, in order.
    pub fn section_budgets(&self, base: &ItemSet) -> Vec<(String, SectionBudget)> {
        base.sections
            .iter()
            .map(|s| {
                (
                    s.name.clone(),
                    self.sections.get(&s.name).copied().unwrap_or(s.budget),
                )
            })
            .collect()
    }

    /// How many items have changed settings.
    pub fn item_changes(&self) -> usize {
        self.items.len()
    }
}

/// Shares after giving `selected` the share `new_share` (in percent, clamped
/// to 0..=100): the other share sections rescale in proportion to their
/// current shares so that all shares add up to exactly 100, in whole points
/// (largest-remainder rounding). Shares that did not add up to 100 are
/// normalised first. Absolute sections are left out.
///
/// `None` when `selected` is not a share section or is the only one.
pub fn rescale_shares(
    budgets: &[(String, SectionBudget)],
    selected: &str,
    new_share: f64,
) -> Option<Vec<(String, f64)>> {
    let shares: Vec<(&str, f64)> = budgets
        .iter()
        .filter_map(|(n, b)| match b {
            SectionBudget::Share(p) => Some((n.as_str(), p.max(0.0))),
            SectionBudget::Tokens(_) => None,
        })
        .collect();
    if shares.len() < 2 || !shares.iter().any(|(n, _)| *n == selected) {
        return None;
    }
    let sum: f64 = shares.iter().map(|(_, p)| p).sum();
    let normalised: Vec<(&str, f64)> = if sum > 0.0 {
        shares.iter().map(|(n, p)| (*n, p * 100.0 / sum)).collect()
    } else {
        let even = 100.0 / shares.len() as f64;
        shares.iter().map(|(n, _)| (*n, even)).collect()
    };
    let target = new_share.round().clamp(0.0, 100.0) as u64;
    let rest = 100 - target;
    let others: Vec<(&str, f64)> = normalised
        .iter()
        .filter(|(n, _)| *n != selected)
        .copied()
        .collect();
    let others_sum: f64 = others.iter().map(|(_, p)| p).sum();
    let exact: Vec<f64> = others
        .iter()
        .map(|(_, p)| {
            if others_sum > 0.0 {
                rest as f64 * p / others_sum
            } else {
                rest as f64 / others.len() as f64
            }
        })
        .collect();
    let whole = crate::engine::apportion(rest as usize, &exact);
    let mut out = Vec::with_capacity(shares.len());
    let mut k = 0;
    for (n, _) in &normalised {
        if *n == selected {
            out.push((n.to_string(), target as f64));
        } else {
            out.push((n.to_string(), whole[k] as f64));
            k += 1;
        }
    }
    Some(out)
}

/// The share sections' shares scaled to add up to exactly 100 in whole
/// points (largest remainder); `None` when there is no share section or
/// all shares are zero.
pub fn normalise_shares(budgets: &[(String, SectionBudget)]) -> Option<Vec<(String, f64)>> {
    let shares: Vec<(&str, f64)> = budgets
        .iter()
        .filter_map(|(n, b)| match b {
            SectionBudget::Share(p) => Some((n.as_str(), p.max(0.0))),
            SectionBudget::Tokens(_) => None,
        })
        .collect();
    let sum: f64 = shares.iter().map(|(_, p)| p).sum();
    if shares.is_empty() || sum <= 0.0 {
        return None;
    }
    let exact: Vec<f64> = shares.iter().map(|(_, p)| p * 100.0 / sum).collect();
    let whole = crate::engine::apportion(100, &exact);
    Some(
        shares
            .iter()
            .zip(whole)
            .map(|((n, _), w)| (n.to_string(), w as f64))
            .collect(),
    )
}

/// The share a section has now, normalised so that shares add up to 100.
pub fn normalised_share(budgets: &[(String, SectionBudget)], name: &str) -> Option<f64> {
    let sum: f64 = budgets
        .iter()
        .filter_map(|(_, b)| match b {
            SectionBudget::Share(p) => Some(p.max(0.0)),
            SectionBudget::Tokens(_) => None,
        })
        .sum();
    let count = budgets
        .iter()
        .filter(|(_, b)| matches!(b, SectionBudget::Share(_)))
        .count();
    budgets
        .iter()
        .find(|(n, _)| n == name)
        .and_then(|(_, b)| match b {
            SectionBudget::Share(p) if sum > 0.0 => Some(p.max(0.0) * 100.0 / sum),
            SectionBudget::Share(_) => Some(100.0 / count as f64),
            SectionBudget::Tokens(_) => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shares(v: &[(&str, f64)]) -> Vec<(String, SectionBudget)> {
        v.iter()
            .map(|(n, p)| (n.to_string(), SectionBudget::Share(*p)))
            .collect()
    }

    #[test]
    fn rescale_keeps_one_hundred() {
        let b = shares(&[
            ("a", 10.0),
            ("b", 35.0),
            ("c", 25.0),
            ("d", 25.0),
            ("e", 5.0),
        ]);
        for target in 0..=100 {
            let out = rescale_shares(&b, "b", target as f64).unwrap();
            let sum: f64 = out.iter().map(|(_, p)| p).sum();
            assert_eq!(sum, 100.0, "target {target}: {out:?}");
            assert_eq!(out[1].1, target as f64);
        }
    }

    #[test]
    fn rescale_is_proportional() {
        let b = shares(&[("a", 50.0), ("b", 25.0), ("c", 25.0)]);
        let out = rescale_shares(&b, "a", 60.0).unwrap();
        assert_eq!(
            out,
            vec![("a".into(), 60.0), ("b".into(), 20.0), ("c".into(), 20.0)]
        );
    }

    #[test]
    fn rescale_from_one_hundred_spreads_evenly() {
        let b = shares(&[("a", 100.0), ("b", 0.0), ("c", 0.0)]);
        let out = rescale_shares(&b, "a", 90.0).unwrap();
        assert_eq!(out[1].1 + out[2].1, 10.0);
        assert_eq!(out[1].1, 5.0);
    }

    #[test]
    fn rescale_needs_two_share_sections() {
        let mut b = shares(&[("a", 100.0)]);
        assert!(rescale_shares(&b, "a", 50.0).is_none());
        b.push(("t".into(), SectionBudget::Tokens(100)));
        assert!(rescale_shares(&b, "t", 50.0).is_none());
    }

    #[test]
    fn normalised_share_of_unnormalised_input() {
        let b = shares(&[("a", 1.0), ("b", 3.0)]);
        assert_eq!(normalised_share(&b, "b"), Some(75.0));
    }
}
