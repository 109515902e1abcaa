//! The [`Tokenizer`] handle: exact encodings and labelled estimates.

use std::fmt;

use std::sync::Arc;

use super::{Accuracy, ApiCounts, Encoding, ErrorBand, FileTokenizer};

/// A labelled estimate, used where no exact tokenizer is available.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Estimate {
    /// `chars/4`: Unicode scalar values divided by four, rounded up; at least 1
    /// for non-empty text.
    Chars4,
    /// `words*1.3`: whitespace-separated words times 1.3, rounded up.
    Words13,
    /// An exact encoding's count scaled by a calibrated ratio, rounded up
    /// (models with no public tokenizer, such as Claude).
    Scaled {
        /// The encoding counted exactly before scaling.
        base: Encoding,
        /// The calibrated ratio of the model's tokens to `base` tokens.
        ratio: f64,
    },
}

impl Estimate {
    /// The expected error band of this kind of estimate when the registry
    /// gives none: [`ErrorBand::RATIO`] for a ratio estimate,
    /// [`ErrorBand::CHARS4`] and [`ErrorBand::WORDS13`] for the formulas (the
    /// reasons are in the header of `models.toml`).
    pub fn default_band(self) -> ErrorBand {
        match self {
            Estimate::Chars4 => ErrorBand::CHARS4,
            Estimate::Words13 => ErrorBand::WORDS13,
            Estimate::Scaled { .. } => ErrorBand::RATIO,
        }
    }
}

/// A stable identity for a tokenizer, used as part of count-cache keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenizerId(u64);

impl TokenizerId {
    /// The identity as a number.
    pub fn raw(self) -> u64 {
        self.0
    }
}

/// A cheap-to-clone handle that counts text: exactly (a tiktoken encoding or
/// a tokenizer file) or as a labelled estimate.
#[derive(Debug, Clone)]
pub enum Tokenizer {
    /// Exact counts, identical to OpenAI's tiktoken.
    Exact(Encoding),
    /// Exact counts from a user's tokenizer file (`--tokenizer-file`).
    File(Arc<FileTokenizer>),
    /// An estimate and its expected error band; every count shown from it
    /// is labelled as such ([`Accuracy::label`]).
    Estimate(Estimate, ErrorBand),
    /// Counts measured by a provider's counting API before the run
    /// (`--count-api`), exact for the texts measured; any other text is
    /// counted with the model's estimate and recorded as a miss
    /// ([`ApiCounts`]).
    Api(Arc<ApiCounts>),
}

impl From<Estimate> for Tokenizer {
    /// The estimate with its kind's default band.
    fn from(estimate: Estimate) -> Tokenizer {
        Tokenizer::Estimate(estimate, estimate.default_band())
    }
}

