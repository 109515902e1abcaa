//! Selection, scrolling, sorting and filtering of the sections and items
//! panes, and the detail pane's token boundaries.

use crate::engine::{ChatPart, ItemPlan, ItemStatus};

use super::{App, DETAIL_LIMIT, DetailCache, Pane};

/// How the items pane is sorted. The members of a group (kept or dropped
/// together, such as a tool call and its results) stay together in input
/// order, and the group sorts as one unit: by its members' summed priority
/// (as the engine ranks it) or summed tokens, or where its first member is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SortKey {
    /// Highest priority first (pinned first, then input order).
    Priority,
    /// Most tokens first.
    Tokens,
    /// Input order.
    Order,
}

impl SortKey {
    /// The next sort order.
    pub(crate) fn next(self) -> SortKey {
        match self {
            SortKey::Priority => SortKey::Tokens,
            SortKey::Tokens => SortKey::Order,
            SortKey::Order => SortKey::Priority,
        }
    }

    /// Its name in the items pane title.
    pub(crate) fn name(self) -> &'static str {
        match self {
            SortKey::Priority => "priority",
            SortKey::Tokens => "tokens",
            SortKey::Order => "order",
        }
    }
}

/// Case-insensitive substring test without allocating for ASCII queries.
fn contains_ci(hay: &str, needle_lower: &str) -> bool {
    if needle_lower.is_empty() {
        return true;
    }
    if needle_lower.is_ascii() {
        let n = needle_lower.as_bytes();
        hay.as_bytes()
            .windows(n.len())
            .any(|w| w.eq_ignore_ascii_case(n))
    } else {
        hay.to_lowercase().contains(needle_lower)
    }
}

impl App {
    /// Rebuilds the items pane's list for the selected section, keeping the
    /// item with id `keep` selected when it is still listed.
    pub(crate) fn refresh_visible(&mut self, keep: Option<&str>) {
        let Some(plan) = &self.engine.plan else {
            self.items.visible.clear();
            self.detail.cache = None;
            return;
        };
        let Some(section) = plan.sections.get(self.sections.sel) else {
            self.items.visible.clear();
            self.detail.cache = None;
            return;
        };
        let query = self.items.filter.to_lowercase();
        let mut visible: Vec<usize> = Vec::new();
        for (i, item) in plan.items.iter().enumerate() {
            if item.section != section.name {
                continue;
            }
            if !query.is_empty() && !contains_ci(&item.id, &query) {
                let text = self
                    .base
                    .as_ref()
                    .and_then(|b| b.items.get(item.index))
                    .filter(|it| it.id == item.id)
                    .map_or("", |it| it.text());
                if !contains_ci(text, &query) {
                    continue;
                }
            }
            visible.push(i);
        }
        let items = &plan.items;
        let visible = self.sorted_units(visible);
        let sel = keep
            .and_then(|id| visible.iter().position(|&i| items[i].id == id))
            .unwrap_or_else(|| self.items.sel.min(visible.len().saturating_sub(1)));
        self.items.visible = visible;
        self.items.sel = sel;
        self.ensure_item_visible();
        self.refresh_detail();
    }

    /// The group of a plan item, from the loaded set.
    pub(crate) fn item_group(&self, plan_index: usize) -> Option<&str> {
        self.loaded_item_of(plan_index)?.group.as_deref()
    }

    /// `visible` (plan indices) in the sort order, each group's members
    /// together in input order, the group ranked as one unit.
    fn sorted_units(&self, visible: Vec<usize>) -> Vec<usize> {
        let Some(plan) = &self.engine.plan else {
            return visible;
        };
        let items = &plan.items;
        // Units in order of first appearance: a lone item, or a group.
        let mut units: Vec<Vec<usize>> = Vec::new();
        let mut unit_of_group: rustc_hash::FxHashMap<&str, usize> = Default::default();
        for i in visible {
            match self.item_group(i) {
                Some(g) => match unit_of_group.get(g) {
                    Some(&u) => units[u].push(i),
                    None => {
                        unit_of_group.insert(g, units.len());
                        units.push(vec![i]);
                    }
                },
                None => units.push(vec![i]),
            }
        }
        for unit in &mut units {
            unit.sort_by_key(|&i| items[i].index);
        }
        let first = |u: &[usize]| items[u[0]].index;
        let pinned = |u: &[usize]| u.iter().any(|&i| items[i].pinned);
        let priority = |u: &[usize]| u.iter().map(|&i| items[i].priority).sum::<f64>();
        let tokens = |u: &[usize]| u.iter().map(|&i| items[i].tokens).sum::<usize>();
        match self.items.sort {
            SortKey::Priority => units.sort_by(|a, b| {
                pinned(b)
                    .cmp(&pinned(a))
                    .then(priority(b).total_cmp(&priority(a)))
                    .then(first(a).cmp(&first(b)))
            }),
            SortKey::Tokens => {
                units.sort_by(|a, b| tokens(b).cmp(&tokens(a)).then(first(a).cmp(&first(b))))
            }
            SortKey::Order => units.sort_by_key(|u| first(u)),
        }
        units.into_iter().flatten().collect()
    }

