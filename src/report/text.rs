//! The `text` report: a terminal summary. A header with the model, budget
//! and totals; one row per section with a bar of its budget use; the
//! reallocation transfers; the items that were cut, changed or left out
//! (the first [`LISTED_ITEMS`] of each kind); and the warnings.
//!
//! Colour is used only when [`ReportOptions::color`] is set (see
//! [`super::should_color`]): green bars, red for a pinned overrun, yellow
//! warnings. Without it the output is plain text.

use std::io::{self, Write};

use super::common::{counting, extra_tokens, outcome};
use super::{Exporter, ReportOptions};
use crate::engine::{ItemPlan, ItemStatus, Plan, SectionPlan};
use crate::text::{
    self, align_left, align_right, char_width, escape::line as escape, fit, percent, thousands, usd,
};
use crate::tokens::Accuracy;

/// How many items of each list (changed, excluded) the summary shows.
pub const LISTED_ITEMS: usize = 20;

/// Writes the terminal summary.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextExporter;

const GREEN: &str = "\x1b[32m";
const RED: &str = "\x1b[31m";
const YELLOW: &str = "\x1b[33m";
const DIM: &str = "\x1b[2m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

struct Painter {
    on: bool,
}

impl Painter {
    fn paint(&self, style: &str, s: &str) -> String {
        if self.on && !s.is_empty() {
            format!("{style}{s}{RESET}")
        } else {
            s.to_string()
        }
    }
}

