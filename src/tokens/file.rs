//! Exact tokenizers loaded from files the user has (README, Counting):
//! a HuggingFace `tokenizer.json` or a tiktoken rank file.
//!
//! The implementation is tokenscope's own, not the `tokenizers` crate: that
//! crate (0.22, `default-features = false, features = ["fancy-regex"]`)
//! builds here but adds about 5.0 MB to a release binary (3.7 MB stripped)
//! and some 45 crates including a C++ build, while byte-level BPE, the part
//! the models in the registry use, is a few hundred lines over `serde_json`,
//! `fancy-regex` and `aho-corasick`.
//!
//! Supported in `tokenizer.json`:
//! - model `BPE` with `vocab` and `merges` (both the `"a b"` and the
//!   `["a", "b"]` forms), `unk_token`, `fuse_unk`, `byte_fallback`,
//!   `ignore_merges`, `continuing_subword_prefix`, `end_of_word_suffix`;
//!   `dropout` must be null or 0;
//! - model `WordPiece` (`vocab`, `unk_token`, `continuing_subword_prefix`,
//!   `max_input_chars_per_word`);
//! - normalizers `NFC`, `NFD`, `NFKC`, `NFKD`, `Lowercase`, `StripAccents`,
//!   `Strip`, `Prepend`, `Replace`, `ByteLevel`, `BertNormalizer`, `Sequence`;
//! - pre-tokenizers `ByteLevel`, `Split`, `Metaspace`, `Digits`,
//!   `Punctuation`, `Whitespace`, `WhitespaceSplit`, `BertPreTokenizer`,
//!   `CharDelimiterSplit`, `Sequence`;
//! - `added_tokens` with `single_word`, `lstrip`, `rstrip`, `normalized`.
//!
//! That covers GPT-2, Llama 3, Qwen 2/2.5/3, DeepSeek V2/V3 (byte-level BPE),
//! Llama 2, Mistral (SentencePiece-style BPE with byte fallback) and BERT-family
//! embedding models (WordPiece). WordLevel and Unigram models, and the
//! `Precompiled` normalizer (SentencePiece Unigram models such as T5), are
//! refused with an error naming them.
//!
//! Counting is of the text itself: no post-processor runs (no BOS/EOS, no
//! `[CLS]`/`[SEP]`), like
//! `encode(text, add_special_tokens=False)`. [`FileTokenizer::count`] treats
//! the literal text of *special* added tokens as ordinary text (like
//! tiktoken's `encode_ordinary`); non-special added tokens are always
//! matched, as `tokenizers` does. [`FileTokenizer::count_with_special`]
//! matches special tokens too.
//!
//! A SentencePiece model file (`tokenizer.model`, a protobuf) of type BPE
//! is read directly and encoded with SentencePiece's own rules (the
//! `spm` module): Gemma, Gemini, Llama 2 and Mistral ship one. The Gemma 3
//! model that every Gemini model counts with is embedded in the binary
//! ([`FileTokenizer::gemma3`]). Only the identity normalizer is supported
//! (Unigram models and models with normalization rules are refused).
//!
//! A tiktoken rank file has one `base64token rank` pair per line; the split
//! pattern is given with [`FileTokenizer::load_tiktoken`] (a regex, or one of
//! the names `cl100k`, `o200k`, `gpt2`, `llama3`, `qwen2`) and defaults to
//! `cl100k_base`'s pattern as tiktoken has it today ([`CL100K_PATTERN`]).
//! `llama3` ([`LLAMA3_PATTERN`]) is the older form of that pattern that Llama
//! 3's files carry; it cuts trailing whitespace into other pieces but gives
//! the same tokens.
//! Special tokens are not part of rank files and can be given with
//! [`TiktokenOptions`].
//!
//! Splitting runs on the built-in encodings' exact scanners for tiktoken's
//! own patterns, on `regex` automata (with the `\s+(?!\S)` lookahead
//! emulated, checked against `fancy-regex` by tests) for the Llama 3, Qwen 2
//! and byte-level patterns, and on `fancy-regex` for any other pattern.

mod bpe;
mod hf;
mod split;
mod spm;
mod spm_table;
mod tiktoken;

use std::fmt;
use std::path::{Path, PathBuf};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use crate::tokens::chunks::{Stop, count_synced, parallel_chunk_for};
use crate::tokens::piece_cache::{cached, new_serial, with_file_cache};

