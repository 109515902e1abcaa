//! Step 5, overflow: what happens to each section's best item that did not
//! fit (docs/engine.md §5), once reallocation has settled.
//!
//! The item is the section's best excluded unit (priority, then input order)
//! that was out for `over_section_budget` or `below_cutoff` and is a single
//! item with text in no group (groups are never cut: they are kept or
//! dropped whole). For `strict` it is the unit at the cutoff or none, so
//! that no item after the cutoff comes in. Overflow runs after reallocation
//! has filled what it can, on what is left: sections' candidates are served
//! best first (priority, or priority per token under `density` and
//! `optimal`), each getting every token still free (its section's headroom,
//! and with reallocation on the other sections' headroom and the reserve,
//! within its cap), less its separator, its overhead and the section's frame
//! when nothing else renders there. So cutting or degrading only ever adds
//! to what `drop` keeps.
//!
//! `truncate` keeps at least [`truncate_floor`] tokens of the text; with
//! less space the item stays out.
//!
//! One function per mode, behind one match:
//! - `drop`: nothing (it stays excluded);
//! - `priority-cut`: nothing here (selection already cut the items under the
//!   threshold; the rest were dropped);
//! - `truncate`: [`truncate_item`];
//! - `degrade`: [`degrade_item`];
//! - `summarize`: [`summarize_item`].

use crate::tokens::{CountCache, Tokenizer};

use super::degrade;
use super::flow::{Board, overflow_candidate};
use super::prepare::Prepared;
use super::select::Rule;
use super::truncate::truncate;
use super::{Item, ItemSet, ItemStatus, Overflow, Strategy, Summarizer};

/// An item included in a changed form.
#[derive(Debug, Clone)]
pub(super) struct Change {
    /// The item's index.
    pub item: usize,
    /// `Truncated` or `Degraded`.
    pub status: ItemStatus,
    /// The text as included.
    pub text: String,
    /// Its count (without overhead).
    pub text_tokens: usize,
    /// The degrade level, when degraded.
    pub level: Option<u8>,
}

/// A changed form of one text: the text, its count, the degrade level.
type Form = (String, usize, Option<u8>);

pub(super) fn apply(
    set: &ItemSet,
    tokenizer: &Tokenizer,
    cache: &CountCache,
    summarizer: Option<&dyn Summarizer>,
    rules: &[Rule],
    board: &mut Board<'_>,
    warnings: &mut Vec<String>,
) -> Vec<Change> {
    let pooled = set.budget.reallocate;
    let by_density = matches!(set.budget.strategy, Strategy::Density | Strategy::Optimal);
    // Each section's candidate, best first across sections (the fill's
    // order), so the tokens left go to the best item first.
    let mut candidates: Vec<(usize, usize, f64)> = rules
        .iter()
        .enumerate()
        .filter(|(_, rule)| !matches!(rule.overflow, Overflow::Drop | Overflow::PriorityCut))
        .filter_map(|(s, rule)| {
            let u = overflow_candidate(board.prepared(), s, &board.selections[s], rule.strategy)?;
            let unit = &board.prepared().sections[s].units[u];
            let key = if by_density && unit.cost > 0 {
                unit.priority / unit.cost as f64
            } else {
                unit.priority
            };
            Some((s, u, key))
        })
        .collect();
    candidates.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)));
    let mut changes = Vec::new();
    let mut free = board.free_tokens();
    for (s, u, _) in candidates {
        let rule = &rules[s];
        let sel = &board.selections[s];
        let (index, others) = cut_member(board.prepared(), s, u, rule.separator);
        let item = &set.items[index];
        let frame = if sel.framed { 0 } else { rule.frame };
        let head = board.spare_for(s, pooled, free);
        let space = head.saturating_sub(
            item.overhead
                .saturating_add(rule.separator)
                .saturating_add(frame)
                .saturating_add(others),
        );
        if space == 0 {
            continue;
        }
        let form = match rule.overflow {
            Overflow::Drop | Overflow::PriorityCut => None,
            Overflow::Truncate => truncate_item(set, tokenizer, cache, item, space),
            Overflow::Degrade => degrade_item(tokenizer, cache, item, space),
            Overflow::Summarize => {
                summarize_item(summarizer, tokenizer, cache, item, space, warnings)
            }
        };
        let Some((text, text_tokens, level)) = form else {
            continue;
        };
        let cost = text_tokens
            .saturating_add(item.overhead)
            .saturating_add(rule.separator)
            .saturating_add(frame)
            .saturating_add(others);
        let sel = &mut board.selections[s];
        sel.taken[u] = true;
        sel.reason[u] = None;
        sel.framed = true;
        free = free.saturating_sub(board.charge(s, cost));
        changes.push(Change {
            item: index,
            status: if level.is_some() {
                ItemStatus::Degraded
            } else {
                ItemStatus::Truncated
            },
            text,
            text_tokens,
            level,
        });
    }
    changes
}

