//! The items pane: the selected section's items with a status mark, tokens,
//! priority and reason; sorted and filtered. The members of a group (kept
//! or dropped together, such as a tool call and its results) are listed
//! together and joined by a bracket before their ids.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{focused, pane, short_reason, status_mark, status_style, title};
use crate::engine::ItemStatus;
use crate::text::{escape, pad_left, pad_right};
use crate::tui::app::{App, Pane, format_priority};

pub(super) fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let t = app.theme();
    let is_focused = focused(app, Pane::Items);
    let section = app.selected_section();
    let mut head = vec![title(
        match section {
            Some(s) => format!(" items · {} ", escape::line(&s.name)),
            None => " items ".to_string(),
        },
        t,
    )];
    // The section's own strategy and overflow (which `s` and `o` leave).
    if let Some(rules) = section
        .map(|s| super::sections::section_rules(app, &s.name))
        .filter(|r| !r.is_empty())
    {
        let used: usize = head.iter().map(|s| crate::text::width(&s.content)).sum();
        let full = format!("own rules {rules} ");
        let text = if used + crate::text::width(&full) + 2 <= area.width as usize {
            full
        } else {
            format!("own {} ", super::sections::short_rules(&rules))
        };
        head.push(Span::styled(text, t.key));
    }
    head.push(Span::styled(
        format!("sort {} ", app.items.sort.name()),
        t.muted,
    ));
    if app.items.filter_editing || !app.items.filter.is_empty() {
        head.push(Span::styled(
            format!(
                "/{}{} ",
                escape::line(&app.items.filter),
                if app.items.filter_editing { "▏" } else { "" }
            ),
            t.key,
        ));
    }
    let block = pane(Line::from(head), is_focused, t);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.width < 10 || inner.height == 0 {
        return;
    }
    let Some(plan) = app.plan() else {
        // A first load that failed: the whole error, where the items would be.
        if let Some(e) = app.load_error() {
            let mut lines = vec![Line::from(Span::styled(
                "The inputs could not be loaded:",
                t.status_error,
            ))];
            lines.extend(
                e.lines()
                    .map(|l| Line::from(Span::styled(escape::line(l).into_owned(), t.text))),
            );
            frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
        }
        return;
    };
    let exact = plan.exact;
    let w = inner.width as usize;
    let tokens_of = |item: &crate::engine::ItemPlan| match item.status {
        ItemStatus::Truncated | ItemStatus::Degraded => app.count_text(item.final_tokens),
        _ => app.count_text(item.tokens),
    };
    // Wide enough for the longest count shown (in full after `#`).
    let tok_w = app
        .items
        .visible
        .iter()
        .filter_map(|&i| plan.items.get(i))
        .map(|i| tokens_of(i).len())
        .max()
        .unwrap_or(0)
        .max(7);
    let prio_w = 5;
    let flexible = w.saturating_sub(2 + tok_w + prio_w + 3);
    let id_w = (flexible * 55 / 100).max(4);
    let reason_w = flexible.saturating_sub(id_w);
    let head = format!(
        "  {} {} {} {}",
        pad_right("item", id_w),
        pad_left(if exact { "tokens" } else { "≈tokens" }, tok_w),
        pad_left("prio", prio_w),
        pad_right("reason", reason_w)
    );
    frame.render_widget(
        Paragraph::new(Span::styled(head, t.muted)),
        Rect { height: 1, ..inner },
    );
    if app.items.visible.is_empty() {
        let msg = if app.items.filter.is_empty() {
            "no items in this section"
        } else {
            "no item matches the filter"
        };
        if inner.height > 1 {
            frame.render_widget(
                Paragraph::new(Span::styled(format!("  {msg}"), t.muted)),
                Rect::new(inner.x, inner.y + 1, inner.width, 1),
            );
        }
        return;
    }
    let rows = inner.height.saturating_sub(1) as usize;
    let changed = &app.items.changed;
    let groups: Vec<Option<&str>> = app
        .items
        .visible
        .iter()
        .map(|&i| app.item_group(i))
        .collect();
    let bracket_w = if groups.iter().any(Option::is_some) {
        2
    } else {
        0
    };
    for (row, (i, &idx)) in app
        .items
        .visible
        .iter()
        .enumerate()
        .skip(app.items.offset)
        .take(rows)
        .enumerate()
    {
        let Some(item) = plan.items.get(idx) else {
            continue;
        };
        let y = inner.y + 1 + row as u16;
        let is_sel = i == app.items.sel;
        let sel = |s: ratatui::style::Style| if is_sel { s.patch(t.selected) } else { s };
        let st = status_style(t, item.status);
        let is_changed = changed.contains_key(&item.id);
        let mark_style = if is_changed { t.changed } else { st };
        let tokens = tokens_of(item);
        let text_style = if item.status == ItemStatus::Excluded {
            t.muted
        } else {
            t.text
        };
        let pin = if item.pinned && item.status != ItemStatus::Pinned {
            "◆"
        } else {
            " "
        };
        let bracket = if bracket_w == 0 {
            ""
        } else {
            group_bracket(&groups, i)
        };
        let spans = vec![
            Span::styled(status_mark(item.status), sel(mark_style)),
            Span::styled(pin, sel(t.pinned)),
            Span::styled(bracket, sel(t.muted)),
            Span::styled(
                pad_right(&escape::line(&item.id), id_w.saturating_sub(bracket_w)),
                sel(if is_changed { t.changed } else { text_style }),
            ),
            Span::styled(" ", sel(text_style)),
            Span::styled(pad_left(&tokens, tok_w), sel(text_style)),
            Span::styled(" ", sel(text_style)),
            Span::styled(
                pad_left(&format_priority(item.priority), prio_w),
                sel(text_style),
            ),
            Span::styled(" ", sel(text_style)),
            Span::styled(pad_right(&short_reason(item), reason_w), sel(st)),
        ];
        frame.render_widget(
            Paragraph::new(Line::from(spans)),
            Rect::new(inner.x, y, inner.width, 1),
        );
    }
}

/// The bracket before row `i`'s id: `┌ `, `├ `, `└ ` for the first, middle
/// and last listed member of a group, `─ ` for a member listed alone, and
/// blank outside groups.
fn group_bracket(groups: &[Option<&str>], i: usize) -> &'static str {
    let Some(g) = groups.get(i).copied().flatten() else {
        return "  ";
    };
    let same = |j: Option<usize>| j.and_then(|j| groups.get(j).copied().flatten()) == Some(g);
    match (same(i.checked_sub(1)), same(i.checked_add(1))) {
        (false, true) => "┌ ",
        (true, true) => "├ ",
        (true, false) => "└ ",
        (false, false) => "─ ",
    }
}

#[cfg(test)]
mod tests {
    use super::group_bracket;

    #[test]
    fn brackets_join_the_listed_members_of_a_group() {
        let rows = [
            None,
            Some("a"),
            Some("a"),
            Some("a"),
            Some("b"),
            None,
            Some("c"),
            Some("c"),
        ];
        let got: Vec<&str> = (0..rows.len()).map(|i| group_bracket(&rows, i)).collect();
        assert_eq!(got, ["  ", "┌ ", "├ ", "└ ", "─ ", "  ", "┌ ", "└ "]);
    }
}
