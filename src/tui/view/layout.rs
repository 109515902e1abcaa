//! Where each pane goes, as a pure function of the terminal size, shared by
//! drawing and mouse hit-testing.
//!
//! From [`FULL_WIDTH`] x [`FULL_HEIGHT`] every pane is on screen. Below
//! that, down to [`MIN_WIDTH`] x [`MIN_HEIGHT`], the compact layout shows a
//! two-line header (the budget used and total, the items in and out), the
//! focused pane over the whole body (the focus keys switch between the
//! sections, the items and the detail) and the status line. Below the
//! minimum the screen says it is too small.

use ratatui::layout::Rect;

use crate::tui::app::Popup;

/// The smallest terminal width the inspector draws in (compact below
/// [`FULL_WIDTH`]).
pub(crate) const MIN_WIDTH: u16 = 40;
/// The smallest terminal height the inspector draws in (compact below
/// [`FULL_HEIGHT`]).
pub(crate) const MIN_HEIGHT: u16 = 12;
/// The smallest width at which every pane is on screen at once.
pub(crate) const FULL_WIDTH: u16 = 60;
/// The smallest height at which every pane is on screen at once.
pub(crate) const FULL_HEIGHT: u16 = 16;

/// Whether a screen of `size` is below the minimum.
pub(crate) fn too_small(size: Rect) -> bool {
    size.width < MIN_WIDTH || size.height < MIN_HEIGHT
}

/// Whether a screen of `size` uses the compact layout.
pub(crate) fn is_compact(size: Rect) -> bool {
    !too_small(size) && (size.width < FULL_WIDTH || size.height < FULL_HEIGHT)
}

/// The rectangles of one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Areas {
    /// The whole screen.
    pub(crate) screen: Rect,
    /// The header (three lines).
    pub(crate) header: Rect,
    /// The sections table.
    pub(crate) sections: Rect,
    /// The items of the selected section.
    pub(crate) items: Rect,
    /// The selected item's text.
    pub(crate) detail: Rect,
    /// The budget frontier chart (zero-sized when there is no room).
    pub(crate) frontier: Rect,
    /// The status line.
    pub(crate) status: Rect,
    /// Whether the screen is below [`MIN_WIDTH`] x [`MIN_HEIGHT`].
    pub(crate) too_small: bool,
    /// The compact layout: the header has two lines, and the sections, the
    /// items and the detail share the body (only the focused one is drawn).
    pub(crate) compact: bool,
}

/// Lays out a screen of `size` with `sections` section rows wanted.
pub(crate) fn compute(size: Rect, sections: usize) -> Areas {
    let screen = Rect::new(0, 0, size.width, size.height);
    if too_small(size) {
        return Areas {
            screen,
            too_small: true,
            ..Areas::default()
        };
    }
    if is_compact(size) {
        let body = Rect::new(0, 2, size.width, size.height - 3);
        return Areas {
            screen,
            header: Rect::new(0, 0, size.width, 2),
            sections: body,
            items: body,
            detail: body,
            frontier: Rect::new(0, body.bottom(), size.width, 0),
            status: Rect::new(0, size.height - 1, size.width, 1),
            too_small: false,
            compact: true,
        };
    }
    let header = Rect::new(0, 0, size.width, 3);
    let status = Rect::new(0, size.height - 1, size.width, 1);
    let body_y = 3;
    let body_h = size.height - 4;
    let left_w = (size.width as u32 * 55 / 100) as u16;
    let right_w = size.width - left_w;
    // Sections: a row each plus borders and the column header, at most
    // 45 % of the body, at least 5 rows.
    let want = (sections as u16).saturating_add(3);
    let max_sections = (body_h as u32 * 45 / 100).max(5) as u16;
    let sections_h = want
        .clamp(5, max_sections.max(5))
        .min(body_h.saturating_sub(5));
    let sections_r = Rect::new(0, body_y, left_w, sections_h);
    let items = Rect::new(0, body_y + sections_h, left_w, body_h - sections_h);
    let (detail, frontier) = if body_h >= 18 {
        let fh = (body_h as u32 * 42 / 100) as u16;
        (
            Rect::new(left_w, body_y, right_w, body_h - fh),
            Rect::new(left_w, body_y + body_h - fh, right_w, fh),
        )
    } else {
        (
            Rect::new(left_w, body_y, right_w, body_h),
            Rect::new(left_w, body_y + body_h, right_w, 0),
        )
    };
    Areas {
        screen,
        header,
        sections: sections_r,
        items,
        detail,
        frontier,
        status,
        too_small: false,
        compact: false,
    }
}

/// The data row under screen row `row` in a bordered table pane with a
/// column header, if any.
pub(crate) fn row_at(pane: Rect, row: u16) -> Option<usize> {
    let first = pane.y + 2;
    let end = pane.y + pane.height.saturating_sub(1);
    (row >= first && row < end).then(|| (row - first) as usize)
}

