use std::io::{self, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    match tokenscope::cli::run(std::env::args_os()) {
        Ok(code) => code,
        Err(err) => {
            if err.is_broken_pipe() {
                return ExitCode::SUCCESS;
            }
            let _ = writeln!(io::stderr(), "tokenscope: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}