    /// Moves the selection (or the detail scroll) by `delta` rows.
    pub(crate) fn move_by(&mut self, delta: isize) {
        match self.focus {
            Pane::Sections => {
                let n = self.engine.plan.as_ref().map_or(0, |p| p.sections.len());
                if n == 0 {
                    return;
                }
                let new = add_clamped(self.sections.sel, delta, n - 1);
                if new != self.sections.sel {
                    self.sections.sel = new;
                    self.items.sel = 0;
                    self.items.offset = 0;
                    self.detail.scroll = 0;
                    self.clamp_sections();
                    self.refresh_visible(None);
                }
            }
            Pane::Items => {
                if self.items.visible.is_empty() {
                    return;
                }
                let new = add_clamped(self.items.sel, delta, self.items.visible.len() - 1);
                if new != self.items.sel {
                    self.items.sel = new;
                    self.detail.scroll = 0;
                    self.ensure_item_visible();
                    self.refresh_detail();
                }
            }
            Pane::Detail => {
                let max = self.detail_max_scroll();
                self.detail.scroll = add_clamped(self.detail.scroll.min(max), delta, max);
            }
        }
    }

    /// Selects a section by row index (mouse).
    pub(crate) fn select_section(&mut self, index: usize) {
        self.focus = Pane::Sections;
        let delta = index as isize - self.sections.sel as isize;
        self.move_by(delta);
    }

    /// Selects an item by row index in the list (mouse).
    pub(crate) fn select_item(&mut self, index: usize) {
        self.focus = Pane::Items;
        let delta = index as isize - self.items.sel as isize;
        self.move_by(delta);
    }

    /// Keeps the selected section inside the sections pane.
    pub(crate) fn clamp_sections(&mut self) {
        let n = self.engine.plan.as_ref().map_or(0, |p| p.sections.len());
        self.sections.sel = self.sections.sel.min(n.saturating_sub(1));
        let rows = self.section_rows();
        self.sections.offset = scroll_to(self.sections.offset, self.sections.sel, rows, n);
    }

    /// Keeps the selected item inside the items pane.
    pub(crate) fn ensure_item_visible(&mut self) {
        let rows = self.item_rows();
        self.items.offset = scroll_to(
            self.items.offset,
            self.items.sel,
            rows,
            self.items.visible.len(),
        );
    }

    /// Data rows the sections pane shows.
    pub(crate) fn section_rows(&self) -> usize {
        let l = crate::tui::view::layout::compute(self.size, self.section_rows_wanted());
        (l.sections.height as usize).saturating_sub(3).max(1)
    }

    /// Data rows the items pane shows.
    pub(crate) fn item_rows(&self) -> usize {
        let l = crate::tui::view::layout::compute(self.size, self.section_rows_wanted());
        (l.items.height as usize).saturating_sub(3).max(1)
    }

    /// Recomputes the selected item's token boundaries when the selection,
    /// the plan or the tokenizer changed.
    pub(crate) fn refresh_detail(&mut self) {
        let Some(&index) = self.items.visible.get(self.items.sel) else {
            self.detail.cache = None;
            return;
        };
        let tokenizer = self
            .engine
            .tokenizer
            .clone()
            .unwrap_or(self.counting.tokenizer.clone());
        let id = tokenizer.id();
        if self.detail.cache.as_ref().is_some_and(|d| {
            d.item == index && d.tokenizer == id && d.generation == self.engine.generation
        }) {
            return;
        }
        let text = self.item_text(index);
        let original = tokenizer.token_boundaries(prefix(text, DETAIL_LIMIT));
        let final_form = self
            .engine
            .plan
            .as_ref()
            .and_then(|p| p.items.get(index))
            .and_then(|i: &ItemPlan| i.final_text.as_deref())
            .map(|t| tokenizer.token_boundaries(prefix(t, DETAIL_LIMIT)))
            .unwrap_or_default();
        // A chat message's count has its framing and tool calls besides
        // the text: the text alone (cached by the engine run) tells them
        // apart.
        let content_tokens = matches!(self.chat_part(index), Some(ChatPart::Message(_)))
            .then(|| crate::tokens::CountCache::global().count(&tokenizer, text));
        self.detail.cache = Some(DetailCache {
            item: index,
            tokenizer: id,
            generation: self.engine.generation,
            original,
            final_form,
            content_tokens,
        });
    }

