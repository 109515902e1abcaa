//! One usage record: a task that ran, the budget it was given and the tokens
//! it really used.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// How much a task matters; higher criticality buys a larger budget margin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Criticality {
    /// A task that may fail cheaply.
    Low,
    /// The default.
    #[default]
    Medium,
    /// A task that should not fail.
    High,
    /// A task that must not fail.
    Critical,
}

impl Criticality {
    /// The multiplier the predictor applies to the budget:
    /// low 0.9, medium 1.0, high 1.2, critical 1.4.
    pub fn factor(self) -> f64 {
        match self {
            Criticality::Low => 0.9,
            Criticality::Medium => 1.0,
            Criticality::High => 1.2,
            Criticality::Critical => 1.4,
        }
    }

    /// The lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Criticality::Low => "low",
            Criticality::Medium => "medium",
            Criticality::High => "high",
            Criticality::Critical => "critical",
        }
    }
}

impl fmt::Display for Criticality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Criticality {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "low" => Ok(Criticality::Low),
            "medium" => Ok(Criticality::Medium),
            "high" => Ok(Criticality::High),
            "critical" => Ok(Criticality::Critical),
            _ => Err(format!(
                "`{s}` is not a criticality; expected low, medium, high or critical"
            )),
        }
    }
}

/// How a task ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The task did what it was asked.
    Success,
    /// The task did part of it.
    Partial,
    /// The task failed.
    Failure,
}

impl Outcome {
    /// The lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Partial => "partial",
            Outcome::Failure => "failure",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Outcome {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "success" => Ok(Outcome::Success),
            "partial" => Ok(Outcome::Partial),
            "failure" => Ok(Outcome::Failure),
            _ => Err(format!(
                "`{s}` is not an outcome; expected success, failure or partial"
            )),
        }
    }
}

/// The most tokens a record may give for `allocated`, `used` or `thinking`
/// (the limit item sets have for counts): far beyond any task, and sums of
/// many records stay far from overflowing.
pub const MAX_TOKENS: u64 = 9_000_000_000_000_000;

/// One line of the history file (JSON Lines, one object per line).
///
/// Field names as written:
///
/// | field          | type                                   | required |
/// |----------------|----------------------------------------|----------|
/// | `time`         | RFC 3339 time, e.g. `2025-06-01T12:00:00Z` | yes  |
/// | `task`         | task id (string)                       | yes      |
/// | `type`         | task type, e.g. `code-review`          | yes      |
/// | `complexity`   | integer 0–100                          | yes      |
/// | `tags`         | array of strings                       | no (`[]`) |
/// | `criticality`  | `low`, `medium`, `high`, `critical`    | no       |
/// | `story_points` | non-negative number                    | no       |
/// | `allocated`    | tokens budgeted for the task (≥ 1)     | yes      |
/// | `used`         | tokens the task really used            | yes      |
/// | `thinking`     | of `used`, tokens spent thinking       | no       |
/// | `outcome`      | `success`, `failure`, `partial`        | no       |
/// | `quality`      | integer 0–100                          | no       |
/// | `model`        | model name (prices from the registry)  | no       |
/// | `agent`        | the agent or person that ran it        | no       |
///
/// Absent optional fields are not written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// When the task ran.
    #[serde(
        serialize_with = "serialize_time",
        deserialize_with = "deserialize_time"
    )]
    pub time: OffsetDateTime,
    /// The task id.
    pub task: String,
    /// The task type.
    #[serde(rename = "type")]
    pub task_type: String,
    /// How hard the task was, 0–100.
    pub complexity: u8,
    /// Free tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// How much the task mattered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub criticality: Option<Criticality>,
    /// Story points, when the team estimates them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub story_points: Option<f64>,
    /// Tokens budgeted.
    pub allocated: u64,
    /// Tokens used.
    pub used: u64,
    /// Of `used`, tokens spent on reasoning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking: Option<u64>,
    /// How the task ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// A quality score, 0–100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<u8>,
    /// The model the task ran on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The agent that ran it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
}

