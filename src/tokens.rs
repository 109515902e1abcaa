//! Tokenizers, the model registry and the count cache.
//!
//! [`Tokenizer`] is the one handle everything counts with: an exact tiktoken
//! encoding ([`Encoding`]), an exact tokenizer file, or a labelled estimate
//! ([`Estimate`]) with its expected error band ([`ErrorBand`]). Counting goes
//! through a [`CountCache`] keyed by (tokenizer, content hash) so that the same
//! text is tokenized once per tokenizer. Every count shown to a person goes
//! through [`Accuracy::label`]: `1,234` when exact, `≈1,234 ±10%` when not.

mod api;
mod backtrack;
mod band;
mod bpe;
mod cache;
pub mod chat;
mod chunks;
mod encoding;
pub mod file;
mod gate;
pub mod image;
mod model_file;
mod open_table;
mod piece_cache;
pub(crate) mod pretok;
pub mod registry;
mod seams;
mod tokenizer;
mod vocab;

pub use api::ApiCounts;
pub use band::{Accuracy, ErrorBand};
pub use bpe::clear_piece_caches;
pub use cache::CountCache;
pub use chat::{
    ChatCount, ChatCounter, ChatFraming, ChatMessage, ChatParseError, ChatRequest, ContentPart,
    FunctionCall, FunctionDef, MessageContent, MessageCount, Parameters, Tool, ToolCall,
    chat_framing, chat_prompt_tokens,
};
#[doc(hidden)]
pub use chunks::set_parallel_sizes;
pub use encoding::{Encoding, UnknownEncoding};
pub use file::{FileTokenizer, FileTokenizerError, TiktokenOptions};
pub use image::{ImageInput, ImageRule, ImageSource};
pub use model_file::{ModelTokenizerError, ModelTokenizerFile};
pub use registry::{
    ModelCounting, ModelRegistry, ModelSpec, RegistryError, UnknownEncodingName, UnknownModel,
    resolve_encoding,
};
pub use tokenizer::{Estimate, Tokenizer, TokenizerId};
