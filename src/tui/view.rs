//! Drawing: a pure function of the app state, one file per pane or popup.

mod bar;
mod detail;
mod frontier;
mod header;
mod help;
mod history;
mod items;
pub(crate) mod layout;
mod log;
mod models;
mod popups;
mod sections;
mod status;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Paragraph, Wrap};

pub(crate) use bar::BudgetBar;

use crate::engine::{DegradeLevel, ItemPlan, ItemStatus, Reason};

use super::action::View;
use super::app::{App, Pane, Popup};
use super::theme::Theme;
use crate::text::{escape, thousands};

/// Draws the whole screen for `app`. Pure: reads the state, changes nothing.
pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    match app.view() {
        View::History => {
            history::draw(frame, app);
            if layout::too_small(area) {
                return;
            }
        }
        View::Plan => {
            let l = layout::compute(area, app.section_rows_wanted());
            if l.too_small {
                too_small(frame, area, app);
                return;
            }
            if l.compact {
                header::draw_compact(frame, l.header, app);
                match app.focus() {
                    Pane::Sections => sections::draw(frame, l.sections, app),
                    Pane::Items => items::draw(frame, l.items, app),
                    Pane::Detail => detail::draw(frame, l.detail, app),
                }
                status::draw(frame, l.status, app, true);
            } else {
                header::draw(frame, l.header, app);
                sections::draw(frame, l.sections, app);
                items::draw(frame, l.items, app);
                detail::draw(frame, l.detail, app);
                if l.frontier.height > 0 {
                    frontier::draw(frame, l.frontier, app);
                }
                status::draw(frame, l.status, app, false);
            }
        }
    }
    match app.popup() {
        Some(Popup::Help { scroll }) => help::draw(frame, area, app, *scroll),
        Some(Popup::Log { scroll }) => log::draw(frame, area, app, *scroll),
        Some(Popup::Models(m)) => models::draw(frame, area, app, &m.query, m.selected),
        Some(p @ (Popup::Prompt(_) | Popup::Export(_))) => popups::draw(frame, area, app, p),
        None => {}
    }
}

/// How far the help overlay scrolls at the app's screen size.
pub(crate) fn help_max_scroll(app: &App) -> usize {
    let area = layout::popup_area(app.size, Some(&Popup::Help { scroll: 0 }));
    help::lines(app, area.width.saturating_sub(2) as usize)
        .len()
        .saturating_sub(area.height.saturating_sub(2) as usize)
}

/// How far the log popup scrolls at the app's screen size (its last page).
pub(crate) fn log_max_scroll(app: &App) -> usize {
    let area = layout::popup_area(app.size, Some(&Popup::Log { scroll: 0 }));
    log::lines(app, area.width.saturating_sub(2) as usize)
        .len()
        .saturating_sub(area.height.saturating_sub(2) as usize)
}

/// Lines a page of the log popup scrolls.
pub(crate) fn log_page(app: &App) -> usize {
    let area = layout::popup_area(app.size, Some(&Popup::Log { scroll: 0 }));
    (area.height.saturating_sub(3) as usize).max(1)
}

/// Rows the detail pane's lines above the selected item's text take, in a
/// pane `cols` wide inside its borders.
pub(crate) fn detail_info_rows(app: &App, cols: usize) -> usize {
    detail::info_rows(app, cols)
}

fn too_small(frame: &mut Frame, area: Rect, app: &App) {
    let t = app.theme();
    let text = format!(
        "terminal too small ({}x{}); tokenscope needs at least {}x{}. q quits.",
        area.width,
        area.height,
        layout::MIN_WIDTH,
        layout::MIN_HEIGHT
    );
    frame.render_widget(
        Paragraph::new(text)
            .style(t.status_error)
            .wrap(Wrap { trim: true }),
        area,
    );
}

/// A bordered pane with a title; the focused pane's border stands out.
pub(crate) fn pane<'a>(title: Line<'a>, focused: bool, theme: &Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Plain
        })
        .border_style(if focused {
            theme.border_focused
        } else {
            theme.border
        })
        .title(title)
}

/// Whether `pane` has the focus (and no popup covers it).
pub(crate) fn focused(app: &App, pane: Pane) -> bool {
    app.focus() == pane && app.popup().is_none()
}

/// The mark shown before an item: included, pinned, truncated, degraded,
/// excluded.
pub(crate) fn status_mark(status: ItemStatus) -> &'static str {
    match status {
        ItemStatus::Included => "✓",
        ItemStatus::Pinned => "◆",
        ItemStatus::Truncated => "✂",
        ItemStatus::Degraded => "≈",
        ItemStatus::Excluded => "✗",
    }
}

/// The theme slot for an item status.
pub(crate) fn status_style(theme: &Theme, status: ItemStatus) -> Style {
    match status {
        ItemStatus::Included => theme.included,
        ItemStatus::Pinned => theme.pinned,
        ItemStatus::Truncated => theme.truncated,
        ItemStatus::Degraded => theme.degraded,
        ItemStatus::Excluded => theme.excluded,
    }
}

/// A short reason for the items table.
pub(crate) fn short_reason(item: &ItemPlan) -> String {
    match (item.status, item.reason) {
        (ItemStatus::Excluded, Some(r)) => match r {
            Reason::BelowMinPriority => "under min priority",
            Reason::OverSectionBudget => "over budget",
            Reason::BelowCutoff => "below cutoff",
            Reason::PriorityCut => "priority cut",
            Reason::Duplicate => "duplicate",
            Reason::GroupExcluded => "group out",
            Reason::RenderTrim => "render trim",
            Reason::ZeroPriority => "zero priority",
        }
        .to_string(),
        (ItemStatus::Excluded, None) => "excluded".to_string(),
        (ItemStatus::Truncated, _) => format!(
            "{}→{}",
            thousands(item.tokens),
            thousands(item.final_tokens)
        ),
        (ItemStatus::Degraded, _) => degrade_name(item).to_string(),
        (ItemStatus::Pinned, _) => "pinned".to_string(),
        (ItemStatus::Included, _) => String::new(),
    }
}

/// The name of the degrade level an item took (`degraded` when it is not
/// a known level).
pub(crate) fn degrade_name(item: &ItemPlan) -> &'static str {
    item.degrade().map_or("degraded", DegradeLevel::name)
}

/// A span of untrusted text, escaped.
pub(crate) fn safe<'a>(text: &str, style: Style) -> Span<'a> {
    Span::styled(escape::line(text).into_owned(), style)
}

/// A title span in the title style.
pub(crate) fn title<'a>(text: String, theme: &Theme) -> Span<'a> {
    Span::styled(text, theme.title)
}

/// The spinner frame for a tick count.
pub(crate) fn spinner(ticks: u64) -> &'static str {
    const FRAMES: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
    FRAMES[(ticks % FRAMES.len() as u64) as usize]
}
