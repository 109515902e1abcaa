//! The budget bar: a one-line utilisation bar with eighth-block precision.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::widgets::Widget;

const PARTIAL: [&str; 8] = [" ", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];

/// A utilisation bar: `ratio` of the width filled with `█` (the last cell
/// partly, in eighths), the rest `░`. A ratio above 1 fills the bar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct BudgetBar {
    /// Used / available, 0.0 and up.
    pub(crate) ratio: f64,
    /// The filled part's style.
    pub(crate) fill: Style,
    /// The empty part's style.
    pub(crate) empty: Style,
}

impl Widget for BudgetBar {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if area.width == 0 || area.height == 0 {
            return;
        }
        let width = area.width as usize;
        let ratio = if self.ratio.is_finite() {
            self.ratio.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let eighths = (ratio * width as f64 * 8.0).round() as usize;
        let full = eighths / 8;
        let part = eighths % 8;
        let y = area.y;
        for i in 0..width {
            let x = area.x + i as u16;
            let (symbol, style) = if i < full {
                ("█", self.fill)
            } else if i == full && part > 0 {
                (PARTIAL[part], self.fill)
            } else {
                ("░", self.empty)
            };
            if let Some(cell) = buf.cell_mut((x, y)) {
                cell.set_symbol(symbol).set_style(style);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(ratio: f64, width: u16) -> String {
        let area = Rect::new(0, 0, width, 1);
        let mut buf = Buffer::empty(area);
        BudgetBar {
            ratio,
            fill: Style::default(),
            empty: Style::default(),
        }
        .render(area, &mut buf);
        (0..width)
            .map(|x| buf[(x, 0)].symbol().to_string())
            .collect()
    }

    #[test]
    fn exact_cells() {
        assert_eq!(render(0.0, 4), "░░░░");
        assert_eq!(render(0.5, 4), "██░░");
        assert_eq!(render(1.0, 4), "████");
        assert_eq!(render(2.5, 4), "████");
        assert_eq!(render(0.5 + 1.0 / 32.0, 4), "██▏░");
        assert_eq!(render(f64::NAN, 3), "░░░");
        assert_eq!(render(0.3, 0), "");
    }
}
