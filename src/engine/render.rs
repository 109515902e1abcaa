//! Step 6, render: the packed context as text, counted exactly, within the
//! total (docs/engine.md §6).
//!
//! Layout: sections in declared order, each that renders anything as its
//! title (when it has one) and its items' texts (as included: cut or
//! degraded forms replace the text) in input order, all joined by the
//! section's separator; sections joined by a blank line. Items with a given
//! count, and empty texts, render nothing.
//!
//! A set loaded from a chat request renders as the trimmed request (JSON),
//! and its count is what the API bills for it: see [`super::chat`].
//!
//! The invariant: the context's exact count — the rendered text's count plus
//! what included items cost without being rendered text (given counts,
//! per-item overhead) — is at most the total, and so the rendered count is
//! too. When it is over, truncated or degraded items are removed first, then
//! the lowest-priority non-pinned included items (ties:
//! the later item first; a group goes whole) are removed (`render_trim`)
//! until the removed tokens cover the excess, and the text is rendered and
//! counted again. Only when nothing but pinned items is left are pinned
//! items removed, each with a warning.
//!
//! Counting: for `cl100k_base` and `o200k_base` the rendered text is counted
//! in chunks, split where an item or title starts on a new line with an
//! ASCII character other than a space or `/`. Those encodings' pre-tokenizer
//! never joins a line break with a following non-space character (other than
//! `/` in `o200k_base`), and its pieces never look past such a point, so the
//! chunks' counts add up to the whole text's count exactly (see the
//! `chunked_counts_add_up` test). Chunks are mostly the same from one run to
//! the next, so the count cache answers them; other tokenizers count the
//! whole text (through the cache too).

use crate::tokens::{CountCache, Encoding, Tokenizer};

use super::assemble::Outcome;
use super::chat::Framed;
use super::count::{SECTION_JOINER, title};
use super::prepare::Prepared;
use super::select::Rule;
use super::{ItemSet, ItemStatus, PackContext, Reason, Strategy};

/// The rendered context.
pub(super) struct Rendered {
    /// The text.
    pub text: String,
    /// Its exact count.
    pub tokens: usize,
    /// `tokens` plus included items' tokens that are not rendered text.
    pub context: usize,
}

#[allow(clippy::too_many_arguments)]
pub(super) fn fit(
    set: &ItemSet,
    chat: Option<&Framed>,
    ctx: &PackContext<'_>,
    prep: &Prepared,
    rules: &[Rule],
    outcomes: &mut [Outcome],
    budgets: &[usize],
    total: usize,
    warnings: &mut Vec<String>,
) -> Rendered {
    let mut trimmed = false;
    let mut topped_up = false;
    let mut by_section: Vec<Vec<usize>> = vec![Vec::new(); set.sections.len()];
    for (i, &s) in prep.section_of.iter().enumerate() {
        by_section[s as usize].push(i);
    }
    loop {
        let (text, tokens, context) = match chat {
            // The request's text is written once the count fits.
            Some(_) => {
                let billed = billed(outcomes);
                (String::new(), billed, billed)
            }
            None => {
                let (text, starts) = render(set, prep, &by_section, outcomes);
                let tokens = count_rendered(ctx.tokenizer, ctx.cache, &text, &starts);
                let unrendered = outcomes
                    .iter()
                    .enumerate()
                    .filter(|(_, o)| o.included())
                    .fold(0usize, |sum, (i, o)| {
                        let extra = if prep.renders[i] {
                            set.items[i].overhead
                        } else {
                            o.final_tokens
                        };
                        sum.saturating_add(extra)
                    });
                (text, tokens, tokens.saturating_add(unrendered))
            }
        };
        if context <= total {
            // A trim frees a whole item, usually more than the excess: offer
            // what it left to items that fit it (once; a trim after that
            // removes them first, being the lowest in priority or not).
            if trimmed && !topped_up && chat.is_none() {
                topped_up = true;
                if top_up(set, prep, rules, outcomes, budgets, total - context) {
                    continue;
                }
            }
            return Rendered {
                text: chat.map_or(text, |c| request_text(c, outcomes)),
                tokens,
                context,
            };
        }
        trimmed = true;
        let excess = context - total;
        // A chat request's reply priming is billed with any request: it
        // never goes.
        let fixed = |i: usize| chat.is_some_and(|c| c.is_fixed(i));
        let included: Vec<usize> = (0..outcomes.len())
            .filter(|&i| outcomes[i].included() && !fixed(i))
            .collect();
        let mut candidates: Vec<usize> = included
            .iter()
            .copied()
            .filter(|&i| !prep.pinned[i])
            .collect();
        let pinned_phase = candidates.is_empty();
        if pinned_phase {
            candidates = included;
        }
        if candidates.is_empty() {
            // Nothing is included (or only what a chat request always
            // bills): never loop.
            return Rendered {
                text: chat.map_or(text, |c| request_text(c, outcomes)),
                tokens,
                context,
            };
        }
        // Cut or degraded forms go first: they fill what was left, so
        // removing them gives back the plan `drop` would make.
        candidates.sort_by(|&a, &b| {
            let changed = |i: usize| outcomes[i].final_text.is_none();
            changed(a)
                .cmp(&changed(b))
                .then(set.items[a].priority.total_cmp(&set.items[b].priority))
                .then(b.cmp(&a))
        });
        let mut freed = 0usize;
        for i in candidates {
            if !outcomes[i].included() {
                continue;
            }
            for j in unit_of_item(prep, i) {
                let o = &mut outcomes[j];
                if !o.included() {
                    continue;
                }
                let sep = if prep.renders[j] {
                    rules[prep.section_of[j] as usize].separator
                } else {
                    0
                };
                freed = freed.saturating_add(o.final_tokens.saturating_add(sep));
                o.exclude(Reason::RenderTrim);
                if pinned_phase {
                    warnings.push(format!(
                        "pinned item `{}` removed: pinned items alone make the context {context} tokens, over the total of {total}",
                        set.items[j].id
                    ));
                }
            }
            if freed >= excess {
                break;
            }
        }
    }
}

