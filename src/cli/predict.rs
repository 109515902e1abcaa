//! `tokenscope predict`: a recommended budget from similar recorded tasks.

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Args;

use super::CliError;
use super::history::HistoryFileArgs;
use crate::history::{self, Criticality, Query};

/// `tokenscope predict`.
#[derive(Debug, Clone, Args)]
pub struct PredictArgs {
    /// Task type, e.g. code-review.
    #[arg(long = "type", value_name = "TYPE")]
    pub task_type: String,
    /// Complexity, 0 to 100.
    #[arg(long, value_name = "0-100", value_parser = clap::value_parser!(u8).range(0..=100))]
    pub complexity: u8,
    /// Tags, comma-separated.
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    pub tags: Vec<String>,
    /// low, medium (default), high or critical.
    #[arg(long, value_parser = parse_criticality)]
    pub criticality: Option<Criticality>,
    /// The agent that will run it (its own records weigh double).
    #[arg(long)]
    pub agent: Option<String>,
    /// JSON output (`tokenscope.predict/1`).
    #[arg(long)]
    pub json: bool,
    /// The history file.
    #[command(flatten)]
    pub file: HistoryFileArgs,
}

fn parse_criticality(s: &str) -> Result<Criticality, String> {
    s.parse()
}

/// Runs `tokenscope predict`.
pub fn run(a: &PredictArgs) -> Result<ExitCode, CliError> {
    if a.task_type.trim().is_empty() {
        return Err(CliError::Input(
            "--type: expected a non-empty task type".into(),
        ));
    }
    let path = a.file.path()?;
    let records = history::load(&path).map_err(|e| CliError::Input(e.to_string()))?;
    let query = Query {
        task_type: a.task_type.trim().to_string(),
        complexity: a.complexity,
        tags: a
            .tags
            .iter()
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect(),
        criticality: a.criticality.unwrap_or_default(),
        agent: a.agent.clone(),
    };
    let prediction = history::predict(&records, &query);
    let mut out = io::stdout().lock();
    if a.json {
        serde_json::to_writer_pretty(&mut out, &prediction).map_err(io::Error::from)?;
        writeln!(out)?;
    } else {
        out.write_all(history::prediction_text(&prediction).as_bytes())?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
