//! The detail pane: the selected item's text with its token boundaries in
//! alternating colours, its included form (truncated or degraded) beside the
//! original, and what an excluded item would need to fit; the group it is
//! kept or dropped with, its `meta.note`, and for a chat request what part
//! of the request it is (`chat`).

mod chat;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{degrade_name, focused, pane, safe, status_style, title};
use crate::engine::{ItemPlan, ItemStatus};
use crate::text::{escape, prefix_by_width, thousands, width};
use crate::tokens::Accuracy;
use crate::tui::app::{App, DETAIL_LIMIT, Pane, format_priority};
use crate::tui::text::{Glyph, layout};
use crate::tui::theme::Theme;

pub(super) fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let t = app.theme();
    let is_focused = focused(app, Pane::Detail);
    let Some(item) = app.selected_item() else {
        frame.render_widget(
            pane(Line::from(title(" detail ".into(), t)), is_focused, t),
            area,
        );
        return;
    };
    let accuracy = app.plan().map_or(Accuracy::Exact, |p| p.accuracy());
    let head = vec![
        title(format!(" {} ", escape::line(&item.id)), t),
        Span::styled(format!("{} ", item.status), status_style(t, item.status)),
        Span::styled(
            format!(
                "· {} tok · p {} ",
                accuracy.count_label(item.tokens),
                format_priority(item.priority)
            ),
            t.muted,
        ),
    ];
    let block = pane(Line::from(head), is_focused, t);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.width == 0 || inner.height == 0 {
        return;
    }
    let index = app.selected_index().unwrap_or(usize::MAX);
    let cols = inner.width as usize;
    let (info, marks) = info_lines(app, item, index, accuracy, cols);
    let text = app.item_text(index);
    let cache = app
        .detail
        .cache
        .as_ref()
        .filter(|d| d.item == index && marks);
    let info_h = (info.len() as u16).min(inner.height);
    frame.render_widget(
        Paragraph::new(info),
        Rect {
            height: info_h,
            ..inner
        },
    );
    let body = Rect::new(
        inner.x,
        inner.y + info_h,
        inner.width,
        inner.height - info_h,
    );
    if body.height == 0 {
        return;
    }
    let original_bounds = cache.map_or(&[][..], |c| &c.original[..]);
    match item.final_text.as_deref() {
        Some(final_text) if body.width >= 20 => {
            let left_w = (body.width - 1) / 2;
            let left = Rect::new(body.x, body.y, left_w, body.height);
            let right = Rect::new(
                body.x + left_w + 1,
                body.y,
                body.width - left_w - 1,
                body.height,
            );
            for y in body.y..body.bottom() {
                if let Some(cell) = frame.buffer_mut().cell_mut((body.x + left_w, y)) {
                    cell.set_symbol("│").set_style(t.border);
                }
            }
            column(
                frame,
                left,
                "original",
                text,
                original_bounds,
                app.detail.scroll,
                t,
            );
            let final_bounds = cache.map_or(&[][..], |c| &c.final_form[..]);
            let label = format!("as included ({})", accuracy.count_label(item.final_tokens));
            column(
                frame,
                right,
                &label,
                final_text,
                final_bounds,
                app.detail.scroll,
                t,
            );
        }
        _ => {
            if item.given {
                return;
            }
            // Without marks (`cache` is `None`) the text is drawn plain.
            let lines = token_lines(
                text,
                original_bounds,
                body.width as usize,
                app.detail.scroll,
                body.height as usize,
                t,
            );
            frame.render_widget(Paragraph::new(lines), body);
        }
    }
}

fn column(
    frame: &mut Frame,
    area: Rect,
    label: &str,
    text: &str,
    bounds: &[usize],
    scroll: usize,
    t: &Theme,
) {
    if area.height == 0 {
        return;
    }
    frame.render_widget(
        Paragraph::new(Span::styled(label.to_string(), t.muted)),
        Rect { height: 1, ..area },
    );
    let body = Rect::new(area.x, area.y + 1, area.width, area.height - 1);
    let lines = token_lines(
        text,
        bounds,
        body.width as usize,
        scroll,
        body.height as usize,
        t,
    );
    frame.render_widget(Paragraph::new(lines), body);
}

