//! History analytics: utilisation and prediction accuracy by task type,
//! over- and under-allocation, savings, suggested budgets, alerts, trend.
//!
//! Definitions:
//!
//! - utilisation: `used / allocated`, averaged over a type's records;
//! - over-allocation: `used < 50 %` of `allocated`;
//! - under-allocation: `used > 95 %` of `allocated`, or outcome `failure`;
//! - prediction accuracy: each record is predicted from its *predecessors*
//!   only (the same type's records before it in time, at most
//!   [`MAX_SIMILAR`](super::MAX_SIMILAR)) with the query it would have made;
//!   accuracy is the mean of `max(0, 1 − |expected − used| / used)` over the
//!   records that had at least one predecessor;
//! - savings: over those same records, `allocated − suggested budget`
//!   (negative when the suggestion is larger), at the record's model input
//!   price when the registry knows the model;
//! - suggested budget per type: [`predict`](super::predict) over the whole
//!   type at its median complexity, medium criticality, no tags, no agent;
//!   expected saving per task = mean allocation − suggestion;
//! - alerts: records in the 7 days up to `now` that used more than twice
//!   their type's median, or failed after using ≥ 95 % of their budget;
//! - trend: per day or ISO week, `Σ used / Σ allocated`.

use std::collections::BTreeMap;

use serde::Serialize;
use time::{Duration, OffsetDateTime};

use super::predict::{MAX_SIMILAR, Query, predict_from, same_type};
use super::record::{Outcome, Record, format_time};
use crate::text::thousands;
use crate::tokens::ModelRegistry;

/// The schema tag of `history report --format json`.
pub const HISTORY_REPORT_SCHEMA: &str = "tokenscope.history-report/1";

/// Trend granularity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    /// Calendar days (UTC).
    Day,
    /// ISO weeks (UTC), labelled `2025-W23`.
    #[default]
    Week,
}

/// Report settings.
#[derive(Debug, Clone)]
pub struct ReportOptions<'a> {
    /// The time alerts look back from (7 days).
    pub now: OffsetDateTime,
    /// Trend granularity.
    pub period: Period,
    /// Prices for the savings; `None` leaves costs out.
    pub registry: Option<&'a ModelRegistry>,
}

/// One task type's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TypeReport {
    /// The task type.
    #[serde(rename = "type")]
    pub task_type: String,
    /// Records of the type.
    pub records: usize,
    /// Mean `used / allocated`.
    pub avg_utilization: f64,
    /// Mean allocation.
    pub avg_allocated: u64,
    /// Median usage.
    pub median_used: u64,
    /// Share of records with `used < 50 %` of `allocated`.
    pub over_allocation_rate: f64,
    /// Share of records with `used > 95 %` of `allocated` or outcome failure.
    pub under_allocation_rate: f64,
    /// Records with outcome failure.
    pub failures: usize,
    /// Records predicted from predecessors (those that had one).
    pub evaluated: usize,
    /// Mean prediction accuracy, 0–1; `null` when none was evaluated.
    pub accuracy: Option<f64>,
    /// Median `|expected − used|` of the evaluated records.
    pub median_abs_error: Option<u64>,
    /// Σ (allocated − suggested) over the evaluated records.
    pub tokens_saved: i64,
    /// The suggested budget for a typical task of this type.
    pub suggested_budget: u64,
    /// Mean allocation minus the suggested budget.
    pub expected_saving_per_task: i64,
}

/// What the suggested budgets would have saved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Savings {
    /// Records evaluated (had a predecessor of their type).
    pub evaluated: usize,
    /// Σ allocated over them.
    pub allocated_tokens: u64,
    /// Σ suggested budgets over them.
    pub suggested_tokens: u64,
    /// allocated − suggested (negative: the suggestions are larger).
    pub tokens_saved: i64,
    /// The saving in USD at each record's model input price, over the
    /// records whose model the registry prices; `null` when none.
    pub cost_saved_usd: Option<f64>,
    /// Records that had a price.
    pub priced_records: usize,
    /// Records whose suggestion would have been below what they used.
    pub would_fall_short: usize,
}

