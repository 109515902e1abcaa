//! `tokenscope pack` and `tokenscope check`.
//!
//! `pack` runs the engine once and writes a report: `--format`/`--json`, or
//! from the extension of `-o FILE`; otherwise the `text` summary on a
//! terminal and the packed `context` when stdout is piped, so that
//! `tokenscope pack set.toml | llm` sends the packed prompt.
//!
//! `check` runs the same and exits 1 when a rule is broken: a pinned item is
//! out, the rendered context exceeds the total, pinned items overrun a
//! section, or a profile rule (`max_utilization`, `min_included`,
//! `must_include`) fails. It prints one line per broken rule, and the report
//! too when a format or `-o` is given.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use crate::fsio::Inputs;
use crate::report::{
    Format, ReportOptions, check, format_from_name, should_color, write_report, write_report_file,
};
use crate::tokens::ModelRegistry;

use super::prepare::{Prepared, color_mode, prepare};
use super::{CliError, PackArgs};

/// Runs `tokenscope pack`, or `check` when `check` is true.
pub fn run(args: &PackArgs, is_check: bool) -> Result<ExitCode, CliError> {
    let prepared = prepare(args)?;
    let record_file = match &args.record {
        Some(_) => Some(match &args.record_history {
            Some(f) => f.clone(),
            None => crate::history::default_path().map_err(|e| CliError::Input(e.to_string()))?,
        }),
        None => None,
    };
    // No write may land on an input: check both outputs before any work.
    if record_file.is_some() || args.output.is_some() {
        let mut inputs = inputs_read(&prepared, args);
        if let Some(file) = &record_file {
            inputs
                .check(file)
                .map_err(|e| CliError::Input(format!("--record: {e}")))?;
            inputs.add(file);
        }
        if let Some(out) = &args.output {
            inputs
                .check(out)
                .map_err(|e| CliError::Input(e.to_string()))?;
        }
    }
    let plan = prepared.pack()?;
    if let (Some(task_type), Some(file)) = (&args.record, &record_file) {
        crate::history::record_plan(file, &plan, task_type)
            .map_err(|e| CliError::Input(format!("--record: {e}")))?;
    }
    let stdout = io::stdout();
    let terminal = stdout.is_terminal();
    let explicit = explicit_format(args)?;
    if explicit == Some(Format::Request) && !plan.chat_request {
        return Err(CliError::Input(crate::report::NOT_A_REQUEST.to_string()));
    }
    let opts = ReportOptions {
        color: should_color(color_mode(args.shared.color), terminal) && args.output.is_none(),
        width: if terminal { terminal_width() } else { 80 },
        title: Some(prepared.title()),
    };
    let mut out = stdout.lock();

    if is_check {
        if explicit.is_some() || args.output.is_some() {
            emit(&plan, explicit, args, &opts, &mut out)?;
        }
        let violations = check(&plan, &prepared.rules);
        for v in &violations {
            writeln!(out, "check failed: {v}")?;
        }
        if violations.is_empty() {
            writeln!(
                out,
                "check passed: {} of {} tokens rendered, {} items included, {} excluded",
                plan.totals.rendered, plan.budget.total, plan.totals.included, plan.totals.excluded
            )?;
            return Ok(ExitCode::SUCCESS);
        }
        return Ok(ExitCode::from(1));
    }
    let format = match (&args.output, explicit) {
        (_, Some(f)) => Some(f),
        (Some(_), None) => None, // from the file's extension
        (None, None) => Some(if terminal {
            Format::Text
        } else {
            Format::Context
        }),
    };
    emit(&plan, format, args, &opts, &mut out)?;
    Ok(ExitCode::SUCCESS)
}

/// Every file the run read: the inputs and the files their items point to,
/// `tokenscope.toml`, the models files and the tokenizer file.
fn inputs_read(prepared: &Prepared, args: &PackArgs) -> Inputs {
    let mut inputs = crate::input::read_files(&prepared.set);
    inputs.extend(prepared.paths.iter().map(PathBuf::as_path));
    let user_registry = ModelRegistry::config_file().filter(|p| p.is_file());
    let others = [
        prepared.config_file.as_deref(),
        args.shared.models_file.as_deref(),
        user_registry.as_deref(),
        args.tokenizer_file.as_deref(),
        prepared.model.as_ref().and_then(|m| m.tokenizer_file()),
    ];
    inputs.extend(others.into_iter().flatten());
    inputs
}

/// Writes the report to `-o FILE` (atomically) or to `out`.
fn emit(
    plan: &crate::engine::Plan,
    format: Option<Format>,
    args: &PackArgs,
    opts: &ReportOptions,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    match &args.output {
        Some(path) => {
            let format = format
                .or_else(|| Format::from_path(path))
                .unwrap_or(Format::Text);
            write_report_file(plan, format, path, opts).map_err(|e| {
                CliError::Input(format!("{}: cannot write the report: {e}", path.display()))
            })
        }
        None => Ok(write_report(
            plan,
            format.unwrap_or(Format::Text),
            out,
            opts,
        )?),
    }
}

/// The format asked for with `--json` or `--format`.
fn explicit_format(args: &PackArgs) -> Result<Option<Format>, CliError> {
    if args.json {
        return Ok(Some(Format::Json));
    }
    args.format
        .as_deref()
        .map(format_from_name)
        .transpose()
        .map_err(|e| CliError::Input(e.to_string()))
}

fn terminal_width() -> usize {
    crossterm::terminal::size()
        .map(|(w, _)| w as usize)
        .unwrap_or(80)
        .clamp(40, 160)
}

/// Runs the default command (no subcommand).
pub fn run_default(args: &PackArgs) -> Result<ExitCode, CliError> {
    run(args, false)
}
