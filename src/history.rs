//! Usage history and budget prediction (`history`, `predict` in the README).
//!
//! Records of real runs ([`Record`]) live in a JSON Lines file
//! ([`default_path`], or one the caller gives). [`predict`] recommends a
//! budget for a new task from similar recorded ones; [`report`] analyses the
//! history by task type; [`record_plan`] records an engine [`Plan`].

mod predict;
mod record;
mod render;
mod report;
mod store;

use std::path::Path;

use time::OffsetDateTime;

use crate::engine::Plan;

pub use predict::{
    Alternative, DEFAULT_OTHER, DEFAULT_PHASES, DEFAULT_TABLE, HEADROOM, MAX_SIMILAR,
    PREDICT_SCHEMA, Phase, Prediction, Query, default_tokens, predict,
};
pub use record::{Criticality, Outcome, Record, format_time, parse_time};
pub use render::{prediction_text, report_markdown, report_text};
pub use report::{
    Alert, HISTORY_REPORT_SCHEMA, Period, PeriodTrend, Report, ReportOptions, Savings, TypeReport,
    report,
};
pub use store::{
    HistoryError, LineError, Mapping, RECORD_FIELDS, append, default_path, load, parse_import,
    parse_lines,
};

/// The complexity given to records made from a plan, which carries none.
pub const PLAN_COMPLEXITY: u8 = 50;

/// A record of one engine run: `allocated` is the plan's total budget,
/// `used` the rendered context's exact token count, `model` the plan's
/// model, complexity [`PLAN_COMPLEXITY`], outcome unknown. The task id is
/// `pack-` and the Unix time. Change fields before appending as needed.
pub fn record_from_plan(plan: &Plan, task_type: &str, time: OffsetDateTime) -> Record {
    Record {
        time,
        task: format!("pack-{}", time.unix_timestamp()),
        task_type: task_type.to_string(),
        complexity: PLAN_COMPLEXITY,
        tags: Vec::new(),
        criticality: None,
        story_points: None,
        allocated: (plan.budget.total as u64).max(1),
        used: plan.totals.rendered as u64,
        thinking: None,
        outcome: None,
        quality: None,
        model: plan.model.clone(),
        agent: None,
    }
}

/// Records a plan's allocation (`pack --record TYPE`): appends
/// [`record_from_plan`] at the current time to `history` and returns it.
pub fn record_plan(history: &Path, plan: &Plan, task_type: &str) -> Result<Record, HistoryError> {
    let record = record_from_plan(plan, task_type, OffsetDateTime::now_utc());
    // A record the next read would refuse (a budget past the token limit)
    // is not written: it would make the whole history unreadable.
    record.validate().map_err(|message| HistoryError::Io {
        path: history.to_path_buf(),
        action: "cannot record",
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, message),
    })?;
    append(history, std::slice::from_ref(&record))?;
    Ok(record)
}