/// Rows the info lines of the selected item take in a pane `cols` wide
/// (inside its borders).
pub(crate) fn info_rows(app: &App, cols: usize) -> usize {
    let Some(item) = app.selected_item() else {
        return 0;
    };
    let index = app.selected_index().unwrap_or(usize::MAX);
    let accuracy = app.plan().map_or(Accuracy::Exact, |p| p.accuracy());
    info_lines(app, item, index, accuracy, cols).0.len()
}

/// The rows above the item's text (word-wrapped to `cols`), and whether the
/// text gets token marks (not when it is not what is counted, as for a chat
/// request's tools).
fn info_lines(
    app: &App,
    item: &ItemPlan,
    index: usize,
    accuracy: Accuracy,
    cols: usize,
) -> (Vec<Line<'static>>, bool) {
    let (lines, marks) = about(app, item, index, accuracy, cols);
    let rows = lines.iter().flat_map(|l| wrap_line(l, cols)).collect();
    (rows, marks)
}

/// `line` word-wrapped to `cols` columns: rows break before a word that
/// does not fit, a word longer than a row is cut by width, spaces at the
/// end of a row are dropped, and the spans keep their styles.
fn wrap_line(line: &Line<'_>, cols: usize) -> Vec<Line<'static>> {
    let cols = cols.max(1);
    let mut rows: Vec<Vec<Span<'static>>> = vec![Vec::new()];
    let mut used = 0usize;
    for span in &line.spans {
        let style = span.style;
        let mut rest: &str = &span.content;
        while !rest.is_empty() {
            let word_end = rest.find(' ').unwrap_or(rest.len());
            let piece_end = rest[word_end..]
                .find(|c: char| c != ' ')
                .map_or(rest.len(), |i| word_end + i);
            let (mut word, spaces) = rest[..piece_end].split_at(word_end);
            rest = &rest[piece_end..];
            if used > 0 && used + width(word) > cols {
                rows.push(Vec::new());
                used = 0;
            }
            // Longer than a row: cut by width.
            while width(word) > cols.saturating_sub(used) {
                let (mut head, _) = prefix_by_width(word, cols.saturating_sub(used));
                if head.is_empty() {
                    if used > 0 {
                        rows.push(Vec::new());
                        used = 0;
                        continue;
                    }
                    // A character wider than the row gets a row of its own.
                    let n = word.chars().next().map_or(word.len(), char::len_utf8);
                    head = &word[..n];
                }
                if let Some(row) = rows.last_mut() {
                    row.push(Span::styled(head.to_string(), style));
                }
                used += width(head);
                word = &word[head.len()..];
                if !word.is_empty() {
                    rows.push(Vec::new());
                    used = 0;
                }
            }
            let room = cols.saturating_sub(used + width(word));
            let piece = format!("{word}{}", &spaces[..spaces.len().min(room)]);
            if !piece.is_empty() {
                used += width(&piece);
                if let Some(row) = rows.last_mut() {
                    row.push(Span::styled(piece, style));
                }
            }
        }
    }
    rows.into_iter().map(Line::from).collect()
}

/// What the pane says about the item above its text, one entry per line
/// (not wrapped), and whether the text gets token marks.
fn about(
    app: &App,
    item: &ItemPlan,
    index: usize,
    accuracy: Accuracy,
    cols: usize,
) -> (Vec<Line<'static>>, bool) {
    let t = app.theme();
    let mut out = status_lines(app, item, index, t, accuracy);
    let mut marks = true;
    if let Some(c) = chat::describe(app, item, index, cols, accuracy) {
        out.extend(c.lines);
        marks = c.marks;
    } else if let Some(note) = app
        .loaded_item_of(index)
        .and_then(|i| i.meta.get("note"))
        .and_then(|v| v.as_str())
    {
        out.push(Line::from(Span::styled(
            format!("note: {}", escape::line(note)),
            t.muted,
        )));
    }
    if let Some(line) = group_line(app, index, t) {
        out.push(line);
    }
    if let Some(line) = transfer_line(app, item, t) {
        out.push(line);
    }
    if marks && app.item_text(index).len() > DETAIL_LIMIT {
        out.push(Line::from(Span::styled(
            format!("token marks for the first {} KiB", DETAIL_LIMIT / 1024),
            t.muted,
        )));
    }
    (out, marks)
}

/// The reallocation transfers into or out of the item's section, largest
/// first (at most [`TRANSFERS_SHOWN`] each way, then how many more), e.g.
/// `section a0 received 120: 107 from a9, 13 from z`.
fn transfer_line(app: &App, item: &ItemPlan, t: &Theme) -> Option<Line<'static>> {
    let plan = app.plan()?;
    let section = item.section.as_str();
    let side = |received: bool| -> Option<String> {
        let mut moves: Vec<(usize, &str)> = plan
            .reallocations
            .iter()
            .filter_map(|r| match received {
                true if r.to == section => Some((r.tokens, r.from.as_str())),
                false if r.from == section => Some((r.tokens, r.to.as_str())),
                _ => None,
            })
            .collect();
        if moves.is_empty() {
            return None;
        }
        let sum: usize = moves.iter().map(|m| m.0).sum();
        moves.sort_by_key(|m| std::cmp::Reverse(m.0));
        let (verb, dir) = if received {
            ("received", "from")
        } else {
            ("gave", "to")
        };
        let mut parts: Vec<String> = moves
            .iter()
            .take(TRANSFERS_SHOWN)
            .map(|(n, other)| format!("{} {dir} {}", thousands(*n), escape::line(other)))
            .collect();
        if moves.len() > TRANSFERS_SHOWN {
            parts.push(format!("{} more", moves.len() - TRANSFERS_SHOWN));
        }
        Some(format!("{verb} {}: {}", thousands(sum), parts.join(", ")))
    };
    let sides: Vec<String> = [side(true), side(false)].into_iter().flatten().collect();
    if sides.is_empty() {
        return None;
    }
    Some(Line::from(Span::styled(
        format!("section {} {}", escape::line(section), sides.join("; ")),
        t.muted,
    )))
}