/// After a render trim left `slack` tokens: includes excluded items that
/// were out for `over_section_budget` (single items, not pinned, in no
/// group, not in a `strict` section; text items only into a section that
/// already renders text, items that render nothing anywhere), best priority
/// first, whose cost (tokens, and the separator for text) fits in both the
/// slack and their section's headroom under its final budget. Returns
/// whether any came in.
fn top_up(
    set: &ItemSet,
    prep: &Prepared,
    rules: &[Rule],
    outcomes: &mut [Outcome],
    budgets: &[usize],
    mut slack: usize,
) -> bool {
    let mut used = vec![0usize; budgets.len()];
    let mut renders = vec![false; budgets.len()];
    for (i, o) in outcomes.iter().enumerate().filter(|(_, o)| o.included()) {
        let s = prep.section_of[i] as usize;
        let sep = if prep.renders[i] {
            renders[s] = true;
            rules[s].separator
        } else {
            0
        };
        used[s] = used[s].saturating_add(o.final_tokens).saturating_add(sep);
    }
    for (s, r) in renders.iter().enumerate() {
        if *r {
            used[s] = used[s].saturating_add(rules[s].frame);
        }
    }
    let mut open: Vec<usize> = (0..outcomes.len())
        .filter(|&i| {
            outcomes[i].reason == Some(Reason::OverSectionBudget)
                && !prep.pinned[i]
                // A text item joins text already there (no new title or
                // frame); an item of given count renders nothing.
                && (!prep.renders[i] || renders[prep.section_of[i] as usize])
                // `strict` stops at its first miss: nothing after it comes in.
                && rules[prep.section_of[i] as usize].strategy != Strategy::Strict
                && unit_of_item(prep, i) == [i]
        })
        .collect();
    open.sort_by(|&a, &b| {
        set.items[b]
            .priority
            .total_cmp(&set.items[a].priority)
            .then(a.cmp(&b))
    });
    let mut added = false;
    for i in open {
        let s = prep.section_of[i] as usize;
        let sep = if prep.renders[i] {
            rules[s].separator
        } else {
            0
        };
        let cost = prep.tokens[i].saturating_add(sep);
        if cost <= slack && used[s].saturating_add(cost) <= budgets[s] {
            slack -= cost;
            used[s] += cost;
            let o = &mut outcomes[i];
            o.status = ItemStatus::Included;
            o.reason = None;
            o.final_tokens = prep.tokens[i];
            added = true;
        }
    }
    added
}

/// A chat request's count: what the API bills, the sum of the included
/// items' counts (each message is tokenized on its own, see
/// [`super::chat`]).
fn billed(outcomes: &[Outcome]) -> usize {
    outcomes
        .iter()
        .filter(|o| o.included())
        .fold(0usize, |sum, o| sum.saturating_add(o.final_tokens))
}

/// A chat request's rendered context: the trimmed request as JSON.
fn request_text(chat: &Framed, outcomes: &[Outcome]) -> String {
    let included: Vec<bool> = outcomes.iter().map(Outcome::included).collect();
    let texts: Vec<Option<&str>> = outcomes.iter().map(|o| o.final_text.as_deref()).collect();
    chat.request_json(&included, &texts)
}

/// The items kept or dropped together with item `i`: its group, or itself.
fn unit_of_item(prep: &Prepared, i: usize) -> Vec<usize> {
    let Some((s, u)) = prep.unit_of[i] else {
        return vec![i];
    };
    let su = &prep.sections[s as usize];
    match su.units[u as usize].group {
        Some(g) => prep.groups[g as usize]
            .units
            .iter()
            .flat_map(|&(s, u)| prep.sections[s as usize].members(u as usize))
            .map(|&m| m as usize)
            .collect(),
        None => su.members(u as usize).iter().map(|&m| m as usize).collect(),
    }
}

