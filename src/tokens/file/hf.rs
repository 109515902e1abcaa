//! HuggingFace `tokenizer.json`: normalizers, pre-tokenizers, a BPE model
//! (byte-level as in GPT-2, Llama 3, Qwen and DeepSeek, or SentencePiece-style
//! with byte fallback as in Llama 2 and Mistral) and added tokens.

use std::ops::Range;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use rustc_hash::FxHashMap;
use serde::Deserialize;
// The reference (HuggingFace `tokenizers`) normalizes with these two crates'
// Unicode tables (Unicode 9 for normalization, older category tables), not
// the current standard: a character added since is unassigned to it, so NFC
// does not reorder it, StripAccents keeps it, BERT's cleaning keeps it. Their
// tables are used here so counts stay identical character for character.
use unicode_categories::UnicodeCategories;
use unicode_normalization_alignments::char::is_combining_mark;
use unicode_normalization_alignments::{IsNormalized, UnicodeNormalization, is_nfc_quick};

use super::bpe::Merges;
use super::split::{Behavior, HeldCache, Pattern, Splitter, byte_chars, char_byte, split_ranges};
use super::tiktoken::BYTE_LEVEL_PATTERN;
use crate::tokens::chunks::{Stop, count_synced, parallel_chunk_for, splits};
use crate::tokens::piece_cache::{PieceCache, cached, new_serial, with_file_cache};

// ------------------------------------------------------------- JSON shapes

#[derive(Deserialize)]
pub(super) struct TokenizerJson {
    #[serde(default)]
    added_tokens: Vec<AddedTokenJson>,
    #[serde(default)]
    normalizer: Option<NormalizerJson>,
    #[serde(default)]
    pre_tokenizer: Option<PreTokenizerJson>,
    model: ModelJson,
    #[serde(default)]
    decoder: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct AddedTokenJson {
    id: u32,
    content: String,
    #[serde(default)]
    single_word: bool,
    #[serde(default)]
    lstrip: bool,
    #[serde(default)]
    rstrip: bool,
    #[serde(default)]
    normalized: Option<bool>,
    #[serde(default)]
    special: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
enum PatternJson {
    String(String),
    Regex(String),
}

#[derive(Deserialize)]
#[serde(tag = "type")]
enum NormalizerJson {
    #[serde(rename = "NFC")]
    Nfc,
    #[serde(rename = "NFD")]
    Nfd,
    #[serde(rename = "NFKC")]
    Nfkc,
    #[serde(rename = "NFKD")]
    Nfkd,
    Lowercase,
    StripAccents,
    Strip {
        #[serde(default)]
        strip_left: bool,
        #[serde(default)]
        strip_right: bool,
    },
    Prepend {
        prepend: String,
    },
    Replace {
        pattern: PatternJson,
        content: String,
    },
    Sequence {
        normalizers: Vec<NormalizerJson>,
    },
    ByteLevel {},
    BertNormalizer {
        #[serde(default = "yes")]
        clean_text: bool,
        #[serde(default = "yes")]
        handle_chinese_chars: bool,
        #[serde(default)]
        strip_accents: Option<bool>,
        #[serde(default = "yes")]
        lowercase: bool,
    },
    Precompiled {},
    Nmt {},
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum PrependSchemeJson {
    First,
    Never,
    Always,
}

fn yes() -> bool {
    true
}

fn isolated() -> Behavior {
    Behavior::Isolated
}

#[derive(Deserialize)]
#[serde(tag = "type")]
enum PreTokenizerJson {
    ByteLevel {
        #[serde(default)]
        add_prefix_space: bool,
        #[serde(default = "yes")]
        use_regex: bool,
    },
    Split {
        pattern: PatternJson,
        behavior: Behavior,
        #[serde(default)]
        invert: bool,
    },
    Metaspace {
        #[serde(default = "metaspace_char")]
        replacement: char,
        #[serde(default)]
        prepend_scheme: Option<PrependSchemeJson>,
        #[serde(default)]
        add_prefix_space: Option<bool>,
        #[serde(default = "yes")]
        split: bool,
    },
    Digits {
        #[serde(default)]
        individual_digits: bool,
    },
    Punctuation {
        #[serde(default = "isolated")]
        behavior: Behavior,
    },
    Whitespace {},
    WhitespaceSplit {},
    BertPreTokenizer {},
    CharDelimiterSplit {
        delimiter: char,
    },
    Sequence {
        pretokenizers: Vec<PreTokenizerJson>,
    },
    UnicodeScripts {},
}

fn wordpiece_unk() -> String {
    "[UNK]".into()
}

fn wordpiece_prefix() -> String {
    "##".into()
}

fn wordpiece_max_chars() -> usize {
    100
}

fn metaspace_char() -> char {
    '▁'
}

#[derive(Deserialize)]
#[serde(untagged)]
enum MergeJson {
    Joined(String),
    Pair(String, String),
}

#[derive(Deserialize)]
#[serde(tag = "type")]
enum ModelJson {
    #[serde(rename = "BPE")]
    Bpe {
        vocab: FxHashMap<String, u32>,
        merges: Vec<MergeJson>,
        #[serde(default)]
        unk_token: Option<String>,
        #[serde(default)]
        continuing_subword_prefix: Option<String>,
        #[serde(default)]
        end_of_word_suffix: Option<String>,
        #[serde(default)]
        fuse_unk: bool,
        #[serde(default)]
        byte_fallback: bool,
        #[serde(default)]
        ignore_merges: bool,
        #[serde(default)]
        dropout: Option<f32>,
    },
    WordPiece {
        vocab: FxHashMap<String, u32>,
        #[serde(default = "wordpiece_unk")]
        unk_token: String,
        #[serde(default = "wordpiece_prefix")]
        continuing_subword_prefix: String,
        #[serde(default = "wordpiece_max_chars")]
        max_input_chars_per_word: usize,
    },
    WordLevel {},
    Unigram {},
}

// ------------------------------------------------------------- the pipeline

enum Normalizer {
    Nfc,
    Nfd,
    Nfkc,
    Nfkd,
    Lowercase,
    StripAccents,
    Strip {
        left: bool,
        right: bool,
    },
    Prepend(String),
    Replace {
        pattern: Pattern,
        content: String,
    },
    ByteLevel,
    Bert {
        clean_text: bool,
        handle_chinese_chars: bool,
        strip_accents: bool,
        lowercase: bool,
    },
    Sequence(Vec<Normalizer>),
}

/// Control, format and private-use characters BERT's `clean_text` removes
/// (tab, newline and carriage return are whitespace to it).
fn is_bert_control(c: char) -> bool {
    !matches!(c, '\t' | '\n' | '\r') && c.is_other()
}

/// Punctuation as the `Punctuation` and `BertPreTokenizer` pre-tokenizers
/// see it: ASCII punctuation (symbols such as `$` and `+` included) or a
/// character of a Unicode punctuation category.
fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation() || c.is_punctuation()
}

/// BERT's "Chinese characters", the blocks exactly as the reference lists
/// them (its list skips U+2B820..U+2B91F).
fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0x20000..=0x2A6DF | 0x2A700..=0x2B73F
        | 0x2B740..=0x2B81F | 0x2B920..=0x2CEAF | 0xF900..=0xFAFF | 0x2F800..=0x2FA1F)
}

