//! The help overlay, generated from the keymap: every binding's keys and
//! description (the plan's, then the History view's), then the keys that
//! work inside popups.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::{layout, pane, title};
use crate::tui::action::View;
use crate::tui::app::{App, Popup};
use crate::tui::text::{pad_right, width};

/// The help text lines, for drawing and for tests.
pub(crate) fn lines<'a>(app: &App) -> Vec<Line<'a>> {
    let t = app.theme();
    let bindings = app.keymap().bindings();
    let keys: Vec<String> = bindings
        .iter()
        .map(|b| {
            b.keys
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .collect();
    let key_w = keys.iter().map(|k| width(k)).max().unwrap_or(0).min(24);
    let mut out = Vec::new();
    for view in [View::Plan, View::History] {
        if view == View::History {
            out.push(Line::from(""));
            out.push(Line::from(Span::styled(
                " In the History view (other keys as above: quit, help, log, scroll, theme)",
                t.title,
            )));
        }
        for (b, k) in bindings.iter().zip(&keys) {
            if b.keys.is_empty() || b.view != view {
                continue;
            }
            out.push(Line::from(vec![
                Span::styled(format!(" {} ", pad_right(k, key_w)), t.key),
                Span::styled(b.description.clone(), t.text),
            ]));
        }
    }
    out.push(Line::from(""));
    out.push(Line::from(Span::styled(
        " In popups and the filter line",
        t.title,
    )));
    for (k, d) in [
        ("enter", "confirm"),
        ("esc, ctrl-c", "cancel"),
        (
            "backspace",
            "delete a character; ctrl-u clears, ctrl-w deletes a word",
        ),
        ("↑ ↓", "choose a model; type to search by name or provider"),
        ("tab, ← →", "change the export format"),
    ] {
        out.push(Line::from(vec![
            Span::styled(format!(" {} ", pad_right(k, key_w)), t.key),
            Span::styled(d, t.text),
        ]));
    }
    out.push(Line::from(""));
    out.push(Line::from(Span::styled(" The figures", t.title)));
    for (k, d) in [
        ("used", "what the plan charges against the budget:"),
        (
            "",
            "included items, titles and separators (the sections' sum)",
        ),
        (
            "context",
            "the exact count of what is sent, when it differs",
        ),
        ("", "from used (pieces can merge where they join)"),
        ("reserve", "output tokens kept out of the model's window:"),
        ("", "the budget is at most the window minus the reserve"),
        (
            "moved",
            "tokens a section gave (−) or received (+): what is",
        ),
        ("", "unused goes to excluded items that fit, best first"),
    ] {
        out.push(Line::from(vec![
            Span::styled(format!(" {} ", pad_right(k, key_w)), t.key),
            Span::styled(d, t.text),
        ]));
    }
    out.push(Line::from(""));
    out.push(Line::from(Span::styled(
        " Mouse: click a row to select it, wheel to scroll. Keys can be changed in keys.toml (see the README).",
        t.muted,
    )));
    out
}

pub(super) fn draw(frame: &mut Frame, screen: Rect, app: &App, scroll: usize) {
    let t = app.theme();
    let area = layout::popup_area(screen, Some(&Popup::Help { scroll }));
    frame.render_widget(Clear, area);
    let block = pane(
        Line::from(vec![
            title(" keys ".into(), t),
            Span::styled("(esc closes, ↑↓ scroll) ", t.muted),
        ]),
        true,
        t,
    )
    .style(t.popup);
    let all = lines(app);
    let inner_h = area.height.saturating_sub(2) as usize;
    let max_scroll = all.len().saturating_sub(inner_h);
    let shown: Vec<Line> = all.into_iter().skip(scroll.min(max_scroll)).collect();
    frame.render_widget(Paragraph::new(shown).block(block), area);
}
