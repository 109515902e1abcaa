//! The command line's error type and its exit codes ([`exit`]).

use std::io;

use crate::session::{SessionError, exit};

/// An error that ends a command, with the exit status it maps to (see
/// [`exit`]).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad usage: flags that cannot be used as given, with what was
    /// expected. Exit status 2.
    #[error("{0}")]
    Usage(String),
    /// Bad input in a file the command read (its message names the file,
    /// line and column). Exit status 2.
    #[error("{0}")]
    Input(String),
    /// The session could not be set up or run; its own exit status.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// A remote service (the Hugging Face hub, a count API) failed. Exit
    /// status 4.
    #[error("{0}")]
    Remote(String),
    /// An I/O error while writing output or reading outside the inputs.
    /// Exit status 3 (a closed pipe exits quietly with 0).
    #[error("{0}")]
    Io(#[from] io::Error),
}

impl CliError {
    /// The process exit status for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) | CliError::Input(_) => exit::INPUT,
            CliError::Session(e) => e.exit_code(),
            CliError::Remote(_) => exit::REMOTE,
            CliError::Io(_) => exit::IO,
        }
    }

    /// Whether this is a closed pipe (e.g. `| head`), which exits quietly with 0.
    /// A broken pipe wrapped in another error (an encoder's error carried in
    /// an `io::Error`) counts too.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, CliError::Io(e) if is_broken_pipe(e))
    }
}

/// Library errors that are bad input or bad settings go through the
/// session's error, which knows their exit status.
macro_rules! through_session {
    ($($t:ty),* $(,)?) => {$(
        impl From<$t> for CliError {
            fn from(e: $t) -> Self {
                CliError::Session(SessionError::from(e))
            }
        }
    )*};
}

through_session!(
    crate::input::LoadError,
    crate::input::InputError,
    crate::input::UnknownInputFormat,
    crate::input::profile::SettingsError,
    crate::tokens::RegistryError,
    crate::tokens::UnknownModel,
    crate::tokens::UnknownEncodingName,
    crate::tokens::FileTokenizerError,
    crate::tokens::ModelTokenizerError,
    crate::engine::EngineError,
    crate::anthropic::CountApiError,
    crate::anthropic::StoreError,
);

impl From<crate::engine::UnknownChoice> for CliError {
    fn from(e: crate::engine::UnknownChoice) -> Self {
        CliError::Usage(e.to_string())
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