/// Characters below this are their own NFC in any context: none is
/// changed by NFC or reordered (all are starters), and none is the second
/// of a composition, so only the one right before a higher character can
/// compose with what follows.
const NFC_STABLE_BELOW: char = '\u{300}';

/// NFC of `s`, by the reference's tables, run only on the stretches that
/// hold a character from [`NFC_STABLE_BELOW`] on (each with the character
/// before it); the rest is copied. Text in Latin scripts, code and base64
/// skips the normalizer, and so does a stretch the reference's quick check
/// finds normalized (no character that may compose or reorder): most CJK,
/// Cyrillic or emoji.
fn nfc(s: String) -> String {
    let Some(first) = s.find(|c: char| c >= NFC_STABLE_BELOW) else {
        return s;
    };
    let mut out = String::with_capacity(s.len() + 8);
    let mut done = 0;
    let mut high = first;
    loop {
        // From the character before the high one, to the next low one.
        let start = s[done..high]
            .char_indices()
            .last()
            .map_or(high, |(i, _)| done + i);
        out.push_str(&s[done..start]);
        let end = s[high..]
            .find(|c: char| c < NFC_STABLE_BELOW)
            .map_or(s.len(), |i| high + i);
        let stretch = &s[start..end];
        if is_nfc_quick(stretch.chars()) == IsNormalized::Yes {
            out.push_str(stretch);
        } else {
            out.extend(stretch.nfc().map(|(c, _)| c));
        }
        done = end;
        match s[end..].find(|c: char| c >= NFC_STABLE_BELOW) {
            Some(i) => high = end + i,
            None => break,
        }
    }
    out.push_str(&s[done..]);
    out
}