impl Record {
    /// Checks the ranges serde cannot: a non-empty task and type, complexity
    /// and quality in 0–100, `allocated` ≥ 1, `thinking` ≤ `used`, story
    /// points finite and non-negative. The error names the field.
    pub fn validate(&self) -> Result<(), String> {
        if self.task.trim().is_empty() {
            return Err("field `task`: expected a non-empty task id".into());
        }
        if self.task_type.trim().is_empty() {
            return Err("field `type`: expected a non-empty task type".into());
        }
        if self.complexity > 100 {
            return Err(format!(
                "field `complexity`: {} is out of range; expected 0 to 100",
                self.complexity
            ));
        }
        if let Some(q) = self.quality
            && q > 100
        {
            return Err(format!(
                "field `quality`: {q} is out of range; expected 0 to 100"
            ));
        }
        if self.allocated == 0 {
            return Err("field `allocated`: expected at least 1 token".into());
        }
        for (field, n) in [
            ("allocated", Some(self.allocated)),
            ("used", Some(self.used)),
            ("thinking", self.thinking),
        ] {
            if let Some(n) = n
                && n > MAX_TOKENS
            {
                return Err(format!(
                    "field `{field}`: {n} is too large; expected at most {MAX_TOKENS} tokens"
                ));
            }
        }
        if let Some(t) = self.thinking
            && t > self.used
        {
            return Err(format!(
                "field `thinking`: {t} is more than `used` ({}); expected thinking tokens to be part of the used tokens",
                self.used
            ));
        }
        if let Some(sp) = self.story_points
            && !(sp.is_finite() && sp >= 0.0)
        {
            return Err(format!(
                "field `story_points`: {sp} is invalid; expected a non-negative number"
            ));
        }
        Ok(())
    }

    /// `used / allocated`.
    pub fn utilization(&self) -> f64 {
        self.used as f64 / self.allocated.max(1) as f64
    }

    /// Whether the task failed (or half-failed) because its budget ran out:
    /// outcome `failure` or `partial` with at least 95 % of the budget used.
    pub fn under_allocated_failure(&self) -> bool {
        matches!(self.outcome, Some(Outcome::Failure | Outcome::Partial))
            && self.used as f64 >= 0.95 * self.allocated as f64
    }

    /// The record as one JSON line, newline included.
    pub fn to_line(&self) -> String {
        let mut line = serde_json::to_string(self).unwrap_or_default();
        line.push('\n');
        line
    }
}

/// Formats a time as RFC 3339 (`2025-06-01T12:00:00Z`).
pub fn format_time(t: OffsetDateTime) -> String {
    t.format(&Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

/// Parses an RFC 3339 time; the error says what was expected.
pub fn parse_time(s: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(s.trim(), &Rfc3339)
        .map_err(|_| format!("`{s}` is not a time; expected RFC 3339 such as 2025-06-01T12:00:00Z"))
}

fn serialize_time<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_time(*t))
}

fn deserialize_time<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
    let text = String::deserialize(d)?;
    parse_time(&text).map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_one_line() {
        let line = r#"{"time":"2025-06-01T12:00:00Z","task":"t1","type":"review","complexity":40,"tags":["rust"],"allocated":8000,"used":6000,"outcome":"success"}"#;
        let r: Record = serde_json::from_str(line).unwrap();
        assert_eq!(r.task_type, "review");
        assert_eq!(r.to_line(), format!("{line}\n"));
    }

    #[test]
    fn validation_names_the_field() {
        let mut r: Record = serde_json::from_str(
            r#"{"time":"2025-06-01T12:00:00Z","task":"t","type":"x","complexity":101,"allocated":1,"used":0}"#,
        )
        .unwrap();
        assert!(r.validate().unwrap_err().contains("`complexity`"));
        r.complexity = 5;
        r.thinking = Some(3);
        assert!(r.validate().unwrap_err().contains("`thinking`"));
        r.thinking = None;
        r.allocated = u64::MAX;
        assert!(r.validate().unwrap_err().contains("too large"));
    }

    #[test]
    fn bad_time_is_explained() {
        let err = serde_json::from_str::<Record>(
            r#"{"time":"yesterday","task":"t","type":"x","complexity":1,"allocated":1,"used":0}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("RFC 3339"), "{err}");
    }
}