impl PartialEq for Tokenizer {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Tokenizer::Exact(a), Tokenizer::Exact(b)) => a == b,
            (Tokenizer::File(a), Tokenizer::File(b)) => a.id() == b.id(),
            (Tokenizer::Estimate(a, x), Tokenizer::Estimate(b, y)) => a == b && x == y,
            (Tokenizer::Api(a), Tokenizer::Api(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl Tokenizer {
    /// Loads an exact tokenizer from a HuggingFace `tokenizer.json` or a
    /// tiktoken rank file.
    pub fn from_file(path: &std::path::Path) -> Result<Tokenizer, super::FileTokenizerError> {
        Ok(Tokenizer::File(Arc::new(FileTokenizer::load(path)?)))
    }

    /// An estimate with its kind's default error band.
    pub fn estimate(estimate: Estimate) -> Tokenizer {
        Tokenizer::from(estimate)
    }

    /// A stable identity for cache keys. The error band of an estimate is
    /// not part of it: it does not change a count.
    pub fn id(&self) -> TokenizerId {
        match self {
            Tokenizer::Exact(e) => TokenizerId(*e as u64),
            Tokenizer::File(f) => TokenizerId(f.id() | 1 << 63),
            Tokenizer::Estimate(Estimate::Chars4, _) => TokenizerId(100),
            Tokenizer::Estimate(Estimate::Words13, _) => TokenizerId(101),
            Tokenizer::Estimate(Estimate::Scaled { base, ratio }, _) => {
                TokenizerId(0x1000_0000 ^ ((*base as u64) << 56) ^ ratio.to_bits())
            }
            Tokenizer::Api(a) => TokenizerId(a.id() | 1 << 62),
        }
    }

    /// Whether counts are exact (otherwise they are estimates).
    pub fn is_exact(&self) -> bool {
        matches!(
            self,
            Tokenizer::Exact(_) | Tokenizer::File(_) | Tokenizer::Api(_)
        )
    }

    /// The measured API counts, when this tokenizer counts from them.
    pub fn api(&self) -> Option<&ApiCounts> {
        match self {
            Tokenizer::Api(a) => Some(a),
            _ => None,
        }
    }

    /// The expected error band of an estimate; `None` when exact.
    pub fn error_band(&self) -> Option<ErrorBand> {
        match self {
            Tokenizer::Exact(_) | Tokenizer::File(_) | Tokenizer::Api(_) => None,
            Tokenizer::Estimate(_, band) => Some(*band),
        }
    }

    /// How exact this tokenizer's counts are, for labelling them.
    pub fn accuracy(&self) -> Accuracy {
        Accuracy::new(self.is_exact(), self.error_band())
    }

    /// The exact encoding that underlies this tokenizer, if any (a scaled
    /// estimate has a base encoding; `chars/4` and `words*1.3` have none).
    pub fn encoding(&self) -> Option<Encoding> {
        match self {
            Tokenizer::Exact(e) | Tokenizer::Estimate(Estimate::Scaled { base: e, .. }, _) => {
                Some(*e)
            }
            Tokenizer::File(_) | Tokenizer::Estimate(..) | Tokenizer::Api(_) => None,
        }
    }

    /// A short name: the encoding name, or the estimate's formula.
    pub fn name(&self) -> String {
        match self {
            Tokenizer::Exact(e) => e.name().to_string(),
            Tokenizer::File(f) => f.name().to_string(),
            Tokenizer::Estimate(Estimate::Chars4, _) => "chars/4".to_string(),
            Tokenizer::Estimate(Estimate::Words13, _) => "words*1.3".to_string(),
            Tokenizer::Estimate(Estimate::Scaled { base, ratio }, _) => format!("{base}*{ratio}"),
            Tokenizer::Api(a) => format!("{} via {}", a.model, a.source),
        }
    }

    /// Counts `text` as ordinary text: special-token literals such as
    /// `<|endoftext|>` are counted as the plain text they are.
    pub fn count(&self, text: &str) -> usize {
        match self {
            Tokenizer::Exact(e) => super::bpe::count_ordinary(*e, text),
            Tokenizer::File(f) => f.count(text),
            Tokenizer::Estimate(est, _) => estimate(*est, text, false),
            Tokenizer::Api(a) => a.count(text),
        }
    }

    /// Counts `text`, treating the encoding's special-token literals as one
    /// special token each (`--allow-special`).
    pub fn count_with_special(&self, text: &str) -> usize {
        match self {
            Tokenizer::Exact(e) => super::bpe::count_with_special(*e, text),
            Tokenizer::File(f) => f.count_with_special(text),
            Tokenizer::Estimate(est, _) => estimate(*est, text, true),
            // The API knows no special-token literals: text is text.
            Tokenizer::Api(a) => a.count(text),
        }
    }

    /// The token ids of `text` as ordinary text, for exact tokenizers.
    pub fn encode(&self, text: &str) -> Option<Vec<u32>> {
        match self {
            Tokenizer::Exact(e) => Some(super::bpe::encode_ordinary(*e, text)),
            Tokenizer::File(f) => Some(f.encode(text)),
            Tokenizer::Estimate(..) | Tokenizer::Api(_) => None,
        }
    }

    /// The token ids of `text` with special-token literals as special tokens,
    /// for exact tokenizers.
    pub fn encode_with_special(&self, text: &str) -> Option<Vec<u32>> {
        match self {
            Tokenizer::Exact(e) => Some(super::bpe::encode_with_special(*e, text)),
            Tokenizer::File(f) => Some(f.encode_with_special(text)),
            Tokenizer::Estimate(..) | Tokenizer::Api(_) => None,
        }
    }

    /// The bytes of the given token ids, for exact tokenizers. `None` for an
    /// estimate or an id the encoding does not have.
    pub fn decode_bytes(&self, ids: &[u32]) -> Option<Vec<u8>> {
        match self {
            Tokenizer::Exact(e) => super::bpe::decode_bytes(*e, ids),
            Tokenizer::File(f) => {
                let known = ids.iter().all(|&id| f.token_bytes(id).is_some());
                known.then(|| f.decode_bytes(ids))
            }
            Tokenizer::Estimate(..) | Tokenizer::Api(_) => None,
        }
    }

    /// Byte offsets into `text` where a token ends and a character boundary
    /// falls, ascending and ending with `text.len()` (empty for empty text).
    ///
    /// A token that ends inside a multi-byte character is merged with the
    /// next one. For estimates the boundaries follow the estimate's unit
    /// (every fourth character, or word ends).
    pub fn token_boundaries(&self, text: &str) -> Vec<usize> {
        let mut out = Vec::new();
        if text.is_empty() {
            return out;
        }
        match self {
            Tokenizer::Exact(e) => {
                let mut end = 0usize;
                for len in super::bpe::token_lengths(*e, text) {
                    end += len;
                    if end < text.len() && text.is_char_boundary(end) {
                        out.push(end);
                    }
                }
            }
            Tokenizer::File(f) => {
                let mut end = 0usize;
                for id in f.encode(text) {
                    end += f.token_bytes(id).map_or(0, <[u8]>::len);
                    if end < text.len() && text.is_char_boundary(end) {
                        out.push(end);
                    }
                }
            }
            Tokenizer::Api(a) => return a.fallback().token_boundaries(text),
            Tokenizer::Estimate(Estimate::Chars4 | Estimate::Scaled { .. }, _) => {
                for (n, (i, _)) in text.char_indices().enumerate() {
                    if n > 0 && n % 4 == 0 {
                        out.push(i);
                    }
                }
            }
            Tokenizer::Estimate(Estimate::Words13, _) => {
                let mut prev_space = true;
                for (i, c) in text.char_indices() {
                    let space = c.is_whitespace();
                    if space && !prev_space {
                        out.push(i);
                    }
                    prev_space = space;
                }
            }
        }
        out.push(text.len());
        out
    }
}

impl fmt::Display for Tokenizer {
    /// The name; for an estimate `≈ name ±band`, e.g. `≈ o200k_base*1.2 ±10%`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.accuracy().describe(&self.name()))
    }
}

fn estimate(est: Estimate, text: &str, allow_special: bool) -> usize {
    match est {
        Estimate::Chars4 => {
            let chars = text.chars().count();
            chars.div_ceil(4)
        }
        Estimate::Words13 => {
            let words = text.split_whitespace().count();
            (words as f64 * 1.3).ceil() as usize
        }
        Estimate::Scaled { base, ratio } => {
            let t = Tokenizer::Exact(base);
            let n = if allow_special {
                t.count_with_special(text)
            } else {
                t.count(text)
            };
            (n as f64 * ratio).ceil() as usize
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_follow_their_formulas() {
        let c4 = Tokenizer::estimate(Estimate::Chars4);
        assert_eq!(c4.count(""), 0);
        assert_eq!(c4.count("a"), 1);
        assert_eq!(c4.count("abcd"), 1);
        assert_eq!(c4.count("abcde"), 2);
        assert_eq!(c4.count("héllo wörld"), 3, "chars, not bytes");
        let w = Tokenizer::estimate(Estimate::Words13);
        assert_eq!(w.count(""), 0);
        assert_eq!(w.count("one"), 2);
        assert_eq!(w.count("one two three"), 4);
        assert_eq!(
            w.count("  ten  words in this line are here for the test  "),
            13
        );
        assert!(!c4.is_exact());
        assert_eq!(c4.to_string(), "≈ chars/4 ±25%");
        assert_eq!(c4.error_band(), Some(ErrorBand::CHARS4));
        assert_eq!(c4.accuracy().label("3"), "≈3 ±25%");
        assert_eq!(Tokenizer::Exact(Encoding::O200kBase).error_band(), None);
        assert_eq!(
            Tokenizer::Exact(Encoding::O200kBase).accuracy(),
            Accuracy::Exact
        );
        assert_eq!(
            Tokenizer::Exact(Encoding::O200kBase).to_string(),
            "o200k_base"
        );
    }

    #[test]
    fn scaled_estimates_round_up() {
        let base = Tokenizer::Exact(Encoding::O200kBase);
        let est = Estimate::Scaled {
            base: Encoding::O200kBase,
            ratio: 1.5,
        };
        let scaled = Tokenizer::estimate(est);
        let text = "A sentence with a handful of tokens in it.";
        let n = base.count(text);
        assert_eq!(scaled.count(text), (n as f64 * 1.5).ceil() as usize);
        assert_ne!(scaled.id(), base.id());
        // The band is not part of the identity (it does not change counts),
        // but it is part of equality (it changes what is shown).
        let wider = Tokenizer::Estimate(est, ErrorBand::new(0.3).unwrap());
        assert_eq!(wider.id(), scaled.id());
        assert_ne!(wider, scaled);
        assert_eq!(scaled.error_band(), Some(ErrorBand::RATIO));
    }

    #[test]
    fn token_boundaries_cover_the_text_on_char_boundaries() {
        let text = "naïve café 👩‍👩‍👧 tokens\r\nend";
        for tok in [
            Tokenizer::Exact(Encoding::O200kBase),
            Tokenizer::Exact(Encoding::R50kBase),
            Tokenizer::estimate(Estimate::Chars4),
            Tokenizer::estimate(Estimate::Words13),
        ] {
            let b = tok.token_boundaries(text);
            assert_eq!(*b.last().unwrap(), text.len());
            assert!(b.windows(2).all(|w| w[0] < w[1]), "{tok}: ascending");
            assert!(
                b.iter().all(|&i| text.is_char_boundary(i)),
                "{tok}: char boundaries"
            );
        }
        assert!(
            Tokenizer::Exact(Encoding::O200kBase)
                .token_boundaries("")
                .is_empty()
        );
    }

    #[test]
    fn decode_round_trips_including_specials() {
        let tok = Tokenizer::Exact(Encoding::Cl100kBase);
        let text = "round <|endoftext|> trip ✓";
        let ids = tok.encode_with_special(text).unwrap();
        assert_eq!(tok.decode_bytes(&ids).unwrap(), text.as_bytes());
        assert!(tok.decode_bytes(&[u32::MAX]).is_none());
    }
}
