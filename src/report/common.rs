//! Formatting shared by the human-readable reports.

use crate::engine::{ItemPlan, ItemStatus, Plan};
use crate::text::{escape, thousands};
use crate::tokens::Accuracy;

/// Extra tokens needed, e.g. `+254` (`≈+254 ±10%` for estimates).
pub fn extra_tokens(n: usize, accuracy: Accuracy) -> String {
    accuracy.label(&format!("+{}", thousands(n)))
}

/// A priority, shortest form (`1`, `0.85`).
pub fn priority(p: f64) -> String {
    let rounded = (p * 1e6).round() / 1e6;
    format!("{rounded}")
}

/// What happened to an item, in words: the reason when excluded, the change
/// when truncated or degraded, empty when included in full.
pub fn outcome(item: &ItemPlan, accuracy: Accuracy) -> String {
    match item.status {
        ItemStatus::Truncated => format!(
            "truncated from {} to {} tokens",
            accuracy.count_label(item.tokens),
            accuracy.count_label(item.final_tokens)
        ),
        ItemStatus::Degraded => match item.degrade() {
            Some(l) => format!("degraded to {l} (level {})", l.number()),
            None => "degraded".to_string(),
        },
        ItemStatus::Excluded => item
            .reason
            .map_or_else(|| "excluded".to_string(), |r| r.describe().to_string()),
        _ => String::new(),
    }
}

/// The status word, with `pinned` added for a pinned item whose status says
/// otherwise.
pub fn status(item: &ItemPlan) -> String {
    if item.pinned && item.status != ItemStatus::Pinned {
        format!("{} (pinned)", item.status)
    } else {
        item.status.name().to_string()
    }
}

/// The name a value has in the JSON report (`over_section_budget`,
/// `included`), so that every format uses the same words.
pub fn serde_name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// `gpt-4o · o200k_base · exact` (or `≈ estimate ±10%`).
pub fn counting(plan: &Plan) -> String {
    let kind = plan.accuracy().kind();
    match &plan.model {
        Some(m) => format!(
            "{} · {} · {kind}",
            escape::line(m),
            escape::line(&plan.encoding)
        ),
        None => format!("{} · {kind}", escape::line(&plan.encoding)),
    }
}

/// How far the `chars/4` estimate is from the rendered count, e.g. `+3.1%`.
pub fn estimate_gap(plan: &Plan) -> Option<String> {
    let rendered = plan.totals.rendered;
    if rendered == 0 {
        return None;
    }
    let gap = (plan.totals.estimate_chars4 as f64 - rendered as f64) / rendered as f64;
    Some(format!("{:+.1}%", gap * 100.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(
            extra_tokens(254, Accuracy::Estimate(crate::tokens::ErrorBand::new(0.1))),
            "≈+254 ±10%"
        );
        assert_eq!(priority(0.1 + 0.2), "0.3");
    }
}
