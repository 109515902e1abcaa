//! Step 7, report: every item's outcome, and the plan built from the
//! outcomes (docs/engine.md §7, §5).

use crate::tokens::{Estimate, Tokenizer};

use super::flow::Board;
use super::overflow::Change;
use super::prepare::Prepared;
use super::render::Rendered;
use super::select::{Optimality, Rule};
use super::{
    ItemPlan, ItemSet, ItemStatus, Plan, PlanBudget, REPORT_SCHEMA, Reason, SectionPlan, Totals,
};

/// What happened to one item.
#[derive(Debug, Clone)]
pub(super) struct Outcome {
    /// Its status.
    pub status: ItemStatus,
    /// Why it is excluded.
    pub reason: Option<Reason>,
    /// Its tokens as included (0 when excluded).
    pub final_tokens: usize,
    /// Its text as included, when changed.
    pub final_text: Option<String>,
    /// Its degrade level.
    pub level: Option<u8>,
}

/// Why a group that spans sections was excluded: the unit (section, unit)
/// that was out first, and its reason.
pub(super) type GroupCause = Option<(u32, u32, Reason)>;

/// Each item's outcome from the settled board and the overflow changes.
pub(super) fn outcomes(
    set: &ItemSet,
    prep: &Prepared,
    board: &Board<'_>,
    causes: &[GroupCause],
    changes: Vec<Change>,
    priority_cut: f64,
) -> Vec<Outcome> {
    let mut out: Vec<Outcome> = (0..set.items.len())
        .map(|i| {
            let excluded = |reason| Outcome {
                status: ItemStatus::Excluded,
                reason: Some(reason),
                final_tokens: 0,
                final_text: None,
                level: None,
            };
            if let Some(reason) = prep.static_reason[i] {
                return excluded(reason);
            }
            let Some((s, u)) = prep.unit_of[i] else {
                return excluded(Reason::OverSectionBudget);
            };
            let sel = &board.selections[s as usize];
            let unit = &prep.sections[s as usize].units[u as usize];
            if sel.taken[u as usize] {
                return Outcome {
                    status: if prep.pinned[i] {
                        ItemStatus::Pinned
                    } else {
                        ItemStatus::Included
                    },
                    reason: None,
                    final_tokens: prep.tokens[i],
                    final_text: None,
                    level: None,
                };
            }
            let reason = match sel.reason[u as usize].unwrap_or(Reason::OverSectionBudget) {
                Reason::GroupExcluded => match unit.group.and_then(|g| causes[g as usize]) {
                    Some((cs, cu, cause)) if (cs, cu) == (s, u) => cause,
                    _ => Reason::GroupExcluded,
                },
                Reason::PriorityCut
                    if unit.members.len() > 1 && set.items[i].priority >= priority_cut =>
                {
                    Reason::GroupExcluded
                }
                r => r,
            };
            excluded(reason)
        })
        .collect();
    for c in changes {
        let o = &mut out[c.item];
        o.status = c.status;
        o.reason = None;
        o.final_tokens = c.text_tokens.saturating_add(set.items[c.item].overhead);
        o.final_text = Some(c.text);
        o.level = c.level;
    }
    out
}

/// Everything the plan is built from.
pub(super) struct Parts<'a> {
    pub set: &'a ItemSet,
    pub tokenizer: &'a Tokenizer,
    pub model: Option<String>,
    pub price_per_million: Option<f64>,
    pub total: usize,
    pub reserved: usize,
    pub prep: &'a Prepared,
    pub rules: &'a [Rule],
    pub allocated: &'a [usize],
    pub board: Board<'a>,
    pub outcomes: Vec<Outcome>,
    pub rendered: Rendered,
    pub warnings: Vec<String>,
}

