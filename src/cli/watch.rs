//! `tokenscope watch`: headless watching, one summary line per change.
//!
//! Each line: the time (UTC), used/total tokens (`used` as in every report)
//! and the change since the
//! last plan, the change per section, and the items whose status changed.
//! A file that is invalid mid-edit prints its error and keeps the last good
//! plan; fixing it recovers. Ids, section names and messages are escaped
//! ([`crate::text::escape`]).

mod json;

use std::io::{self, Write};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::engine::Plan;
use crate::text::escape;
use crate::watch::{DEFAULT_DEBOUNCE, ReloadOutcome, Reloader, WatchEvent, Watcher};

use super::prepare::prepare;
use super::{CliError, WatchArgs};

/// Runs `tokenscope watch`.
pub fn run(args: &WatchArgs) -> Result<ExitCode, CliError> {
    let as_json = json_lines(&args.pack)?;
    let prepared = prepare(&args.pack)?;
    // The lines go to `-o FILE` (never an input: checked before it is
    // opened) or to stdout.
    let mut out: Box<dyn Write> = match &args.pack.output {
        Some(path) => {
            super::pack::inputs_read(&prepared, &args.pack)
                .check(path)
                .map_err(|e| CliError::Input(e.to_string()))?;
            let file = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .open(path)
                .map_err(|e| CliError::write(path, e))?;
            Box::new(io::LineWriter::new(file))
        }
        None => Box::new(io::stdout().lock()),
    };
    let mut plan = prepared.pack()?;
    let mut reloader = Reloader::new(
        prepared.setup.settings.paths.clone(),
        prepared.setup.load.clone(),
    );
    reloader.load();
    let (mut watcher, events) = Watcher::with_channel(
        &prepared.setup.settings.paths,
        &prepared.setup.load,
        DEFAULT_DEBOUNCE,
    )
    .map_err(|e| CliError::Input(e.to_string()))?;
    let _ = watcher.track_files(reloader.referenced_files());
    // Watching is set up before the first line, so a change made after it
    // is seen.
    let first = if as_json {
        let inputs: Vec<String> = prepared
            .setup
            .settings
            .paths
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        json::start(&plan, &inputs)
    } else {
        format!(
            "{}  {}/{} tokens  watching {} ({} included, {} excluded)",
            clock(),
            used(&plan),
            crate::text::thousands(plan.budget.total),
            escape::line(&prepared.title()),
            plan.totals.included,
            plan.totals.excluded
        )
    };
    writeln!(out, "{first}")?;
    out.flush()?;
    if args.exit_after == Some(0) {
        // Only the first line was asked for.
        return Ok(ExitCode::SUCCESS);
    }

    let error_line = |message: &str, watcher: bool| {
        if as_json {
            json::error(message, watcher)
        } else if watcher {
            format!("{}  watch error: {}", clock(), escape::multiline(message))
        } else {
            format!(
                "{}  error: {} (keeping the last good plan)",
                clock(),
                escape::multiline(message)
            )
        }
    };
    let mut lines = 0usize;
    // The last load error printed, until a plan line: the same error again
    // (a folder's removal can arrive as several events) is not repeated.
    let mut last_error: Option<String> = None;
    for event in events {
        let line = match event {
            WatchEvent::Error(e) => error_line(&e.to_string(), true),
            WatchEvent::Changed(changed) => match reloader.reload(&changed) {
                ReloadOutcome::Unaffected => continue,
                ReloadOutcome::Failed => {
                    let error = reloader.error().map(|e| e.to_string()).unwrap_or_default();
                    if last_error.as_ref() == Some(&error) {
                        continue;
                    }
                    let line = error_line(&error, false);
                    last_error = Some(error);
                    line
                }
                ReloadOutcome::Reloaded => {
                    let _ = watcher.track_files(reloader.referenced_files());
                    let Some(set) = reloader.current() else {
                        continue;
                    };
                    match prepared.with_set(set.clone()).and_then(|p| p.pack()) {
                        Ok(new_plan) => {
                            let line = if as_json {
                                json::change(&plan, &new_plan)
                            } else {
                                change_line(&plan, &new_plan)
                            };
                            plan = new_plan;
                            last_error = None;
                            line
                        }
                        Err(e) => error_line(&e.to_string(), false),
                    }
                }
            },
        };
        writeln!(out, "{line}")?;
        out.flush()?;
        lines += 1;
        if args.exit_after.is_some_and(|n| lines >= n) {
            break;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Whether `watch` writes JSON Lines (`--json` or `--format json`); text
/// lines otherwise (`--format text` or none). Other formats are `pack`'s.
fn json_lines(args: &super::PackArgs) -> Result<bool, CliError> {
    match args.format.as_deref() {
        _ if args.json => Ok(true),
        None | Some("text") => Ok(false),
        Some("json") => Ok(true),
        Some(other) => Err(CliError::Input(format!(
            "watch writes text lines or JSON Lines: --format text or json, not `{other}` (a report in another format: tokenscope pack)"
        ))),
    }
}

/// One line describing how `new` differs from `old`.
pub fn change_line(old: &Plan, new: &Plan) -> String {
    let mut line = format!(
        "{}  {}/{} tokens ({})",
        clock(),
        used(new),
        crate::text::thousands(new.budget.total),
        crate::text::delta(new.totals.used as i64 - old.totals.used as i64)
    );
    let mut sections = Vec::new();
    for s in &new.sections {
        let before = old
            .sections
            .iter()
            .find(|o| o.name == s.name)
            .map_or(0, |o| o.used);
        let delta = s.used as i64 - before as i64;
        if delta != 0 {
            sections.push(format!(
                "{} {}",
                escape::line(&s.name),
                crate::text::delta(delta)
            ));
        }
    }
    for s in &old.sections {
        if !new.sections.iter().any(|n| n.name == s.name) {
            sections.push(format!("{} removed", escape::line(&s.name)));
        }
    }
    if !sections.is_empty() {
        line.push_str("  ");
        line.push_str(&sections.join(", "));
    }
    let mut items = Vec::new();
    for it in &new.items {
        let before = old.items.iter().find(|o| o.id == it.id);
        match before {
            None => items.push(format!("+{} {}", escape::line(&it.id), it.status.name())),
            Some(b) if b.status != it.status => {
                let why = it
                    .reason
                    .map(|r| format!(" ({})", r.describe()))
                    .unwrap_or_default();
                items.push(format!(
                    "{} {}→{}{why}",
                    escape::line(&it.id),
                    b.status.name(),
                    it.status.name()
                ));
            }
            _ => {}
        }
    }
    for it in &old.items {
        if !new.items.iter().any(|n| n.id == it.id) {
            items.push(format!("-{} removed", escape::line(&it.id)));
        }
    }
    if !items.is_empty() {
        line.push_str("  | ");
        line.push_str(&items.join(", "));
    }
    if sections.is_empty() && items.is_empty() && old.totals.used == new.totals.used {
        line.push_str("  no change in the plan");
    }
    line
}

/// The used count, `≈1,234 ±10%` when it is an estimate.
fn used(plan: &Plan) -> String {
    let n = plan.totals.used;
    plan.accuracy().count_label(n)
}

/// The time of day in UTC, `HH:MM:SS`.
fn clock() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let day = secs % 86_400;
    format!("{:02}:{:02}:{:02}", day / 3600, day % 3600 / 60, day % 60)
}
