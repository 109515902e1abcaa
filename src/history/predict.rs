//! Budget prediction from similar recorded tasks.
//!
//! # The model
//!
//! Only records of the same task type (case-insensitive) are similar; of
//! those, the [`MAX_SIMILAR`] most recent are used. Each gets a weight:
//!
//! - complexity: `1 / (1 + |Δcomplexity| / 10)`;
//! - tags: `0.5 + 0.5 × Jaccard(query tags, record tags)` (both empty: 1);
//! - agent: ×2 when the record is the query agent's own;
//! - outcome: success (or none given) ×1, partial ×0.6, failure ×0.3 —
//!   except a failure or partial that used ≥ 95 % of its budget (it failed
//!   *because* it ran out): it keeps weight 1 and counts as needing
//!   `1.25 × max(used, allocated)`, which pushes the budget up.
//!
//! Each record's tokens are scaled to the query's complexity assuming usage
//! grows linearly with complexity, half the complexity-50 usage at 0:
//! `× (50 + c_query) / (50 + c_record)`. The expected usage is the weighted
//! mean; the budget adds [`HEADROOM`] (15 %) and the criticality factor
//! (low ×0.9, medium ×1, high ×1.2, critical ×1.4), rounded up to 100.
//!
//! Confidence = `n / (n + 4) × 1 / (1 + 2 × cv)`, where `n` is the effective
//! number of records `(Σw)² / Σw²` and `cv` the weighted coefficient of
//! variation of their scaled usage; high ≥ 0.7, medium ≥ 0.4, low below.
//!
//! With no record of the type, [`default_tokens`] gives the expected usage
//! (confidence 0, "none"), and the reasoning says so.
//!
//! Phases: the thinking share is the weighted mean of `thinking / used` over
//! the similar records that give `thinking`; the rest splits planning :
//! execution : reflection as 15 : 50 : 10. Without thinking data the
//! [`DEFAULT_PHASES`] fractions apply.

use serde::Serialize;

use super::record::{Criticality, Outcome, Record};
use crate::text::thousands;

/// The schema tag of `predict --json`.
pub const PREDICT_SCHEMA: &str = "tokenscope.predict/1";

/// Margin added on top of the expected usage.
pub const HEADROOM: f64 = 0.15;

/// At most this many of the most recent same-type records are considered.
pub const MAX_SIMILAR: usize = 500;

/// Default phase fractions: thinking, planning, execution, reflection.
pub const DEFAULT_PHASES: [(&str, f64); 4] = [
    ("thinking", 0.25),
    ("planning", 0.15),
    ("execution", 0.50),
    ("reflection", 0.10),
];

/// The default-usage table for task types with no history: tokens used at
/// complexity 50 (scaled by `(50 + complexity) / 100`). Each row lists the
/// type names it matches.
pub const DEFAULT_TABLE: &[(&[&str], u64)] = &[
    (
        &["code-generation", "coding", "implementation", "feature"],
        8_000,
    ),
    (&["code-review", "review"], 6_000),
    (&["debugging", "debug", "bugfix"], 10_000),
    (&["research", "analysis"], 12_000),
    (&["documentation", "docs", "writing"], 5_000),
    (&["summarization", "summary"], 3_000),
    (&["planning", "design"], 4_000),
    (&["chat", "qa", "question"], 2_000),
];

/// Tokens used at complexity 50 by a type not in [`DEFAULT_TABLE`].
pub const DEFAULT_OTHER: u64 = 6_000;

/// What a new task looks like.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Query {
    /// The task type.
    pub task_type: String,
    /// Complexity 0–100.
    pub complexity: u8,
    /// Tags.
    pub tags: Vec<String>,
    /// Criticality.
    pub criticality: Criticality,
    /// The agent that will run it.
    pub agent: Option<String>,
}

impl Query {
    /// The query a record would have made before it ran.
    pub fn for_record(r: &Record) -> Query {
        Query {
            task_type: r.task_type.clone(),
            complexity: r.complexity,
            tags: r.tags.clone(),
            criticality: r.criticality.unwrap_or_default(),
            agent: r.agent.clone(),
        }
    }
}

/// A budget for one phase of a task.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Phase {
    /// thinking, planning, execution or reflection.
    pub name: &'static str,
    /// Share of the budget.
    pub fraction: f64,
    /// Tokens (the phases add up to the budget).
    pub tokens: u64,
}

/// A cheaper or more generous budget.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alternative {
    /// conservative, generous or maximum.
    pub name: &'static str,
    /// Change against the recommended budget, in percent.
    pub change_pct: i32,
    /// Tokens.
    pub budget: u64,
    /// Weighted share of the similar records whose (scaled) usage fits;
    /// `null` without history.
    pub covers: Option<f64>,
}

