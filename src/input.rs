//! Loaders: one per input format, all producing an [`crate::engine::ItemSet`].
//!
//! [`load_paths`] detects each path's format ([`detect`]), loads it and merges
//! several inputs into one item set. Every loader reports bad input as an
//! [`InputError`] naming the file, line and column and what was expected;
//! native TOML/JSON item sets ([`itemset`]) carry a richer [`LoadError`].
//! [`profile`] reads the project's `tokenscope.toml` (named profiles and
//! check rules) and layers settings over an item set.

pub mod chat;
pub mod detect;
pub mod directory;
pub mod error;
pub mod itemset;
pub mod jsonl;
pub mod llms_txt;
pub mod load_error;
pub mod markdown;
pub mod profile;
pub mod tree;
pub mod user_config;

pub use detect::{InputFormat, LoadOptions, UnknownInputFormat, load_path, load_paths};
pub use directory::GitRecency;
pub use error::{LoadError, LoadErrorKind, Position};
pub use jsonl::JsonlFields;
pub use load_error::InputError;
