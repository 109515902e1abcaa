//! The command line's error type and its exit codes.

use std::fmt;
use std::io;

/// An error that ends a command, with the exit code it maps to.
#[derive(Debug)]
pub enum CliError {
    /// Bad usage or bad input: exit status 2.
    Input(String),
    /// An I/O error while writing output.
    Io(io::Error),
}

impl CliError {
    /// The process exit status for this error.
    pub fn exit_code(&self) -> u8 {
        2
    }

    /// Whether this is a closed pipe (e.g. `| head`), which exits quietly with 0.
    /// A broken pipe wrapped in another error (an encoder's error carried in
    /// an `io::Error`) counts too.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, CliError::Io(e) if is_broken_pipe(e))
    }
}

/// Whether `e`, or an error it wraps, is a broken pipe.
fn is_broken_pipe(e: &io::Error) -> bool {
    if e.kind() == io::ErrorKind::BrokenPipe {
        return true;
    }
    let mut inner: Option<&(dyn std::error::Error + 'static)> =
        e.get_ref().map(|e| e as &(dyn std::error::Error + 'static));
    while let Some(err) = inner {
        if let Some(io) = err.downcast_ref::<io::Error>()
            && io.kind() == io::ErrorKind::BrokenPipe
        {
            return true;
        }
        if let Some(json) = err.downcast_ref::<serde_json::Error>()
            && json.io_error_kind() == Some(io::ErrorKind::BrokenPipe)
        {
            return true;
        }
        inner = err.source();
    }
    false
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Input(m) => f.write_str(m),
            CliError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for CliError {}

impl From<io::Error> for CliError {
    fn from(e: io::Error) -> Self {
        CliError::Io(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_pipe_is_seen_through_wrappers() {
        let pipe = || io::Error::from(io::ErrorKind::BrokenPipe);
        assert!(CliError::Io(pipe()).is_broken_pipe());
        assert!(CliError::Io(io::Error::other(pipe())).is_broken_pipe());
        let json = serde_json::Error::io(pipe());
        assert!(CliError::Io(io::Error::other(json)).is_broken_pipe());
        assert!(!CliError::Io(io::Error::other("disk full")).is_broken_pipe());
        assert!(!CliError::Input("Broken pipe".into()).is_broken_pipe());
    }
}
