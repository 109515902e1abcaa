//! The History view (full screen): the utilisation trend by day or week, the
//! utilisation by task type, suggested budgets and recent alerts. Every
//! figure comes from [`crate::history::report`], the analysis behind
//! `tokenscope history report`. Reading, empty and error states say what to
//! do; a read that fails keeps the last good report under an error banner.

mod alerts;
mod suggestions;
mod trend;
mod types;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{layout, spinner};
use crate::history::{Period, Report};
use crate::text::{escape, fit, percent, width};
use crate::tui::Action;
use crate::tui::action::View;
use crate::tui::app::App;

/// Draws the History view over the whole screen.
pub(super) fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    let state = &app.history;
    let report = state.report.as_deref();
    let banner = state.error.is_some() && report.is_some();
    let l = layout::history(
        area,
        report.map_or(0, |r| r.types.len()),
        report.map_or(0, |r| r.alerts.len()),
        banner,
    );
    if l.too_small {
        compact(frame, area, app);
        return;
    }
    title_line(frame, l.title, app, l.compact);
    summary_line(frame, l.summary, app);
    if banner && let Some(e) = &state.error {
        let t = app.theme();
        let text = format!(" {} (showing the last good read)", escape::one_line(e));
        frame.render_widget(
            Paragraph::new(Span::styled(
                fit(&text, l.banner.width as usize).into_owned(),
                t.status_error,
            )),
            l.banner,
        );
    }
    match report {
        Some(r) if r.records > 0 => {
            let first = state
                .scroll
                .min(r.types.len().saturating_sub(layout::history_rows(&l)));
            types::draw(frame, l.types, app, r, first);
            // The compact layout has room for the task types only.
            if !l.compact {
                trend::draw(frame, l.trend, app, r);
                suggestions::draw(frame, l.suggestions, app, r, first);
                alerts::draw(frame, l.alerts, app, r);
            }
        }
        Some(_) => {
            frame.render_widget(
                Paragraph::new(empty_lines(app)).wrap(Wrap { trim: false }),
                l.body,
            );
        }
        None => {
            frame.render_widget(
                Paragraph::new(no_report_lines(app)).wrap(Wrap { trim: false }),
                l.body,
            );
        }
    }
    status_line(frame, l.status, app);
}

/// The file in words, escaped.
fn file_name(app: &App) -> String {
    match &app.history.options.file {
        Some(f) => escape::line(&f.display().to_string()).into_owned(),
        None => "(no history file)".to_string(),
    }
}

/// The date of an RFC 3339 time (`2025-06-29`).
fn date(time: &str) -> &str {
    time.get(..10).unwrap_or(time)
}

fn period_name(period: Period) -> &'static str {
    match period {
        Period::Day => "day",
        Period::Week => "week",
    }
}

/// The title: the file, how many records over what time, the period. In
/// the compact layout the file comes last (the figures fit, the name is
/// cut).
fn title_line(frame: &mut Frame, area: Rect, app: &App, compact: bool) {
    let t = app.theme();
    let state = &app.history;
    let file = Span::styled(format!(" {} ", file_name(app)), t.muted);
    let mut spans = vec![Span::styled(" History ", t.header)];
    if !compact {
        spans.push(file.clone());
    }
    if let Some(r) = state.report.as_deref().filter(|r| r.records > 0) {
        let span = match (&r.from, &r.to) {
            (Some(a), Some(b)) if date(a) == date(b) => format!(" · {}", date(a)),
            (Some(a), Some(b)) => format!(" · {} → {}", date(a), date(b)),
            _ => String::new(),
        };
        spans.push(Span::styled(
            format!(
                "· {} record{}{span} · by {}",
                crate::text::thousands(r.records),
                if r.records == 1 { "" } else { "s" },
                period_name(state.period)
            ),
            t.text,
        ));
    }
    if compact {
        spans.push(file);
    }
    let right = if state.loading {
        format!("{} reading ", spinner(app.ticks))
    } else {
        String::new()
    };
    let left: String = spans.iter().map(|s| s.content.as_ref()).collect();
    let room = (area.width as usize).saturating_sub(width(&right));
    let pad = room.saturating_sub(width(&left));
    spans.push(Span::raw(" ".repeat(pad)));
    spans.push(Span::styled(right, t.progress));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn summary_line(frame: &mut Frame, area: Rect, app: &App) {
    let t = app.theme();
    let Some(r) = app.history.report.as_deref().filter(|r| r.records > 0) else {
        return;
    };
    let mut spans = Vec::new();
    let mut figure = |label: &str, value: Option<f64>, style| {
        if let Some(v) = value {
            if !spans.is_empty() {
                spans.push(Span::styled(" · ", t.muted));
            }
            spans.push(Span::styled(format!("{label} "), t.muted));
            spans.push(Span::styled(percent(v), style));
        }
    };
    figure(" utilisation", r.avg_utilization, t.text);
    figure("over-allocated", r.over_allocation_rate, t.over_allocated);
    figure(
        "under-allocated",
        r.under_allocation_rate,
        t.under_allocated,
    );
    figure("prediction accuracy", r.accuracy, t.text);
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn status_line(frame: &mut Frame, area: Rect, app: &App) {
    let t = app.theme();
    let keymap = app.keymap();
    let first = |a: Action| {
        keymap
            .keys_in(View::History, a)
            .split('/')
            .next()
            .unwrap_or("")
            .to_string()
    };
    let help = format!("{} help ", first(Action::Help));
    let (text, style) = match app.status() {
        Some(s) => (
            format!(" {}", escape::one_line(&s.text)),
            if s.error {
                t.status_error
            } else {
                t.status_info
            },
        ),
        None => {
            let other = match app.history.period {
                Period::Day => "by week",
                Period::Week => "by day",
            };
            (
                format!(
                    " {} back · {} read again · {} {other} · {}/{} scroll · {} quit",
                    keymap.keys_in(View::History, Action::ToggleHistory),
                    first(Action::ReloadHistory),
                    first(Action::ToggleTrendPeriod),
                    first(Action::Down),
                    first(Action::Up),
                    first(Action::Quit),
                ),
                t.muted,
            )
        }
    };
    let left_w = (area.width as usize).saturating_sub(width(&help) + 1);
    let shown = fit(&text, left_w).into_owned();
    let pad = (area.width as usize).saturating_sub(width(&shown) + width(&help));
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(shown, style),
            Span::raw(" ".repeat(pad)),
            Span::styled(help, t.key),
        ])),
        area,
    );
}

