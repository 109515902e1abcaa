//! `tokenscope history record|import|report`.
//!
//! `import` skips bad lines: each is reported on stderr as
//! `FILE:LINE:COLUMN: message` and the valid lines are appended, with a
//! count of the skipped ones (exit 0). With `--strict`, any bad line fails
//! the import with exit 2 and nothing is appended. A file with bad lines and
//! no valid one also fails with exit 2 (usually a wrong `--map`). A line may
//! leave out `time` (it is recorded at the import's time) and give `tags` as
//! one comma-separated string, as `history record` allows; a task id already
//! in the history or earlier in the file is skipped (with `--strict`, fails
//! the import) and counted apart from the bad lines.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use time::OffsetDateTime;

use super::models::load_registry;
use super::{CliError, SharedArgs};
use crate::history::{
    self, Criticality, Mapping, Outcome, Period, Record, ReportOptions, parse_time,
};
use crate::text::escape;

/// The history file option shared by `history` and `predict`.
#[derive(Debug, Clone, Args, Default)]
pub struct HistoryFileArgs {
    /// The history file (JSON Lines). Default: `tokenscope/history.jsonl` in
    /// the user data directory (e.g. `~/.local/share` on Linux).
    #[arg(long = "history", value_name = "FILE", global = true)]
    pub history: Option<PathBuf>,
}

impl HistoryFileArgs {
    /// The file to use.
    pub fn path(&self) -> Result<PathBuf, CliError> {
        match &self.history {
            Some(p) => Ok(p.clone()),
            None => history::default_path().map_err(|e| CliError::Input(e.to_string())),
        }
    }
}

/// `tokenscope history`.
#[derive(Debug, Clone, Args)]
pub struct HistoryArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: HistoryCommand,
    /// The history file.
    #[command(flatten)]
    pub file: HistoryFileArgs,
    /// Shared options (`--models-file` prices the savings in `report`).
    #[command(flatten)]
    pub shared: SharedArgs,
}

/// The `history` subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum HistoryCommand {
    /// Append one task's usage to the history.
    Record(RecordArgs),
    /// Append records from another tool's JSONL, with a field mapping.
    Import(ImportArgs),
    /// Utilisation, accuracy, savings, suggested budgets, alerts and trend.
    Report(ReportArgs),
}

/// The flags that describe a task, shared by `history record` and `predict`.
#[derive(Debug, Clone, Args)]
pub struct TaskShape {
    /// Task type, e.g. code-review.
    #[arg(long = "type", value_name = "TYPE")]
    pub task_type: String,
    /// Complexity, 0 to 100.
    #[arg(long, value_name = "0-100", allow_negative_numbers = true, value_parser = parse_complexity)]
    pub complexity: u8,
    /// Tags, comma-separated.
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    pub tags: Vec<String>,
    /// low, medium, high or critical (predict assumes medium when not given).
    #[arg(long, value_parser = parse_criticality)]
    pub criticality: Option<Criticality>,
}

impl TaskShape {
    /// The trimmed task type, or an error when it is empty.
    pub fn task_type(&self) -> Result<String, CliError> {
        let t = self.task_type.trim();
        if t.is_empty() {
            return Err(CliError::Input(
                "--type: expected a non-empty task type".into(),
            ));
        }
        Ok(t.to_string())
    }

    /// The trimmed, non-empty tags.
    pub fn tags(&self) -> Vec<String> {
        self.tags
            .iter()
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect()
    }
}

/// `tokenscope history record`: the flags are the record's fields (see
/// `tokenscope::history::Record`).
#[derive(Debug, Clone, Args)]
pub struct RecordArgs {
    /// Task id.
    #[arg(long, value_name = "ID")]
    pub task: String,
    /// What kind of task it is.
    #[command(flatten)]
    pub shape: TaskShape,
    /// Story points.
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = parse_story_points)]
    pub story_points: Option<f64>,
    /// Tokens budgeted (at least 1).
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = parse_allocated)]
    pub allocated: u64,
    /// Tokens used.
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = parse_used)]
    pub used: u64,
    /// Of the used tokens, those spent thinking.
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = parse_thinking)]
    pub thinking: Option<u64>,
    /// success, failure or partial.
    #[arg(long, value_parser = parse_outcome)]
    pub outcome: Option<Outcome>,
    /// Quality score, 0 to 100.
    #[arg(long, value_name = "0-100", allow_negative_numbers = true, value_parser = parse_quality)]
    pub quality: Option<u8>,
    /// The model the task ran on.
    #[arg(long, short = 'm')]
    pub model: Option<String>,
    /// The agent that ran it.
    #[arg(long)]
    pub agent: Option<String>,
    /// When it ran (RFC 3339); default now.
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    pub time: Option<OffsetDateTime>,
}

