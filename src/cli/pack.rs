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
//! `must_include`) fails. It prints one line per broken rule (or one
//! `check passed` line), and the report too when a format or `-o` is given;
//! the JSON report then carries the verdict in `check` and the Markdown
//! report in a "Check" section. When the report goes to stdout, the lines go
//! to stderr, so that stdout holds only the report. A closed stdout does not
//! change the exit status of `check`.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use crate::engine::Plan;
use crate::fsio::Inputs;
use crate::report::{
    CheckReport, Format, ReportOptions, Violation, check, format_from_name, should_color,
    write_report, write_report_file,
};
use crate::text::escape;
use crate::tokens::ModelRegistry;

use super::prepare::{color_mode, prepare};
use super::{CliError, PackArgs};
use crate::session::Session;

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
    let empty = prepared.set.items.is_empty();
    if empty && (!is_check || args.allow_empty) {
        eprintln!(
            "tokenscope: warning: {} holds no items: nothing to {} (an empty folder or file, or every file filtered out?)",
            escape::line(&prepared.title()),
            if is_check { "check" } else { "pack" }
        );
    }
    let plan = prepared.pack()?;
    if let (Some(task_type), Some(file)) = (&args.record, &record_file) {
        let rec = crate::history::record_plan(file, &plan, task_type)
            .map_err(|e| CliError::Input(format!("--record: {e}")))?;
        // On stderr: stdout may carry the packed context.
        eprintln!(
            "tokenscope: recorded task {} ({}): {} of {} tokens in {}",
            escape::line(&rec.task),
            escape::line(&rec.task_type),
            crate::text::thousands(rec.used as usize),
            crate::text::thousands(rec.allocated as usize),
            escape::line(&file.display().to_string())
        );
    }
    let stdout = io::stdout();
    let terminal = stdout.is_terminal();
    let explicit = explicit_format(args)?;
    if explicit == Some(Format::Request) && !plan.chat_request {
        return Err(CliError::Input(crate::report::NOT_A_REQUEST.to_string()));
    }
    let mut opts = ReportOptions {
        color: should_color(color_mode(args.shared.color), terminal) && args.output.is_none(),
        width: if terminal { terminal_width() } else { 80 },
        title: Some(prepared.title()),
        check: None,
    };
    let mut out = stdout.lock();

    if is_check {
        // A check passes or fails on the plan as computed (a summarizer an
        // input named is not run: overflow degrades instead), but says so.
        for w in plan
            .warnings
            .iter()
            .filter(|w| crate::input::itemset::is_ignored_summarizer(w))
        {
            eprintln!("warning: {}", escape::multiline(w));
        }
        let mut violations = check(&plan, &prepared.rules());
        if empty && !args.allow_empty {
            violations.insert(
                0,
                Violation::EmptyInput {
                    inputs: prepared.title(),
                },
            );
        }
        opts.check = Some(CheckReport::new(&violations));
        let written = write_check(&plan, &violations, explicit, args, &opts, &mut out);
        // A closed pipe does not turn a broken rule into a pass: the
        // verdict decides the exit status.
        match written {
            Err(e) if !e.is_broken_pipe() => return Err(e),
            _ => {}
        }
        return Ok(if violations.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
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

/// `check`'s output: the report when a format or `-o` is given, and one
/// line per broken rule or one `check passed` line. The lines go to stdout
/// only when it carries nothing else (no report, or the report to a file),
/// so that a report on stdout stays one pure document; else to stderr.
fn write_check(
    plan: &Plan,
    violations: &[Violation],
    explicit: Option<Format>,
    args: &PackArgs,
    opts: &ReportOptions,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    if explicit.is_some() || args.output.is_some() {
        let emitted = emit(plan, explicit, args, opts, out).and_then(|()| Ok(out.flush()?));
        match emitted {
            // The reader went away; the verdict (on stderr) still counts.
            Err(e) if e.is_broken_pipe() => {}
            other => other?,
        }
    }
    let mut err;
    let verdict: &mut dyn Write = if explicit.is_some() && args.output.is_none() {
        err = io::stderr().lock();
        &mut err
    } else {
        out
    };
    for v in violations {
        writeln!(verdict, "check failed: {}", escape::line(&v.to_string()))?;
    }
    if violations.is_empty() {
        writeln!(
            verdict,
            "check passed: {} of {} tokens used (context {}), {} items included, {} excluded",
            plan.totals.used,
            plan.budget.total,
            plan.totals.context,
            plan.totals.included,
            plan.totals.excluded
        )?;
    }
    verdict.flush()?;
    Ok(())
}

/// Every file the run read: the inputs and the files their items point to,
/// `tokenscope.toml`, the models files and the tokenizer file.
pub(super) fn inputs_read(prepared: &Session, args: &PackArgs) -> Inputs {
    let mut inputs = crate::input::read_files(&prepared.set);
    inputs.extend(prepared.setup.settings.paths.iter().map(PathBuf::as_path));
    let user_registry = ModelRegistry::config_file().filter(|p| p.is_file());
    let others = [
        prepared.setup.config_file.as_deref(),
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
    plan: &Plan,
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
            write_report_file(plan, format, path, opts).map_err(|e| CliError::write(path, e))
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
        .map_err(|e| CliError::Usage(e.to_string()))
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
