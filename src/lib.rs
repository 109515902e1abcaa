//! tokenscope: see where an LLM context window goes.
//!
//! The library counts text exactly for a model's tokenizer ([`tokens`]), packs
//! prompt items into a token budget ([`engine`]), loads item sets from files
//! ([`input`]), writes reports ([`report`]) and predicts budgets from
//! recorded usage ([`history`]). Every file is read and written through
//! [`fsio`] (size limits, atomic writes, inputs never overwritten).
//! [`session`] turns settings into a ready-to-run item set for both front
//! ends: the command line (`cli`, feature `cli`) and the inspector (`tui`,
//! feature `tui`). The engine depends on neither, nor on any terminal code:
//! with `default-features = false` only the library builds, without clap,
//! ratatui, crossterm or notify. See ARCHITECTURE.md for the layers.
//! Untrusted text is escaped for display, measured by display width and
//! numbers are formatted for people by one module, [`text`].
#![deny(missing_docs)]

pub mod anthropic;
pub mod calibrate;
#[cfg(feature = "cli")]
pub mod cli;
pub mod engine;
pub mod fsio;
pub mod history;
pub(crate) mod http;
pub mod hub;
pub mod input;
pub mod report;
pub mod session;
pub mod summarize;
pub mod text;
pub mod tokens;
#[cfg(feature = "tui")]
pub mod tui;
#[cfg(feature = "watch")]
pub mod watch;
