//! Tokenizers, the model registry and the count cache.
//!
//! [`Tokenizer`] is the one handle everything counts with: an exact tiktoken
//! encoding ([`Encoding`]) or a labelled estimate ([`Estimate`]). Counting goes
//! through a [`CountCache`] keyed by (tokenizer, content hash) so that the same
//! text is tokenized once per tokenizer.

mod bpe;
mod cache;
mod chat;
mod encoding;
pub mod file;
pub(crate) mod pretok;
mod registry;
mod tokenizer;
mod vocab;

pub use bpe::clear_piece_caches;
pub use cache::CountCache;
pub use chat::{
    ChatCount, ChatCounter, ChatFraming, ChatMessage, ChatParseError, ChatRequest, ContentPart,
    FunctionCall, FunctionDef, MessageContent, MessageCount, Parameters, Tool, ToolCall,
    chat_framing, chat_prompt_tokens,
};
pub use encoding::{Encoding, UnknownEncoding};
pub use file::{FileTokenizer, FileTokenizerError, TiktokenOptions};
pub use registry::{
    ModelRegistry, ModelSpec, RegistryError, UnknownEncodingName, UnknownModel, resolve_encoding,
};
pub use tokenizer::{Estimate, Tokenizer, TokenizerId};