/// A recommended budget (`predict --json`, schema `tokenscope.predict/1`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prediction {
    /// `tokenscope.predict/1`.
    pub schema: &'static str,
    /// The task type asked for.
    #[serde(rename = "type")]
    pub task_type: String,
    /// The complexity asked for.
    pub complexity: u8,
    /// The criticality asked for.
    pub criticality: Criticality,
    /// `history` or `defaults`.
    pub source: &'static str,
    /// The recommended budget in tokens.
    pub budget: u64,
    /// The expected usage (before headroom and criticality).
    pub expected_used: u64,
    /// 0–1.
    pub confidence: f64,
    /// none, low, medium or high.
    pub confidence_label: &'static str,
    /// Records of the type considered.
    pub similar: usize,
    /// Of those, the query agent's own.
    pub own_records: usize,
    /// Effective number of records, `(Σw)² / Σw²`.
    pub effective_records: f64,
    /// Weighted coefficient of variation of the usage; `null` without history.
    pub spread_cv: Option<f64>,
    /// Weighted share of similar records whose usage fits the budget.
    pub covers: Option<f64>,
    /// A sentence on how the number came about.
    pub reasoning: String,
    /// Where the phase fractions came from: `history` or `defaults`.
    pub phase_source: &'static str,
    /// The budget split into phases.
    pub phases: Vec<Phase>,
    /// Conservative (−30 %), generous (+30 %) and maximum (+60 %).
    pub alternatives: Vec<Alternative>,
}

/// Tokens a type uses at complexity 50 with no history, from
/// [`DEFAULT_TABLE`] (case-insensitive), else [`DEFAULT_OTHER`].
pub fn default_tokens(task_type: &str) -> u64 {
    let t = task_type.trim().to_ascii_lowercase();
    DEFAULT_TABLE
        .iter()
        .find(|(names, _)| names.contains(&t.as_str()))
        .map_or(DEFAULT_OTHER, |(_, n)| *n)
}

/// The weighted estimate over a set of similar records.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Estimate {
    /// Weighted mean of the scaled usage.
    pub mean: f64,
    /// Weighted coefficient of variation.
    pub cv: f64,
    /// `(Σw)² / Σw²`.
    pub effective: f64,
    /// (scaled usage, weight) per record.
    pub points: Vec<(f64, f64)>,
    /// Records that failed for lack of budget.
    pub under_allocated: usize,
    /// Records of the query agent.
    pub own: usize,
    /// Weighted thinking share, when any record gives thinking tokens.
    pub thinking_share: Option<f64>,
    /// Records that gave thinking tokens.
    pub thinking_records: usize,
}

fn jaccard(a: &[String], b: &[String]) -> f64 {
    let norm = |v: &[String]| {
        let mut s: Vec<String> = v.iter().map(|t| t.trim().to_lowercase()).collect();
        s.sort();
        s.dedup();
        s
    };
    let (a, b) = (norm(a), norm(b));
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let common = a.iter().filter(|t| b.contains(t)).count();
    let union = a.len() + b.len() - common;
    common as f64 / union as f64
}

/// The weight of one record for a query, and the tokens it counts as needing
/// at the query's complexity.
pub(crate) fn weigh(r: &Record, q: &Query) -> (f64, f64) {
    let dc = (f64::from(r.complexity) - f64::from(q.complexity)).abs();
    let mut w = 1.0 / (1.0 + dc / 10.0);
    w *= 0.5 + 0.5 * jaccard(&q.tags, &r.tags);
    if q.agent.is_some() && q.agent == r.agent {
        w *= 2.0;
    }
    let mut needed = r.used as f64;
    if r.under_allocated_failure() {
        needed = 1.25 * r.used.max(r.allocated) as f64;
    } else {
        w *= match r.outcome {
            None | Some(Outcome::Success) => 1.0,
            Some(Outcome::Partial) => 0.6,
            Some(Outcome::Failure) => 0.3,
        };
    }
    let scale = (50.0 + f64::from(q.complexity)) / (50.0 + f64::from(r.complexity));
    (w, needed * scale)
}