/// A bar `width` cells wide filled to `fraction` (0..=1), in eighths.
fn bar(fraction: f64, width: usize) -> (String, String) {
    const EIGHTHS: [char; 8] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
    let fraction = if fraction.is_finite() {
        fraction.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let eighths = (fraction * (width * 8) as f64).round() as usize;
    let full = eighths / 8;
    let rest = eighths % 8;
    let mut filled = "█".repeat(full);
    let mut cells = full;
    if rest > 0 && cells < width {
        filled.push(EIGHTHS[rest]);
        cells += 1;
    }
    (filled, "░".repeat(width - cells))
}

struct Columns {
    name: usize,
    bar: usize,
    /// The `used` and `next` columns: wide enough for estimates' bands.
    used: usize,
    next: usize,
}

impl Columns {
    const NUM: usize = 8;
    const UTIL: usize = 7;
    const ITEMS: usize = 8;
    /// Separators between the seven columns.
    const GAPS: usize = 6;
    /// The narrowest bar before names are cut.
    const MIN_BAR: usize = 10;

    fn new(plan: &Plan, width: usize) -> Columns {
        let longest = plan
            .sections
            .iter()
            .map(|s| text::width(&escape(&s.name)))
            .max()
            .unwrap_or(0);
        let accuracy = plan.accuracy();
        let widest = |f: &dyn Fn(&SectionPlan) -> String| {
            plan.sections
                .iter()
                .map(|s| text::width(&f(s)))
                .max()
                .unwrap_or(0)
                .max(Self::NUM)
        };
        let used = widest(&|s| accuracy.count_label(s.used));
        let next = widest(&|s| {
            s.needed_for_next
                .map_or_else(String::new, |n| extra_tokens(n, accuracy))
        });
        let others = Self::NUM + used + next + Self::UTIL + Self::ITEMS + Self::GAPS;
        let room = width.saturating_sub(others + Self::MIN_BAR).clamp(7, 24);
        let name = longest.clamp(7, room);
        let bar = width.saturating_sub(name + others).clamp(Self::MIN_BAR, 40);
        Columns {
            name,
            bar,
            used,
            next,
        }
    }
}

fn section_row(s: &SectionPlan, accuracy: Accuracy, c: &Columns, p: &Painter) -> String {
    let overrun = s.pinned_overrun || s.used > s.final_budget;
    let fraction = if s.final_budget == 0 {
        if s.used > 0 { 1.0 } else { 0.0 }
    } else {
        s.used as f64 / s.final_budget as f64
    };
    let (filled, empty) = bar(fraction, c.bar);
    let fill_style = if overrun { RED } else { GREEN };
    let next = s
        .needed_for_next
        .map_or_else(|| "–".to_string(), |n| extra_tokens(n, accuracy));
    let mut row = format!(
        "{} {} {} {}{} {} {} {}",
        text::pad_right(&escape(&s.name), c.name),
        align_right(&thousands(s.final_budget), Columns::NUM),
        align_right(&accuracy.count_label(s.used), c.used),
        p.paint(fill_style, &filled),
        p.paint(DIM, &empty),
        align_right(&percent(s.utilization), Columns::UTIL),
        align_right(
            &format!("{}/{}", s.included, s.included + s.excluded),
            Columns::ITEMS
        ),
        align_right(&next, c.next),
    );
    if s.pinned_overrun {
        row.push_str(&format!("  {}", p.paint(RED, "! pinned overrun")));
    } else if s.from_reserve > 0 {
        row.push_str(&format!("  +{} from reserve", thousands(s.from_reserve)));
    }
    row
}

impl Exporter for TextExporter {
    fn write(&self, plan: &Plan, out: &mut dyn Write, opts: &ReportOptions) -> io::Result<()> {
        let p = Painter { on: opts.color };
        let accuracy = plan.accuracy();
        let b = &plan.budget;
        let tt = &plan.totals;

        let title = match &opts.title {
            Some(t) => format!("tokenscope · {}", escape(t)),
            None => "tokenscope".to_string(),
        };
        writeln!(out, "{}", p.paint(BOLD, &title))?;
        match b.context_window {
            // The budget is at most the window minus reserve_output.
            Some(w) => writeln!(out, "{} · window {}", counting(plan), thousands(w))?,
            None => writeln!(out, "{}", counting(plan))?,
        }
        writeln!(
            out,
            "budget {} · {} · {} · reallocate {}{}{}",
            thousands(b.total),
            b.strategy,
            b.overflow,
            if b.reallocate { "on" } else { "off" },
            if b.reserved > 0 {
                format!(" · reserved {}", thousands(b.reserved))
            } else {
                String::new()
            },
            if b.reserve_output > 0 {
                format!(" · reserve_output {}", thousands(b.reserve_output))
            } else {
                String::new()
            },
        )?;
        if let Some(gap) = plan.optimality_label() {
            writeln!(
                out,
                "{}",
                p.paint(
                    YELLOW,
                    &format!(
                        "optimal not proven, {}: the search stopped at its deadline or memory cap",
                        escape(&gap)
                    )
                )
            )?;
        }
        let over = tt.context > b.total || tt.used > b.total;
        let mut rendered = format!(
            "used {} / {} tokens ({})",
            accuracy.count_label(tt.used),
            thousands(b.total),
            percent(tt.utilization)
        );
        if tt.context != tt.used {
            rendered.push_str(&format!(" · context {}", accuracy.count_label(tt.context)));
        }
        // (text, what it is when it starts a line)
        let mut parts = vec![(
            format!("{} included · {} excluded", tt.included, tt.excluded),
            "",
        )];
        if let Some(c) = tt.cost_usd {
            parts.push((accuracy.label(&usd(c)), "input cost "));
        }
        // One line when it fits the width (estimates' bands make it longer),
        // else the rest goes on the next.
        let mut width = text::width(&rendered);
        write!(
            out,
            "{}",
            if over {
                p.paint(RED, &rendered)
            } else {
                rendered
            }
        )?;
        for (part, alone) in parts {
            if width + 3 + text::width(&part) > opts.width {
                writeln!(out)?;
                write!(out, "{alone}{part}")?;
                width = text::width(alone) + text::width(&part);
            } else {
                write!(out, " · {part}")?;
                width += 3 + text::width(&part);
            }
        }
        writeln!(out)?;

        if !plan.sections.is_empty() {
            let c = Columns::new(plan, opts.width);
            writeln!(out)?;
            writeln!(
                out,
                "{}",
                p.paint(
                    DIM,
                    format!(
                        "{} {} {} {} {} {} {}",
                        align_left("section", c.name),
                        align_right("budget", Columns::NUM),
                        align_right("used", c.used),
                        align_left("", c.bar),
                        align_right("use", Columns::UTIL),
                        align_right("items", Columns::ITEMS),
                        align_right("next", c.next),
                    )
                    .trim_end()
                )
            )?;
            for s in &plan.sections {
                writeln!(out, "{}", section_row(s, accuracy, &c, &p))?;
            }
        }

        if !plan.reallocations.is_empty() {
            writeln!(out, "\nreallocated")?;
            for r in &plan.reallocations {
                writeln!(
                    out,
                    "  {} → {}  {}",
                    escape(&r.from),
                    escape(&r.to),
                    thousands(r.tokens)
                )?;
            }
        }

        let changed: Vec<_> = plan
            .items
            .iter()
            .filter(|i| matches!(i.status, ItemStatus::Truncated | ItemStatus::Degraded))
            .collect();
        let excluded: Vec<_> = plan
            .items
            .iter()
            .filter(|i| i.status == ItemStatus::Excluded)
            .collect();
        for (heading, list) in [("changed", changed), ("excluded", excluded)] {
            if list.is_empty() {
                continue;
            }
            writeln!(out, "\n{heading} ({})", list.len())?;
            let shown: Vec<&ItemPlan> = list.iter().take(LISTED_ITEMS).copied().collect();
            let names = fit_unique(&item_names(&shown), MAX_ID_WIDTH);
            let id_width = names.iter().map(|n| text::width(n)).max().unwrap_or(0);
            let tok_width = list
                .iter()
                .take(LISTED_ITEMS)
                .map(|i| text::width(&accuracy.count_label(i.tokens)))
                .max()
                .unwrap_or(0)
                .max(Columns::NUM);
            for (i, name) in shown.iter().zip(&names) {
                let pin = if i.pinned {
                    format!(" {}", p.paint(RED, "(pinned)"))
                } else {
                    String::new()
                };
                writeln!(
                    out,
                    "  {} {}  {}{pin}",
                    align_left(name, id_width),
                    align_right(&accuracy.count_label(i.tokens), tok_width),
                    outcome(i, accuracy)
                )?;
            }
            if list.len() > LISTED_ITEMS {
                writeln!(
                    out,
                    "  … and {} more (every item is in the md, csv and json reports)",
                    list.len() - LISTED_ITEMS
                )?;
            }
        }

        if !plan.warnings.is_empty() {
            writeln!(out, "\nwarnings")?;
            for w in &plan.warnings {
                writeln!(out, "  {} {}", p.paint(YELLOW, "!"), escape(w))?;
            }
        }
        Ok(())
    }
}

/// The widest an item's name is shown before it is cut.
const MAX_ID_WIDTH: usize = 40;

/// How the item lists name items (escaped): `section/id`, or the id alone
/// when it already starts with `section/` (a folder's files are named by
/// their path, whose first folder is the section), unless two items would
/// then read the same.
fn item_names(items: &[&ItemPlan]) -> Vec<String> {
    let full = |i: &ItemPlan| escape(&format!("{}/{}", i.section, i.id)).to_string();
    let short: Vec<String> = items
        .iter()
        .map(|i| {
            if i.id.starts_with(&format!("{}/", i.section)) {
                escape(&i.id).to_string()
            } else {
                full(i)
            }
        })
        .collect();
    short
        .iter()
        .zip(items)
        .map(|(name, i)| {
            if short.iter().filter(|n| *n == name).count() > 1 {
                full(i)
            } else {
                name.clone()
            }
        })
        .collect()
}

/// `s` cut to `width` display columns in the middle (`src/eng…/flow.rs`),
/// keeping its start and, longer, its end, where names differ most.
fn fit_middle(s: &str, width: usize) -> String {
    if text::width(s) <= width {
        return s.to_string();
    }
    if width < 2 {
        return fit(s, width).into_owned();
    }
    let room = width - 1;
    let head_room = room / 3;
    let mut head = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = char_width(c);
        if used + w > head_room {
            break;
        }
        used += w;
        head.push(c);
    }
    let tail_room = room - used;
    let mut tail: Vec<char> = Vec::new();
    let mut tail_used = 0;
    for c in s.chars().rev() {
        let w = char_width(c);
        if tail_used + w > tail_room {
            break;
        }
        tail_used += w;
        tail.push(c);
    }
    tail.reverse();
    format!("{head}…{}", tail.into_iter().collect::<String>())
}

