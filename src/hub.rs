//! Tokenizer files of open models from the Hugging Face hub: finding them in
//! the caches on disk ([`HubCaches`]) and downloading them
//! ([`pull`](pull::pull), for `tokenscope models pull`).
//!
//! Two caches are read, in this order:
//!
//! 1. tokenscope's own, `dirs::cache_dir()/tokenscope/hub` (e.g.
//!    `~/.cache/tokenscope/hub`), where `models pull` writes;
//! 2. the Hugging Face cache that `transformers` and `huggingface_hub` fill:
//!    `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else
//!    `$XDG_CACHE_HOME/huggingface/hub` (by default
//!    `~/.cache/huggingface/hub`).
//!
//! Both have the hub's layout: `models--ORG--NAME/refs/main` holds the commit
//! of the `main` revision, `snapshots/COMMIT/FILE` is the file at that commit
//! (a link into `blobs/`, or a copy), and `blobs/ETAG` the content. `models
//! pull` writes into tokenscope's own cache and never into the Hugging Face
//! one: that cache belongs to other tools (and may be shared or read-only),
//! while a file found there is used as it is, with no download.

mod cache;
pub mod pull;
mod repo;

pub use cache::{CacheKind, Found, HubCaches};
pub use pull::{PullError, PullOptions, Pulled, pull};
pub use repo::{InvalidName, RepoId, validate_file_name, validate_revision};

/// The file `models pull` fetches when none is named: a Hugging Face
/// `tokenizer.json`.
pub const DEFAULT_FILE: &str = "tokenizer.json";