/// The rendered text, and the offsets where titles and items start.
fn render(
    set: &ItemSet,
    prep: &Prepared,
    by_section: &[Vec<usize>],
    outcomes: &[Outcome],
) -> (String, Vec<usize>) {
    let mut out = String::new();
    let mut starts = Vec::new();
    for (s, section) in set.sections.iter().enumerate() {
        let separator = section.separator();
        let mut first = true;
        for &i in &by_section[s] {
            let o = &outcomes[i];
            if !o.included() || !prep.renders[i] {
                continue;
            }
            let text = o.final_text.as_deref().unwrap_or(set.items[i].text());
            if text.is_empty() {
                continue;
            }
            if first {
                if !out.is_empty() {
                    out.push_str(SECTION_JOINER);
                }
                if let Some(t) = title(section) {
                    starts.push(out.len());
                    out.push_str(t);
                    out.push_str(super::count::title_joiner(separator));
                }
                first = false;
            } else {
                out.push_str(separator);
            }
            starts.push(out.len());
            out.push_str(text);
        }
    }
    (out, starts)
}

/// Whether counts of `tokenizer` add up across a line break followed by an
/// ASCII character other than a space or `/` (see the module docs).
fn splits_at_line_starts(tokenizer: &Tokenizer) -> bool {
    matches!(
        tokenizer,
        Tokenizer::Exact(Encoding::Cl100kBase | Encoding::O200kBase)
    )
}

/// Counts rendered text exactly, in cacheable chunks where that is exact.
pub(super) fn count_rendered(
    tokenizer: &Tokenizer,
    cache: &CountCache,
    text: &str,
    starts: &[usize],
) -> usize {
    if text.is_empty() {
        return 0;
    }
    if !splits_at_line_starts(tokenizer) {
        return cache.count(tokenizer, text);
    }
    let bytes = text.as_bytes();
    let mut chunks: Vec<&str> = Vec::with_capacity(starts.len() + 1);
    let mut from = 0;
    for &p in starts {
        if p > from
            && p < bytes.len()
            && bytes[p - 1] == b'\n'
            && bytes[p].is_ascii_graphic()
            && bytes[p] != b'/'
        {
            chunks.push(&text[from..p]);
            from = p;
        }
    }
    chunks.push(&text[from..]);
    cache.count_many(tokenizer, &chunks).into_iter().sum()
}

impl Outcome {
    /// Whether the item is in the context.
    pub(super) fn included(&self) -> bool {
        self.status != ItemStatus::Excluded
    }

    /// Marks the item excluded.
    pub(super) fn exclude(&mut self, reason: Reason) {
        self.status = ItemStatus::Excluded;
        self.reason = Some(reason);
        self.final_tokens = 0;
        self.final_text = None;
        self.level = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The chunked count equals the whole count for texts joined the way the
    /// renderer joins them, across awkward boundaries.
    #[test]
    fn chunked_counts_add_up() {
        let pieces = [
            "Hello world.",
            "# Heading\nbody text",
            "trailing spaces   ",
            "ends with newline\n",
            "  leading spaces",
            "/path/like/text",
            "'s contraction start",
            "123456 numbers",
            "ünïcödé and 漢字",
            ".\n\n\n",
            "```rust\nfn main() {}\n```",
            "\ttabbed",
            "x",
            "-- dashes --",
            "https://example.com/a/b",
            "\r\nwindows\r\n",
        ];
        let separators = ["\n\n", "\n", " | ", "", "\n---\n", "\r\n"];
        let cache = CountCache::new();
        for enc in [Encoding::Cl100kBase, Encoding::O200kBase] {
            let tok = Tokenizer::Exact(enc);
            assert!(splits_at_line_starts(&tok));
            for (n, sep) in separators.iter().enumerate() {
                for rot in 0..pieces.len() {
                    let mut text = String::new();
                    let mut starts = Vec::new();
                    for k in 0..pieces.len() {
                        let piece = pieces[(k * (n + 1) + rot) % pieces.len()];
                        if k > 0 {
                            text.push_str(sep);
                        }
                        starts.push(text.len());
                        text.push_str(piece);
                    }
                    let whole = tok.count(&text);
                    assert_eq!(
                        count_rendered(&tok, &cache, &text, &starts),
                        whole,
                        "{enc}: {text:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn legacy_encodings_count_whole() {
        // r50k's pre-tokenizer splits "\n\n" before a letter differently at
        // the end of a chunk, so it is never chunked.
        let tok = Tokenizer::Exact(Encoding::R50kBase);
        assert!(!splits_at_line_starts(&tok));
        let text = "a\n\nb\n\nc";
        let cache = CountCache::new();
        assert_eq!(
            count_rendered(&tok, &cache, text, &[0, 3, 6]),
            tok.count(text)
        );
    }
}
