//! Step 1, count: every item once through the count cache (in parallel), and
//! the separators and titles that the rendered context will contain.
//!
//! What the engine charges for rendering, so that section usage is honest:
//! - every item that renders text costs its tokens plus its section's
//!   separator (the one before it, or for the first item the join after
//!   the title: the separator when it is blank, else a blank line, see
//!   [`title_joiner`]; the frame pays what that join costs beyond it);
//! - a section that renders anything also pays a *frame*: its title plus the
//!   blank line that joins it to the section before, or, without a title,
//!   whatever that blank line costs beyond one separator.
//!
//! This never undercounts the joins of the rendered text (it overcounts one
//! join for the first section rendered); the render step counts the real
//! text and enforces the total in any case.

use crate::tokens::{CountCache, Tokenizer};

use super::{Content, ItemSet};

/// What joins two rendered sections.
pub(super) const SECTION_JOINER: &str = "\n\n";

/// Token counts for one run.
pub(super) struct Counts {
    /// Per item: its text's count (or its given count) plus its overhead.
    pub tokens: Vec<usize>,
    /// Per item: whether it renders text (non-empty `Content::Text`).
    pub renders: Vec<bool>,
    /// Per section: its separator's count.
    pub separator: Vec<usize>,
    /// Per section: its frame (see the module docs).
    pub frame: Vec<usize>,
}

pub(super) fn count(set: &ItemSet, tokenizer: &Tokenizer, cache: &CountCache) -> Counts {
    let texts: Vec<&str> = set
        .items
        .iter()
        .filter_map(|item| match &item.content {
            Content::Text(t) => Some(t.as_str()),
            Content::Given(_) => None,
        })
        .collect();
    let counted = cache.count_many(tokenizer, &texts);
    let mut counted = counted.into_iter();
    let mut tokens = Vec::with_capacity(set.items.len());
    let mut renders = Vec::with_capacity(set.items.len());
    for item in &set.items {
        let (n, r) = match &item.content {
            Content::Text(t) => (counted.next().unwrap_or(0), !t.is_empty()),
            Content::Given(n) => (*n, false),
        };
        tokens.push(n.saturating_add(item.overhead));
        renders.push(r);
    }
    // A chat request's messages are tokenized one by one: nothing joins them.
    let joined = set.chat.is_none();
    let joiner = if joined {
        cache.count(tokenizer, SECTION_JOINER)
    } else {
        0
    };
    let mut separator = Vec::with_capacity(set.sections.len());
    let mut frame = Vec::with_capacity(set.sections.len());
    for s in &set.sections {
        let sep = if joined {
            cache.count(tokenizer, s.separator())
        } else {
            0
        };
        separator.push(sep);
        frame.push(match title(s).filter(|_| joined) {
            // The first item pays `sep`; what joins it to the title may
            // cost more (never for a blank separator: it is the same).
            Some(t) => cache
                .count(tokenizer, t)
                .saturating_add(joiner)
                .saturating_add(
                    cache
                        .count(tokenizer, title_joiner(s.separator()))
                        .saturating_sub(sep),
                ),
            None => joiner.saturating_sub(sep),
        });
    }
    Counts {
        tokens,
        renders,
        separator,
        frame,
    }
}

/// What joins a section's title to its first item: the separator when it is
/// blank (whitespace only), else a blank line, so that a separator such as
/// `\n\n---\n\n` stands only between items, never before the first one.
pub(super) fn title_joiner(separator: &str) -> &str {
    if separator.trim().is_empty() {
        separator
    } else {
        SECTION_JOINER
    }
}

/// A section's title as rendered: `None` when absent or empty.
pub(super) fn title(section: &super::Section) -> Option<&str> {
    section.title.as_deref().filter(|t| !t.is_empty())
}
