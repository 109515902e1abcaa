use std::io::{self, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    match tokenscope::cli::run(std::env::args_os()) {
        Ok(code) => code,
        Err(err) => {
            if err.is_broken_pipe() {
                return ExitCode::SUCCESS;
            }
            // Messages quote paths, keys and values from untrusted files:
            // escaped so that they cannot drive the terminal.
            let message = err.to_string();
            let _ = writeln!(
                io::stderr(),
                "tokenscope: {}",
                tokenscope::text::escape::multiline(&message)
            );
            ExitCode::from(err.exit_code())
        }
    }
}
