//! History: recent alerts, runs in the 7 days before now that used more
//! than twice their type's median (outliers) or failed near their budget;
//! the newest that fit, oldest first.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::super::{pane, title};
use super::date;
use crate::history::{Alert, Report};
use crate::text::escape;
use crate::tui::app::App;

/// `2025-06-28 11:20` from an RFC 3339 time.
fn when(time: &str) -> String {
    match (time.get(..10), time.get(11..16)) {
        (Some(d), Some(hm)) => format!("{d} {hm}"),
        _ => time.to_string(),
    }
}

fn kind(alert: &Alert) -> &'static str {
    match alert.kind {
        "outlier" => "outlier",
        "under_allocated" => "ran short",
        _ => "alert",
    }
}

pub(super) fn draw(frame: &mut Frame, area: Rect, app: &App, report: &Report) {
    let t = app.theme();
    let block = pane(
        Line::from(vec![
            title(format!(" alerts ({}) ", report.alerts.len()), t),
            Span::styled(format!("7 days up to {} ", date(&report.now)), t.muted),
        ]),
        false,
        t,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height == 0 || inner.width == 0 {
        return;
    }
    let rows = inner.height as usize;
    let alerts = &report.alerts;
    let mut lines = Vec::new();
    if alerts.is_empty() {
        lines.push(Line::from(Span::styled(
            " none: no run used more than twice its type's median or failed near its budget",
            t.muted,
        )));
    } else {
        let shown = if alerts.len() > rows {
            rows.saturating_sub(1)
        } else {
            alerts.len()
        };
        let hidden = alerts.len() - shown;
        if hidden > 0 {
            lines.push(Line::from(Span::styled(
                format!(
                    " … {hidden} earlier alert{} (tokenscope history report lists all)",
                    if hidden == 1 { "" } else { "s" }
                ),
                t.muted,
            )));
        }
        for a in &alerts[hidden..] {
            let style = if a.kind == "outlier" {
                t.truncated
            } else {
                t.under_allocated
            };
            lines.push(Line::from(vec![
                Span::styled(format!(" {} ", when(&a.time)), t.muted),
                Span::styled(format!("{:<9} ", kind(a)), style),
                Span::styled(escape::one_line(&a.message), t.text),
            ]));
        }
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
