//! The help overlay, generated from the keymap: every binding's keys and
//! description (the plan's, then the History view's), then the keys that
//! work inside popups.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::{layout, pane, title};
use crate::text::{escape, fit, pad_right, width};
use crate::tui::action::View;
use crate::tui::app::{App, Popup};

/// Words of `text` in lines of at most `cols` columns (a word longer than
/// that is cut).
fn wrap_words(text: &str, cols: usize) -> Vec<String> {
    let cols = cols.max(1);
    let mut out = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let word = fit(word, cols);
        let need = width(&line) + usize::from(!line.is_empty()) + width(&word);
        if need > cols && !line.is_empty() {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    out.push(line);
    out
}

/// The help text lines at `cols` columns inside the borders, for drawing
/// and for tests: every description wraps under itself, so that nothing is
/// cut at 80 columns.
pub(crate) fn lines<'a>(app: &App, cols: usize) -> Vec<Line<'a>> {
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
    // A narrow popup (the compact layout) keeps two thirds for the words.
    let key_cap = if cols < 60 { (cols / 3).max(6) } else { 24 };
    let key_w = keys
        .iter()
        .map(|k| width(k))
        .max()
        .unwrap_or(0)
        .min(key_cap);
    let text_w = cols.saturating_sub(key_w + 2).max(10);
    let entry = |out: &mut Vec<Line<'a>>, k: &str, d: &str| {
        for (i, row) in wrap_words(&escape::line(d), text_w).into_iter().enumerate() {
            let k = if i == 0 { k } else { "" };
            out.push(Line::from(vec![
                Span::styled(format!(" {} ", pad_right(k, key_w)), t.key),
                Span::styled(row, t.text),
            ]));
        }
    };
    let heading = |out: &mut Vec<Line<'a>>, text: &str| {
        out.push(Line::from(""));
        for row in wrap_words(text, cols.saturating_sub(1)) {
            out.push(Line::from(Span::styled(format!(" {row}"), t.title)));
        }
    };
    let mut out = Vec::new();
    for view in [View::Plan, View::History] {
        if view == View::History {
            heading(
                &mut out,
                "In the History view (other keys as above: quit, help, log, scroll, theme)",
            );
        }
        for (b, k) in bindings.iter().zip(&keys) {
            if b.keys.is_empty() || b.view != view {
                continue;
            }
            entry(&mut out, k, &b.description);
        }
    }
    heading(&mut out, "In popups and the filter line");
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
        entry(&mut out, k, d);
    }
    heading(&mut out, "The figures");
    let counts = format!(
        "counts in the panes are compact; {} shows them in full (1,234) and back",
        app.keymap().keys_for(crate::tui::Action::ToggleCounts)
    );
    for (k, d) in [
        (
            "used",
            "what the plan charges against the budget: included items, titles and separators (the sections' sum)",
        ),
        (
            "context",
            "the exact count of what is sent, when it differs from used (pieces can merge where they join)",
        ),
        (
            "reserve",
            "output tokens kept out of the model's window: the budget is at most the window minus the reserve",
        ),
        (
            "moved",
            "tokens a section gave (−) or received (+): what is unused goes to excluded items that fit, best first",
        ),
        (
            "own rules",
            "a section's own strategy and overflow mode (from the item set or profile), which the global ones do not change",
        ),
        ("1.2k", counts.as_str()),
    ] {
        entry(&mut out, k, d);
    }
    heading(&mut out, "The frontier chart");
    for (k, d) in [
        (
            "━ priority",
            "the share of all items' priority the plan would keep at each budget (the engine run again at 41 budgets with these settings)",
        ),
        ("━ items", "the share of the items it would keep"),
        (
            "│ budget",
            "the current budget; the title gives both shares there",
        ),
        (
            "x-axis",
            "budgets from 0 to about twice the current budget (at most the model's window less the reserve): where the lines flatten, more budget buys little",
        ),
    ] {
        entry(&mut out, k, d);
    }
    out.push(Line::from(""));
    for row in wrap_words(
        "Mouse: click a row to select it, wheel to scroll. Keys can be changed in keys.toml (see the README).",
        cols.saturating_sub(1),
    ) {
        out.push(Line::from(Span::styled(format!(" {row}"), t.muted)));
    }
    out
}

pub(super) fn draw(frame: &mut Frame, screen: Rect, app: &App, scroll: usize) {
    let t = app.theme();
    let area = layout::popup_area(screen, Some(&Popup::Help { scroll }));
    frame.render_widget(Clear, area);
    let all = lines(app, area.width.saturating_sub(2) as usize);
    let inner_h = area.height.saturating_sub(2) as usize;
    let max_scroll = all.len().saturating_sub(inner_h);
    let block = pane(
        Line::from(vec![
            title(" keys ".into(), t),
            Span::styled(
                format!(
                    "(esc closes, ↑↓ scroll{}) ",
                    position(scroll.min(max_scroll), inner_h, all.len())
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

/// `; rows 1–21 of 95` when the text is longer than the popup, else empty.
pub(super) fn position(first: usize, rows: usize, total: usize) -> String {
    if total <= rows || rows == 0 {
        return String::new();
    }
    format!(
        "; rows {}–{} of {total}",
        first + 1,
        (first + rows).min(total)
    )
}
