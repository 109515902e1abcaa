//! Text and Markdown renderings of predictions and history reports (JSON is
//! their serde form). Task types, task ids and messages that quote them come
//! from the history file and the command line: escaped for one line
//! ([`crate::text::escape::line`]).

use std::fmt::Write;

use super::predict::Prediction;
use super::report::{Period, Report};
use crate::text::escape::line as safe;
use crate::text::{align_left, align_right, signed_thousands, thousands, usd, width};

fn pct(x: f64) -> String {
    format!("{:.1} %", x * 100.0)
}

fn opt_pct(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_string(), pct)
}

/// A utilisation bar, 20 cells for 100 % (capped at 150 %).
fn bar(utilization: f64) -> String {
    let cells = (utilization.clamp(0.0, 1.5) * 20.0).round() as usize;
    "█".repeat(cells)
}

/// A prediction as plain text.
pub fn prediction_text(p: &Prediction) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Recommended budget for {} (complexity {}, {} criticality): {} tokens",
        safe(&p.task_type),
        p.complexity,
        p.criticality,
        thousands(p.budget)
    );
    let source = if p.source == "history" {
        format!(
            "from history: {} similar record{}, {} effective",
            p.similar,
            if p.similar == 1 { "" } else { "s" },
            p.effective_records
        )
    } else {
        "from defaults (no history for this type)".to_string()
    };
    let _ = writeln!(
        s,
        "Confidence {:.2} ({}), expected use {}, {source}",
        p.confidence,
        p.confidence_label,
        thousands(p.expected_used)
    );
    let _ = writeln!(s, "Reasoning: {}", safe(&p.reasoning));
    let _ = writeln!(
        s,
        "\nPhases ({} fractions)",
        if p.phase_source == "history" {
            "history"
        } else {
            "default"
        }
    );
    let width = p
        .phases
        .iter()
        .map(|ph| thousands(ph.tokens).len())
        .max()
        .unwrap_or(1);
    for ph in &p.phases {
        let _ = writeln!(
            s,
            "  {:<12}{:>width$}  {:>3.0} %",
            ph.name,
            thousands(ph.tokens),
            ph.fraction * 100.0
        );
    }
    let _ = writeln!(s, "\nAlternatives");
    let width = p
        .alternatives
        .iter()
        .map(|a| thousands(a.budget).len())
        .max()
        .unwrap_or(1);
    for a in &p.alternatives {
        let covers = a
            .covers
            .map(|c| format!("  covers {:.0} % of similar tasks", c * 100.0))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "  {:<14}{:>+4} %  {:>width$}{covers}",
            a.name,
            a.change_pct,
            thousands(a.budget)
        );
    }
    s
}

/// `1 record`, `2 records`.
fn plural(n: u64, word: &str) -> String {
    format!("{} {word}{}", thousands(n), if n == 1 { "" } else { "s" })
}

fn period_name(p: Period) -> &'static str {
    match p {
        Period::Day => "day",
        Period::Week => "week",
    }
}

fn savings_line(r: &Report) -> String {
    let s = &r.savings;
    if s.evaluated == 0 {
        return "no record had an earlier one of its type to predict it from".to_string();
    }
    let cost = match s.cost_saved_usd {
        Some(c) => format!(
            " ({} at model input prices, {} of {} priced)",
            if c < 0.0 {
                format!("{} more", usd(-c))
            } else {
                usd(c)
            },
            s.priced_records,
            plural(s.evaluated as u64, "record")
        ),
        None => " (no record names a priced model)".to_string(),
    };
    let saved = if s.tokens_saved < 0 {
        format!(
            "{} tokens more than allocated",
            thousands(s.tokens_saved.unsigned_abs())
        )
    } else {
        format!("{} tokens saved", thousands(s.tokens_saved as u64))
    };
    format!(
        "{} predicted from {} predecessors: allocated {} → suggested {}, {saved}{cost}; {} would have fallen short",
        plural(s.evaluated as u64, "record"),
        if s.evaluated == 1 { "its" } else { "their" },
        thousands(s.allocated_tokens),
        thousands(s.suggested_tokens),
        s.would_fall_short
    )
}

fn type_rows(r: &Report) -> Vec<Vec<String>> {
    r.types
        .iter()
        .map(|t| {
            vec![
                safe(&t.task_type).into_owned(),
                t.records.to_string(),
                pct(t.avg_utilization),
                pct(t.over_allocation_rate),
                pct(t.under_allocation_rate),
                opt_pct(t.accuracy),
                t.median_abs_error.map_or_else(|| "-".into(), thousands),
                thousands(t.avg_allocated),
                thousands(t.suggested_budget),
                signed_thousands(t.expected_saving_per_task),
            ]
        })
        .collect()
}

