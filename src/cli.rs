//! The command line: clap definitions and one file per subcommand.

mod args;
mod calibrate;
mod count;
mod error;
mod history;
mod init;
pub mod inspect;
mod models;
mod pack;
mod predict;
pub mod prepare;
mod pull;
mod status_line;
mod watch;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

pub use crate::session::exit;
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
    if cli.command.is_none()
        && let Some(message) = mistyped_command(&cli.inspect.paths)
    {
        return Err(CliError::Input(message));
    }
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
        Some(Command::Init(a)) => init::run(&a),
        Some(Command::Completions(a)) => init::completions(&a),
        Some(Command::Man(a)) => init::man(&a),
        None if cli.inspect.paths.is_empty() => no_paths(cli.inspect, cli.theme, cli.history),
        // The inspector needs a terminal (stdin and stdout). Piped or
        // scripted, the default command prints the text report instead (or
        // the format asked for), so scripts keep working.
        None if inspect::is_interactive() => inspect::launch(&cli.inspect, cli.theme, cli.history),
        None => {
            let mut args = cli.inspect;
            if args.format.is_none() && !args.json && args.output.is_none() {
                args.format = Some("text".to_string());
            }
            pack::run_default(&args)
        }
    }
}

/// No subcommand and no path: on a terminal, the inspector on `.` when it
/// holds a file to show (with the default model, see
/// [`crate::session::default_model`]); otherwise the short help on stderr, exit 2.
fn no_paths(
    mut args: PackArgs,
    theme: Option<String>,
    history: Option<std::path::PathBuf>,
) -> Result<ExitCode, CliError> {
    let interactive = inspect::is_interactive();
    if interactive && has_files(std::path::Path::new(".")) {
        args.paths = vec![".".into()];
        return inspect::launch(&args, theme, history);
    }
    let why = if interactive {
        "nothing to show here: this folder has no files to open"
    } else {
        "no input given (the inspector opens on `.` only on a terminal)"
    };
    let mut err = std::io::stderr().lock();
    std::io::Write::write_all(&mut err, short_help(why).as_bytes())?;
    Ok(ExitCode::from(2))
}

/// Whether `dir` holds a file the folder loader would read (`.gitignore`
/// and hidden files respected); stops at the first one.
fn has_files(dir: &std::path::Path) -> bool {
    ignore::WalkBuilder::new(dir)
        .build()
        .flatten()
        .any(|e| e.file_type().is_some_and(|t| t.is_file()))
}

/// The short help: what went wrong, the usage and the commands.
pub fn short_help(why: &str) -> String {
    let cmd = Cli::command();
    let mut text = format!(
        "tokenscope: {why}\n\n\
         Usage: tokenscope [OPTIONS] [PATH]...   the inspector on item sets, prompt files, folders\n\
         \x20      tokenscope <COMMAND>\n\nCommands:\n"
    );
    for sub in cmd.get_subcommands() {
        let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
        text.push_str(&format!("  {:<12} {about}\n", sub.get_name()));
    }
    text.push_str(
        "\nExample: tokenscope pack samples/docs/docs.toml\n\
         `tokenscope --help` lists every option, `tokenscope COMMAND --help` a command's.\n",
    );
    text
}

/// A first path that is no file but is close to a subcommand's name
/// (`cout`): the message that suggests the command.
fn mistyped_command(paths: &[std::path::PathBuf]) -> Option<String> {
    let first = paths.first()?;
    let word = first.to_str()?;
    if first.exists() || word.contains(['/', '.', '\\']) {
        return None;
    }
    let cmd = Cli::command();
    let names: Vec<&str> = cmd.get_subcommands().map(|c| c.get_name()).collect();
    let guess = crate::input::error::closest(word, names.iter().copied())?;
    Some(format!(
        "`{word}` is not a command, nor a file or folder; did you mean `tokenscope {guess}`?"
    ))
}

/// Prints clap's error for a bad command line. clap quotes the argument it
/// rejects; when an argument holds a character that could drive the
/// terminal, the message is rendered without clap's colours and escaped
/// ([`crate::text::escape::multiline`]), else printed as clap prints it.
fn print_usage_error(e: clap::Error, args: &[OsString]) {
    let risky = args.iter().any(|a| {
        a.to_string_lossy()
            .chars()
            .any(crate::text::escape::is_unsafe)
    });
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
        crate::text::escape::multiline(&text).as_bytes(),
    );
}