/// The names cut to at most `width` columns ([`fit_middle`]), but never two
/// different names to the same text: where they would be, the list is cut
/// wider (in the end not at all).
fn fit_unique(names: &[String], width: usize) -> Vec<String> {
    let widest = names.iter().map(|n| text::width(n)).max().unwrap_or(0);
    let distinct = names.iter().collect::<std::collections::HashSet<_>>().len();
    let mut w = width.min(widest);
    loop {
        let cut: Vec<String> = names.iter().map(|n| fit_middle(n, w)).collect();
        if w >= widest || cut.iter().collect::<std::collections::HashSet<_>>().len() == distinct {
            return cut;
        }
        w += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_are_cut_in_the_middle_and_stay_distinct() {
        assert_eq!(fit_middle("src/engine/flow.rs", 40), "src/engine/flow.rs");
        let cut = fit_middle("src/engine/knapsack/cardinality.rs", 16);
        assert_eq!(text::width(&cut), 16);
        assert!(
            cut.starts_with("src/") && cut.ends_with("cardinality.rs") || cut.ends_with("ality.rs"),
            "{cut}"
        );
        let names = vec![
            format!("{}/a.md", "x".repeat(60)),
            format!("{}/b.md", "x".repeat(60)),
        ];
        let cut = fit_unique(&names, 40);
        assert_ne!(cut[0], cut[1]);
        assert!(cut.iter().all(|c| text::width(c) <= 40), "{cut:?}");
        // Names that differ only in the middle are cut wider.
        let names = vec![
            format!("{}1{}", "a".repeat(30), "b".repeat(30)),
            format!("{}2{}", "a".repeat(30), "b".repeat(30)),
        ];
        let cut = fit_unique(&names, 40);
        assert_ne!(cut[0], cut[1], "{cut:?}");
    }

    #[test]
    fn bars_fill_in_eighths() {
        assert_eq!(bar(0.0, 4), (String::new(), "░░░░".to_string()));
        assert_eq!(bar(1.0, 4), ("████".to_string(), String::new()));
        assert_eq!(bar(0.5, 4), ("██".to_string(), "░░".to_string()));
        assert_eq!(bar(0.3, 4), ("█▎".to_string(), "░░".to_string()));
        assert_eq!(bar(2.0, 3), ("███".to_string(), String::new()));
        assert_eq!(bar(f64::NAN, 2), (String::new(), "░░".to_string()));
    }
}
