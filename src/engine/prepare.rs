//! Before selection: exclusions that do not depend on the budget
//! (`min_priority`, duplicates), pinning and groups, and the *units* each
//! section selects from.
//!
//! A unit is one item, or all the items of one group that are in one
//! section: its cost and priority are the sums of its members', and it is
//! taken or left whole. Decisions:
//! - a group with a pinned member is pinned as a whole, and pinned items are
//!   not subject to `min_priority`;
//! - a group with a member under `min_priority` is out as a whole (the other
//!   members `group_excluded`);
//! - duplicates are found after `min_priority`; the item kept is the pinned
//!   one, then the highest priority, then the earliest. A duplicate leaves
//!   its group (its content is in the context through the item kept). Empty
//!   texts and given counts are never duplicates;
//! - a group that spans sections has one unit in each; the run keeps those
//!   units consistent (see `run.rs`).
//! - the unit's category (and level) for `category_order` and `balanced` are
//!   those of its first member.

use std::ops::Range;

use rustc_hash::FxHashMap;

use super::count::Counts;
use super::{Content, ItemSet, Reason};

/// One item, or the members of a group within one section.
#[derive(Debug, Clone)]
pub(super) struct Unit {
    /// The members' positions in [`SectionUnits::members`].
    pub members: Range<u32>,
    /// Sum of the members' costs (tokens plus separator when they render).
    pub cost: usize,
    /// Sum of the members' priorities.
    pub priority: f64,
    /// The lowest member priority (for `priority-cut`).
    pub low: f64,
    /// The priority as a fixed-point knapsack value.
    pub value: u64,
    /// Pinned (any member of its group is).
    pub pinned: bool,
    /// Whether any member renders text.
    pub renders: bool,
    /// Position of its category in the section's `category_order`
    /// (unlisted: after all listed).
    pub cat_rank: u32,
    /// Its `balanced` bucket (category, else level, else none).
    pub bucket: u32,
    /// Its group, when it has one.
    pub group: Option<u32>,
}

/// A section's units and their orderings.
#[derive(Debug, Clone, Default)]
pub(super) struct SectionUnits {
    /// Units in input order of their first member.
    pub units: Vec<Unit>,
    /// Item indices of all units' members, unit by unit, each ascending.
    pub members: Vec<u32>,
    /// `category_order` rank, then priority (highest first), then input order.
    pub ranked: Vec<u32>,
    /// `category_order` rank, then priority per token, then input order.
    pub by_density: Vec<u32>,
    /// Priority (highest first), then input order.
    pub by_priority: Vec<u32>,
    /// How many `balanced` buckets there are.
    pub buckets: usize,
    /// Whether any unit renders text.
    pub renders: bool,
}

impl SectionUnits {
    /// The item indices of a unit's members.
    pub fn members(&self, unit: usize) -> &[u32] {
        let r = &self.units[unit].members;
        &self.members[r.start as usize..r.end as usize]
    }
}

/// A group and where its units are.
#[derive(Debug, Clone, Default)]
pub(super) struct Group {
    /// (section, unit) of each of its units.
    pub units: Vec<(u32, u32)>,
    /// A member is under `min_priority`, so the group is out.
    pub broken: bool,
}

/// Everything selection needs that does not depend on the budget.
pub(super) struct Prepared {
    /// Per item: its section.
    pub section_of: Vec<u32>,
    /// Per item: an exclusion decided before selection.
    pub static_reason: Vec<Option<Reason>>,
    /// Per item: for a duplicate, the item kept.
    pub duplicate_of: Vec<Option<u32>>,
    /// Per item: pinned, itself or through its group.
    pub pinned: Vec<bool>,
    /// Per item: tokens (with overhead) as counted or given.
    pub tokens: Vec<usize>,
    /// Per item: whether it renders text.
    pub renders: Vec<bool>,
    /// Per item: its (section, unit), unless excluded before selection.
    pub unit_of: Vec<Option<(u32, u32)>>,
    /// Per section.
    pub sections: Vec<SectionUnits>,
    /// Per group.
    pub groups: Vec<Group>,
}