/// The member of unit `u` (section `s`) that overflow changes, and what the
/// unit's other members cost in full. A single item is its own member; in a
/// group (a tool call and its result) the member with the most text is cut
/// and the others are kept whole, so that the group stays together.
fn cut_member(prep: &Prepared, s: usize, u: usize, separator: usize) -> (usize, usize) {
    let members = prep.sections[s].members(u);
    let index = members
        .iter()
        .map(|&m| m as usize)
        .filter(|&m| prep.renders[m])
        .max_by_key(|&m| (prep.tokens[m], std::cmp::Reverse(m)))
        .unwrap_or(members[0] as usize);
    let unit = &prep.sections[s].units[u];
    // The unit's cost is its members' tokens plus a separator for each that
    // renders; the cut member's share comes off.
    let sep = if prep.renders[index] { separator } else { 0 };
    (
        index,
        unit.cost
            .saturating_sub(prep.tokens[index].saturating_add(sep)),
    )
}

/// The smallest share of an item a truncated form keeps (see
/// [`truncate_floor`]).
pub const TRUNCATE_MIN_SHARE: f64 = 0.10;

/// The fewest tokens a truncated form keeps (see [`truncate_floor`]).
pub const TRUNCATE_MIN_TOKENS: usize = 32;

/// The fewest tokens of its text a truncated item keeps: a tenth of the
/// item ([`TRUNCATE_MIN_SHARE`]) and never under [`TRUNCATE_MIN_TOKENS`], so
/// a 445-token page is never cut to a 9-token stub. When less space is
/// left the item stays excluded and the space goes to the next item.
pub fn truncate_floor(tokens: usize) -> usize {
    let share = (tokens as f64 * TRUNCATE_MIN_SHARE).ceil() as usize;
    share.max(TRUNCATE_MIN_TOKENS)
}

/// `truncate`: the longest cut (per `budget.truncate`, marker included) that
/// fits `space` tokens.
fn truncate_item(
    set: &ItemSet,
    tokenizer: &Tokenizer,
    cache: &CountCache,
    item: &Item,
    space: usize,
) -> Option<Form> {
    let b = &set.budget;
    let floor = truncate_floor(cache.count(tokenizer, item.text()));
    if space < floor {
        return None;
    }
    // The longest cut that fits can still fall short of the floor: a cut's
    // count can move by more than one token at a boundary.
    truncate(tokenizer, cache, item.text(), b.truncate, &b.marker, space)
        .filter(|&(_, n)| n >= floor)
        .map(|(t, n)| (t, n, None))
}

/// `degrade`: the mildest shorter form that fits `space` tokens.
fn degrade_item(
    tokenizer: &Tokenizer,
    cache: &CountCache,
    item: &Item,
    space: usize,
) -> Option<Form> {
    let count = |t: &str| cache.count(tokenizer, t);
    let kind = degrade::detect_kind(item);
    degrade::forms(item.text(), kind, &count)
        .into_iter()
        .find_map(|(level, form)| {
            let n = count(&form);
            (n <= space && !form.is_empty()).then_some((form, n, Some(level)))
        })
}

/// The degrade level reported for an item replaced by its summary.
pub const SUMMARY_LEVEL: u8 = super::DegradeLevel::Summary.number();

/// `summarize`: ask the run's [`Summarizer`] for a version of the item in
/// at most `space` tokens, count it and use it when it fits (reported as
/// degrade level [`SUMMARY_LEVEL`]). Without a summarizer, when it fails,
/// or when its summary does not fit, fall back to [`degrade_item`] and say
/// so in a warning.
fn summarize_item(
    summarizer: Option<&dyn Summarizer>,
    tokenizer: &Tokenizer,
    cache: &CountCache,
    item: &Item,
    space: usize,
    warnings: &mut Vec<String>,
) -> Option<Form> {
    let Some(summarizer) = summarizer else {
        warnings.push(format!(
            "item `{}` (section `{}`): overflow is summarize but no summarizer command is set (pass one with --summarizer); degraded instead",
            item.id, item.section
        ));
        return degrade_item(tokenizer, cache, item, space);
    };
    match summarizer.summarize(item.text(), space) {
        Ok(summary) => {
            let n = cache.count(tokenizer, &summary);
            if n <= space && !summary.is_empty() {
                return Some((summary, n, Some(SUMMARY_LEVEL)));
            }
            warnings.push(format!(
                "item `{}` (section `{}`): the summary has {n} tokens, more than the {space} left; degraded instead",
                item.id, item.section
            ));
        }
        Err(e) => warnings.push(format!(
            "item `{}` (section `{}`): summarizer failed: {e}; degraded instead",
            item.id, item.section
        )),
    }
    degrade_item(tokenizer, cache, item, space)
}
