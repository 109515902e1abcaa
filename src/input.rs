//! Loaders: one per input format, all producing an [`crate::engine::ItemSet`].
//!
//! [`load_paths`] detects each path's format ([`detect`]), loads it and merges
//! several inputs into one item set.

pub mod detect;
pub mod directory;
pub mod jsonl;
pub mod llms_txt;
pub mod load_error;
pub mod markdown;

pub use detect::{InputFormat, LoadOptions, UnknownInputFormat, load_path, load_paths};
pub use directory::GitRecency;
pub use jsonl::JsonlFields;
pub use load_error::LoadError;