/// Estimates over records already known to be of the query's type.
pub(crate) fn estimate(similar: &[&Record], q: &Query) -> Option<Estimate> {
    if similar.is_empty() {
        return None;
    }
    let mut points = Vec::with_capacity(similar.len());
    let (mut sw, mut sw2, mut swx) = (0.0, 0.0, 0.0);
    let (mut tw, mut twx, mut thinking_records) = (0.0, 0.0, 0);
    let mut under_allocated = 0;
    let mut own = 0;
    for r in similar {
        let (w, x) = weigh(r, q);
        points.push((x, w));
        sw += w;
        sw2 += w * w;
        swx += w * x;
        if r.under_allocated_failure() {
            under_allocated += 1;
        }
        if q.agent.is_some() && q.agent == r.agent {
            own += 1;
        }
        if let Some(t) = r.thinking
            && r.used > 0
        {
            tw += w;
            twx += w * t as f64 / r.used as f64;
            thinking_records += 1;
        }
    }
    if sw <= 0.0 {
        return None;
    }
    let mean = swx / sw;
    let var = points
        .iter()
        .map(|(x, w)| w * (x - mean).powi(2))
        .sum::<f64>()
        / sw;
    let cv = if mean > 0.0 { var.sqrt() / mean } else { 0.0 };
    Some(Estimate {
        mean,
        cv,
        effective: sw * sw / sw2,
        points,
        under_allocated,
        own,
        thinking_share: (tw > 0.0).then(|| twx / tw),
        thinking_records,
    })
}

/// Whether a record is of the given type (case-insensitive, trimmed).
pub(crate) fn same_type(r: &Record, task_type: &str) -> bool {
    r.task_type.trim().eq_ignore_ascii_case(task_type.trim())
}

fn round_up_100(x: f64) -> u64 {
    if !x.is_finite() || x <= 0.0 {
        return 0;
    }
    ((x / 100.0).ceil() as u64).saturating_mul(100)
}

fn round_100(x: f64) -> u64 {
    if !x.is_finite() || x <= 0.0 {
        return 0;
    }
    ((x / 100.0).round() as u64).saturating_mul(100)
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn confidence_label(c: f64) -> &'static str {
    if c >= 0.7 {
        "high"
    } else if c >= 0.4 {
        "medium"
    } else if c > 0.0 {
        "low"
    } else {
        "none"
    }
}

/// Splits `budget` by fractions; execution takes the rounding remainder so
/// the phases add up to the budget exactly.
fn phases(budget: u64, thinking: Option<f64>) -> Vec<Phase> {
    let fractions: Vec<(&'static str, f64)> = match thinking {
        Some(t) => {
            let t = t.clamp(0.0, 1.0);
            let rest = 1.0 - t;
            vec![
                ("thinking", t),
                ("planning", rest * 15.0 / 75.0),
                ("execution", rest * 50.0 / 75.0),
                ("reflection", rest * 10.0 / 75.0),
            ]
        }
        None => DEFAULT_PHASES.to_vec(),
    };
    let mut out: Vec<Phase> = fractions
        .iter()
        .map(|&(name, fraction)| Phase {
            name,
            fraction: round2(fraction),
            tokens: (budget as f64 * fraction).round() as u64,
        })
        .collect();
    let others: u64 = out
        .iter()
        .filter(|p| p.name != "execution")
        .map(|p| p.tokens)
        .sum();
    if let Some(exec) = out.iter_mut().find(|p| p.name == "execution") {
        exec.tokens = budget.saturating_sub(others);
    }
    out
}

/// The most recent [`MAX_SIMILAR`] records of the query's type, oldest first.
fn similar_records<'a>(records: &'a [Record], task_type: &str) -> Vec<&'a Record> {
    let mut similar: Vec<&Record> = records.iter().filter(|r| same_type(r, task_type)).collect();
    similar.sort_by_key(|r| r.time);
    let skip = similar.len().saturating_sub(MAX_SIMILAR);
    similar.drain(..skip);
    similar
}

/// Recommends a budget for `query` from `records` (see the module docs).
///
/// ```
/// use tokenscope::history::{predict, Query};
/// let p = predict(&[], &Query { task_type: "code-review".into(), complexity: 50, ..Query::default() });
/// assert_eq!(p.source, "defaults");
/// assert_eq!(p.expected_used, 6_000);
/// assert_eq!(p.budget, 6_900); // + 15 % headroom
/// ```
pub fn predict(records: &[Record], query: &Query) -> Prediction {
    let similar = similar_records(records, &query.task_type);
    predict_from(&similar, query, records.len())
}

