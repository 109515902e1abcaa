//! The status line: the input error (the last good plan stays), messages,
//! warnings, background progress and key hints.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::spinner;
use crate::text::{escape, fit, thousands, width};
use crate::tui::Action;
use crate::tui::app::{App, Pane};
use crate::tui::jobs::JobKind;

/// Draws the status line; in the compact layout (`compact`) the key hints
/// start with the key to the next pane, the only way to the others.
pub(super) fn draw(frame: &mut Frame, area: Rect, app: &App, compact: bool) {
    let t = app.theme();
    // Right side: background work, then the help hint.
    let mut right = String::new();
    if app.load.loading {
        right.push_str(&format!("{} loading  ", spinner(app.ticks)));
    }
    if app.loading_tokenizer().is_some() {
        right.push_str(&format!("{} loading tokenizer  ", spinner(app.ticks)));
    }
    if let Some((done, total)) = app.jobs.progress.get(&JobKind::Pack) {
        right.push_str(&format!(
            "{} counting {}/{}  ",
            spinner(app.ticks),
            thousands(*done),
            thousands(*total)
        ));
    }
    let log_key = app.keymap().keys_for(Action::ShowLog);
    let log_key = log_key.split('/').next().unwrap_or_default();
    let help = if log_key.is_empty() {
        format!("{} help ", app.keymap().keys_for(Action::Help))
    } else {
        format!(
            "{log_key} log · {} help ",
            app.keymap().keys_for(Action::Help)
        )
    };
    let right_w = width(&right) + width(&help);
    let left_w = (area.width as usize).saturating_sub(right_w + 1);

    let (text, style) = if let Some(e) = app.load_error() {
        let what = if app.plan().is_some() {
            "input error (showing the last good plan)"
        } else {
            "loading the inputs failed (nothing to show)"
        };
        (format!(" {what}: {e}"), t.status_error)
    } else if let Some(s) = app.status() {
        (
            format!(" {}", s.text),
            if s.error {
                t.status_error
            } else {
                t.status_info
            },
        )
    } else if let Some(e) = &app.engine.error {
        (format!(" engine: {e}"), t.status_error)
    } else if let Some(w) = &app.counting.warning {
        (format!(" {w}"), t.status_error)
    } else if let Some(w) = app.plan().and_then(|p| p.warnings.first()) {
        let n = app.plan().map_or(0, |p| p.warnings.len());
        let style = if app
            .plan()
            .is_some_and(|p| p.sections.iter().any(|s| s.pinned_overrun))
        {
            t.status_error
        } else {
            t.truncated
        };
        let more = if n > 1 {
            format!(" (+{} more)", n - 1)
        } else {
            String::new()
        };
        (format!(" ⚠ {w}{more}"), style)
    } else {
        let k = |a: Action| {
            app.keymap()
                .keys_for(a)
                .split('/')
                .next()
                .unwrap_or("")
                .to_string()
        };
        let next_pane = if compact {
            let next = match app.focus() {
                Pane::Sections => "items",
                Pane::Items => "detail",
                Pane::Detail => "sections",
            };
            format!("{} {next} · ", k(Action::FocusNext))
        } else {
            String::new()
        };
        (
            format!(
                " {next_pane}{} strategy · {} overflow · {} model · {} budget · {} history · {}/{} share · {} pin · {} undo · {} export · {} save",
                k(Action::StrategyNext),
                k(Action::OverflowNext),
                k(Action::PickModel),
                k(Action::EditBudget),
                k(Action::ToggleHistory),
                k(Action::ShareGrow),
                k(Action::ShareShrink),
                k(Action::TogglePin),
                k(Action::Undo),
                k(Action::Export),
                k(Action::SaveProfile),
            ),
            t.muted,
        )
    };
    let shown = fit(&format!(" {}", escape::one_line(&text)), left_w).into_owned();
    let pad = (area.width as usize).saturating_sub(width(&shown) + right_w);
    let line = Line::from(vec![
        Span::styled(shown, style),
        Span::raw(" ".repeat(pad)),
        Span::styled(right, t.progress),
        Span::styled(help, t.key),
    ]);
    frame.render_widget(Paragraph::new(line), area);
}
