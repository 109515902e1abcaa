//! `tokenscope pack` and `tokenscope check`.

use std::process::ExitCode;

use super::{CliError, PackArgs};

/// Runs `tokenscope pack`, or `check` when `check` is true.
pub fn run(_args: &PackArgs, _check: bool) -> Result<ExitCode, CliError> {
    Err(CliError::Input("pack: under construction".into()))
}

/// Runs the default command (no subcommand).
pub fn run_default(args: &PackArgs) -> Result<ExitCode, CliError> {
    run(args, false)
}
