//! The `md` report: Markdown tables a person reads in a pull request or a
//! wiki: a summary, the sections, every item with what happened to it and
//! why, the reallocation transfers and the warnings.

use std::io::{self, Write};

use super::common::{counting, estimate_gap, extra_tokens, outcome, priority, status};
use super::{Exporter, ReportOptions};
use crate::engine::Plan;
use crate::text::{escape::line as escape, percent, thousands, usd};

/// Writes the Markdown report.
#[derive(Debug, Clone, Copy, Default)]
pub struct MarkdownExporter;

/// Text for a table cell: control characters escaped, pipes escaped.
fn cell(s: &str) -> String {
    escape(s).replace('|', "\\|")
}

/// An id or name as inline code, with a fence longer than any backtick run
/// inside it.
fn code(s: &str) -> String {
    let text = cell(s);
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    if longest > 0 {
        format!("{fence} {text} {fence}")
    } else {
        format!("{fence}{text}{fence}")
    }
}

impl Exporter for MarkdownExporter {
    fn write(&self, plan: &Plan, out: &mut dyn Write, opts: &ReportOptions) -> io::Result<()> {
        let exact = plan.exact;
        let accuracy = plan.accuracy();
        let t = |n: usize| accuracy.count_label(n);
        match &opts.title {
            Some(title) => writeln!(out, "# tokenscope report: {}\n", cell(title))?,
            None => writeln!(out, "# tokenscope report\n")?,
        }
        if !exact {
            let within = accuracy.band().map_or_else(String::new, |band| {
                format!("; the real count is expected within {band} of the estimate")
            });
            writeln!(
                out,
                "> Counts are estimates ({}), marked ≈{within}.\n",
                cell(&plan.encoding)
            )?;
        }

        let b = &plan.budget;
        let tt = &plan.totals;
        writeln!(out, "## Summary\n")?;
        writeln!(out, "| | |\n|---|---|")?;
        writeln!(out, "| Counting | {} |", cell(&counting(plan)))?;
        writeln!(
            out,
            "| Budget | {} tokens · reserve_output {}{} · reserved {} |",
            thousands(b.total),
            thousands(b.reserve_output),
            b.context_window
                .map(|w| format!(" of the {} window", thousands(w)))
                .unwrap_or_default(),
            thousands(b.reserved)
        )?;
        writeln!(
            out,
            "| Strategy | {} · overflow {} · reallocate {} |",
            b.strategy,
            b.overflow,
            if b.reallocate { "on" } else { "off" }
        )?;
        if let Some(gap) = plan.optimality_label() {
            writeln!(
                out,
                "| Optimality | not proven, {}: the search stopped at its deadline or memory cap |",
                cell(&gap)
            )?;
        }
        writeln!(
            out,
            "| Used | {} tokens ({} of the budget) |",
            t(tt.used),
            percent(tt.utilization)
        )?;
        writeln!(
            out,
            "| Context | {} tokens (the exact count of what is sent) |",
            t(tt.context)
        )?;
        writeln!(
            out,
            "| Items | {} included · {} excluded |",
            tt.included, tt.excluded
        )?;
        writeln!(
            out,
            "| Efficiency | {} priority per 1,000 tokens |",
            priority((tt.efficiency * 100.0).round() / 100.0)
        )?;
        match estimate_gap(plan) {
            Some(gap) if exact => writeln!(
                out,
                "| chars/4 estimate | {} ({gap} against the exact count) |",
                thousands(tt.estimate_chars4)
            )?,
            _ => writeln!(
                out,
                "| chars/4 estimate | {} |",
                thousands(tt.estimate_chars4)
            )?,
        }
        if let Some(c) = tt.cost_usd {
            writeln!(out, "| Input cost | {} |", accuracy.label(&usd(c)))?;
        }

        writeln!(out, "\n## Sections\n")?;
        writeln!(
            out,
            "| Section | Allocated | Final | Used | Headroom | Utilization | Included | Excluded | Needed for next |"
        )?;
        writeln!(out, "|---|--:|--:|--:|--:|--:|--:|--:|--:|")?;
        for s in &plan.sections {
            let mut name = code(&s.name);
            if s.pinned_overrun {
                name.push_str(" ⚠ pinned overrun");
            }
            if s.from_reserve > 0 {
                name.push_str(&format!(" (+{} from reserve)", thousands(s.from_reserve)));
            }
            writeln!(
                out,
                "| {name} | {} | {} | {} | {} | {} | {} | {} | {} |",
                thousands(s.allocated),
                thousands(s.final_budget),
                t(s.used),
                t(s.headroom),
                percent(s.utilization),
                s.included,
                s.excluded,
                s.needed_for_next
                    .map_or_else(|| "–".to_string(), |n| extra_tokens(n, accuracy))
            )?;
        }

        writeln!(out, "\n## Items\n")?;
        writeln!(
            out,
            "| Item | Section | Status | Tokens | Final | Priority | Note |"
        )?;
        writeln!(out, "|---|---|---|--:|--:|--:|---|")?;
        for i in &plan.items {
            let mut note = outcome(i, accuracy);
            if i.given {
                if !note.is_empty() {
                    note.push_str("; ");
                }
                note.push_str("count given in the input");
            }
            writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} |",
                code(&i.id),
                cell(&i.section),
                status(i),
                t(i.tokens),
                t(i.final_tokens),
                priority(i.priority),
                cell(&note)
            )?;
        }

        if !plan.reallocations.is_empty() {
            writeln!(out, "\n## Reallocations\n")?;
            writeln!(out, "| From | To | Tokens |\n|---|---|--:|")?;
            for r in &plan.reallocations {
                writeln!(
                    out,
                    "| {} | {} | {} |",
                    code(&r.from),
                    code(&r.to),
                    thousands(r.tokens)
                )?;
            }
        }

        if !plan.warnings.is_empty() {
            writeln!(out, "\n## Warnings\n")?;
            for w in &plan.warnings {
                writeln!(out, "- {}", escape(w))?;
            }
        }

        if let Some(check) = &opts.check {
            writeln!(out, "\n## Check\n")?;
            if check.passed {
                writeln!(out, "Passed: every rule holds.")?;
            } else {
                for f in &check.failures {
                    writeln!(out, "- **{}**: {}", f.rule, escape(&f.message))?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_survive_backticks_and_pipes() {
        assert_eq!(code("auth"), "`auth`");
        assert_eq!(code("a`b"), "`` a`b ``");
        assert_eq!(code("a|b"), "`a\\|b`");
    }
}
