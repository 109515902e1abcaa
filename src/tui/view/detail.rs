//! The detail pane: the selected item's text with its token boundaries in
//! alternating colours, its included form (truncated or degraded) beside the
//! original, and what an excluded item would need to fit.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{count, degrade_name, focused, pane, safe, status_name, status_style, title};
use crate::engine::{ItemPlan, ItemStatus};
use crate::tokens::Accuracy;
use crate::tui::app::{App, DETAIL_LIMIT, Pane, format_priority};
use crate::tui::text::{Glyph, escape_char, layout, sanitize, thousands};
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
        title(format!(" {} ", sanitize(&item.id)), t),
        Span::styled(
            format!("{} ", status_name(item.status)),
            status_style(t, item.status),
        ),
        Span::styled(
            format!(
                "· {} tok · p {} ",
                count(item.tokens, accuracy),
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
    let mut info = info_lines(app, item, t, accuracy);
    let index = app.visible.get(app.item_sel).copied().unwrap_or(usize::MAX);
    let text = app.item_text(index);
    let cache = app.detail.as_ref().filter(|d| d.item == index);
    if text.len() > DETAIL_LIMIT {
        info.push(Line::from(Span::styled(
            format!("token marks for the first {} KiB", DETAIL_LIMIT / 1024),
            t.muted,
        )));
    }
    let cols = inner.width as usize;
    let wrapped: usize = info.iter().map(|l| l.width().max(1).div_ceil(cols)).sum();
    let info_h = (wrapped as u16).min(inner.height);
    frame.render_widget(
        Paragraph::new(info).wrap(Wrap { trim: false }),
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
                app.detail_scroll,
                t,
            );
            let final_bounds = cache.map_or(&[][..], |c| &c.final_form[..]);
            let label = format!("as included ({})", count(item.final_tokens, accuracy));
            column(
                frame,
                right,
                &label,
                final_text,
                final_bounds,
                app.detail_scroll,
                t,
            );
        }
        _ => {
            if item.given {
                return;
            }
            let lines = token_lines(
                text,
                original_bounds,
                body.width as usize,
                app.detail_scroll,
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

fn info_lines<'a>(app: &App, item: &ItemPlan, t: &Theme, accuracy: Accuracy) -> Vec<Line<'a>> {
    let mut out = Vec::new();
    let line = match item.status {
        ItemStatus::Excluded => {
            let reason = item.reason.map_or("excluded", |r| r.describe());
            let mut spans = vec![Span::styled(format!("excluded: {reason}"), t.excluded)];
            if let Some(other) = &item.duplicate_of {
                spans.push(Span::styled(
                    format!(" (`{}`)", sanitize(other)),
                    t.excluded,
                ));
            }
            if let Some(n) = app.needs_to_fit(item) {
                spans.push(Span::styled(
                    format!(" — needs {} more tokens to fit", thousands(n)),
                    t.text,
                ));
            }
            Line::from(spans)
        }
        ItemStatus::Truncated => Line::from(Span::styled(
            format!(
                "truncated {} → {} tokens to fill what was left",
                count(item.tokens, accuracy),
                count(item.final_tokens, accuracy)
            ),
            t.truncated,
        )),
        ItemStatus::Degraded => Line::from(Span::styled(
            format!(
                "degraded to {} (level {}): {} → {} tokens",
                degrade_name(item.degrade_level),
                item.degrade_level.unwrap_or(0),
                count(item.tokens, accuracy),
                count(item.final_tokens, accuracy)
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
                Glyph::Escape(c) => (escape_char(c), t.escape),
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
