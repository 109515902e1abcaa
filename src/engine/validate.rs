//! Checks an item set before the engine runs it. Loaders catch most of these
//! with file, line and column; the engine checks again so that no input can
//! make it panic or produce a meaningless plan.

use rustc_hash::FxHashMap;

use super::{EngineError, ItemSet, SectionBudget};

/// What validation resolves: the total and each item's section index.
pub(super) struct Checked {
    /// `budget.total`.
    pub total: usize,
    /// For each item, the index of its section.
    pub section_of: Vec<u32>,
}

pub(super) fn validate(set: &ItemSet) -> Result<Checked, EngineError> {
    let total = set.budget.total.ok_or(EngineError::NoTotal)?;
    let invalid = |msg: String| Err(EngineError::Invalid(msg));

    let mut sections: FxHashMap<&str, u32> = FxHashMap::default();
    for (i, s) in set.sections.iter().enumerate() {
        if let Some(first) = sections.insert(s.name.as_str(), i as u32) {
            return invalid(format!(
                "section `{}` is declared twice (sections {} and {}); section names must be unique",
                s.name,
                first + 1,
                i + 1
            ));
        }
        if let SectionBudget::Share(share) = s.budget
            && !(share.is_finite() && (0.0..=100.0).contains(&share))
        {
            return invalid(format!(
                "section `{}`: share {share} is not a percentage from 0 to 100",
                s.name
            ));
        }
        if let (Some(min), Some(max)) = (s.min, s.max)
            && min > max
        {
            return invalid(format!(
                "section `{}`: min {min} is larger than max {max}",
                s.name
            ));
        }
    }

    let b = &set.budget;
    if let Some(p) = b.min_priority
        && !p.is_finite()
    {
        return invalid(format!("min_priority {p} is not a finite number"));
    }
    if !b.priority_cut.is_finite() {
        return invalid(format!(
            "priority_cut {} is not a finite number",
            b.priority_cut
        ));
    }
    for name in &b.reallocate_order {
        if !sections.contains_key(name.as_str()) {
            return invalid(format!(
                "reallocate_order names section `{name}`, which is not declared; declared sections: {}",
                declared(set)
            ));
        }
    }

    let mut ids: FxHashMap<&str, usize> = FxHashMap::default();
    let mut section_of = Vec::with_capacity(set.items.len());
    for (i, item) in set.items.iter().enumerate() {
        if let Some(first) = ids.insert(item.id.as_str(), i) {
            return invalid(format!(
                "item id `{}` is used twice (items {} and {}); ids must be unique",
                item.id,
                first + 1,
                i + 1
            ));
        }
        let Some(&s) = sections.get(item.section.as_str()) else {
            return invalid(format!(
                "item `{}` is in section `{}`, which is not declared; declared sections: {}",
                item.id,
                item.section,
                declared(set)
            ));
        };
        if !(item.priority.is_finite() && item.priority >= 0.0) {
            return invalid(format!(
                "item `{}`: priority {} is not a finite number of 0 or more",
                item.id, item.priority
            ));
        }
        section_of.push(s);
    }
    Ok(Checked { total, section_of })
}

fn declared(set: &ItemSet) -> String {
    if set.sections.is_empty() {
        return "(none)".to_string();
    }
    set.sections
        .iter()
        .map(|s| format!("`{}`", s.name))
        .collect::<Vec<_>>()
        .join(", ")
}
