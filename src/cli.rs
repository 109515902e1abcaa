//! The command line: clap definitions and one file per subcommand.

mod args;
mod calibrate;
mod count;
pub(crate) mod count_api;
mod error;
mod history;
mod models;
mod pack;
mod predict;
pub mod prepare;
mod pull;
mod watch;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

pub use args::{Cli, Command, CountArgs, InputArgs, ModelsArgs, PackArgs, SharedArgs, WatchArgs};
pub use error::CliError;
pub use history::{
    HistoryArgs, HistoryCommand, HistoryFileArgs, ImportArgs, RecordArgs, ReportArgs,
};
pub use predict::PredictArgs;

/// Parses `args` and runs the command. `Ok` carries the exit code for
/// commands that finish normally (0, or 1 when `check` finds a violation).
pub fn run<I, T>(args: I) -> Result<ExitCode, CliError>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version.
            let _ = e.print();
            return Ok(ExitCode::SUCCESS);
        }
        Err(e) => {
            print_usage_error(e, &args);
            return Ok(ExitCode::from(2));
        }
    };
    crate::fsio::set_max_file_size(cli.max_file_size);
    match cli.command {
        Some(Command::Count(a)) => count::run(&a),
        Some(Command::Models(a)) => match &a.action {
            Some(args::ModelsCommand::Pull(p)) => pull::run(&a, p),
            None => models::run(&a),
        },
        Some(Command::Pack(a)) => pack::run(&a, false),
        Some(Command::Check(a)) => pack::run(&a, true),
        Some(Command::Watch(a)) => watch::run(&a),
        Some(Command::History(a)) => history::run(&a),
        Some(Command::Predict(a)) => predict::run(&a),
        Some(Command::Calibrate(a)) => calibrate::run(&a),
        // The inspector needs a terminal (stdin and stdout). Piped or
        // scripted, the default command prints the text report instead (or
        // the format asked for), so scripts keep working.
        None if crate::tui::launch::is_interactive() => {
            crate::tui::launch::launch(&cli.inspect, cli.theme, cli.history)
        }
        None => {
            let mut args = cli.inspect;
            if args.format.is_none() && !args.json && args.output.is_none() {
                args.format = Some("text".to_string());
            }
            pack::run_default(&args)
        }
    }
}

/// Prints clap's error for a bad command line. clap quotes the argument it
/// rejects; when an argument holds a character that could drive the
/// terminal, the message is rendered without clap's colours and escaped
/// ([`crate::escape::multiline`]), else printed as clap prints it.
fn print_usage_error(e: clap::Error, args: &[OsString]) {
    let risky = args
        .iter()
        .any(|a| a.to_string_lossy().chars().any(crate::escape::is_unsafe));
    if !risky {
        let _ = e.print();
        return;
    }
    let plain = Cli::command()
        .styles(clap::builder::Styles::plain())
        .try_get_matches_from(args)
        .err()
        .unwrap_or(e);
    let text = plain.render().ansi().to_string();
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        crate::escape::multiline(&text).as_bytes(),
    );
}
