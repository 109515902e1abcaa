//! `tokenscope models`.

use std::process::ExitCode;

use super::{CliError, ModelsArgs};

/// Runs `tokenscope models`.
pub fn run(_args: &ModelsArgs) -> Result<ExitCode, CliError> {
    Err(CliError::Input("models: under construction".into()))
}