pub use tiktoken::{
    BYTE_LEVEL_PATTERN, CL100K_PATTERN, GPT2_PATTERN, LLAMA3_PATTERN, O200K_PATTERN, QWEN2_PATTERN,
    named_pattern,
};

/// The Gemma 3 SentencePiece model (Apache-2.0, see `assets/NOTICE`).
static GEMMA3_MODEL: &[u8] = include_bytes!("../../assets/gemma3.spiece.model");

/// The name the embedded Gemma 3 tokenizer goes by.
pub const GEMMA3_NAME: &str = "gemma3";

/// A tokenizer file that cannot be used, naming the file and what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum FileTokenizerError {
    /// The file could not be read.
    #[error("cannot read tokenizer file {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// `tokenizer.json` is not valid JSON or does not have the expected shape.
    #[error("{}:{line}:{column}: invalid tokenizer.json: {message}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// `tokenizer.json` parses but cannot be used; the message starts with
    /// the JSON path (e.g. `model.merges[12]`).
    #[error("{}: unusable tokenizer.json: {message}", path.display())]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// What is wrong, starting with where.
        message: String,
    },
    /// A line of a tiktoken rank file is wrong.
    #[error("{}:{line}: invalid tiktoken rank file: {message}", path.display())]
    RankFile {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The split pattern does not compile.
    #[error("{}: the split pattern does not compile: {message}", path.display())]
    Pattern {
        /// The file the pattern was given for.
        path: PathBuf,
        /// The regex error.
        message: String,
    },
}

/// Options for a tiktoken rank file.
#[derive(Debug, Clone, Default)]
pub struct TiktokenOptions {
    /// The split pattern: a regex, or a name (`cl100k`, `o200k`, `gpt2`,
    /// `llama3`, `qwen2`); `None` means [`CL100K_PATTERN`].
    pub pattern: Option<String>,
    /// Special tokens and their ids (rank files do not list them).
    pub special_tokens: Vec<(String, u32)>,
}

/// An exact tokenizer loaded from a file. `Send + Sync`; share it with an
/// `Arc`.
pub struct FileTokenizer {
    name: String,
    id: u64,
    backend: Backend,
}

enum Backend {
    Hf(Box<hf::HfTokenizer>),
    Spm(Spm),
    Tiktoken(Box<TiktokenBackend>),
}

/// A SentencePiece model: one read from a file, or the embedded Gemma 3
/// model, parsed on its first use (a registry that names Gemini models
/// costs nothing until one of them counts).
enum Spm {
    Loaded(Box<spm::SpmTokenizer>),
    Gemma3,
}

impl std::ops::Deref for Spm {
    type Target = spm::SpmTokenizer;

    fn deref(&self) -> &spm::SpmTokenizer {
        static GEMMA3: std::sync::OnceLock<spm::SpmTokenizer> = std::sync::OnceLock::new();
        match self {
            Spm::Loaded(t) => t,
            Spm::Gemma3 => GEMMA3.get_or_init(|| {
                spm::SpmTokenizer::parse(GEMMA3_MODEL).unwrap_or_else(|e| {
                    // The embedded model is checked by the unit tests; this
                    // is unreachable in a tested build.
                    panic!("the embedded Gemma 3 model is invalid: {e}")
                })
            }),
        }
    }
}

struct TiktokenBackend {
    ranks: tiktoken::Ranks,
    regex: split::Splitter,
    specials: Option<(AhoCorasick, Vec<u32>)>,
    special_bytes: Vec<(u32, Box<[u8]>)>,
    /// The number of this tokenizer's piece caches (see
    /// [`with_file_cache`]).
    serial: u64,
}

impl fmt::Debug for FileTokenizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileTokenizer")
            .field("name", &self.name)
            .field("id", &format_args!("{:016x}", self.id))
            .field(
                "format",
                &match self.backend {
                    Backend::Hf(_) => "tokenizer.json",
                    Backend::Spm(_) => "sentencepiece",
                    Backend::Tiktoken(_) => "tiktoken",
                },
            )
            .finish()
    }
}

impl FileTokenizer {
    /// Loads a `tokenizer.json` (a file whose first non-blank character is
    /// `{`) or else a tiktoken rank file with the default `cl100k_base`
    /// split pattern.
    pub fn load(path: impl AsRef<Path>) -> Result<FileTokenizer, FileTokenizerError> {
        let path = path.as_ref();
        Self::from_file_bytes(&read(path)?, path)
    }