/// `tokenscope history import`.
#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// A JSONL file (`-`: stdin).
    pub file: PathBuf,
    /// Field mapping `theirs=ours,...`, e.g. `tokens_used=used,kind=type`.
    #[arg(long, value_name = "FIELD=OURFIELD,...", value_parser = Mapping::parse)]
    pub map: Option<Mapping>,
    /// Fail (exit 2, nothing appended) on any bad line instead of skipping it.
    #[arg(long)]
    pub strict: bool,
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum HistoryFormat {
    /// Plain text.
    #[default]
    Text,
    /// JSON (`tokenscope.history-report/1`).
    Json,
    /// Markdown.
    #[value(alias = "markdown")]
    Md,
}

/// Trend granularity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum TrendBy {
    /// Per day (UTC).
    Day,
    /// Per ISO week (UTC).
    #[default]
    Week,
}

/// `tokenscope history report`.
#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// text, json or md.
    #[arg(long, value_enum, default_value_t = HistoryFormat::Text)]
    pub format: HistoryFormat,
    /// Shorthand for `--format json`.
    #[arg(long)]
    pub json: bool,
    /// Trend per day or week.
    #[arg(long, value_enum, default_value_t = TrendBy::Week)]
    pub by: TrendBy,
    /// The time alerts look back 7 days from (RFC 3339); default now.
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    pub now: Option<OffsetDateTime>,
}

fn parse_allocated(s: &str) -> Result<u64, String> {
    super::args::parse_tokens(s, "allocated", 1).map(|n| n as u64)
}

fn parse_used(s: &str) -> Result<u64, String> {
    super::args::parse_tokens(s, "used", 0).map(|n| n as u64)
}

fn parse_thinking(s: &str) -> Result<u64, String> {
    super::args::parse_tokens(s, "thinking", 0).map(|n| n as u64)
}

fn parse_percent(s: &str, what: &str) -> Result<u8, String> {
    let t = s.trim();
    match t.parse::<i64>() {
        Ok(n @ 0..=100) => Ok(n as u8),
        _ => Err(format!(
            "{what} must be a whole number from 0 to 100, got {t}"
        )),
    }
}

fn parse_complexity(s: &str) -> Result<u8, String> {
    parse_percent(s, "complexity")
}

fn parse_quality(s: &str) -> Result<u8, String> {
    parse_percent(s, "quality")
}

fn parse_criticality(s: &str) -> Result<Criticality, String> {
    s.parse()
}

fn parse_outcome(s: &str) -> Result<Outcome, String> {
    s.parse()
}

fn parse_story_points(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!(
            "`{s}` is not a story-point count; expected a non-negative number"
        )),
    }
}

/// Runs `tokenscope history ...`.
pub fn run(args: &HistoryArgs) -> Result<ExitCode, CliError> {
    let path = args.file.path()?;
    match &args.command {
        HistoryCommand::Record(r) => record(r, &path),
        HistoryCommand::Import(i) => import(i, &path),
        HistoryCommand::Report(r) => report(r, &path, &args.shared),
    }
}

fn record(a: &RecordArgs, path: &Path) -> Result<ExitCode, CliError> {
    if a.task.trim().is_empty() {
        return Err(CliError::Input(
            "--task: expected a non-empty task id".into(),
        ));
    }
    let task_type = a.shape.task_type()?;
    if let Some(t) = a.thinking
        && t > a.used
    {
        return Err(CliError::Input(format!(
            "--thinking {t} is more than --used {}; expected the thinking tokens to be part of the used tokens",
            a.used
        )));
    }
    let rec = Record {
        time: a.time.unwrap_or_else(|| {
            OffsetDateTime::now_utc()
                .replace_nanosecond(0)
                .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        }),
        task: a.task.trim().to_string(),
        task_type,
        complexity: a.shape.complexity,
        tags: a.shape.tags(),
        criticality: a.shape.criticality,
        story_points: a.story_points,
        allocated: a.allocated,
        used: a.used,
        thinking: a.thinking,
        outcome: a.outcome,
        quality: a.quality,
        model: a.model.clone(),
        agent: a.agent.clone(),
    };
    rec.validate().map_err(CliError::Input)?;
    history::append(path, std::slice::from_ref(&rec))?;
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "recorded {} ({}): {} of {} tokens ({:.0} %) in {}",
        escape::line(&rec.task),
        escape::line(&rec.task_type),
        rec.used,
        rec.allocated,
        rec.utilization() * 100.0,
        escape::line(&path.display().to_string())
    )?;
    Ok(ExitCode::SUCCESS)
}