pub(super) fn prepare(set: &ItemSet, section_of: Vec<u32>, counts: Counts) -> Prepared {
    let n = set.items.len();
    let Counts {
        tokens,
        renders,
        separator,
        ..
    } = counts;

    // Groups and pinning.
    let mut group_ids: FxHashMap<&str, u32> = FxHashMap::default();
    let mut item_group: Vec<Option<u32>> = Vec::with_capacity(n);
    let mut groups: Vec<Group> = Vec::new();
    let mut group_pinned: Vec<bool> = Vec::new();
    for item in &set.items {
        let g = item.group.as_deref().map(|name| {
            let next = group_ids.len() as u32;
            let id = *group_ids.entry(name).or_insert(next);
            if id == next {
                groups.push(Group::default());
                group_pinned.push(false);
            }
            group_pinned[id as usize] |= item.pinned;
            id
        });
        item_group.push(g);
    }
    let pinned: Vec<bool> = set
        .items
        .iter()
        .zip(&item_group)
        .map(|(item, g)| item.pinned || g.is_some_and(|g| group_pinned[g as usize]))
        .collect();

    // min_priority.
    let mut static_reason: Vec<Option<Reason>> = vec![None; n];
    if let Some(min) = set.budget.min_priority {
        for (i, item) in set.items.iter().enumerate() {
            if !pinned[i] && item.priority < min {
                static_reason[i] = Some(Reason::BelowMinPriority);
                if let Some(g) = item_group[i] {
                    groups[g as usize].broken = true;
                }
            }
        }
    }

    // Duplicates.
    // A chat request's messages are a conversation: a message that repeats
    // an earlier one is still said again, so nothing there is a duplicate.
    let duplicate_of = if set.chat.is_some() {
        vec![None; n]
    } else {
        find_duplicates(set, &tokens, &static_reason, &pinned)
    };
    for (i, d) in duplicate_of.iter().enumerate() {
        if d.is_some() {
            static_reason[i] = Some(Reason::Duplicate);
            item_group[i] = None;
        }
    }

    let cost: Vec<usize> = (0..n)
        .map(|i| {
            let sep = if renders[i] {
                separator[section_of[i] as usize]
            } else {
                0
            };
            tokens[i].saturating_add(sep)
        })
        .collect();

    // Units, section by section.
    let mut per_section: Vec<Vec<u32>> = vec![Vec::new(); set.sections.len()];
    for i in 0..n {
        if static_reason[i].is_none() {
            per_section[section_of[i] as usize].push(i as u32);
        }
    }
    let mut unit_of: Vec<Option<(u32, u32)>> = vec![None; n];
    let mut sections = Vec::with_capacity(set.sections.len());
    for (s, items) in per_section.iter().enumerate() {
        let su = build_section(
            set,
            s,
            items,
            &item_group,
            &pinned,
            &cost,
            &renders,
            &mut unit_of,
        );
        for (u, unit) in su.units.iter().enumerate() {
            if let Some(g) = unit.group {
                groups[g as usize].units.push((s as u32, u as u32));
            }
        }
        sections.push(su);
    }

    Prepared {
        section_of,
        static_reason,
        duplicate_of,
        pinned,
        tokens,
        renders,
        unit_of,
        sections,
        groups,
    }
}