/// A recent record that needs a look.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// `outlier` or `under_allocated`.
    pub kind: &'static str,
    /// When it ran (RFC 3339).
    pub time: String,
    /// The task id.
    pub task: String,
    /// The task type.
    #[serde(rename = "type")]
    pub task_type: String,
    /// Tokens used.
    pub used: u64,
    /// Tokens allocated.
    pub allocated: u64,
    /// The type's median usage.
    pub type_median: u64,
    /// What happened.
    pub message: String,
}

/// Utilisation in one period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeriodTrend {
    /// `2025-06-02` (day) or `2025-W23` (ISO week).
    pub period: String,
    /// Records in the period.
    pub records: usize,
    /// Σ allocated.
    pub allocated: u64,
    /// Σ used.
    pub used: u64,
    /// Σ used / Σ allocated.
    pub utilization: f64,
}

/// `history report` (schema `tokenscope.history-report/1`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// `tokenscope.history-report/1`.
    pub schema: &'static str,
    /// Records in the history.
    pub records: usize,
    /// The earliest record's time; `null` when empty.
    pub from: Option<String>,
    /// The latest record's time; `null` when empty.
    pub to: Option<String>,
    /// The time alerts look back from.
    pub now: String,
    /// Mean utilisation over all records; `null` when empty.
    pub avg_utilization: Option<f64>,
    /// Over-allocation rate over all records.
    pub over_allocation_rate: Option<f64>,
    /// Under-allocation rate over all records.
    pub under_allocation_rate: Option<f64>,
    /// Mean prediction accuracy over all evaluated records.
    pub accuracy: Option<f64>,
    /// Per task type, by type name.
    pub types: Vec<TypeReport>,
    /// Savings over all types.
    pub savings: Savings,
    /// Recent outliers and budget failures, oldest first.
    pub alerts: Vec<Alert>,
    /// `day` or `week`.
    pub period: Period,
    /// Utilisation per period, oldest first.
    pub trend: Vec<PeriodTrend>,
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn median(values: &mut [u64]) -> u64 {
    if values.is_empty() {
        return 0;
    }
    values.sort_unstable();
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]).div_ceil(2)
    }
}

fn rate(records: &[&Record], f: impl Fn(&Record) -> bool) -> f64 {
    if records.is_empty() {
        return 0.0;
    }
    round3(records.iter().filter(|r| f(r)).count() as f64 / records.len() as f64)
}

fn over_allocated(r: &Record) -> bool {
    (r.used as f64) < 0.5 * r.allocated as f64
}

fn under_allocated(r: &Record) -> bool {
    r.used as f64 > 0.95 * r.allocated as f64 || r.outcome == Some(Outcome::Failure)
}

fn period_key(t: OffsetDateTime, period: Period) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    match period {
        Period::Day => format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day()),
        Period::Week => {
            let (year, week, _) = t.to_iso_week_date();
            format!("{year:04}-W{week:02}")
        }
    }
}

/// Accumulated figures while evaluating one type.
#[derive(Default)]
struct Evaluation {
    evaluated: usize,
    accuracy_sum: f64,
    abs_errors: Vec<u64>,
    allocated: u64,
    suggested: u64,
    short: usize,
    cost_saved: f64,
    priced: usize,
}