fn import(a: &ImportArgs, path: &Path) -> Result<ExitCode, CliError> {
    let (text, name) = if a.file.as_os_str() == "-" {
        let limit = crate::fsio::limit(crate::fsio::Limit::Input);
        let t = crate::fsio::read_capped(io::stdin().lock(), limit)
            .and_then(|bytes| {
                String::from_utf8(bytes)
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.utf8_error()))
            })
            .map_err(CliError::stdin)?;
        (t, "<stdin>".to_string())
    } else {
        let mut inputs = crate::fsio::Inputs::new();
        inputs.add(&a.file);
        inputs
            .check(path)
            .map_err(|e| CliError::Input(format!("history import: {e}")))?;
        let t = crate::fsio::read_text_file(&a.file, crate::fsio::Limit::Input)
            .map_err(|e| CliError::Input(format!("{}: cannot read: {e}", a.file.display())))?;
        (t, escape::line(&a.file.display().to_string()).into_owned())
    };
    let mapping = a.map.clone().unwrap_or_default();
    let known: std::collections::HashSet<String> = history::load(path)
        .map_err(|e| CliError::Input(e.to_string()))?
        .into_iter()
        .map(|r| r.task)
        .collect();
    let now = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let (records, errors) = history::parse_import(&text, &mapping, now, &known);
    let describe = |e: &history::LineError| {
        format!(
            "{name}:{}:{}: {}",
            e.line,
            e.column,
            escape::line(&e.message)
        )
    };
    let duplicates = errors.iter().filter(|e| e.duplicate).count();
    let bad = errors.len() - duplicates;
    // No valid line at all (duplicates are valid records) is usually a
    // wrong --map: nothing is imported.
    if !errors.is_empty() && (a.strict || (records.is_empty() && duplicates == 0)) {
        let mut msg: Vec<String> = errors.iter().take(10).map(describe).collect();
        if errors.len() > 10 {
            msg.push(format!("... and {} more bad lines", errors.len() - 10));
        }
        let why = if a.strict {
            "--strict: nothing imported"
        } else {
            "no valid record: nothing imported (check --map)"
        };
        return Err(CliError::Input(format!("{}\n{why}", msg.join("\n"))));
    }
    {
        let mut err = io::stderr().lock();
        for e in &errors {
            writeln!(err, "tokenscope: skipped {}", describe(e))?;
        }
    }
    history::append(path, &records)?;
    let mut out = io::stdout().lock();
    write!(
        out,
        "imported {} record{} from {name} into {}",
        records.len(),
        if records.len() == 1 { "" } else { "s" },
        escape::line(&path.display().to_string())
    )?;
    let mut skipped = Vec::new();
    if bad > 0 {
        skipped.push(format!("{bad} bad line{}", if bad == 1 { "" } else { "s" }));
    }
    if duplicates > 0 {
        skipped.push(format!(
            "{duplicates} task{} already recorded",
            if duplicates == 1 { "" } else { "s" }
        ));
    }
    if skipped.is_empty() {
        writeln!(out)?;
    } else {
        writeln!(out, "; skipped {}", skipped.join(" and "))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn report(a: &ReportArgs, path: &Path, shared: &SharedArgs) -> Result<ExitCode, CliError> {
    let records = history::load(path)?;
    let registry = load_registry(shared.models_file.as_deref())?;
    let options = ReportOptions {
        now: a.now.unwrap_or_else(|| {
            let now = OffsetDateTime::now_utc();
            now.replace_nanosecond(0).unwrap_or(now)
        }),
        period: match a.by {
            TrendBy::Day => Period::Day,
            TrendBy::Week => Period::Week,
        },
        registry: Some(&registry),
    };
    let rep = history::report(&records, &options);
    let format = if a.json {
        HistoryFormat::Json
    } else {
        a.format
    };
    let mut out = io::stdout().lock();
    match format {
        HistoryFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &rep).map_err(io::Error::from)?;
            writeln!(out)?;
        }
        HistoryFormat::Text => out.write_all(history::report_text(&rep).as_bytes())?,
        HistoryFormat::Md => out.write_all(history::report_markdown(&rep).as_bytes())?,
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
