//! History: average utilisation per task type as bars, coloured by whether
//! the type's runs were mostly over-allocated (used under half the budget)
//! or mostly under-allocated (used over 95 % of it, or failed), with the
//! number of runs and the accuracy of predictions from earlier runs.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::super::{BudgetBar, pane, title};
use crate::history::{Report, TypeReport};
use crate::text::{escape, pad_left, pad_right, percent, thousands, width};
use crate::tui::app::App;
use crate::tui::theme::Theme;

/// Which way a task type's budgets usually miss.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// More runs used under half their budget than ran short.
    Over,
    /// More runs ran short (over 95 % used, or failed) than used under half.
    Under,
    /// As many either way.
    Even,
}

impl Verdict {
    pub(crate) fn of(t: &TypeReport) -> Verdict {
        if t.under_allocation_rate > t.over_allocation_rate {
            Verdict::Under
        } else if t.over_allocation_rate > t.under_allocation_rate {
            Verdict::Over
        } else {
            Verdict::Even
        }
    }

    fn word(self) -> &'static str {
        match self {
            Verdict::Over => "over",
            Verdict::Under => "under",
            Verdict::Even => "even",
        }
    }

    fn style(self, t: &Theme) -> Style {
        match self {
            Verdict::Over => t.over_allocated,
            Verdict::Under => t.under_allocated,
            Verdict::Even => t.bar_fill,
        }
    }
}

/// Column widths for an inner width; optional columns are 0 when left out.
struct Columns {
    name: usize,
    runs: usize,
    bar: usize,
    verdict: usize,
    accuracy: usize,
}

const PCT: usize = 7;

fn columns(inner: usize, longest_name: usize) -> Columns {
    let name = longest_name.clamp(4, 18).min((inner / 3).max(4));
    let mut c = Columns {
        name,
        runs: 5,
        bar: 0,
        verdict: 6,
        accuracy: 9,
    };
    // Leave out accuracy, then runs, then the verdict word until the bar
    // gets at least 8 cells.
    let fixed = |c: &Columns| {
        let runs = if c.runs > 0 { c.runs + 1 } else { 0 };
        c.name + 1 + runs + PCT + c.verdict + c.accuracy
    };
    for drop in 0..4 {
        if inner >= fixed(&c) + 8 || drop == 3 {
            break;
        }
        match drop {
            0 => c.accuracy = 0,
            1 => c.runs = 0,
            _ => c.verdict = 0,
        }
    }
    c.bar = inner.saturating_sub(fixed(&c)).max(1);
    c
}

pub(super) fn draw(frame: &mut Frame, area: Rect, app: &App, report: &Report, first: usize) {
    let t = app.theme();
    let block = pane(
        Line::from(vec![
            title(" by task type ".into(), t),
            Span::styled("over <50% used · under >95% or failed ", t.muted),
        ]),
        false,
        t,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.width < 10 || inner.height == 0 {
        return;
    }
    let longest = report
        .types
        .iter()
        .map(|ty| width(&escape::line(&ty.task_type)))
        .max()
        .unwrap_or(4);
    let c = columns(inner.width as usize, longest);
    let mut head = format!("{} ", pad_right("type", c.name));
    if c.runs > 0 {
        head.push_str(&format!("{} ", pad_left("runs", c.runs)));
    }
    head.push_str(&pad_right("utilisation", c.bar + PCT));
    if c.verdict > 0 {
        head.push_str(&pad_left("mostly", c.verdict));
    }
    if c.accuracy > 0 {
        head.push_str(&pad_left("accuracy", c.accuracy));
    }
    frame.render_widget(
        Paragraph::new(Span::styled(head, t.muted)),
        Rect { height: 1, ..inner },
    );
    let rows = inner.height.saturating_sub(1) as usize;
    for (row, ty) in report.types.iter().skip(first).take(rows).enumerate() {
        let y = inner.y + 1 + row as u16;
        let verdict = Verdict::of(ty);
        let mut left = format!("{} ", pad_right(&escape::line(&ty.task_type), c.name));
        if c.runs > 0 {
            left.push_str(&format!("{} ", pad_left(&thousands(ty.records), c.runs)));
        }
        let left_w = width(&left) as u16;
        frame.render_widget(
            Paragraph::new(Span::styled(left, t.text)),
            Rect::new(inner.x, y, left_w.min(inner.width), 1),
        );
        let bar_x = inner.x + left_w;
        let bar = Rect::new(
            bar_x,
            y,
            (c.bar as u16).min(inner.right().saturating_sub(bar_x)),
            1,
        );
        frame.render_widget(
            BudgetBar {
                ratio: ty.avg_utilization,
                fill: verdict.style(t),
                empty: t.bar_empty,
            },
            bar,
        );
        let mut right = vec![Span::styled(
            pad_left(&percent(ty.avg_utilization), PCT),
            t.text,
        )];
        if c.verdict > 0 {
            right.push(Span::styled(
                pad_left(verdict.word(), c.verdict),
                verdict.style(t),
            ));
        }
        if c.accuracy > 0 {
            let acc = ty.accuracy.map_or("—".to_string(), percent);
            right.push(Span::styled(
                pad_left(&acc, c.accuracy),
                if ty.accuracy.is_some() {
                    t.text
                } else {
                    t.muted
                },
            ));
        }
        let right_x = bar.x + bar.width;
        frame.render_widget(
            Paragraph::new(Line::from(right)),
            Rect::new(right_x, y, inner.right().saturating_sub(right_x), 1),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_panes_drop_columns_before_the_bar() {
        let wide = columns(60, 15);
        assert_eq!((wide.runs, wide.verdict, wide.accuracy), (5, 6, 9));
        assert_eq!(wide.name + 1 + (5 + 1) + wide.bar + PCT + 6 + 9, 60);
        let narrow = columns(40, 15);
        assert_eq!(narrow.accuracy, 0);
        assert!(narrow.bar >= 8, "{}", narrow.bar);
        let tiny = columns(12, 15);
        assert_eq!((tiny.runs, tiny.verdict, tiny.accuracy), (0, 0, 0));
        assert!(tiny.bar >= 1);
    }
}
