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
    // Last, so the discriminants of the others (part of cache keys) stay.
    /// `o200k_harmony`: gpt-oss. `o200k_base`'s vocabulary and split
    /// pattern with the harmony chat format's special tokens.
    O200kHarmony,
}

/// The error for an encoding name that is not known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown encoding `{0}`; expected one of: o200k_base, o200k_harmony, cl100k_base, p50k_base, r50k_base"
)]
pub struct UnknownEncoding(pub String);

impl Encoding {
    /// Every encoding, newest first.
    pub const ALL: [Encoding; 5] = [
        Encoding::O200kBase,
        Encoding::O200kHarmony,
        Encoding::Cl100kBase,
        Encoding::P50kBase,
        Encoding::R50kBase,
    ];

    /// The tiktoken name, e.g. `cl100k_base`.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::O200kBase => "o200k_base",
            Encoding::O200kHarmony => "o200k_harmony",
            Encoding::Cl100kBase => "cl100k_base",
            Encoding::P50kBase => "p50k_base",
            Encoding::R50kBase => "r50k_base",
        }
    }

    /// The encoding whose vocabulary and split pattern this one uses for
    /// ordinary text: itself, or `o200k_base` for `o200k_harmony`.
    pub fn table(self) -> Encoding {
        match self {
            Encoding::O200kHarmony => Encoding::O200kBase,
            e => e,
        }
    }

    /// The special-token literals of this encoding and their ids.
    pub fn special_tokens(self) -> &'static [(&'static str, u32)] {
        match self {
            Encoding::O200kHarmony => harmony_specials(),
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
            "o200k_harmony" | "harmony" => Ok(Encoding::O200kHarmony),
            "cl100k_base" | "cl100k" => Ok(Encoding::Cl100kBase),
            "p50k_base" | "p50k" => Ok(Encoding::P50kBase),
            "r50k_base" | "r50k" | "gpt2" => Ok(Encoding::R50kBase),
            _ => Err(UnknownEncoding(s.to_string())),
        }
    }
}

/// The special tokens of `o200k_harmony`, as OpenAI's tiktoken defines them:
/// `o200k_base`'s two, the harmony format's named tokens, and reserved
/// tokens up to id 201087. `<|endofprompt|>` and `<|reserved_200018|>` share
/// id 200018.
fn harmony_specials() -> &'static [(&'static str, u32)] {
    use std::sync::OnceLock;
    static TABLE: OnceLock<Vec<(&'static str, u32)>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table: Vec<(&'static str, u32)> = vec![
            ("<|startoftext|>", 199_998),
            ("<|endoftext|>", 199_999),
            ("<|reserved_200000|>", 200_000),
            ("<|reserved_200001|>", 200_001),
            ("<|return|>", 200_002),
            ("<|constrain|>", 200_003),
            ("<|reserved_200004|>", 200_004),
            ("<|channel|>", 200_005),
            ("<|start|>", 200_006),
            ("<|end|>", 200_007),
            ("<|message|>", 200_008),
            ("<|reserved_200009|>", 200_009),
            ("<|reserved_200010|>", 200_010),
            ("<|reserved_200011|>", 200_011),
            ("<|call|>", 200_012),
            ("<|endofprompt|>", 200_018),
        ];
        for id in 200_013..=201_087u32 {
            let name: &'static str = Box::leak(format!("<|reserved_{id}|>").into_boxed_str());
            table.push((name, id));
        }
        table
    })
}