    /// [`FileTokenizer::load`] for a file that a models file names: a
    /// device or socket (`/dev/zero`, `/dev/urandom`, also behind a link) is
    /// refused before anything is read, instead of reading it up to the
    /// 1 GiB limit. A FIFO is read (it may be a slow source).
    pub fn load_regular(path: impl AsRef<Path>) -> Result<FileTokenizer, FileTokenizerError> {
        let path = path.as_ref();
        if let Ok(meta) = std::fs::metadata(path)
            && !meta.is_file()
            && !meta.is_dir()
            && !is_fifo(&meta)
        {
            return Err(FileTokenizerError::Io {
                path: path.to_path_buf(),
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "it is a device or socket, not a file",
                ),
            });
        }
        Self::load(path)
    }

    /// A `tokenizer.json` (first non-blank character `{`), a SentencePiece
    /// model (a protobuf whose first field is a piece) or else a tiktoken
    /// rank file with the default split pattern.
    fn from_file_bytes(bytes: &[u8], path: &Path) -> Result<FileTokenizer, FileTokenizerError> {
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
            Self::from_tokenizer_json(bytes, path)
        } else if spm::looks_like_model(bytes) {
            Self::from_sentencepiece(bytes, path)
        } else {
            Self::from_tiktoken(bytes, path, &TiktokenOptions::default())
        }
    }

    /// Loads a tiktoken rank file with a split pattern and special tokens.
    pub fn load_tiktoken(
        path: impl AsRef<Path>,
        options: &TiktokenOptions,
    ) -> Result<FileTokenizer, FileTokenizerError> {
        let path = path.as_ref();
        Self::from_tiktoken(&read(path)?, path, options)
    }

    /// Builds from the bytes of a `tokenizer.json`; `path` names it in
    /// errors and in [`FileTokenizer::name`].
    pub fn from_tokenizer_json(
        bytes: &[u8],
        path: &Path,
    ) -> Result<FileTokenizer, FileTokenizerError> {
        let json: hf::TokenizerJson =
            serde_json::from_slice(bytes).map_err(|e| FileTokenizerError::Json {
                path: path.to_path_buf(),
                line: e.line(),
                column: e.column(),
                message: e
                    .to_string()
                    .split(" at line ")
                    .next()
                    .unwrap_or("")
                    .to_string(),
            })?;
        let tokenizer =
            hf::HfTokenizer::build(json).map_err(|message| FileTokenizerError::Unsupported {
                path: path.to_path_buf(),
                message,
            })?;
        Ok(FileTokenizer {
            name: display_name(path),
            id: xxhash_rust::xxh3::xxh3_64(bytes),
            backend: Backend::Hf(Box::new(tokenizer)),
        })
    }

    /// Builds from the bytes of a SentencePiece model (`tokenizer.model`);
    /// `path` names it in errors and in [`FileTokenizer::name`].
    pub fn from_sentencepiece(
        bytes: &[u8],
        path: &Path,
    ) -> Result<FileTokenizer, FileTokenizerError> {
        let tokenizer =
            spm::SpmTokenizer::parse(bytes).map_err(|message| FileTokenizerError::Unsupported {
                path: path.to_path_buf(),
                message,
            })?;
        Ok(FileTokenizer {
            name: display_name(path),
            id: xxhash_rust::xxh3::xxh3_64(bytes),
            backend: Backend::Spm(Spm::Loaded(Box::new(tokenizer))),
        })
    }

    /// The Gemma 3 SentencePiece model (262,144 pieces), embedded in the
    /// binary: the tokenizer of every Gemini model and of Gemma 3, the one
    /// Google's SDKs count with locally. The model is parsed once per
    /// process, on the first text it counts.
    pub fn gemma3() -> std::sync::Arc<FileTokenizer> {
        static GEMMA3: std::sync::OnceLock<std::sync::Arc<FileTokenizer>> =
            std::sync::OnceLock::new();
        GEMMA3
            .get_or_init(|| {
                std::sync::Arc::new(FileTokenizer {
                    name: GEMMA3_NAME.to_string(),
                    id: xxhash_rust::xxh3::xxh3_64(GEMMA3_MODEL),
                    backend: Backend::Spm(Spm::Gemma3),
                })
            })
            .clone()
    }

    /// Builds from the bytes of a tiktoken rank file.
    pub fn from_tiktoken(
        bytes: &[u8],
        path: &Path,
        options: &TiktokenOptions,
    ) -> Result<FileTokenizer, FileTokenizerError> {
        let text = std::str::from_utf8(bytes).map_err(|e| {
            let line = bytes[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1;
            FileTokenizerError::RankFile {
                path: path.to_path_buf(),
                line,
                message: "the file is not UTF-8 text".into(),
            }
        })?;
        let ranks = tiktoken::parse(text).map_err(|e| FileTokenizerError::RankFile {
            path: path.to_path_buf(),
            line: e.line,
            message: e.message,
        })?;
        let pattern = options
            .pattern
            .as_deref()
            .map_or(CL100K_PATTERN, named_pattern);
        let regex = split::Splitter::new(pattern).map_err(|e| FileTokenizerError::Pattern {
            path: path.to_path_buf(),
            message: format!("`{pattern}`: {e}"),
        })?;
        let specials = if options.special_tokens.is_empty() {
            None
        } else {
            let automaton = AhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostLongest)
                .build(options.special_tokens.iter().map(|(s, _)| s))
                .map_err(|e| FileTokenizerError::Pattern {
                    path: path.to_path_buf(),
                    message: format!("special tokens: {e}"),
                })?;
            Some((
                automaton,
                options.special_tokens.iter().map(|(_, id)| *id).collect(),
            ))
        };
        let special_bytes = options
            .special_tokens
            .iter()
            .map(|(s, id)| (*id, s.as_bytes().into()))
            .collect();
        let mut hasher = xxhash_rust::xxh3::Xxh3::new();
        hasher.update(bytes);
        hasher.update(pattern.as_bytes());
        for (s, id) in &options.special_tokens {
            hasher.update(s.as_bytes());
            hasher.update(&id.to_le_bytes());
        }
        Ok(FileTokenizer {
            name: display_name(path),
            id: hasher.digest(),
            backend: Backend::Tiktoken(Box::new(TiktokenBackend {
                ranks,
                regex,
                specials,
                special_bytes,
                serial: new_serial(),
            })),
        })
    }

    /// A short name: the file name with its folder, e.g.
    /// `Llama-3-8B/tokenizer.json`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A hash of the file's content (and, for rank files, of the pattern
    /// and special tokens), for cache keys.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The number of tokens of `text` as ordinary text. A large text is
    /// counted on all cores (in chunks joined where their scans meet)
    /// unless its split pattern needs fancy-regex's look-behind or the
    /// model's pre-tokenizer does not start with a split pattern;
    /// SentencePiece models count on all cores when their normalizer maps
    /// text character for character.
    pub fn count(&self, text: &str) -> usize {
        match &self.backend {
            Backend::Tiktoken(t) if t.regex.scans_from_anywhere() => {
                count_synced(text, parallel_chunk_for(text.len()), |from, until, stop| {
                    t.count_scan(text, from, until, stop)
                })
            }
            Backend::Spm(t) => t.count(text, parallel_chunk_for(text.len())),
            Backend::Hf(t) => t.count(text, false),
            _ => self.encode(text).len(),
        }
    }

    /// The number of tokens of `text`, special-token literals counted as one
    /// special token each.
    pub fn count_with_special(&self, text: &str) -> usize {
        match &self.backend {
            Backend::Tiktoken(t) => match &t.specials {
                Some((automaton, _)) => {
                    let (mut n, mut done) = (0, 0);
                    for m in automaton.find_iter(text) {
                        n += self.count(&text[done..m.start()]) + 1;
                        done = m.end();
                    }
                    n + self.count(&text[done..])
                }
                None => self.count(text),
            },
            Backend::Spm(t) => t.count_with_special(text, parallel_chunk_for(text.len())),
            Backend::Hf(t) => t.count(text, true),
        }
    }

    /// The token ids of `text` as ordinary text.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let mut out = Vec::with_capacity(text.len() / 3 + 1);
        self.encode_into(text, false, &mut out);
        out
    }

    /// The token ids of `text` with special tokens matched.
    pub fn encode_with_special(&self, text: &str) -> Vec<u32> {
        let mut out = Vec::with_capacity(text.len() / 3 + 1);
        self.encode_into(text, true, &mut out);
        out
    }

    /// The bytes of the given ids, concatenated; ids the tokenizer does not
    /// have contribute nothing. For SentencePiece-style vocabularies the
    /// word-start mark `▁` is a space and `<0xAB>` tokens are their byte;
    /// for WordPiece the `##` prefix is dropped (spaces between words are
    /// not restored: this gives token boundaries, not a detokenizer).
    pub fn decode_bytes(&self, ids: &[u32]) -> Vec<u8> {
        let mut out = Vec::new();
        for &id in ids {
            if let Some(b) = self.token_bytes(id) {
                out.extend_from_slice(b);
            }
        }
        out
    }

    /// The bytes of one token, if the tokenizer has that id.
    pub fn token_bytes(&self, id: u32) -> Option<&[u8]> {
        match &self.backend {
            Backend::Hf(t) => t.decoder.get(id as usize)?.as_deref(),
            Backend::Spm(t) => t.token_bytes(id),
            Backend::Tiktoken(t) => t
                .ranks
                .decoder
                .get(id as usize)
                .and_then(|b| b.as_deref())
                .or_else(|| {
                    t.special_bytes
                        .iter()
                        .find(|(i, _)| *i == id)
                        .map(|(_, b)| &b[..])
                }),
        }
    }

    /// The number of tokens in the vocabulary (without added or special
    /// tokens).
    pub fn vocab_len(&self) -> usize {
        match &self.backend {
            Backend::Hf(t) => t.vocab_len(),
            Backend::Spm(t) => t.vocab_len(),
            Backend::Tiktoken(t) => t.ranks.encoder.len(),
        }
    }

    fn encode_into(&self, text: &str, special: bool, out: &mut Vec<u32>) {
        match &self.backend {
            Backend::Hf(t) => t.encode(text, special, out),
            Backend::Spm(t) => t.encode(text, special, out),
            Backend::Tiktoken(t) => t.encode(text, special, out),
        }
    }
}