/// Analyses a history (see the module docs for every definition).
pub fn report(records: &[Record], options: &ReportOptions<'_>) -> Report {
    let mut type_names: BTreeMap<String, String> = BTreeMap::new();
    for r in records {
        type_names
            .entry(r.task_type.trim().to_ascii_lowercase())
            .or_insert_with(|| r.task_type.trim().to_string());
    }
    let mut types = Vec::new();
    let mut total = Evaluation::default();
    let mut medians = BTreeMap::new();
    for (key, name) in &type_names {
        let mut of_type: Vec<&Record> = records.iter().filter(|r| same_type(r, name)).collect();
        of_type.sort_by_key(|r| r.time);
        let eval = evaluate(&of_type, options.registry);
        let mut used: Vec<u64> = of_type.iter().map(|r| r.used).collect();
        let median_used = median(&mut used);
        medians.insert(key.clone(), median_used);
        let mut complexities: Vec<u64> = of_type.iter().map(|r| u64::from(r.complexity)).collect();
        let typical = Query {
            task_type: name.clone(),
            complexity: median(&mut complexities).min(100) as u8,
            ..Query::default()
        };
        let window = &of_type[of_type.len().saturating_sub(MAX_SIMILAR)..];
        let suggested_budget = predict_from(window, &typical, records.len()).budget;
        let n = of_type.len();
        let avg_allocated =
            (of_type.iter().map(|r| r.allocated as f64).sum::<f64>() / n as f64).round() as u64;
        types.push(TypeReport {
            task_type: name.clone(),
            records: n,
            avg_utilization: round3(
                of_type.iter().map(|r| r.utilization()).sum::<f64>() / n as f64,
            ),
            avg_allocated,
            median_used,
            over_allocation_rate: rate(&of_type, over_allocated),
            under_allocation_rate: rate(&of_type, under_allocated),
            failures: of_type
                .iter()
                .filter(|r| r.outcome == Some(Outcome::Failure))
                .count(),
            evaluated: eval.evaluated,
            accuracy: (eval.evaluated > 0)
                .then(|| round3(eval.accuracy_sum / eval.evaluated as f64)),
            median_abs_error: (eval.evaluated > 0).then(|| median(&mut eval.abs_errors.clone())),
            tokens_saved: eval.allocated as i64 - eval.suggested as i64,
            suggested_budget,
            expected_saving_per_task: avg_allocated as i64 - suggested_budget as i64,
        });
        total.evaluated += eval.evaluated;
        total.accuracy_sum += eval.accuracy_sum;
        total.allocated = total.allocated.saturating_add(eval.allocated);
        total.suggested = total.suggested.saturating_add(eval.suggested);
        total.short += eval.short;
        total.cost_saved += eval.cost_saved;
        total.priced += eval.priced;
    }
    let all: Vec<&Record> = records.iter().collect();
    let n = records.len();
    let first = records.iter().map(|r| r.time).min();
    let last = records.iter().map(|r| r.time).max();
    Report {
        schema: HISTORY_REPORT_SCHEMA,
        records: n,
        from: first.map(format_time),
        to: last.map(format_time),
        now: format_time(options.now),
        avg_utilization: (n > 0)
            .then(|| round3(records.iter().map(Record::utilization).sum::<f64>() / n as f64)),
        over_allocation_rate: (n > 0).then(|| rate(&all, over_allocated)),
        under_allocation_rate: (n > 0).then(|| rate(&all, under_allocated)),
        accuracy: (total.evaluated > 0)
            .then(|| round3(total.accuracy_sum / total.evaluated as f64)),
        types,
        savings: Savings {
            evaluated: total.evaluated,
            allocated_tokens: total.allocated,
            suggested_tokens: total.suggested,
            tokens_saved: total.allocated as i64 - total.suggested as i64,
            cost_saved_usd: (total.priced > 0).then(|| (total.cost_saved * 1e4).round() / 1e4),
            priced_records: total.priced,
            would_fall_short: total.short,
        },
        alerts: alerts(records, &medians, options.now),
        period: options.period,
        trend: trend(records, options.period),
    }
}

