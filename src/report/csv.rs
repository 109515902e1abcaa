//! The `csv` report: one row per item, in input order.
//!
//! Columns: `id, section, status, reason, tokens, final_tokens, priority,
//! pinned, degrade_level, given, exact, error_band`. `reason` is the JSON
//! name (`over_section_budget`, ...), empty when there is none;
//! `degrade_level` is empty unless the item was degraded; `pinned`, `given`
//! and `exact` are `true`/`false`. Counts stay plain numbers: when they are
//! estimates the `exact` column says `false` and `error_band` holds the
//! expected relative error as a fraction (`0.1` for ±10 %; empty when exact),
//! where the other formats print `≈1,234 ±10%`. Fields are
//! quoted as RFC 4180 says (when they hold a comma, a quote or a line break;
//! quotes doubled); lines end with `\n`.

use std::io::{self, Write};

use super::common::serde_name;
use super::{Exporter, ReportOptions};
use crate::engine::Plan;

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
                field(&item.id),
                field(&item.section),
                serde_name(&item.status),
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

/// A field quoted when it needs to be.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) || s.starts_with(' ') || s.ends_with(' ') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
        assert_eq!(field(" pad"), "\" pad\"");
    }
}
