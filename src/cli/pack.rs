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
use std::process::ExitCode;

use crate::report::{
    Format, ReportOptions, check, format_from_name, should_color, write_report, write_report_file,
};

use super::prepare::{color_mode, prepare};
use super::{CliError, PackArgs};

/// Runs `tokenscope pack`, or `check` when `check` is true.
pub fn run(args: &PackArgs, is_check: bool) -> Result<ExitCode, CliError> {
    let prepared = prepare(args)?;
    let plan = prepared.pack()?;
    if let Some(task_type) = &args.record {
        let file = match &args.record_history {
            Some(f) => f.clone(),
            None => crate::history::default_path().map_err(|e| CliError::Input(e.to_string()))?,
        };
        crate::history::record_plan(&file, &plan, task_type)
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
        // A check passes or fails on the plan as computed (a summarizer an
        // input named is not run: overflow degrades instead), but says so.
        for w in plan
            .warnings
            .iter()
            .filter(|w| crate::input::itemset::is_ignored_summarizer(w))
        {
            eprintln!("warning: {w}");
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
