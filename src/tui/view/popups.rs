//! The one-line prompts (budget, reserve, section size, priority, profile
//! name) and the export dialog.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use super::{layout, pane, title};
use crate::text::escape;
use crate::tui::app::{App, ExportDialog, Popup, Prompt};

pub(super) fn draw(frame: &mut Frame, screen: Rect, app: &App, popup: &Popup) {
    let t = app.theme();
    let area = layout::popup_area(screen, Some(popup));
    frame.render_widget(Clear, area);
    // The compact layout's dialog: shorter lines rather than wrapped ones.
    let narrow = area.width < 60;
    let (head, lines) = match popup {
        Popup::Prompt(Prompt { kind, value, error }) => {
            let (label, hint) = App::prompt_label(kind);
            let mut lines = vec![
                Line::from(vec![
                    Span::styled("> ", t.key),
                    Span::styled(format!("{}▏", escape::line(value)), t.text),
                ]),
                Line::from(Span::styled(hint, t.muted)),
            ];
            if let Some(e) = error {
                lines.push(Line::from(Span::styled(
                    escape::line(e).into_owned(),
                    t.status_error,
                )));
            }
            (format!(" {} ", escape::line(&label)), lines)
        }
        Popup::Export(ExportDialog {
            format,
            path,
            error,
            overwrite,
            ..
        }) => {
            let mut formats = vec![Span::styled("format ", t.muted)];
            let all = app.export_formats();
            if narrow {
                // The chosen format and where it is among them.
                let (name, _) = all[*format % all.len()];
                formats.push(Span::styled(format!("[{name}]"), t.selected.patch(t.key)));
                formats.push(Span::styled(
                    format!(" {} of {}", *format % all.len() + 1, all.len()),
                    t.muted,
                ));
            } else {
                for (i, (name, _)) in all.iter().enumerate() {
                    if i == *format {
                        formats.push(Span::styled(format!("[{name}]"), t.selected.patch(t.key)));
                    } else {
                        formats.push(Span::styled(format!(" {name} "), t.text));
                    }
                    formats.push(Span::raw(" "));
                }
            }
            let mut lines = vec![
                Line::from(formats),
                Line::from(vec![
                    Span::styled("path   ", t.muted),
                    Span::styled(format!("{}▏", escape::line(path)), t.text),
                ]),
            ];
            if *overwrite {
                // The question stands out, in place of the usual hint.
                lines.push(Line::from(vec![
                    Span::styled("This file exists. Replace it? ", t.status_error),
                    Span::styled("y/enter", t.key),
                    Span::styled(" replaces, ", t.text),
                    Span::styled("n/esc", t.key),
                    Span::styled(" goes back", t.text),
                ]));
            } else {
                lines.push(Line::from(Span::styled(
                    if narrow {
                        "tab format · enter write · esc back"
                    } else {
                        "tab changes the format; written atomically; enter writes, esc cancels"
                    },
                    t.muted,
                )));
            }
            if let Some(e) = error {
                lines.push(Line::from(Span::styled(
                    escape::line(e).into_owned(),
                    t.status_error,
                )));
            }
            (" export report ".to_string(), lines)
        }
        _ => return,
    };
    let block = pane(Line::from(title(head, t)), true, t).style(t.popup);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}