const TYPE_HEADERS: [&str; 10] = [
    "type",
    "records",
    "utilisation",
    "over",
    "under",
    "accuracy",
    "median error",
    "avg allocated",
    "suggested",
    "saving/task",
];

/// A history report as plain text.
pub fn report_text(r: &Report) -> String {
    let mut s = String::new();
    if r.records == 0 {
        let _ = writeln!(
            s,
            "The history is empty: record tasks with `tokenscope history record` or `history import`."
        );
        return s;
    }
    let _ = writeln!(
        s,
        "History: {} from {} to {}",
        plural(r.records as u64, "record"),
        r.from.as_deref().unwrap_or("-"),
        r.to.as_deref().unwrap_or("-")
    );
    let _ = writeln!(
        s,
        "Utilisation {}, over-allocated {}, under-allocated {}, prediction accuracy {}\n",
        opt_pct(r.avg_utilization),
        opt_pct(r.over_allocation_rate),
        opt_pct(r.under_allocation_rate),
        opt_pct(r.accuracy)
    );
    let rows = type_rows(r);
    let mut widths: Vec<usize> = TYPE_HEADERS.iter().map(|h| width(h)).collect();
    for row in &rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(width(c));
        }
    }
    let line = |cells: Vec<String>| {
        let mut l = String::new();
        for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
            if i > 0 {
                l.push_str("  ");
            }
            l.push_str(&if i == 0 {
                align_left(c, *w)
            } else {
                align_right(c, *w)
            });
        }
        l.trim_end().to_string()
    };
    let _ = writeln!(
        s,
        "{}",
        line(TYPE_HEADERS.iter().map(|h| h.to_string()).collect())
    );
    for row in rows {
        let _ = writeln!(s, "{}", line(row));
    }
    let _ = writeln!(s, "\nSavings with suggested budgets: {}", savings_line(r));
    let _ = writeln!(s, "\nAlerts (7 days up to {})", r.now);
    if r.alerts.is_empty() {
        let _ = writeln!(s, "  none");
    }
    for a in &r.alerts {
        let _ = writeln!(s, "  {}  {:<15}  {}", a.time, a.kind, safe(&a.message));
    }
    let _ = writeln!(s, "\nUtilisation by {}", period_name(r.period));
    let w = r.trend.iter().map(|t| t.period.len()).max().unwrap_or(0);
    for t in &r.trend {
        let _ = writeln!(
            s,
            "  {:<w$}  {:>12}  {:>7}  {}",
            t.period,
            plural(t.records as u64, "record"),
            pct(t.utilization),
            bar(t.utilization)
        );
    }
    s
}

fn md_escape(cell: &str) -> String {
    cell.replace('|', "\\|")
}

/// A history report as Markdown.
pub fn report_markdown(r: &Report) -> String {
    let mut s = String::from("# Usage history\n\n");
    if r.records == 0 {
        s.push_str("The history is empty.\n");
        return s;
    }
    let _ = writeln!(
        s,
        "{} from {} to {}. Utilisation {}, over-allocated {}, under-allocated {}, prediction accuracy {}.\n",
        plural(r.records as u64, "record"),
        r.from.as_deref().unwrap_or("-"),
        r.to.as_deref().unwrap_or("-"),
        opt_pct(r.avg_utilization),
        opt_pct(r.over_allocation_rate),
        opt_pct(r.under_allocation_rate),
        opt_pct(r.accuracy)
    );
    s.push_str("## By task type\n\n");
    let _ = writeln!(s, "| {} |", TYPE_HEADERS.join(" | "));
    let _ = writeln!(
        s,
        "|{}",
        TYPE_HEADERS
            .iter()
            .enumerate()
            .map(|(i, _)| if i == 0 { "---|" } else { "---:|" })
            .collect::<String>()
    );
    for row in type_rows(r) {
        let cells: Vec<String> = row.iter().map(|c| md_escape(c)).collect();
        let _ = writeln!(s, "| {} |", cells.join(" | "));
    }
    let _ = writeln!(s, "\n## Savings\n\n{}.\n", savings_line(r));
    let _ = writeln!(s, "## Alerts (7 days up to {})\n", r.now);
    if r.alerts.is_empty() {
        s.push_str("None.\n");
    }
    for a in &r.alerts {
        let _ = writeln!(
            s,
            "- `{}` **{}**: {}",
            a.time,
            a.kind,
            md_escape(&safe(&a.message))
        );
    }
    let _ = writeln!(s, "\n## Utilisation by {}\n", period_name(r.period));
    s.push_str(
        "| period | records | allocated | used | utilisation |\n|---|---:|---:|---:|---:|\n",
    );
    for t in &r.trend {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} |",
            t.period,
            t.records,
            thousands(t.allocated),
            thousands(t.used),
            pct(t.utilization)
        );
    }
    s
}
