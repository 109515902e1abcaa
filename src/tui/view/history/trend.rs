//! History: the utilisation trend, `Σ used / Σ allocated` per day or ISO
//! week, with the over-allocation (50 %) and under-allocation (95 %) lines.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Chart, Dataset, GraphType};

use super::super::{pane, title};
use super::period_name;
use crate::history::Report;
use crate::tui::app::App;

pub(super) fn draw(frame: &mut Frame, area: Rect, app: &App, report: &Report) {
    let t = app.theme();
    let trend = &report.trend;
    let n = trend.len();
    let head = Line::from(vec![
        title(
            format!(" utilisation by {} ", period_name(report.period)),
            t,
        ),
        Span::styled("━ ", t.chart_trend),
        Span::styled("used/allocated ", t.muted),
        Span::styled("┄ ", t.over_allocated),
        Span::styled("50% over-allocated ", t.muted),
        Span::styled("┄ ", t.under_allocated),
        Span::styled("95% under ", t.muted),
    ]);
    let block = pane(head, false, t);
    let points: Vec<(f64, f64)> = trend
        .iter()
        .enumerate()
        .map(|(i, p)| (i as f64, finite(p.utilization) * 100.0))
        .collect();
    // Half a period of margin on each side, so one period is a visible
    // point and the first and last are not on the border.
    let (x0, x1) = (-0.5, n.max(1) as f64 - 0.5);
    let highest = points.iter().map(|p| p.1).fold(100.0, f64::max);
    let y_max = (highest / 10.0).ceil() * 10.0;
    let over = [(x0, 50.0), (x1, 50.0)];
    let under = [(x0, 95.0), (x1, 95.0)];
    let mut datasets = vec![
        Dataset::default()
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(t.over_allocated)
            .data(&over),
        Dataset::default()
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(t.under_allocated)
            .data(&under),
        Dataset::default()
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(t.chart_trend)
            .data(&points),
    ];
    // Each period as a dot when there is room between them.
    let inner_w = area.width.saturating_sub(8) as usize;
    if n * 3 <= inner_w {
        datasets.push(
            Dataset::default()
                .marker(Marker::Dot)
                .graph_type(GraphType::Scatter)
                .style(t.chart_trend)
                .data(&points),
        );
    }
    let label = |i: usize| Span::raw(trend.get(i).map_or(String::new(), |p| p.period.clone()));
    let x_labels = match n {
        0 => vec![Span::raw(""), Span::raw("")],
        1 => vec![Span::raw(""), label(0), Span::raw("")],
        2 => vec![label(0), label(1)],
        _ => vec![label(0), label((n - 1) / 2), label(n - 1)],
    };
    let y_labels = vec![
        Span::raw("0%"),
        Span::raw(format!("{}%", y_max / 2.0)),
        Span::raw(format!("{y_max}%")),
    ];
    let chart = Chart::new(datasets)
        .block(block)
        .legend_position(None)
        .x_axis(
            Axis::default()
                .bounds([x0, x1])
                .style(t.muted)
                .labels(x_labels),
        )
        .y_axis(
            Axis::default()
                .bounds([0.0, y_max])
                .style(t.muted)
                .labels(y_labels),
        );
    frame.render_widget(chart, area);
}

fn finite(x: f64) -> f64 {
    if x.is_finite() { x.max(0.0) } else { 0.0 }
}
