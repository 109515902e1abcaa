//! Step 3, select: which units of a section go in, for a given budget
//! (docs/engine.md §3). Selection is a pure function of the section's units,
//! its rule and its budget, so reallocation can rerun it with a new budget.
//!
//! Pinned units are taken first, whatever the budget. The strategy then
//! chooses among the others within what is left (after the section's frame):
//! - `greedy`: `category_order` rank, then priority, then input order; take
//!   what fits, skip what does not;
//! - `strict`: the same order; stop at the first unit that does not fit
//!   (`over_section_budget`), everything after it is `below_cutoff`;
//! - `density`: `category_order` rank, then priority per token, then input
//!   order; take what fits;
//! - `optimal`: the exact knapsack on fixed-point priorities
//!   (`category_order` does not apply: the optimum is the optimum); units of
//!   priority 0 are never taken (`zero_priority`);
//! - `balanced`: buckets by category (else level, else one bucket for the
//!   rest); each gets a quota in proportion to its candidate tokens, filled
//!   by priority; what is left goes to the best remaining units by priority.
//!
//! With overflow `priority-cut`, when a section's candidates do not all fit,
//! the units with a member under the threshold are excluded outright
//! (`priority_cut`) and the strategy runs again on the rest.

use super::allocate::apportion;
use super::anytime::RunLimits;
use super::knapsack;
use super::prepare::SectionUnits;
use super::{Overflow, Reason, Strategy};

/// A section's settings for selection.
#[derive(Debug, Clone)]
pub(super) struct Rule {
    /// Its strategy.
    pub strategy: Strategy,
    /// Its overflow mode.
    pub overflow: Overflow,
    /// The `priority-cut` threshold.
    pub priority_cut: f64,
    /// Its frame (title and joins), charged when it renders anything.
    pub frame: usize,
    /// Its separator's count.
    pub separator: usize,
    /// May spill into the reserved pool.
    pub can_use_reserve: bool,
    /// The run's limits on the `optimal` search.
    pub solver: RunLimits,
}

/// How the `optimal` strategy's knapsack ended, in fixed-point priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Optimality {
    /// The total value of the units it chose.
    pub value: u128,
    /// No choice that fits is worth more.
    pub bound: u128,
    /// A limit stopped the search before it proved its choice optimal.
    pub stopped: bool,
}

/// What selection decided for a section.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Selection {
    /// Per unit: taken.
    pub taken: Vec<bool>,
    /// Per unit not taken: why.
    pub reason: Vec<Option<Reason>>,
    /// Tokens used, frame included when anything taken renders.
    pub used: usize,
    /// Whether the frame is charged.
    pub framed: bool,
    /// What the pinned units alone need (frame included).
    pub pinned_need: usize,
    /// For `optimal`: how its last knapsack solve ended.
    pub optimality: Option<Optimality>,
}

pub(super) fn select(
    su: &SectionUnits,
    rule: &Rule,
    budget: usize,
    forbidden: &[bool],
) -> Selection {
    let n = su.units.len();
    let mut sel = Selection {
        taken: vec![false; n],
        reason: vec![None; n],
        used: 0,
        framed: false,
        pinned_need: 0,
        optimality: None,
    };
    let mut candidate = vec![false; n];
    let mut pinned_cost = 0usize;
    let mut pinned_renders = false;
    for (i, u) in su.units.iter().enumerate() {
        if u.group.is_some_and(|g| forbidden[g as usize]) {
            sel.reason[i] = Some(Reason::GroupExcluded);
        } else if u.pinned {
            sel.taken[i] = true;
            pinned_cost = pinned_cost.saturating_add(u.cost);
            pinned_renders |= u.renders;
        } else {
            candidate[i] = true;
        }
    }
    sel.pinned_need = pinned_cost.saturating_add(if pinned_renders { rule.frame } else { 0 });
    let frame = if su.renders { rule.frame } else { 0 };
    let capacity = budget.saturating_sub(frame).saturating_sub(pinned_cost);
    let mut taken_cost = run(rule, su, &candidate, capacity, &mut sel);
    if rule.overflow == Overflow::PriorityCut && (0..n).any(|i| candidate[i] && !sel.taken[i]) {
        for (i, c) in candidate.iter_mut().enumerate() {
            if *c {
                sel.taken[i] = false;
                sel.reason[i] = None;
                if su.units[i].low < rule.priority_cut {
                    *c = false;
                    sel.reason[i] = Some(Reason::PriorityCut);
                }
            }
        }
        taken_cost = run(rule, su, &candidate, capacity, &mut sel);
    }
    sel.framed = (0..n).any(|i| sel.taken[i] && su.units[i].renders);
    sel.used = pinned_cost
        .saturating_add(taken_cost)
        .saturating_add(if sel.framed { rule.frame } else { 0 });
    sel
}

