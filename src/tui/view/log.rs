//! The message log popup: every status message and warning in full, oldest
//! first, each with its time (UTC) and source, wrapped to the popup's width
//! and escaped (messages quote input files).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::{layout, pane, title};
use crate::text::escape;
use crate::tui::app::{App, LogEntry, Popup};
use crate::tui::text::{Glyph, layout as wrap};

/// Columns before a message's text: `hh:mm:ss source   `.
const PREFIX: usize = 19;

/// The log's lines at `cols` columns inside the borders.
pub(crate) fn lines<'a>(app: &App, cols: usize) -> Vec<Line<'a>> {
    let t = app.theme();
    let log = app.log();
    let mut out = Vec::new();
    if log.dropped > 0 {
        out.push(Line::from(Span::styled(
            format!(
                " ({} older message{} dropped)",
                log.dropped,
                if log.dropped == 1 { "" } else { "s" }
            ),
            t.muted,
        )));
    }
    if log.is_empty() {
        out.push(Line::from(Span::styled(" no messages yet", t.muted)));
        return out;
    }
    // Narrow popups put the text below the time and source.
    let text_cols = cols.saturating_sub(PREFIX + 1);
    let indent = if text_cols >= 20 { PREFIX } else { 2 };
    let text_cols = cols.saturating_sub(indent + 1).max(1);
    for e in log.entries() {
        let head = format!(" {} {:<9} ", clock(e), e.source.name());
        let style = if e.error { t.status_error } else { t.text };
        let mut text = e.text.clone();
        if e.repeats > 1 {
            text.push_str(&format!(" (×{})", e.repeats));
        }
        let wrapped = wrap(&text, text_cols, 10_000);
        let mut rows = wrapped.iter().map(|l| {
            let row = l
                .glyphs
                .iter()
                .map(|(_, g)| match g {
                    Glyph::Char(c) => c.to_string(),
                    Glyph::Tab(n) => " ".repeat(*n),
                    Glyph::Escape(c) => escape::escape_char(*c),
                })
                .collect::<String>();
            // A row the wrap started (not a line of the message) does not
            // begin with the space it broke at.
            let starts_a_line = l
                .glyphs
                .first()
                .is_none_or(|(at, _)| *at == 0 || text[..*at].ends_with('\n'));
            if starts_a_line {
                row
            } else {
                row.trim_start().to_string()
            }
        });
        if indent == PREFIX {
            let first = rows.next().unwrap_or_default();
            out.push(Line::from(vec![
                Span::styled(head, t.muted),
                Span::styled(first, style),
            ]));
        } else {
            out.push(Line::from(Span::styled(head, t.muted)));
        }
        for r in rows {
            out.push(Line::from(vec![
                Span::raw(" ".repeat(indent)),
                Span::styled(r, style),
            ]));
        }
    }
    out
}

/// `hh:mm:ss` (UTC) of a message.
fn clock(e: &LogEntry) -> String {
    let t = time::OffsetDateTime::from(e.at);
    format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
}

pub(super) fn draw(frame: &mut Frame, screen: Rect, app: &App, scroll: usize) {
    let t = app.theme();
    let area = layout::popup_area(screen, Some(&Popup::Log { scroll }));
    frame.render_widget(Clear, area);
    let all = lines(app, area.width.saturating_sub(2) as usize);
    let inner_h = area.height.saturating_sub(2) as usize;
    let max_scroll = all.len().saturating_sub(inner_h);
    let block = pane(
        Line::from(vec![
            title(format!(" messages ({}) ", app.log().len()), t),
            Span::styled(
                format!(
                    "times UTC · esc closes, ↑↓ scroll{} ",
                    super::help::position(scroll.min(max_scroll), inner_h, all.len())
                ),
                t.muted,
            ),
        ]),
        true,
        t,
    )
    .style(t.popup);
    let shown: Vec<Line> = all.into_iter().skip(scroll.min(max_scroll)).collect();
    frame.render_widget(Paragraph::new(shown).block(block), area);
}
