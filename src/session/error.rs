//! Why a session could not be set up or run, and the exit status each
//! reason maps to.

use crate::anthropic::CountApiError;
use crate::anthropic::StoreError;
use crate::engine::EngineError;
use crate::input::profile::SettingsError;
use crate::input::{InputError, LoadError, UnknownInputFormat};
use crate::tokens::{
    FileTokenizerError, ModelTokenizerError, RegistryError, UnknownEncodingName, UnknownModel,
};

/// The exit statuses of the command line, one per kind of failure.
pub mod exit {
    /// The command did what it was asked.
    pub const SUCCESS: u8 = 0;
    /// `check` (or `watch --check`) found a broken rule: the gate fails.
    pub const VIOLATION: u8 = 1;
    /// Bad usage or bad input: a flag, setting or file that cannot be used
    /// (the message names the file, line and column).
    pub const INPUT: u8 = 2;
    /// The output could not be written or a file could not be read for a
    /// reason of the system (permissions, a full disk, a closed terminal).
    pub const IO: u8 = 3;
    /// A remote service failed: the Hugging Face hub or a count API could
    /// not be reached, refused the request or answered something unusable.
    pub const REMOTE: u8 = 4;
    /// The inspector was ended by SIGTERM, SIGHUP or SIGINT (128 + 15, as a
    /// shell reports a process ended by SIGTERM).
    pub const TERMINATED: u8 = 143;
}

/// Why a session could not be set up or a run could not finish.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// A setting that cannot be used as given (a flag that contradicts
    /// another, a value out of range), with what was expected.
    #[error("{0}")]
    Usage(String),
    /// A settings file could not be loaded.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// An input could not be loaded.
    #[error(transparent)]
    Input(#[from] InputError),
    /// `--input` names no format.
    #[error(transparent)]
    InputFormat(#[from] UnknownInputFormat),
    /// `tokenscope.toml` or a profile is wrong or missing.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// The model registry is wrong, or names no such model.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// No model has this name or alias.
    #[error(transparent)]
    UnknownModel(#[from] UnknownModel),
    /// No encoding has this name.
    #[error(transparent)]
    UnknownEncoding(#[from] UnknownEncodingName),
    /// A tokenizer file named with `--tokenizer-file` could not be read.
    #[error(transparent)]
    TokenizerFile(#[from] FileTokenizerError),
    /// A model's tokenizer file could not be read.
    #[error(transparent)]
    ModelTokenizer(#[from] ModelTokenizerError),
    /// The engine refused the item set.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// A count API failed.
    #[error(transparent)]
    CountApi(#[from] CountApiError),
    /// The count API's disk cache could not be read or written.
    #[error(transparent)]
    CountStore(#[from] StoreError),
    /// A system error outside any input file.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl SessionError {
    /// The exit status this error maps to ([`exit`]).
    pub fn exit_code(&self) -> u8 {
        match self {
            SessionError::CountApi(e) => count_api_exit(e),
            SessionError::Io(_) | SessionError::CountStore(_) => exit::IO,
            _ => exit::INPUT,
        }
    }
}

/// A count API's failure: the service's own answers and the network are
/// [`exit::REMOTE`]; a missing key or a bad address are settings
/// ([`exit::INPUT`]); the disk cache is [`exit::IO`].
pub fn count_api_exit(e: &CountApiError) -> u8 {
    match e {
        CountApiError::NoKey(_) | CountApiError::BaseUrl(_) => exit::INPUT,
        CountApiError::Store(_) => exit::IO,
        _ => exit::REMOTE,
    }
}
