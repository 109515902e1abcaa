//! The mouse: click a row to select it, wheel to scroll the pane under the
//! pointer (in the History view: the task types), click outside a popup to
//! close it.

use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};

use super::{App, Pane, Popup};
use crate::tui::action::View;
use crate::tui::view::layout;

fn inside(r: Rect, col: u16, row: u16) -> bool {
    r.contains(Position { x: col, y: row })
}

impl App {
    /// A mouse event.
    pub fn on_mouse(&mut self, event: MouseEvent) {
        let (col, row) = (event.column, event.row);
        if self.popup.is_some() {
            let help_max = crate::tui::view::help_max_scroll(self);
            let log_max = crate::tui::view::log_max_scroll(self);
            match (event.kind, &mut self.popup) {
                (MouseEventKind::Down(MouseButton::Left), _) => {
                    let area = layout::popup_area(self.size, self.popup.as_ref());
                    if !inside(area, col, row) {
                        self.popup = None;
                    }
                }
                // The wheel scrolls the help and the message log.
                (MouseEventKind::ScrollDown, Some(Popup::Help { scroll })) => {
                    *scroll = (*scroll + 3).min(help_max)
                }
                (MouseEventKind::ScrollUp, Some(Popup::Help { scroll })) => {
                    *scroll = scroll.saturating_sub(3)
                }
                (MouseEventKind::ScrollDown, Some(Popup::Log { scroll })) => {
                    *scroll = (*scroll + 3).min(log_max)
                }
                (MouseEventKind::ScrollUp, Some(Popup::Log { scroll })) => {
                    *scroll = scroll.saturating_sub(3)
                }
                _ => return,
            }
            self.dirty = true;
            return;
        }
        if self.view == View::History {
            // The wheel scrolls the task types; clicks do nothing there.
            match event.kind {
                MouseEventKind::ScrollDown => self.history_scroll_by(3),
                MouseEventKind::ScrollUp => self.history_scroll_by(-3),
                _ => {}
            }
            return;
        }
        let l = layout::compute(self.size, self.section_rows_wanted());
        if l.too_small {
            return;
        }
        let pane = if l.compact {
            // One pane over the body: the focused one.
            inside(l.sections, col, row).then_some(self.focus)
        } else if inside(l.sections, col, row) {
            Some(Pane::Sections)
        } else if inside(l.items, col, row) {
            Some(Pane::Items)
        } else if inside(l.detail, col, row) {
            Some(Pane::Detail)
        } else {
            None
        };
        let Some(pane) = pane else { return };
        match event.kind {
            MouseEventKind::Down(MouseButton::Left) => {
                // Rows start below the border and the column header.
                match pane {
                    Pane::Sections => {
                        if let Some(i) = layout::row_at(l.sections, row) {
                            let idx = self.sections.offset + i;
                            let n = self.engine.plan.as_ref().map_or(0, |p| p.sections.len());
                            if idx < n {
                                self.select_section(idx);
                            } else {
                                self.focus = Pane::Sections;
                            }
                        } else {
                            self.focus = Pane::Sections;
                        }
                    }
                    Pane::Items => {
                        if let Some(i) = layout::row_at(l.items, row) {
                            let idx = self.items.offset + i;
                            if idx < self.items.visible.len() {
                                self.select_item(idx);
                            } else {
                                self.focus = Pane::Items;
                            }
                        } else {
                            self.focus = Pane::Items;
                        }
                    }
                    Pane::Detail => self.focus = Pane::Detail,
                }
                self.dirty = true;
            }
            MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
                let delta = if matches!(event.kind, MouseEventKind::ScrollDown) {
                    3
                } else {
                    -3
                };
                let focus = self.focus;
                self.focus = pane;
                self.move_by(delta);
                self.focus = focus;
                self.dirty = true;
            }
            _ => {}
        }
    }
}
