//! Loaders: one per input format, all producing an [`crate::engine::ItemSet`].
//!
//! Every loader reports bad input as an [`error::LoadError`] naming the file,
//! line and column and what was expected. [`itemset`] loads native TOML/JSON
//! item sets; [`profile`] reads the project's `tokenscope.toml` (named
//! profiles and check rules) and layers settings over an item set.

pub mod error;
pub mod itemset;
pub mod profile;
pub mod tree;

pub use error::{LoadError, LoadErrorKind, Position};