/// A rectangle of `width` x `height` centred in `area`, shrunk to fit.
pub(crate) fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

/// Where a popup is drawn.
pub(crate) fn popup_area(size: Rect, popup: Option<&Popup>) -> Rect {
    let screen = Rect::new(0, 0, size.width, size.height);
    let margin = |w: u16, h: u16| {
        centered(
            screen,
            w.min(size.width.saturating_sub(2)).max(1),
            h.min(size.height.saturating_sub(2)).max(1),
        )
    };
    match popup {
        Some(Popup::Help { .. }) => margin(84, 40),
        Some(Popup::Log { .. }) => margin(110, 40),
        Some(Popup::Models(_)) => margin(78, 22),
        Some(Popup::Prompt(_)) => margin(66, 7),
        Some(Popup::Export(_)) => margin(70, 8),
        None => Rect::default(),
    }
}

/// The rectangles of the History view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct HistoryAreas {
    /// The whole screen.
    pub(crate) screen: Rect,
    /// The title line: the file, the number of records, the time span.
    pub(crate) title: Rect,
    /// The overall figures.
    pub(crate) summary: Rect,
    /// The error of the last read, above the last good report (zero-sized
    /// when there is none).
    pub(crate) banner: Rect,
    /// Everything between the banner and the status line (for the empty,
    /// loading and error states).
    pub(crate) body: Rect,
    /// The utilisation trend chart.
    pub(crate) trend: Rect,
    /// Utilisation by task type.
    pub(crate) types: Rect,
    /// Suggested budgets by task type.
    pub(crate) suggestions: Rect,
    /// Recent alerts.
    pub(crate) alerts: Rect,
    /// The status line.
    pub(crate) status: Rect,
    /// Whether the screen is below [`MIN_WIDTH`] x [`MIN_HEIGHT`].
    pub(crate) too_small: bool,
    /// The compact layout: the task types take the whole body; the trend,
    /// the suggestions and the alerts have no room.
    pub(crate) compact: bool,
}

/// Lays out the History view for `types` task types and `alerts` alerts,
/// with or without an error banner. The trend gets at least 40 % of the
/// body, the task types what they need, the alerts up to a third; in the
/// compact layout the task types get the body.
pub(crate) fn history(size: Rect, types: usize, alerts: usize, banner: bool) -> HistoryAreas {
    let screen = Rect::new(0, 0, size.width, size.height);
    if too_small(size) {
        return HistoryAreas {
            screen,
            too_small: true,
            ..HistoryAreas::default()
        };
    }
    let w = size.width;
    let top = if banner { 3 } else { 2 };
    let body_h = size.height - top - 1;
    let body = Rect::new(0, top, w, body_h);
    if is_compact(size) {
        let none = Rect::new(0, top, 0, 0);
        return HistoryAreas {
            screen,
            title: Rect::new(0, 0, w, 1),
            summary: Rect::new(0, 1, w, 1),
            banner: Rect::new(0, 2, w, u16::from(banner)),
            body,
            trend: none,
            types: body,
            suggestions: none,
            alerts: none,
            status: Rect::new(0, size.height - 1, w, 1),
            too_small: false,
            compact: true,
        };
    }
    let alerts_want = (alerts.max(1) as u16).saturating_add(2);
    let mut alerts_h = alerts_want.min((body_h / 3).max(3)).max(3);
    let mut chart_h = (body_h as u32 * 40 / 100).max(6) as u16;
    let mid_want = (types as u16).saturating_add(3);
    let mut mid_h = body_h.saturating_sub(chart_h + alerts_h);
    if mid_h > mid_want {
        chart_h += mid_h - mid_want;
        mid_h = mid_want;
    }
    // At least one task type row: take it from the chart, then the alerts.
    while mid_h < 4 && chart_h > 5 {
        chart_h -= 1;
        mid_h += 1;
    }
    while mid_h < 4 && alerts_h > 3 {
        alerts_h -= 1;
        mid_h += 1;
    }
    let left_w = (w as u32 * 55 / 100) as u16;
    let trend = Rect::new(0, top, w, chart_h);
    let mid_y = top + chart_h;
    HistoryAreas {
        screen,
        title: Rect::new(0, 0, w, 1),
        summary: Rect::new(0, 1, w, 1),
        banner: Rect::new(0, 2, w, u16::from(banner)),
        body,
        trend,
        types: Rect::new(0, mid_y, left_w, mid_h),
        suggestions: Rect::new(left_w, mid_y, w - left_w, mid_h),
        alerts: Rect::new(0, mid_y + mid_h, w, body_h - chart_h - mid_h),
        status: Rect::new(0, size.height - 1, w, 1),
        too_small: false,
        compact: false,
    }
}

/// How many task type rows the History view shows (inside the borders,
/// below the column header).
pub(crate) fn history_rows(areas: &HistoryAreas) -> usize {
    areas.types.height.saturating_sub(3) as usize
}