/// How many transfers each way the detail pane lists.
const TRANSFERS_SHOWN: usize = 3;

/// `group call-m6: kept or dropped with m7-tool, m8-tool (priority 0.83 in
/// all)` for a member of a group.
fn group_line(app: &App, index: usize, t: &Theme) -> Option<Line<'static>> {
    let group = app.item_group(index)?;
    let plan = app.plan()?;
    let members: Vec<usize> = (0..plan.items.len())
        .filter(|&i| app.item_group(i) == Some(group))
        .collect();
    let others: Vec<String> = members
        .iter()
        .filter(|&&i| i != index)
        .map(|&i| escape::line(&plan.items[i].id).into_owned())
        .collect();
    let priority: f64 = members.iter().map(|&i| plan.items[i].priority).sum();
    let text = if others.is_empty() {
        format!("group {} (no other member)", escape::line(group))
    } else {
        format!(
            "group {}: kept or dropped with {} (priority {} in all)",
            escape::line(group),
            others.join(", "),
            format_priority(priority)
        )
    };
    Some(Line::from(Span::styled(text, t.muted)))
}

fn status_lines(
    app: &App,
    item: &ItemPlan,
    index: usize,
    t: &Theme,
    accuracy: Accuracy,
) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let line = match item.status {
        ItemStatus::Excluded => {
            let reason = item.reason.map_or("excluded", |r| r.describe());
            let mut spans = vec![Span::styled(format!("excluded: {reason}"), t.excluded)];
            if let Some(other) = &item.duplicate_of {
                spans.push(Span::styled(
                    format!(" (`{}`)", escape::line(other)),
                    t.excluded,
                ));
            }
            if let Some(n) = app.needs_to_fit(item) {
                spans.push(Span::styled(
                    format!(
                        " — needs {} more token{} to fit{}",
                        thousands(n),
                        if n == 1 { "" } else { "s" },
                        if app.item_group(index).is_some() {
                            " with its group"
                        } else {
                            ""
                        }
                    ),
                    t.text,
                ));
            }
            Line::from(spans)
        }
        ItemStatus::Truncated => Line::from(Span::styled(
            format!(
                "truncated {} → {} tokens to fill what was left",
                accuracy.count_label(item.tokens),
                accuracy.count_label(item.final_tokens)
            ),
            t.truncated,
        )),
        ItemStatus::Degraded => Line::from(Span::styled(
            format!(
                "degraded to {} (level {}): {} → {} tokens",
                degrade_name(item),
                item.degrade_level.unwrap_or(0),
                accuracy.count_label(item.tokens),
                accuracy.count_label(item.final_tokens)
            ),
            t.degraded,
        )),
        ItemStatus::Pinned => Line::from(Span::styled("pinned: always included", t.pinned)),
        ItemStatus::Included => Line::from(Span::styled("included in full", t.included)),
    };
    out.push(line);
    if item.given {
        out.push(Line::from(Span::styled(
            "token count given in the input; no text to show",
            t.muted,
        )));
    }
    if item.pinned && item.status == ItemStatus::Excluded {
        out.push(Line::from(safe("pinned but excluded", t.over_budget)));
    }
    out
}