impl TiktokenBackend {
    fn encode(&self, text: &str, special: bool, out: &mut Vec<u32>) {
        match (&self.specials, special) {
            (Some((automaton, ids)), true) => {
                let mut done = 0;
                for m in automaton.find_iter(text) {
                    self.encode_ordinary(&text[done..m.start()], out);
                    out.push(ids[m.pattern().as_usize()]);
                    done = m.end();
                }
                self.encode_ordinary(&text[done..], out);
            }
            _ => self.encode_ordinary(text, out),
        }
    }

    fn encode_ordinary(&self, text: &str, out: &mut Vec<u32>) {
        let mut pieces = Vec::new();
        self.regex.pieces(text, &mut pieces);
        let mut initial = Vec::new();
        for r in pieces {
            self.encode_piece(&text.as_bytes()[r], &mut initial, out);
        }
    }

    /// Appends the ids of one piece; `initial` is scratch space.
    fn encode_piece(&self, piece: &[u8], initial: &mut Vec<u32>, out: &mut Vec<u32>) {
        if let Some(&id) = self.ranks.encoder.get(piece) {
            out.push(id);
            return;
        }
        initial.clear();
        initial.extend(piece.iter().map(|&b| self.ranks.byte_ids[b as usize]));
        self.ranks.merges.apply(initial, out);
    }

