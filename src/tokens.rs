//! Tokenizers, the model registry and the count cache.
//!
//! [`Tokenizer`] is the one handle everything counts with: an exact tiktoken
//! encoding ([`Encoding`]) or a labelled estimate ([`Estimate`]). Counting goes
//! through a [`CountCache`] keyed by (tokenizer, content hash) so that the same
//! text is tokenized once per tokenizer.

mod cache;
mod encoding;
pub mod file;
mod tokenizer;

pub use cache::CountCache;
pub use encoding::{Encoding, UnknownEncoding};
pub use file::{FileTokenizer, FileTokenizerError, TiktokenOptions};
pub use tokenizer::{Estimate, Tokenizer, TokenizerId};