impl Normalizer {
    fn apply(&self, s: String) -> String {
        match self {
            Normalizer::Nfc => nfc(s),
            Normalizer::Nfd => s.nfd().map(|(c, _)| c).collect(),
            Normalizer::Nfkc => s.nfkc().map(|(c, _)| c).collect(),
            Normalizer::Nfkd => s.nfkd().map(|(c, _)| c).collect(),
            Normalizer::Lowercase => s.chars().flat_map(char::to_lowercase).collect(),
            Normalizer::StripAccents => s.chars().filter(|&c| !is_combining_mark(c)).collect(),
            Normalizer::Strip { left, right } => {
                let mut t = s.as_str();
                if *left {
                    t = t.trim_start();
                }
                if *right {
                    t = t.trim_end();
                }
                t.to_string()
            }
            Normalizer::Prepend(p) => {
                if s.is_empty() {
                    s
                } else {
                    format!("{p}{s}")
                }
            }
            Normalizer::Replace { pattern, content } => {
                let mut out = String::with_capacity(s.len());
                for (r, is_match) in pattern.find_matches(&s) {
                    if is_match {
                        out.push_str(content);
                    } else {
                        out.push_str(&s[r]);
                    }
                }
                out
            }
            Normalizer::ByteLevel => {
                let table = byte_chars();
                s.bytes().map(|b| table[b as usize]).collect()
            }
            Normalizer::Bert {
                clean_text,
                handle_chinese_chars,
                strip_accents,
                lowercase,
            } => {
                let mut t = String::with_capacity(s.len());
                for c in s.chars() {
                    if *clean_text {
                        if c == '\0' || c == '\u{FFFD}' || is_bert_control(c) {
                            continue;
                        }
                        if c.is_whitespace() {
                            t.push(' ');
                            continue;
                        }
                    }
                    if *handle_chinese_chars && is_cjk(c) {
                        t.push(' ');
                        t.push(c);
                        t.push(' ');
                    } else {
                        t.push(c);
                    }
                }
                if *strip_accents {
                    // BERT drops non-spacing marks only (`StripAccents` drops
                    // every combining mark).
                    t = t
                        .nfd()
                        .map(|(c, _)| c)
                        .filter(|&c| !c.is_mark_nonspacing())
                        .collect();
                }
                if *lowercase {
                    t = t.chars().flat_map(char::to_lowercase).collect();
                }
                t
            }
            Normalizer::Sequence(list) => list.iter().fold(s, |acc, n| n.apply(acc)),
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Prepend {
    First,
    Never,
    Always,
}

enum PreTokenizer {
    ByteLevel {
        add_prefix_space: bool,
        regex: Option<Splitter>,
    },
    Split {
        pattern: Pattern,
        behavior: Behavior,
        invert: bool,
    },
    Metaspace {
        replacement: char,
        prepend: Prepend,
        split: bool,
    },
}

/// A piece of text on its way to the model, and whether it starts at the
/// beginning of the input.
struct Piece {
    text: String,
    at_start: bool,
}

impl PreTokenizer {
    fn apply(&self, pieces: Vec<Piece>) -> Vec<Piece> {
        let mut out = Vec::with_capacity(pieces.len());
        for piece in pieces {
            match self {
                PreTokenizer::ByteLevel {
                    add_prefix_space,
                    regex,
                } => {
                    let mut text = piece.text;
                    if *add_prefix_space && !text.starts_with(' ') {
                        text.insert(0, ' ');
                    }
                    let table = byte_chars();
                    let map = |s: &str| s.bytes().map(|b| table[b as usize]).collect::<String>();
                    match regex {
                        Some(re) => {
                            let ranges = split_ranges(re.find_matches(&text), Behavior::Isolated);
                            push_pieces(&mut out, &text, ranges, piece.at_start, map);
                        }
                        None => out.push(Piece {
                            text: map(&text),
                            at_start: piece.at_start,
                        }),
                    }
                }
                PreTokenizer::Split {
                    pattern,
                    behavior,
                    invert,
                } => {
                    let mut matches = pattern.find_matches(&piece.text);
                    if *invert {
                        matches.iter_mut().for_each(|m| m.1 = !m.1);
                    }
                    let ranges = split_ranges(matches, *behavior);
                    push_pieces(
                        &mut out,
                        &piece.text,
                        ranges,
                        piece.at_start,
                        str::to_string,
                    );
                }
                PreTokenizer::Metaspace {
                    replacement,
                    prepend,
                    split,
                } => {
                    let mut text: String = piece
                        .text
                        .chars()
                        .map(|c| if c == ' ' { *replacement } else { c })
                        .collect();
                    let add = match prepend {
                        Prepend::Always => true,
                        Prepend::First => piece.at_start,
                        Prepend::Never => false,
                    };
                    if add && !text.starts_with(*replacement) {
                        text.insert(0, *replacement);
                    }
                    if *split {
                        let pattern = Pattern::Literal(replacement.to_string());
                        let ranges =
                            split_ranges(pattern.find_matches(&text), Behavior::MergedWithNext);
                        push_pieces(&mut out, &text, ranges, piece.at_start, str::to_string);
                    } else {
                        out.push(Piece {
                            text,
                            at_start: piece.at_start,
                        });
                    }
                }
            }
        }
        out
    }
}

fn push_pieces(
    out: &mut Vec<Piece>,
    text: &str,
    ranges: Vec<std::ops::Range<usize>>,
    at_start: bool,
    map: impl Fn(&str) -> String,
) {
    for r in ranges {
        if r.is_empty() {
            continue;
        }
        out.push(Piece {
            at_start: at_start && r.start == 0,
            text: map(&text[r]),
        });
    }
}

/// Byte-level BPE on bytes: what [`HfTokenizer::encode`] needs to skip
/// mapping each piece to the byte alphabet's characters and back.
struct ByteLevelBpe {
    /// Each byte's one-character token.
    byte_ids: [u32; 256],
    /// With `ignore_merges`: every token spelled in the byte alphabet, by
    /// its bytes.
    whole: Option<FxHashMap<Box<[u8]>, u32>>,
}

impl ByteLevelBpe {
    /// The byte path of a pipeline whose pre-tokenizers are splits that
    /// keep every part (`Isolated`, not inverted) and then `ByteLevel`
    /// without a prefix space, into a BPE model without affixes whose
    /// vocabulary has all 256 byte characters. `None` otherwise.
    fn plan(t: &HfTokenizer) -> Option<ByteLevelBpe> {
        let Model::Bpe(bpe) = &t.model else {
            return None;
        };
        let (last, splits) = t.pre.split_last()?;
        if !matches!(
            last,
            PreTokenizer::ByteLevel {
                add_prefix_space: false,
                ..
            }
        ) || bpe.prefix.is_some()
            || bpe.suffix.is_some()
            || !splits.iter().all(|p| {
                matches!(
                    p,
                    PreTokenizer::Split {
                        behavior: Behavior::Isolated,
                        invert: false,
                        ..
                    }
                )
            })
        {
            return None;
        }
        let table = byte_chars();
        let mut byte_ids = [0u32; 256];
        for (id, c) in byte_ids.iter_mut().zip(table) {
            *id = *bpe.chars.get(c)?;
        }
        let whole = bpe.ignore_merges.then(|| {
            bpe.vocab
                .iter()
                .filter_map(|(token, &id)| {
                    let bytes: Option<Box<[u8]>> = token.chars().map(char_byte).collect();
                    Some((bytes?, id))
                })
                .collect()
        });
        Some(ByteLevelBpe { byte_ids, whole })
    }
}

enum Model {
    Bpe(Bpe),
    WordPiece(WordPiece),
}

impl Model {
    fn tokenize(&self, word: &str, out: &mut Vec<u32>, scratch: &mut Vec<u32>) {
        match self {
            Model::Bpe(b) => b.tokenize(word, out, scratch),
            Model::WordPiece(w) => w.tokenize(word, out),
        }
    }
}

/// Greedy longest-match-first subwords (BERT).
struct WordPiece {
    vocab: FxHashMap<String, u32>,
    unk: u32,
    prefix: String,
    max_chars: usize,
}

impl WordPiece {
    fn tokenize(&self, word: &str, out: &mut Vec<u32>) {
        if word.is_empty() {
            return;
        }
        if word.chars().count() > self.max_chars {
            out.push(self.unk);
            return;
        }
        let before = out.len();
        let mut start = 0;
        let mut key = String::new();
        while start < word.len() {
            let mut end = word.len();
            let mut found = None;
            while start < end {
                key.clear();
                if start > 0 {
                    key.push_str(&self.prefix);
                }
                key.push_str(&word[start..end]);
                if let Some(&id) = self.vocab.get(&key) {
                    found = Some(id);
                    break;
                }
                end = word[..end]
                    .char_indices()
                    .next_back()
                    .map_or(start, |(i, _)| i);
            }
            match found {
                Some(id) => {
                    out.push(id);
                    start = end;
                }
                None => {
                    // A word with a piece that matches nothing is unknown whole.
                    out.truncate(before);
                    out.push(self.unk);
                    return;
                }
            }
        }
    }
}

struct Bpe {
    vocab: FxHashMap<String, u32>,
    /// Single-character tokens, for the common case without affixes.
    chars: FxHashMap<char, u32>,
    merges: Merges,
    unk: Option<u32>,
    prefix: Option<String>,
    suffix: Option<String>,
    fuse_unk: bool,
    /// `<0xAB>` token ids, when byte fallback is on and all 256 exist.
    byte_fallback: Option<Box<[Option<u32>; 256]>>,
    ignore_merges: bool,
}

impl Bpe {
    fn tokenize(&self, word: &str, out: &mut Vec<u32>, scratch: &mut Vec<u32>) {
        if word.is_empty() {
            return;
        }
        if self.ignore_merges
            && let Some(&id) = self.vocab.get(word)
        {
            out.push(id);
            return;
        }
        scratch.clear();
        let mut unk: Option<u32> = None;
        let plain = self.prefix.is_none() && self.suffix.is_none();
        let mut iter = word.chars().peekable();
        let mut first = true;
        let mut key = String::new();
        while let Some(c) = iter.next() {
            let last = iter.peek().is_none();
            let id = if plain {
                self.chars.get(&c).copied()
            } else {
                key.clear();
                if !first && let Some(p) = &self.prefix {
                    key.push_str(p);
                }
                key.push(c);
                if last && let Some(s) = &self.suffix {
                    key.push_str(s);
                }
                self.vocab.get(&key).copied()
            };
            first = false;
            if let Some(id) = id {
                if let Some(u) = unk.take() {
                    scratch.push(u);
                }
                scratch.push(id);
                continue;
            }
            if let Some(bytes) = &self.byte_fallback {
                let mut buf = [0u8; 4];
                let ids: Option<Vec<u32>> = c
                    .encode_utf8(&mut buf)
                    .bytes()
                    .map(|b| bytes[b as usize])
                    .collect();
                if let Some(ids) = ids {
                    scratch.extend(ids);
                    continue;
                }
            }
            if let Some(u) = self.unk {
                match unk {
                    Some(_) if self.fuse_unk => {}
                    Some(prev) => {
                        scratch.push(prev);
                        unk = Some(u);
                    }
                    None => unk = Some(u),
                }
            }
        }
        if let Some(u) = unk {
            scratch.push(u);
        }
        self.merges.apply(scratch, out);
    }
}

struct AddedToken {
    id: u32,
    special: bool,
    single_word: bool,
    lstrip: bool,
    rstrip: bool,
}

/// Added tokens matched on raw or on normalized text.
struct Matcher {
    automaton: AhoCorasick,
    tokens: Vec<AddedToken>,
}

enum Segment<'a> {
    Added(u32),
    Text(&'a str, bool),
}

impl Matcher {
    fn build(tokens: Vec<(String, AddedToken)>) -> Result<Option<Matcher>, String> {
        if tokens.is_empty() {
            return Ok(None);
        }
        let (patterns, tokens): (Vec<String>, Vec<AddedToken>) = tokens.into_iter().unzip();
        let automaton = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&patterns)
            .map_err(|e| format!("cannot index the added tokens: {e}"))?;
        Ok(Some(Matcher { automaton, tokens }))
    }

    /// Splits `text` at added tokens; special ones only when `special`.
    fn split<'a>(&self, text: &'a str, special: bool, at_start: bool, out: &mut Vec<Segment<'a>>) {
        let mut done = 0;
        for m in self.automaton.find_iter(text) {
            let token = &self.tokens[m.pattern().as_usize()];
            if token.special && !special {
                continue;
            }
            let (mut start, mut end) = (m.start(), m.end());
            if token.single_word {
                let before_ok = !text[..start].chars().next_back().is_some_and(is_word_char);
                let after_ok = !text[end..].chars().next().is_some_and(is_word_char);
                if !before_ok || !after_ok {
                    continue;
                }
            }
            if token.lstrip {
                let trimmed = text[..start].trim_end().len();
                start = trimmed.max(done);
            }
            if token.rstrip {
                end += text[end..].len() - text[end..].trim_start().len();
            }
            if start < done {
                continue;
            }
            if done < start {
                out.push(Segment::Text(&text[done..start], at_start && done == 0));
            }
            out.push(Segment::Added(token.id));
            done = end;
        }
        if done < text.len() {
            out.push(Segment::Text(&text[done..], at_start && done == 0));
        }
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// A loaded `tokenizer.json`.
pub(super) struct HfTokenizer {
    normalizer: Option<Normalizer>,
    pre: Vec<PreTokenizer>,
    model: Model,
    /// Byte-level BPE encoded straight from the text's bytes, when the
    /// pipeline allows it.
    bytes: Option<ByteLevelBpe>,
    raw_added: Option<Matcher>,
    normalized_added: Option<Matcher>,
    /// Bytes of each id, for decoding.
    pub decoder: Vec<Option<Box<[u8]>>>,
    /// The number of this tokenizer's piece caches (see
    /// [`with_file_cache`]).
    serial: u64,
}

impl HfTokenizer {
    /// Builds the pipeline; errors name the JSON path of the problem.
    pub fn build(json: TokenizerJson) -> Result<HfTokenizer, String> {
        let normalizer = json
            .normalizer
            .map(|n| normalizer(n, "normalizer"))
            .transpose()?;
        let mut pre = Vec::new();
        if let Some(p) = json.pre_tokenizer {
            pre_tokenizers(p, "pre_tokenizer", &mut pre)?;
        }
        // Decoding: byte-level alphabets map back to bytes; otherwise the
        // Metaspace character is a space and `<0xAB>` is a byte.
        let byte_level = pre
            .iter()
            .any(|p| matches!(p, PreTokenizer::ByteLevel { .. }))
            || matches!(normalizer, Some(Normalizer::ByteLevel))
            || json.decoder.as_ref().is_some_and(mentions_byte_level);
        let space_char = pre
            .iter()
            .find_map(|p| match p {
                PreTokenizer::Metaspace { replacement, .. } => Some(*replacement),
                _ => None,
            })
            .unwrap_or('▁');
        let (model, vocab) = match json.model {
            ModelJson::Bpe {
                vocab,
                merges,
                unk_token,
                continuing_subword_prefix,
                end_of_word_suffix,
                fuse_unk,
                byte_fallback,
                ignore_merges,
                dropout,
            } => {
                if dropout.is_some_and(|d| d > 0.0) {
                    return Err(
                        "model.dropout: BPE dropout makes counts random; set it to null".into(),
                    );
                }
                let unk = match &unk_token {
                    Some(u) => Some(*vocab.get(u).ok_or_else(|| {
                        format!("model.unk_token: `{u}` is not in the vocabulary")
                    })?),
                    None => None,
                };
                let prefix_len = continuing_subword_prefix.as_ref().map_or(0, String::len);
                let mut pair_merges = Merges::default();
                for (rank, m) in merges.iter().enumerate() {
                    let (a, b) = match m {
                        MergeJson::Joined(s) => s.split_once(' ').ok_or_else(|| {
                            format!(
                                "model.merges[{rank}]: `{s}` is not two tokens separated by a space"
                            )
                        })?,
                        MergeJson::Pair(a, b) => (a.as_str(), b.as_str()),
                    };
                    let id_of = |t: &str| {
                        vocab.get(t).copied().ok_or_else(|| {
                            format!("model.merges[{rank}]: `{t}` is not in the vocabulary")
                        })
                    };
                    let (ia, ib) = (id_of(a)?, id_of(b)?);
                    let b_rest = if prefix_len > 0
                        && b.len() >= prefix_len
                        && b.is_char_boundary(prefix_len)
                    {
                        &b[prefix_len..]
                    } else {
                        b
                    };
                    let merged = format!("{a}{b_rest}");
                    let im = vocab.get(&merged).copied().ok_or_else(|| {
                    format!(
                        "model.merges[{rank}]: the merged token `{merged}` is not in the vocabulary"
                    )
                })?;
                    pair_merges.insert(ia, ib, rank as u32, im);
                }
                let chars = vocab
                    .iter()
                    .filter_map(|(t, &id)| {
                        let mut it = t.chars();
                        let c = it.next()?;
                        it.next().is_none().then_some((c, id))
                    })
                    .collect();
                let byte_fallback = byte_fallback.then(|| {
                    let mut ids = Box::new([None; 256]);
                    for (b, slot) in ids.iter_mut().enumerate() {
                        *slot = vocab.get(&format!("<0x{b:02X}>")).copied();
                    }
                    ids
                });
                let model = Model::Bpe(Bpe {
                    vocab: FxHashMap::default(),
                    chars,
                    merges: pair_merges,
                    unk,
                    prefix: continuing_subword_prefix.filter(|p| !p.is_empty()),
                    suffix: end_of_word_suffix.filter(|s| !s.is_empty()),
                    fuse_unk,
                    byte_fallback,
                    ignore_merges,
                });
                (model, vocab)
            }
            ModelJson::WordPiece {
                vocab,
                unk_token,
                continuing_subword_prefix,
                max_input_chars_per_word,
            } => {
                let unk = *vocab.get(&unk_token).ok_or_else(|| {
                    format!("model.unk_token: `{unk_token}` is not in the vocabulary")
                })?;
                let model = Model::WordPiece(WordPiece {
                    vocab: FxHashMap::default(),
                    unk,
                    prefix: continuing_subword_prefix,
                    max_chars: max_input_chars_per_word,
                });
                (model, vocab)
            }
            ModelJson::WordLevel {} | ModelJson::Unigram {} => {
                return Err(
                    "model: WordLevel and Unigram models are not supported (BPE and WordPiece are)"
                        .into(),
                );
            }
        };
        let max_id = vocab
            .values()
            .copied()
            .chain(json.added_tokens.iter().map(|t| t.id))
            .max()
            .unwrap_or(0);
        if max_id as usize > (vocab.len() + json.added_tokens.len()) * 4 + 1_000_000 {
            return Err(format!(
                "model.vocab: id {max_id} is far beyond the vocabulary size"
            ));
        }
        let mut decoder: Vec<Option<Box<[u8]>>> = vec![None; max_id as usize + 1];
        for (token, &id) in &vocab {
            let bytes = match &model {
                Model::WordPiece(w) => token
                    .strip_prefix(w.prefix.as_str())
                    .unwrap_or(token)
                    .as_bytes()
                    .to_vec(),
                Model::Bpe(_) => token_bytes(token, byte_level, space_char),
            };
            decoder[id as usize] = Some(bytes.into_boxed_slice());
        }
        let mut raw = Vec::new();
        let mut normalized = Vec::new();
        for (k, t) in json.added_tokens.into_iter().enumerate() {
            if t.content.is_empty() {
                return Err(format!("added_tokens[{k}]: the content is empty"));
            }
            decoder[t.id as usize] = Some(t.content.as_bytes().into());
            let token = AddedToken {
                id: t.id,
                special: t.special,
                single_word: t.single_word,
                lstrip: t.lstrip,
                rstrip: t.rstrip,
            };
            if t.normalized.unwrap_or(!t.special) {
                let content = match &normalizer {
                    Some(n) => n.apply(t.content),
                    None => t.content,
                };
                normalized.push((content, token));
            } else {
                raw.push((t.content, token));
            }
        }
        let mut tokenizer = HfTokenizer {
            normalizer,
            pre,
            model: match model {
                Model::Bpe(mut b) => {
                    b.vocab = vocab;
                    Model::Bpe(b)
                }
                Model::WordPiece(mut w) => {
                    w.vocab = vocab;
                    Model::WordPiece(w)
                }
            },
            bytes: None,
            raw_added: Matcher::build(raw).map_err(|e| format!("added_tokens: {e}"))?,
            normalized_added: Matcher::build(normalized)
                .map_err(|e| format!("added_tokens: {e}"))?,
            decoder,
            serial: new_serial(),
        };
        tokenizer.bytes = ByteLevelBpe::plan(&tokenizer);
        Ok(tokenizer)
    }

    /// Appends the ids of `text`; special added tokens are matched only
    /// when `special`.
    pub fn encode(&self, text: &str, special: bool, out: &mut Vec<u32>) {
        let mut scratch = Vec::new();
        let mut ranges = (Vec::new(), Vec::new());
        self.segments(text, special, |segment| match segment {
            Segment::Added(id) => out.push(id),
            Segment::Text(t, _) if self.bytes.is_some() => {
                self.encode_byte_level(t, out, &mut scratch, &mut ranges);
            }
            Segment::Text(t, s) => {
                let mut pieces = vec![Piece {
                    text: t.to_string(),
                    at_start: s,
                }];
                for p in &self.pre {
                    pieces = p.apply(pieces);
                }
                for p in pieces {
                    self.model.tokenize(&p.text, out, &mut scratch);
                }
            }
        });
    }

    /// Calls `f` with each added token of `text` and each stretch of
    /// normalized text between them, in order.
    fn segments(&self, text: &str, special: bool, mut f: impl FnMut(Segment<'_>)) {
        let mut segments = Vec::new();
        match &self.raw_added {
            Some(m) => m.split(text, special, true, &mut segments),
            None if text.is_empty() => {}
            None => segments.push(Segment::Text(text, true)),
        }
        for segment in segments {
            let (piece, at_start) = match segment {
                Segment::Added(id) => {
                    f(Segment::Added(id));
                    continue;
                }
                Segment::Text(t, s) => (t, s),
            };
            let normalized = match &self.normalizer {
                Some(n) => n.apply(piece.to_string()),
                None => piece.to_string(),
            };
            let mut inner = Vec::new();
            match &self.normalized_added {
                Some(m) => m.split(&normalized, special, at_start, &mut inner),
                None if normalized.is_empty() => {}
                None => inner.push(Segment::Text(&normalized, at_start)),
            }
            for segment in inner {
                f(segment);
            }
        }
    }

    /// The number of tokens of `text` as ordinary text. A large text of a
    /// byte-level model is counted on all cores when its pre-tokenizers are
    /// split patterns (see [`HfTokenizer::count_stages`]), and the pieces
    /// of a byte-level model are counted through this thread's piece cache.
    /// Special added tokens are matched only when `special`.
    pub fn count(&self, text: &str, special: bool) -> usize {
        if self.bytes.is_none() {
            let mut out = Vec::new();
            self.encode(text, special, &mut out);
            return out.len();
        }
        let mut n = 0;
        self.segments(text, special, |segment| match segment {
            Segment::Added(_) => n += 1,
            Segment::Text(t, _) => n += self.count_stages(t, &self.pre),
        });
        n
    }

    /// The byte-level tokens of `text` split by `stages` (a tail of the
    /// model's pre-tokenizers) and merged. When the first stage is a split
    /// pattern and the text is large, the pieces of that split are found by
    /// searches from several places at once, joined where they meet (see
    /// [`count_synced`]); each piece is then split by the other stages and
    /// merged on its own, as [`HfTokenizer::encode`] does, and a piece
    /// that is itself large (a long stretch between two matches of a split
    /// that isolates digits, say) is counted the same way by the stages
    /// after.
    fn count_stages(&self, text: &str, stages: &[PreTokenizer]) -> usize {
        let first = match stages.first() {
            Some(PreTokenizer::ByteLevel { regex: None, .. } | PreTokenizer::Metaspace { .. }) => {
                return self.count_stages(text, &stages[1..]);
            }
            Some(stage) => {
                stage_regex(stage).filter(|re| re.scans_from_anywhere() && splits(text.len()))
            }
            None => None,
        };
        let Some(first) = first else {
            let (mut pieces, mut next) = (Vec::new(), Vec::new());
            if !text.is_empty() {
                pieces.push(0..text.len());
            }
            self.split_byte_level(text, stages, &mut pieces, &mut next);
            let (mut ids, mut scratch) = (Vec::new(), Vec::new());
            return with_file_cache(self.serial, |cache| {
                self.count_byte_level(text, &pieces, cache, &mut ids, &mut scratch)
            });
        };
        let rest = &stages[1..];
        count_synced(text, parallel_chunk_for(text.len()), |from, until, stop| {
            self.count_scan(first, rest, text, from, until, stop)
        })
    }

    /// Counts the pieces of `first`'s search of `text` from `from`, each
    /// split by the `rest` of the pre-tokenizers and merged: a
    /// [`Scan`](crate::tokens::chunks::Scan) for [`count_synced`].
    fn count_scan(
        &self,
        first: &Splitter,
        rest: &[PreTokenizer],
        text: &str,
        from: usize,
        until: usize,
        stop: Stop<'_>,
    ) -> (usize, usize) {
        let (mut ids, mut scratch) = (Vec::new(), Vec::new());
        let (mut pieces, mut next) = (Vec::new(), Vec::new());
        // The later splits' search caches, taken once for the whole scan.
        let mut caches = take_caches(rest);
        let counted = with_file_cache(self.serial, |mut cache| {
            first.count_scan(text, from, until, stop, |view, r| {
                if splits(r.len()) {
                    return self.count_stages(&view[r], rest);
                }
                pieces.clear();
                pieces.push(r);
                self.split_byte_level_with(view, rest, &mut caches, &mut pieces, &mut next);
                let cache = cache.as_deref_mut();
                self.count_byte_level(view, &pieces, cache, &mut ids, &mut scratch)
            })
        });
        put_caches(rest, caches);
        counted
    }

    /// The byte-level BPE tokens of `pieces` (ranges of `text`), each
    /// piece's count from `cache` when counted before.
    fn count_byte_level(
        &self,
        text: &str,
        pieces: &[Range<usize>],
        mut cache: Option<&mut PieceCache>,
        ids: &mut Vec<u32>,
        scratch: &mut Vec<u32>,
    ) -> usize {
        let mut n = 0;
        for r in pieces {
            n += cached(cache.as_deref_mut(), &text.as_bytes()[r.clone()], |_| {
                ids.clear();
                self.merge_byte_level(text, std::slice::from_ref(r), ids, scratch);
                ids.len()
            });
        }
        n
    }

    /// [`HfTokenizer::encode`]'s pre-tokenizers and model for byte-level
    /// BPE, without a `String` per piece: the splits cut ranges of `text`,
    /// and each piece's bytes are the model's symbols.
    fn encode_byte_level(
        &self,
        text: &str,
        out: &mut Vec<u32>,
        scratch: &mut Vec<u32>,
        (pieces, next): &mut (Vec<Range<usize>>, Vec<Range<usize>>),
    ) {
        pieces.clear();
        if !text.is_empty() {
            pieces.push(0..text.len());
        }
        self.split_byte_level(text, &self.pre, pieces, next);
        self.merge_byte_level(text, pieces, out, scratch);
    }

    /// Splits `pieces` (ranges of `text`) by each of `stages` in turn.
    fn split_byte_level(
        &self,
        text: &str,
        stages: &[PreTokenizer],
        pieces: &mut Vec<Range<usize>>,
        next: &mut Vec<Range<usize>>,
    ) {
        let mut caches = take_caches(stages);
        self.split_byte_level_with(text, stages, &mut caches, pieces, next);
        put_caches(stages, caches);
    }

    /// [`HfTokenizer::split_byte_level`] with each stage's search cache
    /// given (from [`take_caches`]).
    fn split_byte_level_with(
        &self,
        text: &str,
        stages: &[PreTokenizer],
        caches: &mut [Option<HeldCache>],
        pieces: &mut Vec<Range<usize>>,
        next: &mut Vec<Range<usize>>,
    ) {
        for (stage, cache) in stages.iter().zip(caches) {
            next.clear();
            match stage {
                PreTokenizer::Split {
                    pattern: Pattern::Regex(re),
                    ..
                }
                | PreTokenizer::ByteLevel {
                    regex: Some(re), ..
                } => re.pieces_of_with(
                    cache.as_mut().and_then(HeldCache::cache),
                    text,
                    pieces,
                    next,
                ),
                PreTokenizer::Split { pattern, .. } => {
                    for r in pieces.iter() {
                        next.extend(
                            pattern
                                .find_matches(&text[r.clone()])
                                .into_iter()
                                .filter(|(m, _)| !m.is_empty())
                                .map(|(m, _)| m.start + r.start..m.end + r.start),
                        );
                    }
                }
                PreTokenizer::ByteLevel { regex: None, .. } | PreTokenizer::Metaspace { .. } => {
                    next.extend_from_slice(pieces)
                }
            }
            std::mem::swap(pieces, next);
        }
    }

    /// Appends the byte-level BPE of each of `pieces` (ranges of `text`).
    fn merge_byte_level(
        &self,
        text: &str,
        pieces: &[Range<usize>],
        out: &mut Vec<u32>,
        scratch: &mut Vec<u32>,
    ) {
        let (Some(plan), Model::Bpe(bpe)) = (&self.bytes, &self.model) else {
            return;
        };
        for r in pieces {
            let piece = &text.as_bytes()[r.clone()];
            if let Some(whole) = &plan.whole
                && let Some(&id) = whole.get(piece)
            {
                out.push(id);
                continue;
            }
            scratch.clear();
            scratch.extend(piece.iter().map(|&b| plan.byte_ids[b as usize]));
            bpe.merges.apply(scratch, out);
        }
    }

    /// The vocabulary size (model tokens).
    pub fn vocab_len(&self) -> usize {
        match &self.model {
            Model::Bpe(b) => b.vocab.len(),
            Model::WordPiece(w) => w.vocab.len(),
        }
    }
}

/// The split pattern of a pre-tokenizer, if it has one.
fn stage_regex(stage: &PreTokenizer) -> Option<&Splitter> {
    match stage {
        PreTokenizer::Split {
            pattern: Pattern::Regex(re),
            ..
        }
        | PreTokenizer::ByteLevel {
            regex: Some(re), ..
        } => Some(re),
        _ => None,
    }
}

/// This thread's search caches of the split patterns of `stages` (one slot
/// per stage), taken until [`put_caches`] gives them back.
fn take_caches(stages: &[PreTokenizer]) -> Vec<Option<HeldCache>> {
    stages
        .iter()
        .map(|s| stage_regex(s).and_then(Splitter::take_cache))
        .collect()
}

/// Gives back the caches [`take_caches`] took.
fn put_caches(stages: &[PreTokenizer], caches: Vec<Option<HeldCache>>) {
    for (stage, held) in stages.iter().zip(caches) {
        if let Some(re) = stage_regex(stage) {
            re.put_cache(held);
        }
    }
}

fn mentions_byte_level(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Object(map) => {
            map.get("type").and_then(|t| t.as_str()) == Some("ByteLevel")
                || map.values().any(mentions_byte_level)
        }
        serde_json::Value::Array(items) => items.iter().any(mentions_byte_level),
        _ => false,
    }
}

fn token_bytes(token: &str, byte_level: bool, space: char) -> Vec<u8> {
    if byte_level {
        let mut out = Vec::with_capacity(token.len());
        for c in token.chars() {
            match char_byte(c) {
                Some(b) => out.push(b),
                None => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
            }
        }
        return out;
    }
    if token.len() == 6
        && token.starts_with("<0x")
        && token.ends_with('>')
        && let Ok(b) = u8::from_str_radix(&token[3..5], 16)
    {
        return vec![b];
    }
    token.replace(space, " ").into_bytes()
}

fn regex(pattern: &str, at: &str) -> Result<Splitter, String> {
    Splitter::new(pattern)
        .map_err(|e| format!("{at}: the regular expression `{pattern}` does not compile: {e}"))
}

fn pattern(p: PatternJson, at: &str) -> Result<Pattern, String> {
    Ok(match p {
        PatternJson::String(s) => Pattern::Literal(s),
        PatternJson::Regex(r) => Pattern::Regex(regex(&r, at)?),
    })
}

fn normalizer(n: NormalizerJson, at: &str) -> Result<Normalizer, String> {
    Ok(match n {
        NormalizerJson::Nfc => Normalizer::Nfc,
        NormalizerJson::Nfd => Normalizer::Nfd,
        NormalizerJson::Nfkc => Normalizer::Nfkc,
        NormalizerJson::Nfkd => Normalizer::Nfkd,
        NormalizerJson::Lowercase => Normalizer::Lowercase,
        NormalizerJson::StripAccents => Normalizer::StripAccents,
        NormalizerJson::Strip {
            strip_left,
            strip_right,
        } => Normalizer::Strip {
            left: strip_left,
            right: strip_right,
        },
        NormalizerJson::Prepend { prepend } => Normalizer::Prepend(prepend),
        NormalizerJson::Replace {
            pattern: p,
            content,
        } => Normalizer::Replace {
            pattern: pattern(p, &format!("{at}.pattern"))?,
            content,
        },
        NormalizerJson::ByteLevel {} => Normalizer::ByteLevel,
        NormalizerJson::Sequence { normalizers } => Normalizer::Sequence(
            normalizers
                .into_iter()
                .enumerate()
                .map(|(k, n)| normalizer(n, &format!("{at}.normalizers[{k}]")))
                .collect::<Result<_, _>>()?,
        ),
        NormalizerJson::BertNormalizer {
            clean_text,
            handle_chinese_chars,
            strip_accents,
            lowercase,
        } => Normalizer::Bert {
            clean_text,
            handle_chinese_chars,
            strip_accents: strip_accents.unwrap_or(lowercase),
            lowercase,
        },
        NormalizerJson::Precompiled {} | NormalizerJson::Nmt {} => {
            return Err(format!(
                "{at}: this normalizer (Precompiled or Nmt) is not supported"
            ));
        }
    })
}

fn pre_tokenizers(
    p: PreTokenizerJson,
    at: &str,
    out: &mut Vec<PreTokenizer>,
) -> Result<(), String> {
    // Built-in patterns; they compile, but an error is still an error, not
    // a panic.
    let split = |re: &str, behavior, invert| -> Result<PreTokenizer, String> {
        Ok(PreTokenizer::Split {
            pattern: Pattern::Regex(regex(re, at)?),
            behavior,
            invert,
        })
    };
    let whitespace = |behavior| split(r"\s", behavior, false);
    let punctuation = |behavior| PreTokenizer::Split {
        pattern: Pattern::Char(is_punctuation),
        behavior,
        invert: false,
    };
    match p {
        PreTokenizerJson::ByteLevel {
            add_prefix_space,
            use_regex,
        } => out.push(PreTokenizer::ByteLevel {
            add_prefix_space,
            regex: use_regex
                .then(|| regex(BYTE_LEVEL_PATTERN, at))
                .transpose()?,
        }),
        PreTokenizerJson::Split {
            pattern: p,
            behavior,
            invert,
        } => out.push(PreTokenizer::Split {
            pattern: pattern(p, &format!("{at}.pattern"))?,
            behavior,
            invert,
        }),
        PreTokenizerJson::Metaspace {
            replacement,
            prepend_scheme,
            add_prefix_space,
            split,
        } => {
            let prepend = match (prepend_scheme, add_prefix_space) {
                (Some(PrependSchemeJson::First), _) => Prepend::First,
                (Some(PrependSchemeJson::Never), _) => Prepend::Never,
                (Some(PrependSchemeJson::Always), _) => Prepend::Always,
                (None, Some(false)) => Prepend::Never,
                (None, _) => Prepend::Always,
            };
            out.push(PreTokenizer::Metaspace {
                replacement,
                prepend,
                split,
            });
        }
        PreTokenizerJson::Digits { individual_digits } => {
            let behavior = if individual_digits {
                Behavior::Isolated
            } else {
                Behavior::Contiguous
            };
            out.push(split(r"\p{N}", behavior, false)?);
        }
        PreTokenizerJson::Punctuation { behavior } => out.push(punctuation(behavior)),
        PreTokenizerJson::Whitespace {} => {
            out.push(split(r"\w+|[^\w\s]+", Behavior::Removed, true)?);
        }
        PreTokenizerJson::WhitespaceSplit {} => out.push(whitespace(Behavior::Removed)?),
        PreTokenizerJson::BertPreTokenizer {} => {
            out.push(whitespace(Behavior::Removed)?);
            out.push(punctuation(Behavior::Isolated));
        }
        PreTokenizerJson::CharDelimiterSplit { delimiter } => out.push(PreTokenizer::Split {
            pattern: Pattern::Literal(delimiter.to_string()),
            behavior: Behavior::Removed,
            invert: false,
        }),
        PreTokenizerJson::Sequence { pretokenizers } => {
            for (k, p) in pretokenizers.into_iter().enumerate() {
                pre_tokenizers(p, &format!("{at}.pretokenizers[{k}]"), out)?;
            }
        }
        PreTokenizerJson::UnicodeScripts {} => {
            return Err(format!(
                "{at}: the UnicodeScripts pre-tokenizer is not supported"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(json: &[u8]) -> HfTokenizer {
        HfTokenizer::build(serde_json::from_slice(json).unwrap()).unwrap()
    }

    /// NFC by stretches is NFC of the whole text: characters that compose,
    /// reorder or decompose, next to stable ones of every kind.
    #[test]
    fn nfc_by_stretches_is_nfc_of_the_whole() {
        let parts = [
            "a", "e", "A", "\u{c0}", "\u{e9}", "\u{2ff}", " ", "\n", "1", "=", "\u{300}",
            "\u{301}", "\u{316}", "\u{327}", "\u{340}", "\u{344}", "\u{345}", "\u{1100}",
            "\u{1161}", "\u{11a8}", "\u{ac00}", "\u{b47}", "\u{b3e}", "\u{212b}", "\u{1e0a}",
            "\u{323}", "\u{f900}", "中", "🙂", "\u{fb2c}",
        ];
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut changed = 0;
        for n in 0..4000 {
            let text: String = (0..n % 12 + 1)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    parts[(x % parts.len() as u64) as usize]
                })
                .collect();
            let whole: String = text.nfc().map(|(c, _)| c).collect();
            changed += usize::from(whole != text);
            assert_eq!(nfc(text.clone()), whole, "{text:?}");
        }
        assert!(changed > 1000, "{changed}");
        assert_eq!(nfc("plain ascii".into()), "plain ascii");
    }

    /// Texts whose pieces reach every branch: letters, digits, punctuation
    /// runs, whitespace runs before text and at the end, CJK, emoji, bytes
    /// of every width, contractions and special-token literals.
    fn texts() -> Vec<String> {
        let mut out: Vec<String> = [
            "Hello, world! It's 2026; we'll see.\n\n  fn main() { let x = 1_000; }\r\n",
            "日本語のテキスト、中文文本。한국어 텍스트 🎉🎉 é à ñ\u{301}",
            "   leading and trailing   \t\n",
            "<|begin_of_text|>x<|im_start|>y<|endoftext|>",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "!!!???...,,,;;;:::---___+++===|||\\\\///",
            "",
        ]
        .map(String::from)
        .to_vec();
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..40 {
            let mut s = String::new();
            for _ in 0..200 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let c = match x % 4 {
                    0 => char::from(b' ' + (x >> 8) as u8 % 95),
                    1 => char::from_u32(0x4E00 + (x >> 8) as u32 % 0x5200).unwrap(),
                    2 => char::from_u32((x >> 8) as u32 % 0x11_0000).unwrap_or('\u{FFFD}'),
                    _ => ['\n', ' ', '\t', '\r'][(x >> 8) as usize % 4],
                };
                s.push(c);
            }
            out.push(s);
        }
        out
    }

    /// The byte path is taken by byte-level BPE files, and gives the ids the
    /// general pipeline gives (a file made here, and the real files when
    /// `scripts/fetch-tokenizers` has fetched them).
    #[test]
    fn the_byte_path_encodes_as_the_general_pipeline() {
        let made = r#"{
            "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                {"type": "Split", "pattern": {"Regex": "\\p{N}{1,3}"}, "behavior": "Isolated", "invert": false},
                {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true}
            ]},
            "model": {"type": "BPE", "ignore_merges": true,
                "vocab": {"a": 0, "b": 1, "ab": 2, "Ġ": 3, "Ġa": 4, "1": 5, "12": 6, "abab": 7, "2": 8},
                "merges": ["a b", "Ġ a", "1 2"]}
        }"#;
        let mut files: Vec<(String, Vec<u8>)> = vec![("made".into(), made.as_bytes().to_vec())];
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-data/tokenizers");
        for name in ["llama3", "qwen3", "deepseek_v3", "gptoss"] {
            if let Ok(bytes) = std::fs::read(dir.join(name).join("tokenizer.json")) {
                files.push((name.into(), bytes));
            }
        }
        for (name, json) in &files {
            let mut tokenizer = match load(json) {
                t if name == "made" => {
                    // Every byte must be a one-character token for the path.
                    assert!(t.bytes.is_none(), "{name}: bytes without tokens");
                    let mut vocab: serde_json::Value = serde_json::from_slice(json).unwrap();
                    let map = vocab["model"]["vocab"].as_object_mut().unwrap();
                    for (k, c) in byte_chars().iter().enumerate() {
                        map.entry(c.to_string()).or_insert((100 + k).into());
                    }
                    load(&serde_json::to_vec(&vocab).unwrap())
                }
                t => t,
            };
            assert!(tokenizer.bytes.is_some(), "{name}: the byte path is taken");
            let texts = texts();
            let fast: Vec<Vec<u32>> = texts
                .iter()
                .map(|t| {
                    let mut out = Vec::new();
                    tokenizer.encode(t, true, &mut out);
                    out
                })
                .collect();
            tokenizer.bytes = None;
            for (text, fast) in texts.iter().zip(fast) {
                let mut out = Vec::new();
                tokenizer.encode(text, true, &mut out);
                assert_eq!(fast, out, "{name}: {text:?}");
            }
        }
    }
}