/// The commands that record runs, naming the file when it was given.
fn record_hints(app: &App) -> Vec<String> {
    let opts = &app.history.options;
    let (history, record) = match (&opts.file, opts.given) {
        (Some(f), true) => {
            let f = escape::line(&f.display().to_string()).into_owned();
            (format!(" --history {f}"), format!(" --record-history {f}"))
        }
        _ => (String::new(), String::new()),
    };
    vec![
        format!(
            "tokenscope history record --task ID --type TYPE --complexity 0-100 --allocated N --used N{history}"
        ),
        format!("tokenscope pack FILE --record TYPE{record}"),
        format!("tokenscope history import FILE --map theirs=ours,...{history}"),
    ]
}

fn empty_lines<'a>(app: &App) -> Vec<Line<'a>> {
    let t = app.theme();
    let mut out = vec![
        Line::from(""),
        Line::from(vec![
            Span::styled(" No usage history yet in ", t.text),
            Span::styled(file_name(app), t.title),
            Span::styled(".", t.text),
        ]),
        Line::from(""),
        Line::from(Span::styled(
            " Record runs to see the utilisation trend, the task types and suggested budgets here:",
            t.text,
        )),
    ];
    for hint in record_hints(app) {
        out.push(Line::from(Span::styled(format!("   {hint}"), t.key)));
    }
    out.push(Line::from(""));
    out.push(Line::from(Span::styled(
        format!(
            " Then press {} to read the file again.",
            app.keymap()
                .keys_in(View::History, Action::ReloadHistory)
                .split('/')
                .next()
                .unwrap_or("")
        ),
        t.muted,
    )));
    out
}

fn no_report_lines<'a>(app: &App) -> Vec<Line<'a>> {
    let t = app.theme();
    let state = &app.history;
    let reload = app
        .keymap()
        .keys_in(View::History, Action::ReloadHistory)
        .split('/')
        .next()
        .unwrap_or("")
        .to_string();
    match &state.error {
        Some(e) => vec![
            Line::from(""),
            Line::from(Span::styled(" Cannot read the usage history:", t.title)),
            Line::from(Span::styled(
                format!("   {}", escape::one_line(e)),
                t.status_error,
            )),
            Line::from(""),
            Line::from(Span::styled(
                format!(" Fix the file and press {reload} to read it again."),
                t.muted,
            )),
        ],
        None if state.loading => vec![
            Line::from(""),
            Line::from(Span::styled(
                format!(" {} reading {}…", spinner(app.ticks), file_name(app)),
                t.progress,
            )),
        ],
        None => vec![
            Line::from(""),
            Line::from(Span::styled(
                format!(" Press {reload} to read {}.", file_name(app)),
                t.muted,
            )),
        ],
    }
}

/// Below the smallest full layout: the essentials as wrapped text.
fn compact(frame: &mut Frame, area: Rect, app: &App) {
    let t = app.theme();
    let state = &app.history;
    let back = app.keymap().keys_in(View::History, Action::ToggleHistory);
    let (text, style) = match (state.report.as_deref(), &state.error) {
        (None, Some(e)) => (format!("History: {}", escape::one_line(e)), t.status_error),
        (Some(r), _) if r.records > 0 => (summary_text(r), t.text),
        (Some(_), _) => (
            format!("History: no records yet in {}.", file_name(app)),
            t.text,
        ),
        (None, None) => ("History: reading…".to_string(), t.progress),
    };
    let text = format!(
        "{text} Enlarge to {}x{} for the task types, {}x{} for the charts; {back} returns.",
        layout::MIN_WIDTH,
        layout::MIN_HEIGHT,
        layout::FULL_WIDTH,
        layout::FULL_HEIGHT
    );
    frame.render_widget(
        Paragraph::new(Span::styled(text, style)).wrap(Wrap { trim: true }),
        area,
    );
}

fn summary_text(r: &Report) -> String {
    let mut s = format!(
        "History: {} record{}",
        crate::text::thousands(r.records),
        if r.records == 1 { "" } else { "s" }
    );
    if let Some(u) = r.avg_utilization {
        s.push_str(&format!(", utilisation {}", percent(u)));
    }
    s.push('.');
    s
}