/// Predicts each record of one type (sorted by time) from its predecessors.
fn evaluate(of_type: &[&Record], registry: Option<&ModelRegistry>) -> Evaluation {
    let mut eval = Evaluation::default();
    for (i, r) in of_type.iter().enumerate() {
        // Predecessors: strictly earlier records (ties in time are not
        // predecessors of each other).
        let end = of_type[..i].partition_point(|p| p.time < r.time);
        if end == 0 {
            continue;
        }
        let window = &of_type[end.saturating_sub(MAX_SIMILAR)..end];
        let p = predict_from(window, &Query::for_record(r), end);
        let used = r.used as f64;
        let err = (p.expected_used as f64 - used).abs();
        eval.evaluated += 1;
        eval.accuracy_sum += (1.0 - err / used.max(1.0)).max(0.0);
        eval.abs_errors.push(err.round() as u64);
        eval.allocated = eval.allocated.saturating_add(r.allocated);
        eval.suggested = eval.suggested.saturating_add(p.budget);
        if p.budget < r.used {
            eval.short += 1;
        }
        if let Some(price) = r
            .model
            .as_deref()
            .and_then(|m| registry.and_then(|reg| reg.get(m).ok()))
            .and_then(|spec| spec.input_price)
        {
            eval.priced += 1;
            eval.cost_saved += (r.allocated as f64 - p.budget as f64) * price / 1_000_000.0;
        }
    }
    eval
}

fn alerts(records: &[Record], medians: &BTreeMap<String, u64>, now: OffsetDateTime) -> Vec<Alert> {
    let since = now - Duration::days(7);
    let mut recent: Vec<&Record> = records
        .iter()
        .filter(|r| r.time >= since && r.time <= now)
        .collect();
    recent.sort_by_key(|r| r.time);
    let mut out = Vec::new();
    for r in recent {
        let median = medians
            .get(&r.task_type.trim().to_ascii_lowercase())
            .copied()
            .unwrap_or(0);
        let base = |kind, message| Alert {
            kind,
            time: format_time(r.time),
            task: r.task.clone(),
            task_type: r.task_type.clone(),
            used: r.used,
            allocated: r.allocated,
            type_median: median,
            message,
        };
        if median > 0 && r.used > 2 * median {
            out.push(base(
                "outlier",
                format!(
                    "{} ({}) used {} tokens, {:.1}× the type median of {}",
                    r.task,
                    r.task_type,
                    thousands(r.used),
                    r.used as f64 / median as f64,
                    thousands(median)
                ),
            ));
        }
        if r.under_allocated_failure() {
            out.push(base(
                "under_allocated",
                format!(
                    "{} ({}) ended {} after using {} of its {} budget ({:.0} %)",
                    r.task,
                    r.task_type,
                    r.outcome.map_or("badly", |o| o.name()),
                    thousands(r.used),
                    thousands(r.allocated),
                    r.utilization() * 100.0
                ),
            ));
        }
    }
    out
}

fn trend(records: &[Record], period: Period) -> Vec<PeriodTrend> {
    let mut by: BTreeMap<String, (usize, u64, u64)> = BTreeMap::new();
    for r in records {
        let e = by.entry(period_key(r.time, period)).or_default();
        e.0 += 1;
        e.1 = e.1.saturating_add(r.allocated);
        e.2 = e.2.saturating_add(r.used);
    }
    by.into_iter()
        .map(|(period, (records, allocated, used))| PeriodTrend {
            period,
            records,
            allocated,
            used,
            utilization: round3(used as f64 / allocated.max(1) as f64),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn week_keys_are_iso() {
        let t = super::super::parse_time("2025-01-01T10:00:00Z").unwrap();
        assert_eq!(period_key(t, Period::Week), "2025-W01");
        let t = super::super::parse_time("2024-12-30T00:30:00+02:00").unwrap();
        // 2024-12-29T22:30Z: Sunday of ISO week 52 of 2024.
        assert_eq!(period_key(t, Period::Week), "2024-W52");
        assert_eq!(period_key(t, Period::Day), "2024-12-29");
    }

    #[test]
    fn medians_round_up_between() {
        assert_eq!(median(&mut [3, 1, 2]), 2);
        assert_eq!(median(&mut [1, 2]), 2);
        assert_eq!(median(&mut []), 0);
    }
}
