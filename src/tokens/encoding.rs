//! The exact tiktoken encodings tokenscope knows.

use std::fmt;
use std::str::FromStr;

/// An exact BPE encoding, identical to OpenAI's `tiktoken`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Encoding {
    /// `o200k_base`: gpt-5, gpt-4.1, gpt-4o, o1/o3/o4.
    O200kBase,
    /// `cl100k_base`: gpt-4, gpt-3.5-turbo, text-embedding-3.
    Cl100kBase,
    /// `p50k_base`: Codex and text-davinci-002/003.
    P50kBase,
    /// `r50k_base` (`gpt2`): GPT-3 models.
    R50kBase,
}

/// The error for an encoding name that is not known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown encoding `{0}`; expected one of: o200k_base, cl100k_base, p50k_base, r50k_base")]
pub struct UnknownEncoding(pub String);

impl Encoding {
    /// Every encoding, newest first.
    pub const ALL: [Encoding; 4] = [
        Encoding::O200kBase,
        Encoding::Cl100kBase,
        Encoding::P50kBase,
        Encoding::R50kBase,
    ];

    /// The tiktoken name, e.g. `cl100k_base`.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::O200kBase => "o200k_base",
            Encoding::Cl100kBase => "cl100k_base",
            Encoding::P50kBase => "p50k_base",
            Encoding::R50kBase => "r50k_base",
        }
    }

    /// The special-token literals of this encoding and their ids.
    pub fn special_tokens(self) -> &'static [(&'static str, u32)] {
        match self {
            Encoding::O200kBase => &[("<|endoftext|>", 199_999), ("<|endofprompt|>", 200_018)],
            Encoding::Cl100kBase => &[
                ("<|endoftext|>", 100_257),
                ("<|fim_prefix|>", 100_258),
                ("<|fim_middle|>", 100_259),
                ("<|fim_suffix|>", 100_260),
                ("<|endofprompt|>", 100_276),
            ],
            Encoding::P50kBase | Encoding::R50kBase => &[("<|endoftext|>", 50_256)],
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Encoding {
    type Err = UnknownEncoding;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "o200k_base" | "o200k" => Ok(Encoding::O200kBase),
            "cl100k_base" | "cl100k" => Ok(Encoding::Cl100kBase),
            "p50k_base" | "p50k" => Ok(Encoding::P50kBase),
            "r50k_base" | "r50k" | "gpt2" => Ok(Encoding::R50kBase),
            _ => Err(UnknownEncoding(s.to_string())),
        }
    }
}