    /// Counts the pieces of the search of `text` from `from`, a
    /// [`Scan`](crate::tokens::chunks::Scan) for [`count_synced`].
    fn count_scan(&self, text: &str, from: usize, until: usize, stop: Stop<'_>) -> (usize, usize) {
        let (mut initial, mut ids) = (Vec::new(), Vec::new());
        with_file_cache(self.serial, |mut cache| {
            self.regex
                .count_scan(text, from, until, stop, |view, piece| {
                    let piece = &view.as_bytes()[piece];
                    cached(cache.as_deref_mut(), piece, |piece| {
                        ids.clear();
                        self.encode_piece(piece, &mut initial, &mut ids);
                        ids.len()
                    })
                })
        })
    }
}

#[cfg(unix)]
fn is_fifo(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    meta.file_type().is_fifo()
}

#[cfg(not(unix))]
fn is_fifo(_meta: &std::fs::Metadata) -> bool {
    false
}

fn read(path: &Path) -> Result<Vec<u8>, FileTokenizerError> {
    crate::fsio::read_file(path, crate::fsio::Limit::Tokenizer).map_err(|source| {
        FileTokenizerError::Io {
            path: path.to_path_buf(),
            source,
        }
    })
}

pub(super) fn display_name(path: &Path) -> String {
    let file = path.file_name().map(|f| f.to_string_lossy().into_owned());
    let parent = path
        .parent()
        .and_then(|p| p.file_name())
        .map(|p| p.to_string_lossy().into_owned());
    match (parent, file) {
        (Some(p), Some(f)) => format!("{p}/{f}"),
        (None, Some(f)) => f,
        _ => path.display().to_string(),
    }
}