    /// How far the detail pane scrolls: until the last page of the selected
    /// item's text (the longer of the original and the included form, up to
    /// 100,000 lines) fills the pane.
    pub(crate) fn detail_max_scroll(&self) -> usize {
        let Some(&index) = self.items.visible.get(self.items.sel) else {
            return 0;
        };
        let l = crate::tui::view::layout::compute(self.size, self.section_rows_wanted());
        let inner = l.detail.width.saturating_sub(2) as usize;
        // Below the borders: the lines about the item, and a column header
        // when the included form is shown beside the original.
        let two_columns = self
            .engine
            .plan
            .as_ref()
            .and_then(|p| p.items.get(index))
            .is_some_and(|i| i.final_text.is_some())
            && inner >= 20;
        let info = crate::tui::view::detail_info_rows(self, inner);
        let rows = (l.detail.height as usize).saturating_sub(2 + info + usize::from(two_columns));
        self.detail_lines(index, inner).saturating_sub(rows.max(1))
    }

    fn detail_lines(&self, index: usize, inner: usize) -> usize {
        let final_text = self
            .engine
            .plan
            .as_ref()
            .and_then(|p| p.items.get(index))
            .and_then(|i| i.final_text.as_deref());
        let cols = if final_text.is_some() && inner >= 20 {
            (inner - 1) / 2
        } else {
            inner
        };
        let count = |t: &str| crate::tui::text::layout(t, cols.max(1), 100_000).len();
        count(self.item_text(index)).max(final_text.map_or(0, count))
    }

    /// Tokens the selected section would need to fit an excluded item; for
    /// a member of a group, to fit the group's members in the section (they
    /// are kept together).
    pub fn needs_to_fit(&self, item: &ItemPlan) -> Option<usize> {
        if item.status != ItemStatus::Excluded
            || item.reason != Some(crate::engine::Reason::OverSectionBudget)
        {
            return None;
        }
        let plan = self.engine.plan.as_ref()?;
        let section = plan.sections.iter().find(|s| s.name == item.section)?;
        let me = plan
            .items
            .iter()
            .position(|i| std::ptr::eq(i, item))
            .or_else(|| plan.items.iter().position(|i| i.id == item.id));
        let tokens = match me.and_then(|i| self.item_group(i)) {
            Some(group) => (0..plan.items.len())
                .filter(|&i| {
                    plan.items[i].section == item.section && self.item_group(i) == Some(group)
                })
                .map(|i| plan.items[i].tokens)
                .sum(),
            None => item.tokens,
        };
        Some(tokens.saturating_sub(section.headroom).max(1))
    }
}

/// The first `limit` bytes of `text`, cut at the last newline (or character
/// boundary) before the limit so that token boundaries near the cut match
/// the whole text's.
pub(crate) fn prefix(text: &str, limit: usize) -> &str {
    if text.len() <= limit {
        return text;
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    match text[..end].rfind('\n') {
        Some(nl) if nl > limit / 2 => &text[..=nl],
        _ => &text[..end],
    }
}

fn add_clamped(cur: usize, delta: isize, max: usize) -> usize {
    if delta < 0 {
        cur.saturating_sub(delta.unsigned_abs())
    } else {
        cur.saturating_add(delta as usize).min(max)
    }
}

/// The scroll offset that keeps `sel` within `rows` rows of a list of `len`
/// rows, moving as little as possible from `offset`, and never leaving
/// blank rows at the end while rows above are hidden (after the pane grew,
/// the rows scrolled away come back).
pub(crate) fn scroll_to(offset: usize, sel: usize, rows: usize, len: usize) -> usize {
    let rows = rows.max(1);
    let offset = offset.min(len.saturating_sub(rows));
    if sel < offset {
        sel
    } else if sel >= offset + rows {
        sel + 1 - rows
    } else {
        offset
    }
}
