//! `tokenscope count`.

use std::process::ExitCode;

use super::{CliError, CountArgs};

/// Runs `tokenscope count`.
pub fn run(_args: &CountArgs) -> Result<ExitCode, CliError> {
    Err(CliError::Input("count: under construction".into()))
}
