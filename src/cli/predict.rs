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
    let records = history::load(&path)?;
    let query = Query {
        task_type,
        complexity: a.shape.complexity,
        tags: a.shape.tags(),
        criticality: a.shape.criticality.unwrap_or_default(),
        agent: a.agent.clone(),
    };
    if let Some(note) = unknown_type_note(&query.task_type, &records) {
        writeln!(
            io::stderr(),
            "tokenscope: note: {}",
            crate::text::escape::line(&note)
        )?;
    }
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

/// A type no record has, in a history that has records: the closest type
/// recorded (a typo such as `code-reveiw`), else the types there are.
fn unknown_type_note(task_type: &str, records: &[history::Record]) -> Option<String> {
    let mut types: Vec<&str> = records.iter().map(|r| r.task_type.as_str()).collect();
    types.sort_unstable();
    types.dedup();
    if types.is_empty() || types.contains(&task_type) {
        return None;
    }
    Some(
        match crate::input::error::closest(task_type, types.iter().copied()) {
            Some(guess) => format!(
                "no recorded task has type `{task_type}`; did you mean `{guess}`? (the prediction uses defaults)"
            ),
            None => {
                let shown: Vec<&str> = types.iter().copied().take(12).collect();
                let more = if types.len() > shown.len() {
                    ", ..."
                } else {
                    ""
                };
                format!(
                    "no recorded task has type `{task_type}` (the prediction uses defaults); recorded types: {}{more}",
                    shown.join(", ")
                )
            }
        },
    )
}
