//! The budget frontier: the total priority kept and the items kept as the
//! budget runs from 0 to the model's context window, with the current budget
//! marked. Computed off the UI thread by re-running the engine at 41 budgets
//! (counts cached), so it is exact for every strategy and setting.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Chart, Dataset, GraphType, Paragraph};

use super::{pane, spinner, title};
use crate::text::{short_count, width};
use crate::tui::app::App;
use crate::tui::jobs::{JobKind, kept};

pub(super) fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let t = app.theme();
    let mut head = vec![title(" frontier ".into(), t)];
    if let Some((done, total)) = app.jobs.progress.get(&JobKind::Frontier) {
        head.push(Span::styled(
            format!("{} {done}/{total} ", spinner(app.ticks)),
            t.progress,
        ));
    }
    let (Some(frontier), Some(plan)) = (&app.frontier.chart, app.plan()) else {
        let block = pane(Line::from(head), false, t);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        // Nothing is computing after a first load that failed.
        let text = if app.plan().is_none() && app.load_error().is_some() {
            "no plan: the inputs could not be loaded"
        } else if app.plan().is_none() && app.refusal().is_some() {
            "no plan"
        } else {
            "computing…"
        };
        frame.render_widget(
            Paragraph::new(Span::styled(text, t.muted)).wrap(ratatui::widgets::Wrap { trim: true }),
            inner,
        );
        return;
    };
    let (kept_priority, kept_items) = kept(plan);
    let pct = |v: f64, all: f64| if all > 0.0 { v * 100.0 / all } else { 0.0 };
    let prio_pct = pct(kept_priority, frontier.priority_total);
    let items_pct = pct(kept_items as f64, frontier.item_total as f64);
    // The legend says `priority` in full when the title has room for it,
    // so that the budget at its end is never cut (`│ 127k` read as `│ 12`).
    let budget = format!("{} ", app.count_text(plan.budget.total));
    let fixed: usize = head.iter().map(|s| width(&s.content)).sum::<usize>()
        + width(&format!(
            "━ priority {prio_pct:.0}% ━ items {items_pct:.0}% │ {budget}"
        ));
    let room = area.width.saturating_sub(2) as usize;
    let priority_word = if fixed <= room { "priority" } else { "prio" };
    // Narrower still: the items share goes (the chart still draws it), so
    // that the budget stays.
    let items_text = format!("items {items_pct:.0}% ");
    let show_items = fixed - ("priority".len() - priority_word.len()) <= room;
    head.push(Span::styled("━ ", t.chart_priority));
    head.push(Span::styled(
        format!("{priority_word} {prio_pct:.0}% "),
        t.muted,
    ));
    if show_items {
        head.push(Span::styled("━ ", t.chart_items));
        head.push(Span::styled(items_text, t.muted));
    }
    head.push(Span::styled("│ ", t.chart_marker));
    head.push(Span::styled(budget, t.muted));
    let block = pane(Line::from(head), false, t);
    let priority: Vec<(f64, f64)> = frontier
        .points
        .iter()
        .map(|p| (p.budget as f64, pct(p.priority, frontier.priority_total)))
        .collect();
    let items: Vec<(f64, f64)> = frontier
        .points
        .iter()
        .map(|p| {
            (
                p.budget as f64,
                pct(p.items as f64, frontier.item_total as f64),
            )
        })
        .collect();
    let max_x = frontier
        .points
        .last()
        .map_or(1.0, |p| p.budget as f64)
        .max(plan.budget.total as f64)
        .max(1.0);
    let b = plan.budget.total as f64;
    let marker = [(b, 0.0), (b, 100.0)];
    let datasets = vec![
        Dataset::default()
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(t.chart_marker)
            .data(&marker),
        Dataset::default()
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(t.chart_items)
            .data(&items),
        Dataset::default()
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(t.chart_priority)
            .data(&priority),
    ];
    let chart = Chart::new(datasets)
        .block(block)
        .legend_position(None)
        .x_axis(
            Axis::default()
                .bounds([0.0, max_x])
                .style(t.muted)
                .labels(vec![
                    Span::raw("0"),
                    Span::raw(short_count((max_x / 2.0) as usize)),
                    Span::raw(short_count(max_x as usize)),
                ]),
        )
        .y_axis(
            Axis::default()
                .bounds([0.0, 100.0])
                .style(t.muted)
                .labels(vec![Span::raw("0%"), Span::raw("50%"), Span::raw("100%")]),
        );
    frame.render_widget(chart, area);
}
