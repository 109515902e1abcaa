//! `tokenscope predict`: a recommended budget from similar recorded tasks.

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Args;

use super::CliError;
use super::history::{HistoryFileArgs, TaskShape};
use crate::history::{self, Query};

/// `tokenscope predict`.
#[derive(Debug, Clone, Args)]
pub struct PredictArgs {
    /// What kind of task it is.
    #[command(flatten)]
    pub shape: TaskShape,
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

/// Runs `tokenscope predict`.
pub fn run(a: &PredictArgs) -> Result<ExitCode, CliError> {
    let task_type = a.shape.task_type()?;
    let path = a.file.path()?;
    let records = history::load(&path).map_err(|e| CliError::Input(e.to_string()))?;
    let query = Query {
        task_type,
        complexity: a.shape.complexity,
        tags: a.shape.tags(),
        criticality: a.shape.criticality.unwrap_or_default(),
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