/// The visible lines of `text` with every other token in `token_b`; bytes
/// past the last boundary are drawn plain.
pub(crate) fn token_lines<'a>(
    text: &str,
    bounds: &[usize],
    cols: usize,
    scroll: usize,
    height: usize,
    t: &Theme,
) -> Vec<Line<'a>> {
    let laid = layout(text, cols, scroll.saturating_add(height));
    let limit = bounds.last().copied().unwrap_or(0);
    let mut out = Vec::with_capacity(height);
    for vl in laid.into_iter().skip(scroll) {
        let mut spans: Vec<Span> = Vec::new();
        let mut cur = String::new();
        let mut cur_style: Option<Style> = None;
        for (offset, glyph) in vl.glyphs {
            let token_style = if offset < limit {
                let k = bounds.partition_point(|&b| b <= offset);
                if k % 2 == 0 { t.token_a } else { t.token_b }
            } else {
                t.text
            };
            let (s, style) = match glyph {
                Glyph::Char(c) => (c.to_string(), token_style),
                Glyph::Tab(n) => (" ".repeat(n), token_style),
                Glyph::Escape(c) => (escape::escape_char(c), t.escape),
            };
            if cur_style != Some(style) {
                if let Some(st) = cur_style {
                    spans.push(Span::styled(std::mem::take(&mut cur), st));
                }
                cur_style = Some(style);
            }
            cur.push_str(&s);
        }
        if let Some(st) = cur_style {
            spans.push(Span::styled(cur, st));
        }
        out.push(Line::from(spans));
    }
    out
}

#[cfg(test)]
mod tests {
    use ratatui::style::Style;
    use ratatui::text::{Line, Span};

    use super::wrap_line;

    fn rows(line: Line<'_>, cols: usize) -> Vec<String> {
        wrap_line(&line, cols)
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    #[test]
    fn lines_wrap_at_words_and_cut_long_words() {
        assert_eq!(
            rows(
                Line::from("group call-m6: kept or dropped with m7-tool"),
                16
            ),
            ["group call-m6: ", "kept or dropped ", "with m7-tool"]
        );
        assert_eq!(
            rows(Line::from("abcdefghij xy"), 4),
            ["abcd", "efgh", "ij ", "xy"]
        );
        assert_eq!(rows(Line::from(""), 10), [""]);
        // A character wider than the row still shows, one per row.
        assert_eq!(rows(Line::from("漢字"), 1), ["漢", "字"]);
        for line in [
            "excluded: does not fit — needs 13 more tokens",
            "a  b   c",
            " x",
            "→ get_quota({\"account\": \"acme-4411\"})",
        ] {
            for cols in 1..12 {
                let wrapped = rows(Line::from(line), cols);
                for row in &wrapped {
                    assert!(super::width(row) <= cols, "{line:?} at {cols}: {row:?}");
                }
                // Only spaces at the ends of rows are dropped.
                assert_eq!(
                    wrapped.concat().replace(' ', ""),
                    line.replace(' ', ""),
                    "{line:?} at {cols}"
                );
            }
        }
    }

    #[test]
    fn wrapped_spans_keep_their_styles() {
        let line = Line::from(vec![
            Span::styled("excluded: over budget", Style::new().red()),
            Span::styled(" — needs 13 more tokens", Style::new().blue()),
        ]);
        let wrapped = wrap_line(&line, 20);
        assert_eq!(wrapped.len(), 3);
        assert!(
            wrapped[0]
                .spans
                .iter()
                .all(|s| s.style == Style::new().red())
        );
        assert!(
            wrapped[2]
                .spans
                .iter()
                .all(|s| s.style == Style::new().blue())
        );
    }
}
