//! Loaders: one per input format, all producing an [`crate::engine::ItemSet`].
//!
//! [`load_paths`] detects each path's format ([`detect`]), loads it and merges
//! several inputs into one item set. Every loader reports bad input as an
//! [`InputError`] naming the file, line and column and what was expected;
//! native TOML/JSON item sets ([`itemset`]) carry a richer [`LoadError`].
//! [`profile`] reads the project's `tokenscope.toml` (named profiles and
//! check rules) and layers settings over an item set.
//!
//! Loaders say what they read: [`ItemSet::sources`](crate::engine::ItemSet)
//! has every file and folder given or named by an item set, and each item
//! read from a file has that file in its `path`. [`read_files`] gathers
//! them to check outputs against, so that no write lands on an input. Every
//! file is read through [`crate::fsio`] (size limit, binary check).

pub mod anthropic;
pub mod chat;
pub mod detect;
pub mod directory;
pub mod error;
pub mod gemini;
pub mod itemset;
pub mod jsonl;
pub mod llms_txt;
pub mod load_error;
pub mod markdown;
pub mod profile;
mod request;
pub mod responses;
pub mod tree;
pub mod user_config;

pub use detect::{InputFormat, LoadOptions, UnknownInputFormat, load_path, load_paths};
pub use directory::GitRecency;
pub use error::{LoadError, LoadErrorKind, Position};
pub use jsonl::JsonlFields;
pub use load_error::InputError;

/// The files and folders `set` was read from, to check outputs against
/// before writing ([`crate::fsio::Inputs::check`]): its sources (item-set,
/// prompt and JSONL files, folders, files items point to) and the file of
/// every item read from one (`path`), except those inside a source folder,
/// which the folder already covers.
pub fn read_files(set: &crate::engine::ItemSet) -> crate::fsio::Inputs {
    let mut inputs = crate::fsio::Inputs::new();
    inputs.extend(set.sources.iter().map(std::path::PathBuf::as_path));
    let folders: Vec<&std::path::Path> = set
        .sources
        .iter()
        .filter(|p| p.is_dir())
        .map(std::path::PathBuf::as_path)
        .collect();
    inputs.extend(
        set.items
            .iter()
            .filter_map(|i| i.path.as_deref())
            .filter(|p| !folders.iter().any(|f| p.starts_with(f))),
    );
    inputs
}