/// Runs a strategy over the candidate units; returns the tokens taken.
fn run(
    rule: &Rule,
    su: &SectionUnits,
    candidate: &[bool],
    capacity: usize,
    sel: &mut Selection,
) -> usize {
    let strategy = rule.strategy;
    let all: usize = su
        .units
        .iter()
        .zip(candidate)
        .filter(|(_, c)| **c)
        .fold(0usize, |s, (u, _)| s.saturating_add(u.cost));
    if all <= capacity && strategy != Strategy::Optimal {
        for (i, &c) in candidate.iter().enumerate() {
            if c {
                sel.taken[i] = true;
            }
        }
        return all;
    }
    match strategy {
        Strategy::Greedy => in_order(su, &su.ranked, candidate, capacity, false, sel),
        Strategy::Strict => in_order(su, &su.ranked, candidate, capacity, true, sel),
        Strategy::Density => in_order(su, &su.by_density, candidate, capacity, false, sel),
        Strategy::Optimal => optimal(su, candidate, capacity, &rule.solver, sel),
        Strategy::Balanced => balanced(su, candidate, capacity, sel),
    }
}

/// Takes units in `order` while they fit; `strict` stops at the first that
/// does not.
fn in_order(
    su: &SectionUnits,
    order: &[u32],
    candidate: &[bool],
    capacity: usize,
    strict: bool,
    sel: &mut Selection,
) -> usize {
    let mut left = capacity;
    let mut cut = false;
    for &u in order {
        let u = u as usize;
        if !candidate[u] {
            continue;
        }
        let cost = su.units[u].cost;
        if cut {
            sel.reason[u] = Some(Reason::BelowCutoff);
        } else if cost <= left {
            sel.taken[u] = true;
            left -= cost;
        } else {
            sel.reason[u] = Some(Reason::OverSectionBudget);
            cut = strict;
        }
    }
    capacity - left
}

fn optimal(
    su: &SectionUnits,
    candidate: &[bool],
    capacity: usize,
    solver: &RunLimits,
    sel: &mut Selection,
) -> usize {
    let mut index = Vec::new();
    let mut weights = Vec::new();
    let mut values = Vec::new();
    let mut all = 0usize;
    for (i, u) in su.units.iter().enumerate() {
        if !candidate[i] {
            continue;
        }
        if u.value == 0 {
            sel.reason[i] = Some(Reason::ZeroPriority);
        } else if u.cost > capacity || u.cost > u32::MAX as usize {
            // Knapsack weights are 32-bit: a unit over 4 billion tokens is
            // treated as not fitting.
            sel.reason[i] = Some(Reason::OverSectionBudget);
        } else {
            index.push(i);
            weights.push(u.cost as u32);
            values.push(u.value);
            all = all.saturating_add(u.cost);
        }
    }
    let chosen: Vec<usize> = if all <= capacity {
        let value = values.iter().map(|&v| u128::from(v)).sum();
        sel.optimality = Some(Optimality {
            value,
            bound: value,
            stopped: false,
        });
        (0..index.len()).collect()
    } else {
        let s = knapsack::solve_within(&weights, &values, capacity as u64, &solver.limits());
        sel.optimality = Some(Optimality {
            value: s.value,
            bound: s.bound,
            stopped: s.stopped.is_some(),
        });
        s.chosen
    };
    let mut used = 0usize;
    let mut next = chosen.iter().peekable();
    for (k, &i) in index.iter().enumerate() {
        if next.peek() == Some(&&k) {
            next.next();
            sel.taken[i] = true;
            used += su.units[i].cost;
        } else {
            sel.reason[i] = Some(Reason::OverSectionBudget);
        }
    }
    used
}

fn balanced(su: &SectionUnits, candidate: &[bool], capacity: usize, sel: &mut Selection) -> usize {
    let mut bucket_tokens = vec![0usize; su.buckets];
    for (i, u) in su.units.iter().enumerate() {
        if candidate[i] {
            let b = &mut bucket_tokens[u.bucket as usize];
            *b = b.saturating_add(u.cost);
        }
    }
    let weights: Vec<f64> = bucket_tokens.iter().map(|&t| t as f64).collect();
    let mut quota = apportion(capacity, &weights);
    let mut left = capacity;
    for &u in &su.by_priority {
        let u = u as usize;
        if !candidate[u] {
            continue;
        }
        let unit = &su.units[u];
        let q = &mut quota[unit.bucket as usize];
        if unit.cost <= *q && unit.cost <= left {
            *q -= unit.cost;
            left -= unit.cost;
            sel.taken[u] = true;
        }
    }
    for &u in &su.by_priority {
        let u = u as usize;
        if !candidate[u] || sel.taken[u] {
            continue;
        }
        let cost = su.units[u].cost;
        if cost <= left {
            left -= cost;
            sel.taken[u] = true;
        } else {
            sel.reason[u] = Some(Reason::OverSectionBudget);
        }
    }
    capacity - left
}
