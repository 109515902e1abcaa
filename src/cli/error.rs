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

impl CliError {
    /// A file the command writes could not be written (exit status 3).
    pub fn write(path: &std::path::Path, e: io::Error) -> CliError {
        CliError::Io(io::Error::new(
            e.kind(),
            format!("{}: cannot write: {e}", path.display()),
        ))
    }

    /// Standard input could not be read: over the size limit or not text
    /// is bad input (exit status 2), anything else a system error (3).
    pub fn stdin(e: io::Error) -> CliError {
        let message = format!("<stdin>: cannot read: {e}");
        match e.kind() {
            io::ErrorKind::FileTooLarge | io::ErrorKind::InvalidData => CliError::Input(message),
            kind => CliError::Io(io::Error::new(kind, message)),
        }
    }
}

impl From<crate::hub::PullError> for CliError {
    /// Names and addresses the user gave are bad input; the cache folder
    /// failing is a system error; everything the hub said or did not say
    /// is a remote failure.
    fn from(e: crate::hub::PullError) -> Self {
        use crate::hub::PullError as P;
        match e {
            P::Name(_) | P::Endpoint(_) | P::TooLarge { .. } => {
                CliError::Input(format!("models pull: {e}"))
            }
            P::Io { .. } => CliError::Io(io::Error::other(format!("models pull: {e}"))),
            _ => CliError::Remote(format!("models pull: {e}")),
        }
    }
}

impl From<crate::history::HistoryError> for CliError {
    /// A history file that cannot be appended to is a system error; one
    /// that cannot be read or parsed is bad input.
    fn from(e: crate::history::HistoryError) -> Self {
        match &e {
            crate::history::HistoryError::Io {
                action: "cannot append",
                source,
                ..
            } => CliError::Io(io::Error::new(source.kind(), e.to_string())),
            _ => CliError::Input(e.to_string()),
        }
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

    #[test]
    fn each_kind_maps_to_its_own_exit_code() {
        use crate::anthropic::CountApiError;
        assert_eq!(CliError::Usage("x".into()).exit_code(), 2);
        assert_eq!(CliError::Input("x".into()).exit_code(), 2);
        assert_eq!(CliError::Io(io::Error::other("disk full")).exit_code(), 3);
        assert_eq!(CliError::Remote("x".into()).exit_code(), 4);
        let transport = CountApiError::Transport {
            url: "http://127.0.0.1:9".into(),
            message: "refused".into(),
        };
        assert_eq!(CliError::from(transport).exit_code(), 4);
        assert_eq!(CliError::from(CountApiError::NoKey(1)).exit_code(), 2);
        let io = SessionError::Io(io::Error::other("disk full"));
        assert_eq!(CliError::from(io).exit_code(), 3);
        let stdin_limit = io::Error::new(io::ErrorKind::FileTooLarge, "over the limit");
        assert_eq!(CliError::stdin(stdin_limit).exit_code(), 2);
        let stdin_io = io::Error::new(io::ErrorKind::PermissionDenied, "denied");
        assert_eq!(CliError::stdin(stdin_io).exit_code(), 3);
    }
}
