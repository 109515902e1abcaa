//! The sections pane: per section the allocated, final and used tokens, a
//! utilisation bar, tokens moved by reallocation, included/excluded counts.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{BudgetBar, focused, pane, title};
use crate::engine::Plan;
use crate::tokens::Accuracy;
use crate::tui::app::{App, Pane};
use crate::tui::text::{pad_left, pad_right, sanitize, short_count};

/// Net tokens a section received (positive) or gave (negative) by
/// reallocation, the reserved pool included.
pub(crate) fn moved(plan: &Plan, section: &str) -> i64 {
    plan.reallocations.iter().fold(0i64, |acc, t| {
        let n = t.tokens as i64;
        if t.to == section {
            acc + n
        } else if t.from == section {
            acc - n
        } else {
            acc
        }
    })
}

pub(super) fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let t = app.theme();
    let is_focused = focused(app, Pane::Sections);
    let Some(plan) = app.plan() else {
        frame.render_widget(
            pane(Line::from(title(" sections ".into(), t)), is_focused, t),
            area,
        );
        return;
    };
    let block = pane(
        Line::from(vec![
            title(format!(" sections ({}) ", plan.sections.len()), t),
            Span::styled(
                match plan.accuracy() {
                    Accuracy::Exact => String::new(),
                    estimate => format!("{} ", estimate.describe("estimated counts")),
                },
                t.truncated,
            ),
        ]),
        is_focused,
        t,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.width < 10 || inner.height == 0 {
        return;
    }
    // Columns: name, alloc, final, used, bar, moved, in/out.
    let w = inner.width as usize;
    let num = 6;
    let moved_w = 6;
    let inout_w = 8;
    let fixed = num * 3 + moved_w + inout_w + 6;
    let flexible = w.saturating_sub(fixed);
    // The name gets what the longest name needs (from 7 up to 60 % of the
    // flexible width); the bar takes the rest.
    let longest = plan
        .sections
        .iter()
        .map(|s| crate::tui::text::width(&sanitize(&s.name)))
        .max()
        .unwrap_or(7);
    let name_w = longest.clamp(7, (flexible * 60 / 100).max(7));
    let bar_w = flexible.saturating_sub(name_w).max(1);
    let head = format!(
        "{} {} {} {} {} {} {}",
        pad_right("section", name_w),
        pad_left("alloc", num),
        pad_left("final", num),
        pad_left("used", num),
        pad_right("utilisation", bar_w),
        pad_left("moved", moved_w),
        pad_left("in/out", inout_w),
    );
    frame.render_widget(
        Paragraph::new(Span::styled(head, t.muted)),
        Rect { height: 1, ..inner },
    );
    let rows = inner.height.saturating_sub(1) as usize;
    for (row, (i, s)) in plan
        .sections
        .iter()
        .enumerate()
        .skip(app.section_offset)
        .take(rows)
        .enumerate()
    {
        let y = inner.y + 1 + row as u16;
        let is_sel = i == app.section_sel;
        let base = if s.pinned_overrun {
            t.over_budget
        } else {
            t.text
        };
        let style = if is_sel { base.patch(t.selected) } else { base };
        let m = moved(plan, &s.name);
        let moved_text = match m {
            0 => "·".to_string(),
            m if m > 0 => format!("+{}", short_count(m as usize)),
            m => format!("−{}", short_count(m.unsigned_abs() as usize)),
        };
        let left = format!(
            "{} {} {} {} ",
            pad_right(&sanitize(&s.name), name_w),
            pad_left(&short_count(s.allocated), num),
            pad_left(&short_count(s.final_budget), num),
            pad_left(&short_count(s.used), num),
        );
        let left_w = name_w + num * 3 + 4;
        frame.render_widget(
            Paragraph::new(Span::styled(left, style)),
            Rect::new(inner.x, y, left_w as u16, 1),
        );
        let ratio = if s.final_budget == 0 {
            if s.used > 0 { 2.0 } else { 0.0 }
        } else {
            s.used as f64 / s.final_budget as f64
        };
        let bar_x = inner.x + left_w as u16;
        let bar_area = Rect::new(
            bar_x,
            y,
            (bar_w as u16).min(inner.right().saturating_sub(bar_x)),
            1,
        );
        frame.render_widget(
            BudgetBar {
                ratio,
                fill: t.bar_for(ratio, s.pinned_overrun),
                empty: t.bar_empty,
            },
            bar_area,
        );
        let moved_style = match m {
            0 => t.muted,
            m if m > 0 => t.included,
            _ => t.truncated,
        };
        let right_x = bar_area.x + bar_area.width;
        let right = vec![
            Span::styled(" ", style),
            Span::styled(
                pad_left(&moved_text, moved_w),
                if is_sel {
                    moved_style.patch(t.selected)
                } else {
                    moved_style
                },
            ),
            Span::styled(
                pad_left(&format!("{}/{}", s.included, s.excluded), inout_w),
                style,
            ),
        ];
        frame.render_widget(
            Paragraph::new(Line::from(right)),
            Rect::new(right_x, y, inner.right().saturating_sub(right_x), 1),
        );
    }
}