pub(super) fn plan(parts: Parts<'_>) -> Plan {
    let Parts {
        set,
        tokenizer,
        model,
        price_per_million,
        total,
        reserved,
        prep,
        rules,
        allocated,
        board,
        outcomes,
        rendered,
        mut warnings,
    } = parts;

    let mut sections = Vec::with_capacity(set.sections.len());
    let mut per_section = vec![(0usize, 0usize, 0usize, 0usize); set.sections.len()];
    // (item tokens, rendered items, included, excluded)
    for (i, o) in outcomes.iter().enumerate() {
        let s = prep.section_of[i] as usize;
        let e = &mut per_section[s];
        if o.included() {
            e.0 = e.0.saturating_add(o.final_tokens);
            if prep.renders[i] {
                e.1 += 1;
            }
            e.2 += 1;
        } else {
            e.3 += 1;
        }
    }
    for (s, section) in set.sections.iter().enumerate() {
        let (item_tokens, rendered_items, included, excluded) = per_section[s];
        let rule = &rules[s];
        let frame = if rendered_items > 0 {
            rule.frame
                .saturating_add(rendered_items.saturating_mul(rule.separator))
        } else {
            0
        };
        let used = item_tokens.saturating_add(frame);
        let final_budget = board.budgets[s];
        let sel = &board.selections[s];
        let pinned_overrun = sel.pinned_need > final_budget;
        if pinned_overrun {
            warnings.push(format!(
                "section `{}`: pinned items alone need {} tokens but its budget is {final_budget}; over by {}",
                section.name,
                sel.pinned_need,
                sel.pinned_need - final_budget
            ));
        }
        let headroom = final_budget.saturating_sub(used);
        let needed_for_next = next_needed(prep, s, &outcomes, rule, rendered_items > 0, headroom);
        sections.push(SectionPlan {
            name: section.name.clone(),
            allocated: allocated[s],
            final_budget,
            used,
            frame,
            headroom,
            utilization: ratio(used, final_budget),
            included,
            excluded,
            needed_for_next,
            from_reserve: board.from_reserve[s],
            pinned_overrun,
            optimality_gap: sel
                .optimality
                .filter(|o| o.stopped)
                .map(|o| gap(o.value, o.bound)),
        });
    }

    let used = sections
        .iter()
        .fold(0usize, |a, s| a.saturating_add(s.used));
    let kept_priority: f64 = outcomes
        .iter()
        .zip(&set.items)
        .filter(|(o, _)| o.included())
        .map(|(_, item)| item.priority)
        .sum();
    let included = outcomes.iter().filter(|o| o.included()).count();
    let totals = Totals {
        used,
        rendered: rendered.tokens,
        context: rendered.context,
        included,
        excluded: outcomes.len() - included,
        utilization: ratio(used, total),
        efficiency: if used == 0 {
            0.0
        } else {
            kept_priority * 1000.0 / used as f64
        },
        estimate_chars4: Tokenizer::estimate(Estimate::Chars4).count(&rendered.text),
        cost_usd: price_per_million.map(|p| p * rendered.context as f64 / 1e6),
        optimality_gap: plan_gap(board.selections.iter().filter_map(|s| s.optimality)),
    };

    let items = outcomes
        .into_iter()
        .zip(&set.items)
        .enumerate()
        .map(|(i, (o, item))| ItemPlan {
            id: item.id.clone(),
            section: item.section.clone(),
            tokens: prep.tokens[i],
            final_tokens: o.final_tokens,
            priority: item.priority,
            pinned: prep.pinned[i],
            status: o.status,
            reason: o.reason,
            degrade_level: o.level,
            given: matches!(item.content, super::Content::Given(_)),
            duplicate_of: prep.duplicate_of[i].map(|d| set.items[d as usize].id.clone()),
            index: i,
            final_text: o.final_text,
        })
        .collect();

    let b = &set.budget;
    Plan {
        schema: REPORT_SCHEMA,
        model,
        encoding: tokenizer.name(),
        exact: tokenizer.is_exact(),
        error_band: tokenizer.error_band(),
        count_source: tokenizer.api().map(|a| a.source.clone()),
        budget: PlanBudget {
            total,
            reserve_output: b.reserve_output,
            context_window: b.context_window,
            reserved,
            strategy: b.strategy,
            overflow: b.overflow,
            reallocate: b.reallocate,
        },
        totals,
        sections,
        items,
        reallocations: board.transfers,
        warnings,
        rendered: rendered.text,
        chat_request: set.chat.is_some(),
    }
}

/// Extra tokens section `s` needs to fit its best excluded unit (one out for
/// `over_section_budget` or `below_cutoff`).
fn next_needed(
    prep: &Prepared,
    s: usize,
    outcomes: &[Outcome],
    rule: &Rule,
    framed: bool,
    headroom: usize,
) -> Option<usize> {
    let su = &prep.sections[s];
    let u = su.by_priority.iter().map(|&u| u as usize).find(|&u| {
        su.members(u).iter().any(|&m| {
            matches!(
                outcomes[m as usize].reason,
                Some(Reason::OverSectionBudget | Reason::BelowCutoff)
            )
        })
    })?;
    let unit = &su.units[u];
    let frame = if unit.renders && !framed {
        rule.frame
    } else {
        0
    };
    Some(unit.cost.saturating_add(frame).saturating_sub(headroom))
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// `(bound − value) / bound`, 0 for a bound of 0.
fn gap(value: u128, bound: u128) -> f64 {
    if bound == 0 {
        0.0
    } else {
        bound.saturating_sub(value) as f64 / bound as f64
    }
}

/// The gap of the `optimal` sections together; `None` when none was
/// stopped early.
fn plan_gap(sections: impl Iterator<Item = Optimality>) -> Option<f64> {
    let (mut value, mut bound, mut stopped) = (0u128, 0u128, false);
    for o in sections {
        value = value.saturating_add(o.value);
        bound = bound.saturating_add(o.bound);
        stopped |= o.stopped;
    }
    stopped.then(|| gap(value, bound))
}