/// [`predict`] over records already filtered to the query's type.
pub(crate) fn predict_from(similar: &[&Record], q: &Query, total_records: usize) -> Prediction {
    let crit = q.criticality.factor();
    let mut notes = Vec::new();
    notes.push(format!("+{:.0} % headroom", HEADROOM * 100.0));
    if q.criticality != Criticality::Medium {
        let pct = ((crit - 1.0) * 100.0).round() as i64;
        notes.push(format!("{} criticality {pct:+} %", q.criticality));
    }
    let est = estimate(similar, q);
    let (expected, confidence, reasoning_head) = match &est {
        Some(e) => {
            let conf = round2(e.effective / (e.effective + 4.0) / (1.0 + 2.0 * e.cv));
            let mut head = format!(
                "based on {} similar {} task{}",
                similar.len(),
                q.task_type,
                if similar.len() == 1 { "" } else { "s" }
            );
            if e.own > 0
                && let Some(agent) = &q.agent
            {
                head.push_str(&format!(" ({} by {agent}, weighted double)", e.own));
            }
            head.push_str(&format!(
                ", weighted average {} used at complexity {}",
                thousands(e.mean.round() as u64),
                q.complexity
            ));
            if e.under_allocated > 0 {
                notes.push(format!(
                    "{} failed for lack of budget, counted at +25 % of their allocation",
                    e.under_allocated
                ));
            }
            (e.mean, conf, head)
        }
        None => {
            let base = default_tokens(&q.task_type);
            let expected = base as f64 * (50.0 + f64::from(q.complexity)) / 100.0;
            let history = if total_records == 0 {
                "no history".to_string()
            } else {
                format!("no history for type {}", q.task_type)
            };
            let head = format!(
                "{history}: default {} tokens for {} at complexity 50, ×{:.2} for complexity {}",
                thousands(base),
                q.task_type,
                (50.0 + f64::from(q.complexity)) / 100.0,
                q.complexity
            );
            (expected, 0.0, head)
        }
    };
    let budget = round_up_100(expected * (1.0 + HEADROOM) * crit);
    let covers_of = |b: u64| {
        est.as_ref().map(|e| {
            let sw: f64 = e.points.iter().map(|p| p.1).sum();
            let fit: f64 = e
                .points
                .iter()
                .filter(|p| p.0 <= b as f64)
                .map(|p| p.1)
                .sum();
            round2(fit / sw)
        })
    };
    let alternatives = [("conservative", -30), ("generous", 30), ("maximum", 60)]
        .into_iter()
        .map(|(name, change_pct)| {
            let b = round_100(budget as f64 * (1.0 + f64::from(change_pct) / 100.0));
            Alternative {
                name,
                change_pct,
                budget: b,
                covers: covers_of(b),
            }
        })
        .collect();
    let thinking = est.as_ref().and_then(|e| e.thinking_share);
    let mut reasoning = reasoning_head;
    for n in &notes {
        reasoning.push_str("; ");
        reasoning.push_str(n);
    }
    if let Some(e) = &est
        && e.thinking_records > 0
    {
        reasoning.push_str(&format!(
            "; phases from the thinking tokens of {} record{}",
            e.thinking_records,
            if e.thinking_records == 1 { "" } else { "s" }
        ));
    }
    Prediction {
        schema: PREDICT_SCHEMA,
        task_type: q.task_type.clone(),
        complexity: q.complexity,
        criticality: q.criticality,
        source: if est.is_some() { "history" } else { "defaults" },
        budget,
        expected_used: expected.round() as u64,
        confidence,
        confidence_label: confidence_label(confidence),
        similar: similar.len(),
        own_records: est.as_ref().map_or(0, |e| e.own),
        effective_records: est.as_ref().map_or(0.0, |e| round2(e.effective)),
        spread_cv: est.as_ref().map(|e| round2(e.cv)),
        covers: covers_of(budget),
        reasoning,
        phase_source: if thinking.is_some() {
            "history"
        } else {
            "defaults"
        },
        phases: phases(budget, thinking),
        alternatives,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jaccard_of_tag_sets() {
        let v = |s: &[&str]| s.iter().map(|t| t.to_string()).collect::<Vec<_>>();
        assert_eq!(jaccard(&v(&[]), &v(&[])), 1.0);
        assert_eq!(jaccard(&v(&["a", "b"]), &v(&["B", "c"])), 1.0 / 3.0);
        assert_eq!(jaccard(&v(&["a"]), &v(&[])), 0.0);
    }

    #[test]
    fn phases_add_up() {
        for b in [0, 1, 99, 6_900, 123_457] {
            for t in [None, Some(0.3), Some(0.0), Some(1.0)] {
                let p = phases(b, t);
                assert_eq!(p.iter().map(|p| p.tokens).sum::<u64>(), b);
            }
        }
    }

    #[test]
    fn unknown_types_use_the_other_row() {
        assert_eq!(default_tokens("Code-Review"), 6_000);
        assert_eq!(default_tokens("translation"), DEFAULT_OTHER);
    }
}