/// For each item that duplicates a kept one, the kept one's index.
///
/// Texts are sorted by length and token count; only texts that agree on
/// both are compared byte by byte. No text is hashed again.
fn find_duplicates(
    set: &ItemSet,
    tokens: &[usize],
    excluded: &[Option<Reason>],
    pinned: &[bool],
) -> Vec<Option<u32>> {
    let n = set.items.len();
    let mut out = vec![None; n];
    // (length, token count, index): equal texts have equal keys.
    let mut keyed: Vec<(usize, usize, u32)> = set
        .items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| match &item.content {
            Content::Text(t) if !t.is_empty() && excluded[i].is_none() => {
                Some((t.len(), tokens[i] - item.overhead, i as u32))
            }
            _ => None,
        })
        .collect();
    keyed.sort_unstable();
    let better = |a: u32, b: u32| {
        // Whether item a is a better one to keep than item b.
        let (ia, ib) = (&set.items[a as usize], &set.items[b as usize]);
        (pinned[a as usize], ia.priority, std::cmp::Reverse(a))
            .partial_cmp(&(pinned[b as usize], ib.priority, std::cmp::Reverse(b)))
            .is_some_and(|o| o.is_gt())
    };
    let text = |i: u32| set.items[i as usize].text();
    let mut start = 0;
    while start < keyed.len() {
        let mut end = start + 1;
        while end < keyed.len() && keyed[end].0 == keyed[start].0 && keyed[end].1 == keyed[start].1
        {
            end += 1;
        }
        if end - start > 1 {
            // Same length and count: compare the texts themselves.
            let mut run: Vec<u32> = keyed[start..end].iter().map(|k| k.2).collect();
            run.sort_unstable_by(|&a, &b| text(a).cmp(text(b)).then(a.cmp(&b)));
            let mut from = 0;
            while from < run.len() {
                let mut to = from + 1;
                while to < run.len() && text(run[to]) == text(run[from]) {
                    to += 1;
                }
                let class = &run[from..to];
                let keep = class
                    .iter()
                    .copied()
                    .fold(class[0], |k, i| if better(i, k) { i } else { k });
                for &i in class {
                    if i != keep {
                        out[i as usize] = Some(keep);
                    }
                }
                from = to;
            }
        }
        start = end;
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn build_section(
    set: &ItemSet,
    s: usize,
    items: &[u32],
    item_group: &[Option<u32>],
    pinned: &[bool],
    cost: &[usize],
    renders: &[bool],
    unit_of: &mut [Option<(u32, u32)>],
) -> SectionUnits {
    let section = &set.sections[s];
    // Assign units: a group's members in this section share one.
    let mut group_unit: FxHashMap<u32, u32> = FxHashMap::default();
    let mut unit_first: Vec<u32> = Vec::new();
    let mut assign: Vec<u32> = Vec::with_capacity(items.len());
    for &i in items {
        let u = match item_group[i as usize] {
            Some(g) => *group_unit.entry(g).or_insert_with(|| {
                unit_first.push(i);
                unit_first.len() as u32 - 1
            }),
            None => {
                unit_first.push(i);
                unit_first.len() as u32 - 1
            }
        };
        assign.push(u);
    }
    let count = unit_first.len();
    // Flatten members unit by unit (items are ascending, so members are too).
    let mut sizes = vec![0u32; count + 1];
    for &u in &assign {
        sizes[u as usize + 1] += 1;
    }
    for u in 0..count {
        sizes[u + 1] += sizes[u];
    }
    let starts = sizes.clone();
    let mut fill = sizes;
    let mut members = vec![0u32; items.len()];
    for (&i, &u) in items.iter().zip(&assign) {
        members[fill[u as usize] as usize] = i;
        fill[u as usize] += 1;
        unit_of[i as usize] = Some((s as u32, u));
    }

    // Buckets for `balanced`.
    #[derive(Hash, PartialEq, Eq)]
    enum Key<'a> {
        Category(&'a str),
        Level(i64),
        None,
    }
    let mut bucket_ids: FxHashMap<Key<'_>, u32> = FxHashMap::default();
    let order = &section.category_order;

    let mut units = Vec::with_capacity(count);
    let mut any_renders = false;
    for u in 0..count {
        let range = starts[u]..starts[u + 1];
        let first = unit_first[u];
        let head = &set.items[first as usize];
        let mut unit = Unit {
            members: range.clone(),
            cost: 0,
            priority: 0.0,
            low: f64::INFINITY,
            value: 0,
            pinned: pinned[first as usize],
            renders: false,
            cat_rank: head
                .category
                .as_deref()
                .and_then(|c| order.iter().position(|o| o == c))
                .unwrap_or(order.len()) as u32,
            bucket: 0,
            group: item_group[first as usize],
        };
        for &i in &members[range.start as usize..range.end as usize] {
            let item = &set.items[i as usize];
            unit.cost = unit.cost.saturating_add(cost[i as usize]);
            unit.priority += item.priority;
            unit.low = unit.low.min(item.priority);
            unit.renders |= renders[i as usize];
        }
        let key = match (&head.category, head.level) {
            (Some(c), _) => Key::Category(c.as_str()),
            (None, Some(l)) => Key::Level(l),
            (None, None) => Key::None,
        };
        let next = bucket_ids.len() as u32;
        unit.bucket = *bucket_ids.entry(key).or_insert(next);
        any_renders |= unit.renders;
        units.push(unit);
    }

    // Fixed-point knapsack values: 1e-6 precision, scaled down only when the
    // section's total would not fit comfortably in 64 bits.
    let total_priority: f64 = units.iter().map(|u| u.priority).sum();
    let limit = (1u64 << 62) as f64;
    let scale = if total_priority * 1e6 > limit {
        limit / total_priority
    } else {
        1e6
    };
    for unit in &mut units {
        unit.value = (unit.priority * scale).round() as u64;
    }

    // Orderings, sorted on packed integer keys (no indirection while
    // sorting). Priorities and densities are finite or +inf and never
    // negative, so their bit patterns order like the numbers; `!bits` sorts
    // highest first. The unit index (in input order of the first member)
    // breaks ties.
    let desc = |x: f64| u128::from(!(x + 0.0).to_bits());
    let order_by = |key: &dyn Fn(&Unit) -> u128| -> Vec<u32> {
        let mut keys: Vec<u128> = units
            .iter()
            .enumerate()
            .map(|(u, unit)| key(unit) << 32 | u as u128)
            .collect();
        keys.sort_unstable();
        keys.into_iter().map(|k| k as u32).collect()
    };
    let ranked = order_by(&|u| u128::from(u.cat_rank) << 64 | desc(u.priority));
    let by_density = order_by(&|u| {
        let density = if u.cost == 0 {
            f64::INFINITY
        } else {
            u.priority / u.cost as f64
        };
        u128::from(u.cat_rank) << 64 | desc(density)
    });
    let by_priority = order_by(&|u| desc(u.priority));

    SectionUnits {
        units,
        members,
        ranked,
        by_density,
        by_priority,
        buckets: bucket_ids.len(),
        renders: any_renders,
    }
}
