//! The `csv` report: one row per item, in input order.
//!
//! Columns: `id, section, status, reason, tokens, final_tokens, priority,
//! pinned, degrade_level, given, exact, error_band`. `reason` is the JSON
//! name (`over_section_budget`, ...), empty when there is none;
//! `degrade_level` is empty unless the item was degraded; `pinned`, `given`
//! and `exact` are `true`/`false`. Counts stay plain numbers: when they are
//! estimates the `exact` column says `false` and `error_band` holds the
//! expected relative error as a fraction (`0.1` for ±10 %; empty when exact),
//! where the other formats print `≈1,234 ±10%`. The text cells (`id`,
//! `section`) go through [`csv_text`]: control characters escaped as in
//! every human-facing output (`\x1b`, `\n`), a `'` put before a cell that
//! starts with `=`, `+`, `-`, `@`, tab or carriage return (so a spreadsheet
//! does not run it as a formula), and quoted as RFC 4180 says when they hold
//! a comma, a semicolon or a quote or start or end with a space (quotes
//! doubled). The other columns are numbers and names the program writes.
//! Lines end with `\n`. For the exact ids, use the JSON report.

use std::io::{self, Write};

use super::common::serde_name;
use super::{Exporter, ReportOptions};
use crate::engine::Plan;
use crate::text::escape::csv_text;

/// The header row.
pub const CSV_HEADER: &str = "id,section,status,reason,tokens,final_tokens,priority,pinned,degrade_level,given,exact,error_band";

/// Writes one CSV row per item, after a header row.
#[derive(Debug, Clone, Copy, Default)]
pub struct CsvExporter;

impl Exporter for CsvExporter {
    fn write(&self, plan: &Plan, out: &mut dyn Write, _opts: &ReportOptions) -> io::Result<()> {
        writeln!(out, "{CSV_HEADER}")?;
        let band = plan
            .error_band
            .map(|b| b.fraction().to_string())
            .unwrap_or_default();
        for item in &plan.items {
            let fields = [
                csv_text(&item.id),
                csv_text(&item.section),
                item.status.name().to_string(),
                item.reason.as_ref().map(serde_name).unwrap_or_default(),
                item.tokens.to_string(),
                item.final_tokens.to_string(),
                super::common::priority(item.priority),
                item.pinned.to_string(),
                item.degrade_level
                    .map(|l| l.to_string())
                    .unwrap_or_default(),
                item.given.to_string(),
                plan.exact.to_string(),
                band.clone(),
            ];
            writeln!(out, "{}", fields.join(","))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_cells_are_quoted_and_neutralised() {
        assert_eq!(csv_text("plain"), "plain");
        assert_eq!(csv_text("a,b"), "\"a,b\"");
        assert_eq!(csv_text("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_text(" pad"), "\" pad\"");
        assert_eq!(csv_text("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
        assert_eq!(csv_text("two\nlines"), "two\\nlines");
    }
}
