//! The sections pane: per section the allocated, final and used tokens, a
//! utilisation bar, tokens moved by reallocation, included/excluded counts.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{BudgetBar, focused, pane, title};
use crate::engine::Plan;
use crate::text::{escape, pad_left, pad_right};
use crate::tokens::Accuracy;
use crate::tui::app::{App, Pane};

/// Net tokens a section received (positive) or gave (negative) by
/// reallocation, the reserved pool included.
pub(crate) fn moved(plan: &Plan, section: &str) -> i64 {
    plan.reallocations.iter().fold(0i64, |acc, t| {
        let n = t.tokens as i64;
        if t.to == section {
            acc + n
        } else if t.from == section {
            acc - n
        } else {
            acc
        }
    })
}

pub(super) fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let t = app.theme();
    let is_focused = focused(app, Pane::Sections);
    let Some(plan) = app.plan() else {
        frame.render_widget(
            pane(Line::from(title(" sections ".into(), t)), is_focused, t),
            area,
        );
        return;
    };
    let block = pane(
        Line::from(vec![
            title(format!(" sections ({}) ", plan.sections.len()), t),
            Span::styled(
                match plan.accuracy() {
                    Accuracy::Exact => String::new(),
                    estimate => format!("{} ", estimate.describe("estimated counts")),
                },
                t.truncated,
            ),
        ]),
        is_focused,
        t,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.width < 10 || inner.height == 0 {
        return;
    }
    // Columns: name, alloc, final, used, bar, moved, in/out, and the
    // section's own strategy/overflow when any section has them. Widths
    // follow the figures (compact or in full); when the pane is narrow the
    // bar goes first, then the `alloc` column.
    let w = inner.width as usize;
    let moved_text = |m: i64| match m {
        0 => "·".to_string(),
        m if m > 0 => format!("+{}", app.count_text(m as usize)),
        m => format!("−{}", app.count_text(m.unsigned_abs() as usize)),
    };
    let rules: Vec<String> = plan
        .sections
        .iter()
        .map(|s| section_rules(app, &s.name))
        .collect();
    let any_rules = rules.iter().any(|r| !r.is_empty());
    let widest = |f: &dyn Fn(&crate::engine::SectionPlan) -> String, min: usize| {
        plan.sections
            .iter()
            .map(|s| crate::text::width(&f(s)))
            .max()
            .unwrap_or(0)
            .max(min)
    };
    let num = widest(
        &|s| {
            [s.allocated, s.final_budget, s.used]
                .map(|n| app.count_text(n))
                .into_iter()
                .max_by_key(|t| t.len())
                .unwrap_or_default()
        },
        5,
    );
    let moved_w = widest(&|s| moved_text(moved(plan, &s.name)), 5);
    let inout_w = widest(&|s| format!("{}/{}", s.included, s.excluded), 6);
    let rules_want = rules
        .iter()
        .map(|r| crate::text::width(r))
        .max()
        .unwrap_or(0)
        .max(9);
    let rules_min = if any_rules { 5 } else { 0 };
    let name_min = 7;
    // Everything but the name, the bar and the rules, with the spaces
    // before each column.
    let mut show_alloc = true;
    let mut show_moved = true;
    let mut fixed = (num + 1) * 3 + (moved_w + 1) + (inout_w + 1);
    let rules_need = rules_min + usize::from(any_rules);
    if name_min + fixed + rules_need > w {
        show_alloc = false;
        fixed -= num + 1;
    }
    if name_min + fixed + rules_need > w {
        // The detail pane lists what a section gave or received.
        show_moved = false;
        fixed -= moved_w + 1;
    }
    let flexible = w.saturating_sub(fixed);
    let longest = plan
        .sections
        .iter()
        .map(|s| crate::text::width(&escape::line(&s.name)))
        .max()
        .unwrap_or(7);
    // The name first (what the longest needs, up to 45 % of what is
    // left), then the rules, then the bar when it is worth drawing.
    let mut name_w = longest.clamp(name_min, (flexible * 45 / 100).max(name_min));
    let mut rest = flexible.saturating_sub(name_w);
    let mut rules_w = if any_rules {
        let w = rules_want.min(rest.saturating_sub(1)).max(1);
        rest = rest.saturating_sub(w + 1);
        w
    } else {
        0
    };
    let mut bar_w = rest.saturating_sub(1);
    if bar_w < 3 {
        // No bar: what is left goes to the rules (up to what they need),
        // then to the name.
        bar_w = 0;
        if any_rules {
            let more = rules_want.saturating_sub(rules_w).min(rest);
            rules_w += more;
            rest -= more;
        }
        name_w += rest;
    }
    // The rules in full, else in short (`density, trunc`), else cut.
    let rules: Vec<String> = rules
        .into_iter()
        .map(|r| {
            if crate::text::width(&r) <= rules_w {
                r
            } else {
                short_rules(&r)
            }
        })
        .collect();
    let mut head = pad_right("section", name_w);
    if show_alloc {
        head.push_str(&format!(" {}", pad_left("alloc", num)));
    }
    head.push_str(&format!(
        " {} {}",
        pad_left("final", num),
        pad_left("used", num)
    ));
    if bar_w > 0 {
        head.push_str(&format!(" {}", pad_right("utilisation", bar_w)));
    }
    if show_moved {
        head.push_str(&format!(" {}", pad_left("moved", moved_w)));
    }
    head.push_str(&format!(" {}", pad_left("in/out", inout_w)));
    if any_rules {
        let label = if rules_w >= 9 { "own rules" } else { "own" };
        head.push_str(&format!(" {}", pad_right(label, rules_w)));
    }
    frame.render_widget(
        Paragraph::new(Span::styled(head, t.muted)),
        Rect { height: 1, ..inner },
    );
    let rows = inner.height.saturating_sub(1) as usize;
    for (row, (i, s)) in plan
        .sections
        .iter()
        .enumerate()
        .skip(app.sections.offset)
        .take(rows)
        .enumerate()
    {
        let y = inner.y + 1 + row as u16;
        let is_sel = i == app.sections.sel;
        let base = if s.pinned_overrun {
            t.over_budget
        } else {
            t.text
        };
        let style = if is_sel { base.patch(t.selected) } else { base };
        let m = moved(plan, &s.name);
        let mut left = pad_right(&escape::line(&s.name), name_w);
        if show_alloc {
            left.push_str(&format!(" {}", pad_left(&app.count_text(s.allocated), num)));
        }
        left.push_str(&format!(
            " {} {}",
            pad_left(&app.count_text(s.final_budget), num),
            pad_left(&app.count_text(s.used), num),
        ));
        let left_w = crate::text::width(&left) as u16;
        frame.render_widget(
            Paragraph::new(Span::styled(left, style)),
            Rect::new(inner.x, y, left_w.min(inner.width), 1),
        );
        let ratio = if s.final_budget == 0 {
            if s.used > 0 { 2.0 } else { 0.0 }
        } else {
            s.used as f64 / s.final_budget as f64
        };
        let bar_x = (inner.x + left_w + u16::from(bar_w > 0)).min(inner.right());
        let bar_area = Rect::new(
            bar_x,
            y,
            (bar_w as u16).min(inner.right().saturating_sub(bar_x)),
            1,
        );
        if bar_w > 0 {
            frame.render_widget(Span::styled(" ", style), Rect::new(bar_x - 1, y, 1, 1));
            frame.render_widget(
                BudgetBar {
                    ratio,
                    fill: t.bar_for(ratio, s.pinned_overrun),
                    empty: t.bar_empty,
                },
                bar_area,
            );
        }
        let moved_style = match m {
            0 => t.muted,
            m if m > 0 => t.included,
            _ => t.truncated,
        };
        let right_x = bar_area.x + bar_area.width;
        let mut right = Vec::new();
        if show_moved {
            right.push(Span::styled(" ", style));
            right.push(Span::styled(
                pad_left(&moved_text(m), moved_w),
                if is_sel {
                    moved_style.patch(t.selected)
                } else {
                    moved_style
                },
            ));
        }
        right.push(Span::styled(" ", style));
        right.push(Span::styled(
            pad_left(&format!("{}/{}", s.included, s.excluded), inout_w),
            style,
        ));
        if any_rules {
            right.push(Span::styled(" ", style));
            right.push(Span::styled(
                pad_right(&rules[i], rules_w),
                if is_sel {
                    t.key.patch(t.selected)
                } else {
                    t.key
                },
            ));
        }
        frame.render_widget(
            Paragraph::new(Line::from(right)),
            Rect::new(right_x, y, inner.right().saturating_sub(right_x), 1),
        );
    }
}

/// The strategy and overflow mode a section sets for itself (in the item
/// set or the profile), which the global ones (`s`, `o`) do not change:
/// `density, truncate`, `optimal`, or empty.
pub(crate) fn section_rules(app: &App, name: &str) -> String {
    let Some(section) = app
        .item_set()
        .and_then(|set| set.sections.iter().find(|s| s.name == name))
    else {
        return String::new();
    };
    [
        section.strategy.map(|s| s.name().to_string()),
        section.overflow.map(|o| o.name().to_string()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(", ")
}

/// Section rules in short: `density, trunc`.
pub(crate) fn short_rules(rules: &str) -> String {
    rules
        .split(", ")
        .map(|r| match r {
            "balanced" => "balanc",
            "truncate" => "trunc",
            "degrade" => "degr",
            "summarize" => "summ",
            "priority-cut" => "pcut",
            other => other,
        })
        .collect::<Vec<_>>()
        .join(",")
}
