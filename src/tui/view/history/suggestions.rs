//! History: the suggested budget per task type (a prediction for a typical
//! task of the type) against its average allocation, the expected saving per
//! task, and, in the bottom border, what the suggestions would have saved
//! over the recorded runs.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::super::{pane, title};
use crate::history::Report;
use crate::text::{escape, pad_left, pad_right, short_count, thousands, usd, width};
use crate::tui::app::App;

/// A token count in `cols` columns: with thousands separators when they
/// fit, else short (`1.05M`).
fn tokens(n: u64, cols: usize) -> String {
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    let long = thousands(n);
    if width(&long) <= cols {
        long
    } else {
        short_count(n)
    }
}

/// A saving: `5,179`, or `−1,200` when the suggestion is larger.
fn signed(n: i64, cols: usize) -> String {
    let magnitude = tokens(n.unsigned_abs(), cols.saturating_sub(1));
    if n < 0 {
        format!("−{magnitude}")
    } else {
        magnitude
    }
}

/// Widths of the average, suggested and saving columns.
const AVERAGE: usize = 8;
const SUGGESTED: usize = 9;
const SAVING: usize = 8;

/// What the suggestions would have saved over the recorded runs, as much of
/// it as fits in `cols`.
fn savings_text(report: &Report, cols: usize) -> String {
    let s = &report.savings;
    if s.evaluated == 0 {
        return " no earlier runs to check the suggestions against ".to_string();
    }
    let cost = s
        .cost_saved_usd
        .map_or(String::new(), |c| format!(" ({})", usd(c.abs())));
    let verb = if s.tokens_saved < 0 {
        "would have cost"
    } else {
        "would have saved"
    };
    let saved = usize::try_from(s.tokens_saved.unsigned_abs()).unwrap_or(usize::MAX);
    let mut text = format!(" {verb} {} tokens{cost}", thousands(saved));
    if width(&text) >= cols {
        let short = if s.tokens_saved < 0 { "costs" } else { "saves" };
        return format!(" {short} {} ", thousands(saved));
    }
    for extra in [
        format!(" on {} runs", thousands(s.evaluated)),
        if s.would_fall_short > 0 {
            format!(", {} short", thousands(s.would_fall_short))
        } else {
            String::new()
        },
    ] {
        if width(&text) + width(&extra) < cols {
            text.push_str(&extra);
        }
    }
    text.push(' ');
    text
}

pub(super) fn draw(frame: &mut Frame, area: Rect, app: &App, report: &Report, first: usize) {
    let t = app.theme();
    let footer = savings_text(report, area.width.saturating_sub(2) as usize);
    let block = pane(
        Line::from(title(" suggested budget per task ".into(), t)),
        false,
        t,
    )
    .title_bottom(Line::from(Span::styled(footer, t.muted)));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.width < 10 || inner.height == 0 {
        return;
    }
    let w = inner.width as usize;
    // Columns: type, average allocation (left out when narrow), suggested,
    // saving per task.
    let with_average = w >= 12 + AVERAGE + SUGGESTED + SAVING + 3;
    let numbers = SUGGESTED + SAVING + 2 + if with_average { AVERAGE + 1 } else { 0 };
    let name_w = w.saturating_sub(numbers).max(1);
    let mut head = pad_right("type", name_w);
    if with_average {
        head.push_str(&format!(" {}", pad_left("average", AVERAGE)));
    }
    head.push_str(&format!(
        " {} {}",
        pad_left("suggested", SUGGESTED),
        pad_left("saving", SAVING)
    ));
    frame.render_widget(
        Paragraph::new(Span::styled(head, t.muted)),
        Rect { height: 1, ..inner },
    );
    let rows = inner.height.saturating_sub(1) as usize;
    for (row, ty) in report.types.iter().skip(first).take(rows).enumerate() {
        let y = inner.y + 1 + row as u16;
        let mut spans = vec![Span::styled(
            pad_right(&escape::line(&ty.task_type), name_w),
            t.text,
        )];
        if with_average {
            spans.push(Span::styled(
                format!(" {}", pad_left(&tokens(ty.avg_allocated, AVERAGE), AVERAGE)),
                t.muted,
            ));
        }
        spans.push(Span::styled(
            format!(
                " {}",
                pad_left(&tokens(ty.suggested_budget, SUGGESTED), SUGGESTED)
            ),
            t.title,
        ));
        let saving = ty.expected_saving_per_task;
        spans.push(Span::styled(
            format!(" {}", pad_left(&signed(saving, SAVING), SAVING)),
            if saving < 0 {
                t.under_allocated
            } else if saving > 0 {
                t.included
            } else {
                t.muted
            },
        ));
        frame.render_widget(
            Paragraph::new(Line::from(spans)),
            Rect::new(inner.x, y, inner.width, 1),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_savings_line_keeps_what_fits() {
        let records: Vec<crate::history::Record> = (0..4)
            .map(|i| {
                let line = format!(
                    "{{\"time\":\"2025-06-0{}T00:00:00Z\",\"task\":\"t{i}\",\"type\":\"qa\",\"complexity\":40,\"allocated\":20000,\"used\":5000}}",
                    i + 1
                );
                serde_json::from_str(&line).unwrap()
            })
            .collect();
        let options = crate::history::ReportOptions {
            now: crate::history::parse_time("2025-06-10T00:00:00Z").unwrap(),
            period: crate::history::Period::Week,
            registry: None,
        };
        let report = crate::history::report(&records, &options);
        assert!(report.savings.tokens_saved > 0);
        let wide = savings_text(&report, 80);
        assert!(wide.starts_with(" would have saved "), "{wide}");
        assert!(wide.contains(" on 3 runs"), "{wide}");
        let narrow = savings_text(&report, 30);
        assert!(narrow.starts_with(" would have saved ") || narrow.starts_with(" saves "));
        assert!(width(&narrow) <= 30, "{narrow}");
        assert!(!narrow.contains("runs"), "{narrow}");
    }

    #[test]
    fn counts_fit_their_column() {
        assert_eq!(tokens(16_279, 9), "16,279");
        assert_eq!(tokens(123_456_789, 9), "123.46M");
        assert_eq!(signed(-1_200, 9), "−1,200");
        assert_eq!(signed(5_179, 9), "5,179");
    }
}
