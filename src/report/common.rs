//! Formatting shared by the human-readable reports.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::engine::{ItemPlan, ItemStatus, Plan};
use crate::tokens::Accuracy;

/// `12345` -> `12,345`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A token count as shown to a person: `1,234`, or `≈1,234 ±10%` when
/// counts are estimates ([`Accuracy::label`]); zero is always `0`.
pub fn tokens(n: usize, accuracy: Accuracy) -> String {
    accuracy.of_count(n).label(&thousands(n))
}

/// Extra tokens needed, e.g. `+254` (`≈+254 ±10%` for estimates).
pub fn extra_tokens(n: usize, accuracy: Accuracy) -> String {
    accuracy.label(&format!("+{}", thousands(n)))
}

/// A fraction as a percentage with one decimal, e.g. `98.4%`.
pub fn percent(fraction: f64) -> String {
    if fraction.is_finite() {
        format!("{:.1}%", fraction * 100.0)
    } else {
        "–".to_string()
    }
}

/// A priority, shortest form (`1`, `0.85`).
pub fn priority(p: f64) -> String {
    let rounded = (p * 1e6).round() / 1e6;
    format!("{rounded}")
}

/// A cost in US dollars.
pub fn cost(usd: f64) -> String {
    if usd >= 1.0 {
        format!("${usd:.2}")
    } else {
        format!("${usd:.4}")
    }
}

/// Text from the input escaped for one line ([`crate::escape::line`]), so
/// that an item id can not drive the terminal or break a table row.
pub use crate::escape::line as escape;

/// `s` cut to at most `width` display columns, with `…` when cut.
pub fn fit(s: &str, width: usize) -> String {
    if s.width() <= width {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        used += w;
        out.push(c);
    }
    if width > 0 {
        out.push('…');
    }
    out
}

/// `s` padded with spaces on the right to `width` display columns.
pub fn pad_right(s: &str, width: usize) -> String {
    let w = s.width();
    format!("{s}{}", " ".repeat(width.saturating_sub(w)))
}

/// `s` padded with spaces on the left to `width` display columns.
pub fn pad_left(s: &str, width: usize) -> String {
    let w = s.width();
    format!("{}{s}", " ".repeat(width.saturating_sub(w)))
}

/// The name of a degrade level.
pub fn degrade_name(level: u8) -> &'static str {
    match level {
        1 => "compact",
        2 => "outline",
        3 => "capsule",
        _ => "shorter form",
    }
}

/// What happened to an item, in words: the reason when excluded, the change
/// when truncated or degraded, empty when included in full.
pub fn outcome(item: &ItemPlan, accuracy: Accuracy) -> String {
    match item.status {
        ItemStatus::Truncated => format!(
            "truncated from {} to {} tokens",
            tokens(item.tokens, accuracy),
            tokens(item.final_tokens, accuracy)
        ),
        ItemStatus::Degraded => match item.degrade_level {
            Some(l) => format!("degraded to {} (level {l})", degrade_name(l)),
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
    let word = serde_name(&item.status);
    if item.pinned && item.status != ItemStatus::Pinned {
        format!("{word} (pinned)")
    } else {
        word.to_string()
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
        Some(m) => format!("{} · {} · {kind}", escape(m), escape(&plan.encoding)),
        None => format!("{} · {kind}", escape(&plan.encoding)),
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
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(tokens(16000, Accuracy::Estimate(None)), "≈16,000");
        assert_eq!(
            tokens(
                16000,
                Accuracy::Estimate(crate::tokens::ErrorBand::new(0.1))
            ),
            "≈16,000 ±10%"
        );
        assert_eq!(tokens(16000, Accuracy::Exact), "16,000");
        assert_eq!(
            tokens(0, Accuracy::Estimate(crate::tokens::ErrorBand::new(0.1))),
            "0"
        );
        assert_eq!(
            extra_tokens(254, Accuracy::Estimate(crate::tokens::ErrorBand::new(0.1))),
            "≈+254 ±10%"
        );
        assert_eq!(priority(0.1 + 0.2), "0.3");
        assert_eq!(escape("a\u{1b}[31mb\n"), "a\\x1b[31mb\\n");
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("日本語", 4), "日…");
        assert_eq!(pad_left("日", 3), " 日");
    }
}
