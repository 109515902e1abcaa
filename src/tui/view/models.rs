//! The model picker: a search line and the matching models with how they
//! count (exact or ≈ estimate), context window and input price.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::{layout, pane, title};
use crate::text::{escape, pad_left, pad_right, short_count};
use crate::tui::app::{App, Popup};

pub(super) fn draw(frame: &mut Frame, screen: Rect, app: &App, query: &str, selected: usize) {
    let t = app.theme();
    let area = layout::popup_area(screen, Some(&Popup::Models(Default::default())));
    frame.render_widget(Clear, area);
    let matches = app.model_matches(query);
    let block = pane(
        Line::from(vec![
            title(" model ".into(), t),
            Span::styled(
                format!(
                    "{} of {} (enter picks, esc cancels) ",
                    matches.len(),
                    app.models.len()
                ),
                t.muted,
            ),
        ]),
        true,
        t,
    )
    .style(t.popup);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height == 0 || inner.width < 4 {
        return;
    }
    let search = Line::from(vec![
        Span::styled("search: ", t.muted),
        Span::styled(format!("{}▏", escape::line(query)), t.key),
    ]);
    frame.render_widget(Paragraph::new(search), Rect { height: 1, ..inner });
    let rows = inner.height.saturating_sub(2) as usize;
    if rows == 0 {
        return;
    }
    let w = inner.width as usize;
    // Narrow (the compact layout): the name and how it counts, each about
    // half the width; the window and the price need the full dialog.
    let narrow = w < 60;
    let (count_w, win_w, price_w) = if narrow {
        (w.saturating_sub(3) / 2, 0, 0)
    } else {
        (22, 7, 8)
    };
    let columns = |name: String, counting: String, window: String, price: String| {
        if narrow {
            format!("{name} {}", pad_right(&counting, count_w))
        } else {
            format!(
                "{name} {} {} {}",
                pad_right(&counting, count_w),
                pad_left(&window, win_w),
                pad_left(&price, price_w)
            )
        }
    };
    let name_w = if narrow {
        w.saturating_sub(3 + count_w).max(4)
    } else {
        w.saturating_sub(2 + count_w + win_w + price_w + 3).max(4)
    };
    let head = format!(
        "  {}",
        columns(
            pad_right("name", name_w),
            "counting".to_string(),
            "window".to_string(),
            "$/M in".to_string()
        )
    );
    frame.render_widget(
        Paragraph::new(Span::styled(head, t.muted)),
        Rect::new(inner.x, inner.y + 1, inner.width, 1),
    );
    if matches.is_empty() {
        frame.render_widget(
            Paragraph::new(Span::styled("  no model matches", t.muted)),
            Rect::new(inner.x, inner.y + 2, inner.width, 1),
        );
        return;
    }
    let rows = rows.saturating_sub(1).max(1);
    let offset = selected.saturating_sub(rows - 1);
    let current = app.model().map(|m| m.name.as_str());
    for (row, (i, m)) in matches
        .iter()
        .enumerate()
        .skip(offset)
        .take(rows)
        .enumerate()
    {
        let y = inner.y + 2 + row as u16;
        if y >= inner.bottom() {
            break;
        }
        let counting = if m.counting.is_exact() {
            format!("{} exact", m.counting_name())
        } else {
            m.counting_name()
        };
        let style = if m.counting.is_exact() {
            t.text
        } else {
            t.truncated
        };
        let style = if i == selected {
            style.patch(t.selected)
        } else {
            style
        };
        let mark = if Some(m.name.as_str()) == current {
            "● "
        } else {
            "  "
        };
        let text = format!(
            "{mark}{}",
            columns(
                pad_right(&escape::line(&m.name), name_w),
                counting,
                m.context_window.map_or("-".to_string(), short_count),
                m.input_price.map_or("-".to_string(), |p| format!("{p:.2}")),
            )
        );
        frame.render_widget(
            Paragraph::new(Span::styled(text, style)),
            Rect::new(inner.x, y, inner.width, 1),
        );
    }
}
