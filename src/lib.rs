//! tokenscope: see where an LLM context window goes.
//!
//! The library counts text exactly for a model's tokenizer ([`tokens`]), packs
//! prompt items into a token budget ([`engine`]), loads item sets from files
//! ([`input`]), writes reports ([`report`]) and predicts budgets from
//! recorded usage ([`history`]). Every file is read and written through
//! [`fsio`] (size limits, atomic writes, inputs never overwritten). The command line lives in
//! [`cli`]; the engine does not depend on it or on any terminal code.
//! Untrusted text is escaped for display, measured by display width and
//! numbers are formatted for people by one module, [`text`].
#![deny(missing_docs)]

pub mod anthropic;
pub mod calibrate;
pub mod cli;
pub mod engine;
/// The escaping rules for untrusted text, at their former path: the same
/// module as [`text::escape`], kept for callers not yet moved to it.
pub use text::escape;
pub mod fsio;
pub mod history;
pub(crate) mod http;
pub mod hub;
pub mod input;
pub mod report;
pub mod text;
pub mod tokens;
pub mod tui;
pub mod watch;
