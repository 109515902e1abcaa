//! SentencePiece BPE models (`tokenizer.model`, `*.spiece.model`): the
//! protobuf `ModelProto` read directly, and SentencePiece's own encoding
//! rules, which are not those of a merges list:
//!
//! - the input is normalized (only the identity normalizer is supported:
//!   an optional dummy-prefix space, optional removal of extra spaces, and
//!   spaces written as `▁`);
//! - user-defined pieces are matched first, longest at each position, and
//!   never merge with anything;
//! - the rest starts as one symbol per character; the adjacent pair whose
//!   concatenation is a piece with the highest score merges first (leftmost
//!   among equal scores), until no pair is a piece;
//! - a symbol that is not a piece becomes its UTF-8 bytes (`<0xAB>` pieces)
//!   when the model has byte fallback, else the unknown piece.
//!
//! Gemma 3's model (the one every Gemini model counts with) is embedded in
//! the binary ([`super::FileTokenizer::gemma3`]).

use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::ops::Range;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use rustc_hash::FxHashMap;

use super::spm_table::{NO_PIECE, PADDING, PieceTable};
use crate::tokens::gate::CacheGate;
use crate::tokens::seams::{Ahead, Placed, merge_in_chunks};

/// The piece types of `ModelProto.SentencePiece.Type`.
const NORMAL: u64 = 1;
const UNKNOWN: u64 = 2;
const CONTROL: u64 = 3;
const USER_DEFINED: u64 = 4;
const BYTE: u64 = 6;
const UNUSED: u64 = 5;

/// The word-start mark that stands for a space.
const SPACE: char = '▁';

/// Segments up to this many symbols merge with a plain scan (no heap).
const SHORT: usize = 32;

/// A seam of a long word is merged again in a window of at most this many
/// characters (past it the word is merged whole).
const SEAM_WINDOW_MAX: usize = 64 * SHORT;

/// Words up to this many bytes have their ids cached per thread.
const CACHED_WORD: usize = 64;

/// A thread's word cache is cleared when it grows past this many entries.
const WORD_CACHE_LIMIT: usize = 1 << 18;

/// A thread's cache of the ids of words it has encoded, for one model at a
/// time (the serial number of the model it belongs to; 0 is none).
///
/// A [`CacheGate`] turns it off for a while on text whose words do not
/// repeat. Ids never depend on the cache.
#[derive(Default)]
struct WordCache {
    owner: u64,
    /// Words of up to [`SHORT_KEY`] bytes, by their bytes and length in
    /// one number: no allocation per word, which most words are.
    short: FxHashMap<u128, ShortIds>,
    words: FxHashMap<Box<str>, Box<[u32]>>,
    gate: CacheGate,
}

/// Words of up to this many bytes merge faster than a cache lookup.
const UNCACHED_WORD: usize = 4;

/// The longest word the cache keys by a number.
const SHORT_KEY: usize = 15;

/// The ids of a word of the short cache: up to 7, and how many.
#[derive(Clone, Copy)]
struct ShortIds {
    len: u32,
    ids: [u32; 7],
}

/// A word of `len` bytes (up to [`SHORT_KEY`]) as a number: its bytes,
/// then its length in the last byte. `padded` holds the word and 16 bytes
/// or more past its start: read in one load, the bytes past the word
/// masked off.
#[inline(always)]
fn short_word_key(padded: &[u8], len: usize) -> u128 {
    let x = u128::from_le_bytes(padded[..16].try_into().expect("16 bytes"));
    x & ((1u128 << (8 * len)) - 1) | (len as u128) << 120
}

thread_local! {
    static WORDS: RefCell<WordCache> = RefCell::new(WordCache::default());
}

/// A SentencePiece BPE model ready to encode.
pub(super) struct SpmTokenizer {
    /// Every piece; those merges may form (normal, user-defined, unused)
    /// by text.
    pieces: PieceTable,
    /// Control, unknown and byte pieces: not formed by merges, but a final
    /// symbol with their text is them.
    reserved: FxHashMap<Box<str>, u32>,
    /// Ids of unused pieces (split back into the pair that formed them).
    unused: Vec<bool>,
    /// Whether the model has unused pieces (words are then merged whole,
    /// as how an unused piece is split back depends on the merges seen).
    has_unused: bool,
    /// Whether a piece is emitted as its own id: not unused, and its text
    /// is not that of a control, unknown or byte piece (which
    /// [`SpmTokenizer::emit`] prefers).
    direct: Vec<bool>,
    /// Whether every piece merges may form is emitted as its own id (no
    /// need to look [`SpmTokenizer::direct`] up).
    all_direct: bool,
    /// Ids `lo..hi` whose scores fall as their ids rise, when every other
    /// piece merges may form has one same score above all of theirs (Gemma
    /// 3: the special and unused pieces at both ends score 0): then the
    /// order of a merge is computed from its id, with no read of its score
    /// (a table of a megabyte, one read per merge candidate).
    id_order: Option<(u32, u32)>,
    /// The id of each ASCII character's piece, [`NO_PIECE`] if none.
    ascii: [u32; 128],
    /// The id of the piece of each two ASCII characters `a`, `b` at
    /// `a * 128 + b`, [`NO_PIECE`] if none (64 KiB, in the CPU's cache:
    /// the first candidates of a word of ASCII letters are all such pairs).
    ascii_pairs: Box<[u32]>,
    /// The id of `▁`'s piece, [`NO_PIECE`] if none.
    space_id: u32,
    /// User-defined pieces, matched before merging; leftmost-longest.
    user: Option<(AhoCorasick, Vec<u32>)>,
    /// Control and unknown pieces (`<bos>`, `<eos>`, `<unk>`), matched only
    /// when asked.
    control: Option<(AhoCorasick, Vec<u32>)>,
    /// Pieces with a word start (`▁`) inside that follows another
    /// character: (text before that `▁`, text from it). A cut before a `▁`
    /// is safe unless one of these spans it.
    bridges: Vec<(Box<str>, Box<str>)>,
    /// Whether a word may also be cut before a line break that follows
    /// another character: no piece holds a character other than a line
    /// break followed by one, so no merge can span that cut (lines of
    /// base64 or of minified code would otherwise be one long word).
    line_cuts: bool,
    unk: u32,
    byte_ids: Option<Box<[u32; 256]>>,
    add_dummy_prefix: bool,
    remove_extra_whitespaces: bool,
    escape_whitespaces: bool,
    /// A number no other model of this process has, for the word cache.
    serial: u64,
    /// For two characters that are ASCII or `▁` (see [`pair_index`]),
    /// at `a * PAIR_CHARS + b`: 1 if a piece merges may form holds `a`
    /// followed by `b`, else 0 (a cut between them is then safe).
    pairs: Box<[u8]>,
}

/// ASCII and `▁`: the characters whose pairs [`SpmTokenizer::pairs`] knows.
const PAIR_CHARS: usize = 129;

/// The index of `c` in [`SpmTokenizer::pairs`], if it has one.
#[inline(always)]
fn pair_index(c: char) -> Option<usize> {
    match c {
        '\0'..='\x7f' => Some(c as usize),
        SPACE => Some(128),
        _ => None,
    }
}

/// One piece of `ModelProto.pieces`.
struct RawPiece<'a> {
    text: &'a str,
    score: f32,
    kind: u64,
}

/// A protobuf reader over a byte slice: enough of the wire format for
/// `ModelProto`.
struct Wire<'a> {
    bytes: &'a [u8],
    at: usize,
}

enum Value<'a> {
    Varint(u64),
    Fixed32([u8; 4]),
    Bytes(&'a [u8]),
    Other,
}

impl<'a> Wire<'a> {
    fn new(bytes: &'a [u8]) -> Wire<'a> {
        Wire { bytes, at: 0 }
    }

    fn varint(&mut self) -> Result<u64, String> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self
                .bytes
                .get(self.at)
                .ok_or_else(|| format!("byte {}: the protobuf ends inside a number", self.at))?;
            self.at += 1;
            value |= u64::from(b & 0x7F) << shift;
            if b < 0x80 {
                return Ok(value);
            }
        }
        Err(format!("byte {}: a protobuf number is too long", self.at))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| format!("byte {}: the protobuf ends inside a field", self.at))?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    /// The next field number and value, or `None` at the end.
    fn field(&mut self) -> Result<Option<(u64, Value<'a>)>, String> {
        if self.at >= self.bytes.len() {
            return Ok(None);
        }
        let start = self.at;
        let key = self.varint()?;
        let value = match key & 7 {
            0 => Value::Varint(self.varint()?),
            1 => {
                self.take(8)?;
                Value::Other
            }
            2 => {
                let n = self.varint()?;
                let n = usize::try_from(n).map_err(|_| format!("byte {start}: field too long"))?;
                Value::Bytes(self.take(n)?)
            }
            5 => {
                let b = self.take(4)?;
                Value::Fixed32([b[0], b[1], b[2], b[3]])
            }
            t => {
                return Err(format!(
                    "byte {start}: protobuf wire type {t} is not valid here"
                ));
            }
        };
        Ok(Some((key >> 3, value)))
    }
}

/// Whether the bytes look like a SentencePiece model: a protobuf whose first
/// field is a piece (field 1, length-delimited).
pub(super) fn looks_like_model(bytes: &[u8]) -> bool {
    bytes.first() == Some(&0x0A)
}

impl SpmTokenizer {
    /// Reads a serialized `ModelProto`. Errors say what is wrong (and where,
    /// for the protobuf).
    pub(super) fn parse(bytes: &[u8]) -> Result<SpmTokenizer, String> {
        let mut raw = Vec::new();
        let mut model_type = 1u64; // UNIGRAM is the protobuf default
        let mut byte_fallback = false;
        let mut add_dummy_prefix = true;
        let mut remove_extra_whitespaces = true;
        let mut escape_whitespaces = true;
        let mut normalizer_name = String::new();
        let mut charsmap_len = 0usize;
        let mut wire = Wire::new(bytes);
        while let Some((field, value)) = wire.field()? {
            match (field, value) {
                (1, Value::Bytes(b)) => raw.push(piece(b, raw.len())?),
                (2, Value::Bytes(b)) => {
                    let mut w = Wire::new(b);
                    while let Some((f, v)) = w.field()? {
                        match (f, v) {
                            (3, Value::Varint(t)) => model_type = t,
                            (35, Value::Varint(v)) => byte_fallback = v != 0,
                            _ => {}
                        }
                    }
                }
                (3, Value::Bytes(b)) => {
                    let mut w = Wire::new(b);
                    while let Some((f, v)) = w.field()? {
                        match (f, v) {
                            (1, Value::Bytes(n)) => {
                                normalizer_name = String::from_utf8_lossy(n).into_owned();
                            }
                            (2, Value::Bytes(m)) => charsmap_len = m.len(),
                            (3, Value::Varint(v)) => add_dummy_prefix = v != 0,
                            (4, Value::Varint(v)) => remove_extra_whitespaces = v != 0,
                            (5, Value::Varint(v)) => escape_whitespaces = v != 0,
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        if raw.is_empty() {
            return Err("the model has no pieces".into());
        }
        if model_type != 2 {
            let kind = match model_type {
                1 => "Unigram",
                3 => "word",
                4 => "character",
                _ => "unknown",
            };
            return Err(format!(
                "trainer_spec.model_type: this is a {kind} model; only BPE SentencePiece models are supported"
            ));
        }
        if charsmap_len > 0 {
            return Err(format!(
                "normalizer_spec: the `{normalizer_name}` normalization rules are not supported (only the identity normalizer)"
            ));
        }
        Self::build(
            raw,
            byte_fallback,
            add_dummy_prefix,
            remove_extra_whitespaces,
            escape_whitespaces,
        )
    }

    fn build(
        raw: Vec<RawPiece<'_>>,
        byte_fallback: bool,
        add_dummy_prefix: bool,
        remove_extra_whitespaces: bool,
        escape_whitespaces: bool,
    ) -> Result<SpmTokenizer, String> {
        let text_len = raw.iter().map(|p| p.text.len()).sum();
        let mut pieces = PieceTable::with_capacity(raw.len(), text_len);
        let mut reserved: FxHashMap<Box<str>, u32> = FxHashMap::default();
        let mut unused = vec![false; raw.len()];
        let mut user = Vec::new();
        let mut control = Vec::new();
        let mut unk = None;
        let mut byte_ids = Box::new([u32::MAX; 256]);
        let mut buf = Vec::new();
        for (id, p) in raw.into_iter().enumerate() {
            let id = id as u32;
            buf.clear();
            if p.kind == BYTE {
                let b = byte_of(p.text).ok_or_else(|| {
                    format!(
                        "pieces[{id}]: byte piece `{}` is not of the form <0xAB>",
                        p.text
                    )
                })?;
                byte_ids[b as usize] = id;
                buf.push(b);
            } else {
                for c in p.text.chars() {
                    let c = if c == SPACE { ' ' } else { c };
                    buf.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                }
            }
            let mergeable = matches!(p.kind, NORMAL | USER_DEFINED | UNUSED);
            if p.kind == UNKNOWN {
                unk = Some(id);
            }
            if p.kind == UNUSED {
                unused[id as usize] = true;
            }
            if p.kind == USER_DEFINED && !p.text.is_empty() {
                user.push((p.text, id));
            }
            if matches!(p.kind, CONTROL | UNKNOWN) && !p.text.is_empty() {
                control.push((p.text, id));
            }
            let clash = pieces.push(p.text, &buf, p.score, mergeable).is_err()
                || (!mergeable && reserved.insert(p.text.into(), id).is_some());
            if clash {
                return Err(format!("pieces[{id}]: `{}` is defined twice", p.text));
            }
        }
        let unk = unk.ok_or("the model has no unknown piece (type UNKNOWN)")?;
        let byte_ids = if byte_fallback {
            if let Some(b) = byte_ids.iter().position(|&id| id == u32::MAX) {
                return Err(format!(
                    "the model uses byte fallback but has no piece <0x{b:02X}>"
                ));
            }
            Some(byte_ids)
        } else {
            None
        };
        static SERIAL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let serial = SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut bridges = Vec::new();
        for text in pieces.mergeable() {
            let mut prev: Option<char> = None;
            for (i, c) in text.char_indices() {
                if c == SPACE && prev.is_some_and(|p| p != SPACE) {
                    bridges.push((text[..i].into(), text[i..].into()));
                }
                prev = Some(c);
            }
        }
        let line_cuts = !pieces.mergeable().any(|t| {
            let mut prev: Option<char> = None;
            t.chars().any(|c| {
                let bridge = c == '\n' && prev.is_some_and(|p| p != '\n');
                prev = Some(c);
                bridge
            })
        });
        let mut direct: Vec<bool> = unused.iter().map(|&u| !u).collect();
        for text in reserved.keys() {
            if let Some(id) = pieces.find(text) {
                direct[id as usize] = false;
            }
        }
        let mut ascii = [NO_PIECE; 128];
        for (b, id) in ascii.iter_mut().enumerate() {
            *id = pieces
                .find(char::from(b as u8).encode_utf8(&mut [0; 4]))
                .unwrap_or(NO_PIECE);
        }
        let ascii_pairs = (0..128 * 128)
            .map(|k: u32| {
                let text = [(k >> 7) as u8, (k & 127) as u8];
                let text = std::str::from_utf8(&text).expect("ASCII");
                pieces.find(text).unwrap_or(NO_PIECE)
            })
            .collect();
        let space_id = pieces.find("▁").unwrap_or(NO_PIECE);
        let mut pairs = vec![0u8; PAIR_CHARS * PAIR_CHARS].into_boxed_slice();
        for text in pieces.mergeable() {
            let mut chars = text.chars().map(pair_index);
            let mut prev = chars.next().flatten();
            for c in chars {
                if let (Some(a), Some(b)) = (prev, c) {
                    pairs[a * PAIR_CHARS + b] = 1;
                }
                prev = c;
            }
        }
        let all_direct = pieces.mergeable_ids().all(|id| direct[id as usize]);
        let id_order = id_order(&pieces);
        Ok(SpmTokenizer {
            id_order,
            pairs,
            line_cuts,
            direct,
            ascii,
            ascii_pairs,
            space_id,
            has_unused: unused.iter().any(|&u| u),
            all_direct,
            pieces,
            reserved,
            unused,
            user: matcher(user)?,
            control: matcher(control)?,
            bridges,
            unk,
            byte_ids,
            add_dummy_prefix,
            remove_extra_whitespaces,
            escape_whitespaces,
            serial,
        })
    }

    /// The number of pieces.
    pub(super) fn vocab_len(&self) -> usize {
        self.pieces.len()
    }

    /// The bytes of a piece (`▁` as a space, `<0xAB>` as its byte).
    pub(super) fn token_bytes(&self, id: u32) -> Option<&[u8]> {
        self.pieces.bytes(id)
    }

    /// Appends the ids of `text`. Control pieces (`<bos>`, `<eos>`) written
    /// in the text are matched only when `special`; user-defined pieces
    /// always are, as SentencePiece does.
    pub(super) fn encode(&self, text: &str, special: bool, out: &mut Vec<u32>) {
        match (&self.control, special) {
            (Some((ac, ids)), true) => {
                let mut done = 0;
                for m in ac.find_iter(text) {
                    self.encode_text(&text[done..m.start()], out);
                    out.push(ids[m.pattern().as_usize()]);
                    done = m.end();
                }
                self.encode_text(&text[done..], out);
            }
            _ => self.encode_text(text, out),
        }
    }

    /// The number of tokens of `text` with control pieces written in it
    /// matched: [`SpmTokenizer::count`] of each stretch between them, and
    /// one for each.
    pub(super) fn count_with_special(&self, text: &str, chunk: usize) -> usize {
        let Some((ac, _)) = &self.control else {
            return self.count(text, chunk);
        };
        let (mut n, mut done) = (0, 0);
        for m in ac.find_iter(text) {
            n += self.count(&text[done..m.start()], chunk) + 1;
            done = m.end();
        }
        n + self.count(&text[done..], chunk)
    }

    /// The number of tokens of `text` as ordinary text. When the normalizer
    /// maps the text character for character, a large text is counted on
    /// all cores: its stretches between user-defined pieces are cut into
    /// parts of about `chunk` bytes where the words are cut anyway (see
    /// [`SpmTokenizer::cut_before`]), and the parts are counted in parallel.
    pub(super) fn count(&self, text: &str, chunk: usize) -> usize {
        let local = !self.add_dummy_prefix && !self.remove_extra_whitespaces;
        if !local || chunk == 0 || text.len() < 2 * chunk || rayon::current_num_threads() < 2 {
            let mut ids = Vec::new();
            self.encode_text(text, &mut ids);
            return ids.len();
        }
        let mut normalized = self.normalize(text);
        let len = normalized.len();
        normalized.extend(std::iter::repeat_n('\0', PADDING));
        let (s, buf) = (&normalized[..len], normalized.as_bytes());
        let mut stretches = Vec::new();
        let mut done = 0;
        if let Some((ac, _)) = &self.user {
            for m in ac.find_iter(s) {
                stretches.push(done..m.start());
                done = m.end();
            }
        }
        let users = stretches.len();
        stretches.push(done..len);
        let mut parts = Vec::new();
        for stretch in stretches {
            let st = &s[stretch.clone()];
            let mut from = 0;
            let mut target = chunk;
            while target + chunk / 2 < st.len() {
                let Some(cut) = self.word_cut_from(st, target, chunk) else {
                    break;
                };
                parts.push((stretch.clone(), from..cut));
                from = cut;
                target = cut + chunk;
            }
            parts.push((stretch, from..st.len()));
        }
        use rayon::prelude::*;
        let words: usize = parts
            .par_iter()
            .map(|(stretch, part)| {
                let mut ids = Vec::new();
                let mut scratch = Scratch::default();
                let st = &s[stretch.clone()];
                self.encode_words(
                    st,
                    &buf[stretch.start..],
                    part.clone(),
                    &mut ids,
                    &mut scratch,
                );
                ids.len()
            })
            .sum();
        users + words
    }

    /// The first place at or after byte `at` of `s` (normalized text with no
    /// user-defined piece), before `at + within`, where words are cut.
    fn word_cut_from(&self, s: &str, at: usize, within: usize) -> Option<usize> {
        let mut i = at;
        while !s.is_char_boundary(i) {
            i += 1;
        }
        let mut prev = s[..i].chars().next_back()?;
        for (k, c) in s[i..].char_indices() {
            let j = i + k;
            if j >= at + within {
                break;
            }
            if self.cut_before(s, j, prev, c) {
                return Some(j);
            }
            prev = c;
        }
        None
    }

    /// The normalized text: extra spaces removed, a dummy prefix added and
    /// spaces escaped, as the model's normalizer spec says.
    fn normalize(&self, text: &str) -> String {
        let mut s = String::with_capacity(text.len() + 3);
        let space = if self.escape_whitespaces { SPACE } else { ' ' };
        if self.remove_extra_whitespaces {
            let mut words = text.split(' ').filter(|w| !w.is_empty()).peekable();
            if words.peek().is_some() && self.add_dummy_prefix {
                s.push(space);
            }
            while let Some(w) = words.next() {
                s.push_str(w);
                if words.peek().is_some() {
                    s.push(space);
                }
            }
            return s;
        }
        if self.add_dummy_prefix && !text.is_empty() {
            s.push(space);
        }
        if self.escape_whitespaces {
            for c in text.chars() {
                s.push(if c == ' ' { SPACE } else { c });
            }
        } else {
            s.push_str(text);
        }
        s
    }

    fn encode_text(&self, text: &str, out: &mut Vec<u32>) {
        if text.is_empty() {
            return;
        }
        let mut normalized = self.normalize(text);
        let len = normalized.len();
        normalized.extend(std::iter::repeat_n('\0', PADDING));
        let (s, buf) = (&normalized[..len], normalized.as_bytes());
        let mut scratch = Scratch::default();
        match &self.user {
            Some((ac, ids)) => {
                let mut done = 0;
                for m in ac.find_iter(s) {
                    let stretch = &s[done..m.start()];
                    self.encode_stretch(stretch, &buf[done..], out, &mut scratch);
                    out.push(ids[m.pattern().as_usize()]);
                    done = m.end();
                }
                self.encode_stretch(&s[done..], &buf[done..], out, &mut scratch);
            }
            None => self.encode_stretch(s, buf, out, &mut scratch),
        }
    }

    /// Encodes normalized text with no user-defined piece in it, cut into
    /// words where no piece can span the cut. `padded` holds the bytes of
    /// `s` and [`PADDING`] bytes or more after them.
    fn encode_stretch(&self, s: &str, padded: &[u8], out: &mut Vec<u32>, scratch: &mut Scratch) {
        self.encode_words(s, padded, 0..s.len(), out, scratch);
    }

    /// [`SpmTokenizer::encode_stretch`] of the words of `s` in `range`, which
    /// starts and ends where words are cut (or at `s`'s ends): the cuts in
    /// it are decided on all of `s`, as for the whole stretch.
    fn encode_words(
        &self,
        s: &str,
        padded: &[u8],
        range: Range<usize>,
        out: &mut Vec<u32>,
        scratch: &mut Scratch,
    ) {
        let mut start = range.start;
        let mut prev: Option<char> = None;
        for (k, c) in s[range.clone()].char_indices() {
            let i = range.start + k;
            if let Some(p) = prev
                && i > start
                && self.cut_before(s, i, p, c)
            {
                self.encode_word(&s[start..i], &padded[start..], out, scratch);
                start = i;
            }
            prev = Some(c);
        }
        self.encode_word(&s[start..range.end], &padded[start..], out, scratch);
    }

    /// Whether no merge can span the cut of `s` at byte `i`, between
    /// characters `p` and `c`: no piece holds `p` followed by `c` (two
    /// ASCII characters or `▁`), or `c` starts a word no piece bridges, or
    /// a line break follows another character where no piece holds one.
    /// Merges on either side then never meet, so each side merges alone
    /// and comes out as the whole would.
    #[inline]
    fn cut_before(&self, s: &str, i: usize, p: char, c: char) -> bool {
        if let (Some(a), Some(b)) = (pair_index(p), pair_index(c))
            && self.pairs[a * PAIR_CHARS + b] == 0
        {
            return true;
        }
        match c {
            SPACE => p != SPACE && self.can_cut(s, i),
            '\n' => self.line_cuts && p != '\n',
            _ => false,
        }
    }

    fn can_cut(&self, s: &str, i: usize) -> bool {
        !self
            .bridges
            .iter()
            .any(|(before, after)| s[..i].ends_with(&**before) && s[i..].starts_with(&**after))
    }

    /// The ids of one word: from this thread's cache, or by BPE.
    /// `padded` holds the bytes of `word` and [`PADDING`] bytes or more
    /// after them.
    fn encode_word(&self, word: &str, padded: &[u8], out: &mut Vec<u32>, scratch: &mut Scratch) {
        if word.is_empty() {
            return;
        }
        if word.len() > CACHED_WORD || word.len() <= UNCACHED_WORD {
            self.merge_word(word, padded, out, scratch);
            return;
        }
        let owner = self.serial;
        WORDS.with(|cell| {
            // Taken already when this thread, waiting for the parts of a
            // long word merged on every core, runs another count meanwhile.
            let Ok(mut cache) = cell.try_borrow_mut() else {
                self.merge_word(word, padded, out, scratch);
                return;
            };
            if cache.owner != owner
                || cache.words.len() > WORD_CACHE_LIMIT
                || cache.short.len() > WORD_CACHE_LIMIT
            {
                cache.words.clear();
                cache.short.clear();
                cache.owner = owner;
            }
            if !cache.gate.active() {
                self.merge_word(word, padded, out, scratch);
                return;
            }
            if word.len() <= SHORT_KEY {
                let key = short_word_key(padded, word.len());
                if let Some(s) = cache.short.get(&key) {
                    out.extend_from_slice(&s.ids[..s.len as usize]);
                    cache.gate.hit();
                    return;
                }
                let start = out.len();
                self.merge_word(word, padded, out, scratch);
                let merged = &out[start..];
                if merged.len() <= 7 {
                    let mut ids = [0; 7];
                    ids[..merged.len()].copy_from_slice(merged);
                    let len = merged.len() as u32;
                    cache.short.insert(key, ShortIds { len, ids });
                }
                return;
            }
            if let Some(ids) = cache.words.get(word) {
                out.extend_from_slice(ids);
                cache.gate.hit();
                return;
            }
            let start = out.len();
            self.merge_word(word, padded, out, scratch);
            cache.words.insert(word.into(), out[start..].into());
        });
    }

    /// BPE over one word: merged whole in fixed arrays when short, in
    /// chunks with checked seams when long (see [`merge_in_chunks`]), or
    /// whole by the heap when the model has unused pieces.
    fn merge_word(&self, word: &str, padded: &[u8], out: &mut Vec<u32>, scratch: &mut Scratch) {
        let mut starts = std::mem::take(&mut scratch.starts);
        starts.clear();
        starts.extend(word.char_indices().map(|(i, _)| i as u32));
        let n = starts.len();
        starts.push(word.len() as u32);
        debug_assert!(padded.len() >= word.len() + PADDING);
        let text = Text {
            word,
            padded,
            starts: &starts,
        };
        let mut placed = std::mem::take(&mut scratch.placed);
        placed.clear();
        scratch.rev_merge.clear();
        let merged = if n <= SHORT {
            self.scan(text, 0..n, &mut placed, scratch);
            true
        } else if !self.has_unused {
            match self.merge_long(text, scratch) {
                Some(tokens) => {
                    placed = tokens;
                    true
                }
                None => false,
            }
        } else {
            false
        };
        if merged {
            for (i, &(id, k)) in placed.iter().enumerate() {
                if id != NO_PIECE && (self.all_direct || self.direct[id as usize]) {
                    out.push(id);
                } else {
                    let end = placed.get(i + 1).map_or(n, |t| t.1);
                    self.emit(
                        &word[starts[k] as usize..starts[end] as usize],
                        out,
                        scratch,
                    );
                }
            }
        } else {
            self.merge_emit_text(word, out, scratch);
        }
        scratch.starts = starts;
        scratch.placed = placed;
    }

    /// The merge of a long word in chunks of [`SHORT`] characters, each
    /// seam checked by merging its two tokens again; `None` when the
    /// repairs cost too much (the caller then merges the word whole).
    fn merge_long(&self, text: Text<'_>, scratch: &mut Scratch) -> Option<Vec<Placed<u32>>> {
        let mut check = Scratch::default();
        let mut pair: Vec<Placed<u32>> = Vec::new();
        let n = text.starts.len() - 1;
        let mut ahead = Ahead::default();
        let merge = |r: Range<usize>, out: &mut Vec<Placed<u32>>| {
            self.merge_chunk(text, r, out, &mut ahead, scratch);
        };
        let holds = |(_, a): Placed<u32>, (_, b): Placed<u32>, end: usize| {
            pair.clear();
            self.scan(text, a..end, &mut pair, &mut check);
            pair.len() == 2 && pair[1].1 == b
        };
        // A very long word's parts, each with scratch space of its own.
        let make = || {
            let (mut own, mut check) = (Scratch::default(), Scratch::default());
            let mut pair: Vec<Placed<u32>> = Vec::new();
            let mut ahead = Ahead::default();
            let merge = move |r: Range<usize>, out: &mut Vec<Placed<u32>>| {
                self.merge_chunk(text, r, out, &mut ahead, &mut own);
            };
            let holds = move |(_, a): Placed<u32>, (_, b): Placed<u32>, end: usize| {
                pair.clear();
                self.scan(text, a..end, &mut pair, &mut check);
                pair.len() == 2 && pair[1].1 == b
            };
            (merge, holds)
        };
        merge_in_chunks(n, SHORT, SEAM_WINDOW_MAX, (merge, holds), make)
    }

    /// The merge of one chunk of a long word ([`SpmTokenizer::merge_long`]):
    /// a whole chunk together with the next ([`SpmTokenizer::scan_pair`]),
    /// as [`Ahead::merge`] has it.
    fn merge_chunk(
        &self,
        text: Text<'_>,
        r: Range<usize>,
        out: &mut Vec<Placed<u32>>,
        ahead: &mut Ahead<u32>,
        scratch: &mut Scratch,
    ) {
        let n = text.starts.len() - 1;
        ahead.merge(
            (r, n, SHORT),
            out,
            scratch,
            |scratch, r, out| self.scan(text, r, out, scratch),
            |scratch, ranges, outs| self.scan_pair(text, ranges, outs, scratch),
        );
    }

    /// Merges characters `range` of `word` (whose character `k` starts at
    /// byte `starts[k]`) and appends each token, as its piece id
    /// ([`NO_PIECE`] for a character or text that is none) and the index
    /// of its first character. Up to [`SHORT`] characters merge in fixed
    /// arrays by a scan of the candidates kept per symbol (only the two
    /// next to a merge change), more by the heap. The highest score merges
    /// first, the leftmost among equals; an unused piece notes the pair
    /// that formed it when it becomes a candidate, as SentencePiece does.
    fn scan(
        &self,
        text: Text<'_>,
        range: Range<usize>,
        out: &mut Vec<Placed<u32>>,
        scratch: &mut Scratch,
    ) {
        let Text {
            word,
            padded: _,
            starts,
        } = text;
        let (from, n) = (range.start, range.len());
        if n == 0 {
            return;
        }
        if n > SHORT {
            let base = starts[from] as usize;
            let part = &word[base..starts[range.end] as usize];
            self.merge_symbols(part, scratch);
            let mut k = 0u32;
            while k != NONE {
                let sym = scratch.symbols[k as usize];
                let text = &part[sym.start as usize..sym.end as usize];
                out.push((
                    self.pieces.find(text).unwrap_or(NO_PIECE),
                    from + k as usize,
                ));
                k = sym.next;
            }
            return;
        }
        // Fixed arrays sized to the run: every merge passes over all of them.
        match n {
            0..=8 => self.scan_fixed::<8>(text, from, n, out, scratch),
            9..=16 => self.scan_fixed::<16>(text, from, n, out, scratch),
            _ => self.scan_fixed::<SHORT>(text, from, n, out, scratch),
        }
    }

    /// The order of the merge that forms piece `id`: the highest merges
    /// first (as [`score_order`] of its score).
    #[inline(always)]
    fn merge_order(&self, id: u32) -> u32 {
        match self.id_order {
            Some((lo, hi)) if (lo..hi).contains(&id) => (1 << 30) - (id - lo),
            Some(_) => 1 << 31,
            None => score_order(self.pieces.score(id)),
        }
    }

    /// [`SpmTokenizer::scan`] of the `n` characters (up to `N`, at most
    /// 32: where the highest key is is a 32-bit mask) from character
    /// `from`, in fixed arrays of `N` (a [`Lane`]).
    #[inline]
    fn scan_fixed<const N: usize>(
        &self,
        text: Text<'_>,
        from: usize,
        n: usize,
        out: &mut Vec<Placed<u32>>,
        scratch: &mut Scratch,
    ) {
        let mut lane = Lane::<N>::new(self, text, from, n, scratch);
        while lane.step(self, text, scratch) {}
        lane.emit(out);
    }

    /// Two [`SpmTokenizer::scan_fixed`] of [`SHORT`] characters or fewer at
    /// once, one merge of each in turn: each merge waits on the piece table
    /// for its two new candidates (megabytes, out of the CPU's cache on
    /// text no model has seen), and the other lane's merge runs while it
    /// waits, so two lookups are in flight where one was.
    fn scan_pair(
        &self,
        text: Text<'_>,
        (a, b): (Range<usize>, Range<usize>),
        (out_a, out_b): (&mut Vec<Placed<u32>>, &mut Vec<Placed<u32>>),
        scratch: &mut Scratch,
    ) {
        debug_assert!(a.len() <= SHORT && b.len() <= SHORT);
        if a.is_empty() || b.is_empty() {
            self.scan(text, a, out_a, scratch);
            self.scan(text, b, out_b, scratch);
            return;
        }
        let mut x = Lane::<SHORT>::new(self, text, a.start, a.len(), scratch);
        let mut y = Lane::<SHORT>::new(self, text, b.start, b.len(), scratch);
        let (mut more_x, mut more_y) = (true, true);
        while more_x && more_y {
            more_x = x.step(self, text, scratch);
            more_y = y.step(self, text, scratch);
        }
        while more_x {
            more_x = x.step(self, text, scratch);
        }
        while more_y {
            more_y = y.step(self, text, scratch);
        }
        x.emit(out_a);
        y.emit(out_b);
    }

    /// BPE over one whole word by the heap, SentencePiece's own algorithm:
    /// for long words of models with unused pieces, and the tests'
    /// reference for [`SpmTokenizer::merge_word`].
    fn merge_emit_text(&self, word: &str, out: &mut Vec<u32>, scratch: &mut Scratch) {
        self.merge_symbols(word, scratch);
        let mut k = 0u32;
        while k != NONE {
            let sym = scratch.symbols[k as usize];
            self.emit(&word[sym.start as usize..sym.end as usize], out, scratch);
            k = sym.next;
        }
    }

    /// Merges the symbols of `word` by the heap (left in
    /// `scratch.symbols`).
    fn merge_symbols(&self, word: &str, scratch: &mut Scratch) {
        scratch.symbols.clear();
        for (i, c) in word.char_indices() {
            let k = scratch.symbols.len() as u32;
            scratch.symbols.push(Sym {
                start: i as u32,
                end: (i + c.len_utf8()) as u32,
                prev: if k == 0 { NONE } else { k - 1 },
                next: k + 1,
            });
        }
        let n = scratch.symbols.len();
        scratch.symbols[n - 1].next = NONE;
        scratch.rev_merge.clear();
        self.merge_heap(word, scratch);
    }

    /// The piece formed by merging symbols `a` and `b`, if it is one.
    #[inline]
    fn pair(&self, word: &str, a: Sym, b: Sym) -> Option<(u32, f32)> {
        let id = self.pieces.find(&word[a.start as usize..b.end as usize])?;
        Some((id, self.pieces.score(id)))
    }

    /// Notes how an unused piece was formed, to split it back later.
    fn note(&self, word: &str, a: Sym, b: Sym, id: u32, scratch: &mut Scratch) {
        if self.unused[id as usize] {
            scratch.rev_merge.insert(
                word[a.start as usize..b.end as usize].to_string(),
                (
                    word[a.start as usize..a.end as usize].to_string(),
                    word[b.start as usize..b.end as usize].to_string(),
                ),
            );
        }
    }

    fn merge_heap(&self, word: &str, scratch: &mut Scratch) {
        let mut heap = BinaryHeap::new();
        let push = |heap: &mut BinaryHeap<Cand>, scratch: &mut Scratch, left: u32| {
            if left == NONE {
                return;
            }
            let a = scratch.symbols[left as usize];
            if a.next == NONE {
                return;
            }
            let b = scratch.symbols[a.next as usize];
            if let Some((id, score)) = self.pair(word, a, b) {
                self.note(word, a, b, id, scratch);
                heap.push(Cand {
                    score,
                    left,
                    len: b.end - a.start,
                });
            }
        };
        let mut k = 0u32;
        while k != NONE {
            push(&mut heap, scratch, k);
            k = scratch.symbols[k as usize].next;
        }
        while let Some(c) = heap.pop() {
            let a = scratch.symbols[c.left as usize];
            // Stale: the left symbol merged or was merged since.
            if a.end == a.start || a.next == NONE {
                continue;
            }
            let b = scratch.symbols[a.next as usize];
            if b.end - a.start != c.len {
                continue;
            }
            merge(&mut scratch.symbols, c.left);
            let prev = scratch.symbols[c.left as usize].prev;
            push(&mut heap, scratch, prev);
            push(&mut heap, scratch, c.left);
        }
    }

    /// Appends the id of a final symbol: an unused piece split back into
    /// the pair that formed it, an unknown one as bytes or `unk`.
    fn emit(&self, piece: &str, out: &mut Vec<u32>, scratch: &Scratch) {
        if let Some(&id) = self.reserved.get(piece) {
            out.push(id);
            return;
        }
        match self.pieces.find(piece) {
            Some(id) => {
                if self.unused[id as usize]
                    && let Some((a, b)) = scratch.rev_merge.get(piece)
                {
                    self.emit(a, out, scratch);
                    self.emit(b, out, scratch);
                } else {
                    out.push(id);
                }
            }
            None => match &self.byte_ids {
                Some(bytes) => out.extend(piece.bytes().map(|b| bytes[b as usize])),
                None => out.push(self.unk),
            },
        }
    }
}

const NONE: u32 = u32::MAX;

/// A score as a number in the same order, 1 or more (0 stands for no
/// merge): the sign bit flipped for scores of 0 and up, all bits for
/// negative ones.
#[inline(always)]
/// [`SpmTokenizer::id_order`] of a model's pieces: the range of ids whose
/// scores fall strictly as their ids rise, if every other piece merges may
/// form has the same score, higher than theirs.
fn id_order(pieces: &PieceTable) -> Option<(u32, u32)> {
    let order = |id: u32| score_order(pieces.score(id));
    let mut ids: Vec<u32> = pieces.mergeable_ids().collect();
    ids.sort_unstable();
    let top = ids.iter().map(|&id| order(id)).max()?;
    let mut ranked = ids.iter().copied().filter(|&id| order(id) != top);
    let lo = ranked.next()?;
    let mut hi = lo;
    for id in ranked {
        if order(id) >= order(hi) {
            return None;
        }
        hi = id;
    }
    // No piece of the top score between them, and keys from 1 to 2^30.
    let between = ids
        .iter()
        .any(|&id| (lo..hi).contains(&id) && order(id) == top);
    (!between && hi - lo < 1 << 29).then_some((lo, hi + 1))
}

fn score_order(score: f32) -> u32 {
    let bits = score.to_bits();
    let order = if bits >> 31 == 1 {
        !bits
    } else {
        bits | 1 << 31
    };
    order.max(1)
}

/// A word being merged: its text, its bytes followed by [`PADDING`] zeros,
/// and the byte offset of each character (then the word's length).
#[derive(Clone, Copy)]
struct Text<'a> {
    word: &'a str,
    padded: &'a [u8],
    starts: &'a [u32],
}

/// The merge of up to `N` characters (at most 32) in fixed arrays, by the
/// index of each symbol's first character (relative to `from`): the piece
/// id, the next live symbol, the previous one, and the order of the score
/// of the merge with the next one (0 for none; see `score_order`) with the
/// piece it forms. The merge is the highest order, the leftmost of equals:
/// one pass for the highest, one for where it first is, both over 32-bit
/// numbers the compiler vectorizes.
struct Lane<const N: usize> {
    from: usize,
    n: usize,
    ids: [u32; N],
    next: [u8; N],
    prev: [u8; N],
    keys: [u32; N],
    merged: [u32; N],
}

impl<const N: usize> Lane<N> {
    /// The `n` characters from character `from`, each its own symbol, and
    /// the candidate merges of every neighbouring two.
    #[inline(always)]
    fn new(
        model: &SpmTokenizer,
        text: Text<'_>,
        from: usize,
        n: usize,
        scratch: &mut Scratch,
    ) -> Lane<N> {
        debug_assert!(n >= 1 && n <= N && N <= 32);
        let mut lane = Lane {
            from,
            n,
            ids: [NO_PIECE; N],
            next: [0; N],
            prev: [0; N],
            keys: [0; N],
            merged: [NO_PIECE; N],
        };
        let Text { word, padded, .. } = text;
        for k in 0..n {
            let (a, b) = (lane.start(text, k), lane.start(text, k + 1));
            lane.ids[k] = match padded[a] {
                x if x < 128 => model.ascii[x as usize],
                _ if &word[a..b] == "▁" => model.space_id,
                _ => model.pieces.find_padded(padded, a, b).unwrap_or(NO_PIECE),
            };
            lane.next[k] = (k + 1) as u8;
            lane.prev[k] = k.wrapping_sub(1) as u8;
        }
        for k in 0..n - 1 {
            (lane.keys[k], lane.merged[k]) = lane.candidate(model, text, k, k + 1, k + 2, scratch);
        }
        lane
    }

    /// The byte where character `k` (relative to `from`) starts.
    #[inline(always)]
    fn start(&self, text: Text<'_>, k: usize) -> usize {
        text.starts[self.from + k] as usize
    }

    /// The merge of symbol `k` with the next, `r`, which ends where symbol
    /// `e` starts: its key and the piece it forms.
    #[inline(always)]
    fn candidate(
        &self,
        model: &SpmTokenizer,
        text: Text<'_>,
        k: usize,
        r: usize,
        e: usize,
        scratch: &mut Scratch,
    ) -> (u32, u32) {
        let (a, b, e) = (
            self.start(text, k),
            self.start(text, r),
            self.start(text, e),
        );
        let (x, y) = (text.padded[a], text.padded[a + 1]);
        let found = if e - a == 2 && (x | y) < 128 {
            Some(model.ascii_pairs[usize::from(x) << 7 | usize::from(y)])
                .filter(|&id| id != NO_PIECE)
        } else {
            model.pieces.find_padded(text.padded, a, e)
        };
        match found {
            Some(id) => {
                if model.has_unused && model.unused[id as usize] {
                    let word = text.word;
                    scratch.rev_merge.insert(
                        word[a..e].to_string(),
                        (word[a..b].to_string(), word[b..e].to_string()),
                    );
                }
                (model.merge_order(id), id)
            }
            None => (0, NO_PIECE),
        }
    }

    /// Makes the next merge; `false` when none is left.
    #[inline(always)]
    fn step(&mut self, model: &SpmTokenizer, text: Text<'_>, scratch: &mut Scratch) -> bool {
        let best = self.keys.iter().fold(0, |a, &b| a.max(b));
        if best == 0 {
            return false;
        }
        let at = self
            .keys
            .iter()
            .enumerate()
            .fold(0u32, |m, (i, &o)| m | u32::from(o == best) << i);
        let k = at.trailing_zeros() as usize;
        let r = self.next[k] as usize;
        self.ids[k] = self.merged[k];
        self.keys[r] = 0;
        let after = self.next[r] as usize;
        self.next[k] = after as u8;
        if after < self.n {
            self.prev[after] = k as u8;
            let e = self.next[after] as usize;
            (self.keys[k], self.merged[k]) = self.candidate(model, text, k, after, e, scratch);
        } else {
            self.keys[k] = 0;
        }
        if k > 0 {
            let p = self.prev[k] as usize;
            (self.keys[p], self.merged[p]) = self.candidate(model, text, p, k, after, scratch);
        }
        true
    }

    /// Appends each token and its first character.
    fn emit(&self, out: &mut Vec<Placed<u32>>) {
        let mut k = 0;
        while k < self.n {
            out.push((self.ids[k], self.from + k));
            k = self.next[k] as usize;
        }
    }
}

/// A symbol: a byte range of the word and its live neighbours. A merged-away
/// symbol has `start == end`.
#[derive(Clone, Copy)]
struct Sym {
    start: u32,
    end: u32,
    prev: u32,
    next: u32,
}

#[derive(Default)]
struct Scratch {
    symbols: Vec<Sym>,
    rev_merge: FxHashMap<String, (String, String)>,
    /// The byte offset of each character of a word, and its end.
    starts: Vec<u32>,
    /// The tokens of a word and their first characters.
    placed: Vec<Placed<u32>>,
}

/// Merges symbol `k` with the one after it.
fn merge(symbols: &mut [Sym], k: u32) {
    let a = symbols[k as usize];
    let r = a.next as usize;
    let b = symbols[r];
    symbols[k as usize].end = b.end;
    symbols[k as usize].next = b.next;
    symbols[r].start = symbols[r].end;
    if b.next != NONE {
        symbols[b.next as usize].prev = k;
    }
}

/// A merge candidate: higher score first, then the leftmost.
struct Cand {
    score: f32,
    left: u32,
    len: u32,
}

impl PartialEq for Cand {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Cand {}

impl PartialOrd for Cand {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Cand {
    fn cmp(&self, other: &Self) -> Ordering {
        self.score
            .total_cmp(&other.score)
            .then(other.left.cmp(&self.left))
    }
}

fn piece(bytes: &[u8], index: usize) -> Result<RawPiece<'_>, String> {
    let mut w = Wire::new(bytes);
    let mut p = RawPiece {
        text: "",
        score: 0.0,
        kind: NORMAL,
    };
    while let Some((f, v)) = w.field().map_err(|e| format!("pieces[{index}]: {e}"))? {
        match (f, v) {
            (1, Value::Bytes(b)) => {
                p.text = std::str::from_utf8(b)
                    .map_err(|_| format!("pieces[{index}]: the piece is not UTF-8"))?;
            }
            (2, Value::Fixed32(b)) => p.score = f32::from_le_bytes(b),
            (3, Value::Varint(t)) => p.kind = t,
            _ => {}
        }
    }
    Ok(p)
}

fn byte_of(piece: &str) -> Option<u8> {
    let hex = piece.strip_prefix("<0x")?.strip_suffix('>')?;
    if hex.len() != 2 {
        return None;
    }
    u8::from_str_radix(hex, 16).ok()
}

fn matcher(list: Vec<(&str, u32)>) -> Result<Option<(AhoCorasick, Vec<u32>)>, String> {
    if list.is_empty() {
        return Ok(None);
    }
    let ac = AhoCorasickBuilder::new()
        .match_kind(MatchKind::LeftmostLongest)
        .build(list.iter().map(|(s, _)| s))
        .map_err(|e| format!("user-defined pieces: {e}"))?;
    Ok(Some((ac, list.into_iter().map(|(_, id)| id).collect())))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A protobuf writer for hand-built models.
    fn key(out: &mut Vec<u8>, field: u64, wire: u64) {
        varint(out, field << 3 | wire);
    }

    fn varint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    fn bytes(out: &mut Vec<u8>, field: u64, b: &[u8]) {
        key(out, field, 2);
        varint(out, b.len() as u64);
        out.extend_from_slice(b);
    }

    /// A BPE model: `<unk>`, then the given pieces (text, score, type), the
    /// 256 byte pieces when `byte_fallback`; normalizer flags as given.
    fn model(
        pieces: &[(&str, f32, u64)],
        byte_fallback: bool,
        dummy: bool,
        extra: bool,
    ) -> Vec<u8> {
        let mut all: Vec<(String, f32, u64)> = vec![("<unk>".into(), 0.0, UNKNOWN)];
        all.extend(pieces.iter().map(|&(t, s, k)| (t.to_string(), s, k)));
        if byte_fallback {
            all.extend((0..=255u8).map(|b| (format!("<0x{b:02X}>"), 0.0, BYTE)));
        }
        let mut out = Vec::new();
        for (text, score, kind) in all {
            let mut p = Vec::new();
            bytes(&mut p, 1, text.as_bytes());
            key(&mut p, 2, 5);
            p.extend_from_slice(&score.to_le_bytes());
            key(&mut p, 3, 0);
            varint(&mut p, kind);
            bytes(&mut out, 1, &p);
        }
        let mut trainer = Vec::new();
        key(&mut trainer, 3, 0);
        varint(&mut trainer, 2);
        key(&mut trainer, 35, 0);
        varint(&mut trainer, byte_fallback as u64);
        bytes(&mut out, 2, &trainer);
        let mut norm = Vec::new();
        bytes(&mut norm, 1, b"identity");
        key(&mut norm, 3, 0);
        varint(&mut norm, dummy as u64);
        key(&mut norm, 4, 0);
        varint(&mut norm, extra as u64);
        bytes(&mut out, 3, &norm);
        out
    }

    fn encode(m: &SpmTokenizer, text: &str) -> Vec<u32> {
        let mut out = Vec::new();
        m.encode(text, false, &mut out);
        out
    }

    /// Merge orders come from ids only when scores fall strictly as ids
    /// rise, between pieces that share the top score; merges agree either
    /// way.
    #[test]
    fn merge_orders_from_ids_only_for_falling_scores() {
        // ids: <unk>=0 x=1 a=2 b=3 ab=4 ba=5 aba=6 y=7
        let falling = [
            ("x", 0.0, NORMAL),
            ("a", -1.0, NORMAL),
            ("b", -2.0, NORMAL),
            ("ab", -3.0, NORMAL),
            ("ba", -4.0, NORMAL),
            ("aba", -5.0, NORMAL),
            ("y", 0.0, NORMAL),
        ];
        let m = SpmTokenizer::parse(&model(&falling, false, false, false)).unwrap();
        assert_eq!(m.id_order, Some((2, 7)));
        assert!(m.merge_order(1) > m.merge_order(2) && m.merge_order(1) == m.merge_order(7));
        assert!(m.merge_order(4) > m.merge_order(5));
        assert_eq!(encode(&m, "ababa"), [4, 6]);
        merge_agrees(&m, &"abbaxabyaba".repeat(9));
        for (k, score) in [(3, -1.0), (4, -0.5), (3, 0.0), (2, 1.0)] {
            let mut changed = falling;
            changed[k].1 = score;
            let m = SpmTokenizer::parse(&model(&changed, false, false, false)).unwrap();
            assert_eq!(m.id_order, None, "{changed:?}");
            merge_agrees(&m, &"abbaxabyaba".repeat(9));
        }
    }

    #[test]
    fn highest_score_merges_first_then_leftmost() {
        // ids: <unk>=0 a=1 b=2 c=3 ab=4 bc=5 cab=6
        let m = SpmTokenizer::parse(&model(
            &[
                ("a", -1.0, NORMAL),
                ("b", -1.0, NORMAL),
                ("c", -1.0, NORMAL),
                ("ab", -3.0, NORMAL),
                ("bc", -2.0, NORMAL),
                ("cab", -9.0, NORMAL),
            ],
            false,
            false,
            false,
        ))
        .unwrap();
        // bc (score -2) beats ab (-3); then a+bc is not a piece.
        assert_eq!(encode(&m, "abc"), [1, 5]);
        // ab ab: equal scores, both merge.
        assert_eq!(encode(&m, "abab"), [4, 4]);
        // b c b c: leftmost first among equals.
        assert_eq!(encode(&m, "bcbc"), [5, 5]);
        // c+ab forms a piece only after ab merged.
        assert_eq!(encode(&m, "cab"), [6]);
        // A long word (heap path) agrees with short ones.
        let long = "abc".repeat(40);
        assert_eq!(encode(&m, &long), [1, 5].repeat(40));
        // c a b c a b ...: every bc (-2) merges before any ab (-3).
        let long = "cab".repeat(40);
        let mut want = vec![3];
        want.extend([1, 5].repeat(39));
        want.push(4);
        assert_eq!(encode(&m, &long), want);
    }

    #[test]
    fn user_defined_pieces_match_first_and_never_merge() {
        // ids: <unk>=0 a=1 ▁=2 <x>=3 ▁▁=4 a▁=5
        let m = SpmTokenizer::parse(&model(
            &[
                ("a", -1.0, NORMAL),
                ("▁", -1.0, NORMAL),
                ("<x>", 0.0, USER_DEFINED),
                ("▁▁", 0.0, USER_DEFINED),
                ("a▁", -2.0, NORMAL),
            ],
            false,
            false,
            false,
        ))
        .unwrap();
        assert_eq!(encode(&m, "a<x>a"), [1, 3, 1]);
        // Three spaces: the longest user-defined piece, then one ▁; the
        // user-defined ▁▁ does not merge with the a before it.
        assert_eq!(encode(&m, "a   "), [1, 4, 2]);
        // `a▁` spans the word start: the cut before ▁ is not taken.
        assert_eq!(encode(&m, "a a"), [5, 1]);
    }

    #[test]
    fn unknown_text_falls_back_to_bytes_or_unk() {
        let with_bytes =
            SpmTokenizer::parse(&model(&[("a", -1.0, NORMAL)], true, false, false)).unwrap();
        // <0xC3> is id 2 + 0xC3, <0xA9> 2 + 0xA9.
        assert_eq!(encode(&with_bytes, "aé"), [1, 2 + 0xC3, 2 + 0xA9]);
        let without =
            SpmTokenizer::parse(&model(&[("a", -1.0, NORMAL)], false, false, false)).unwrap();
        assert_eq!(encode(&without, "aéa"), [1, 0, 1]);
        assert_eq!(without.token_bytes(1), Some(&b"a"[..]));
    }

    #[test]
    fn unused_pieces_split_back_into_their_pair() {
        // ids: <unk>=0 a=1 b=2 ab=3 (unused)
        let m = SpmTokenizer::parse(&model(
            &[
                ("a", -1.0, NORMAL),
                ("b", -1.0, NORMAL),
                ("ab", -2.0, UNUSED),
            ],
            false,
            false,
            false,
        ))
        .unwrap();
        assert_eq!(encode(&m, "ab"), [1, 2]);
    }

    #[test]
    fn normalizer_flags_are_honoured() {
        let pieces = [
            ("▁a", -1.0, NORMAL),
            ("a", -2.0, NORMAL),
            ("▁", -3.0, NORMAL),
        ];
        // ids: <unk>=0 ▁a=1 a=2 ▁=3
        let plain = SpmTokenizer::parse(&model(&pieces, false, false, false)).unwrap();
        assert_eq!(encode(&plain, "a  a"), [2, 3, 1]);
        let dummy = SpmTokenizer::parse(&model(&pieces, false, true, false)).unwrap();
        assert_eq!(encode(&dummy, "a a"), [1, 1]);
        let squeeze = SpmTokenizer::parse(&model(&pieces, false, true, true)).unwrap();
        assert_eq!(encode(&squeeze, "  a   a  "), [1, 1]);
        assert_eq!(encode(&squeeze, "   "), Vec::<u32>::new());
    }

    #[test]
    fn control_pieces_match_only_when_asked() {
        let mut bytes = model(&[("<", -1.0, NORMAL)], true, false, false);
        let mut p = Vec::new();
        super::tests::bytes(&mut p, 1, b"<s>");
        key(&mut p, 3, 0);
        varint(&mut p, CONTROL);
        super::tests::bytes(&mut bytes, 1, &p);
        let m = SpmTokenizer::parse(&bytes).unwrap();
        let control = 2 + 256;
        let mut out = Vec::new();
        m.encode("<s>", true, &mut out);
        assert_eq!(out, [control]);
        assert_eq!(encode(&m, "<s>"), [1, 2 + b's' as u32, 2 + b'>' as u32]);
        out.clear();
        m.encode("<unk>", true, &mut out);
        assert_eq!(out, [0]);
    }

    #[test]
    fn bad_models_are_refused_with_a_reason() {
        let mut unigram = model(&[("a", -1.0, NORMAL)], false, false, false);
        // Rewrite the model type (the trainer spec's first varint) to 1.
        let at = unigram.windows(2).rposition(|w| w == [3 << 3, 2]).unwrap();
        unigram[at + 1] = 1;
        let e = SpmTokenizer::parse(&unigram).err().unwrap();
        assert!(e.contains("Unigram"), "{e}");
        let whole = model(&[("a", -1.0, NORMAL)], false, false, false);
        let e = SpmTokenizer::parse(&whole[..whole.len() - 3])
            .err()
            .unwrap();
        assert!(e.contains("ends inside"), "{e}");
        let e = SpmTokenizer::parse(&[0x0A, 0x00]).err().unwrap();
        assert!(e.contains("only BPE"), "{e}");
        let mut charsmap = model(&[("a", -1.0, NORMAL)], false, false, false);
        let mut norm = Vec::new();
        bytes(&mut norm, 1, b"nmt_nfkc");
        bytes(&mut norm, 2, b"\x01\x02");
        bytes(&mut charsmap, 3, &norm);
        let e = SpmTokenizer::parse(&charsmap).err().unwrap();
        assert!(e.contains("nmt_nfkc"), "{e}");
        let dup = model(
            &[("a", -1.0, NORMAL), ("a", -2.0, NORMAL)],
            false,
            false,
            false,
        );
        let e = SpmTokenizer::parse(&dup).err().unwrap();
        assert!(e.contains("defined twice"), "{e}");
    }

    #[test]
    fn parallel_count_matches_serial() {
        let t = super::super::FileTokenizer::gemma3();
        let para = "The quick brown fox jumps over the lazy dog.\nIt's 2024: prices rose 12.5%!\n  indented  line\r\n\n日本語のテキスト\n";
        let text = para.repeat(8_000);
        assert!(text.len() > 2 * crate::tokens::chunks::PARALLEL_CHUNK);
        let serial = t.encode(&text).len();
        assert_eq!(t.count(&text), serial);
        // A second pass is served by the word cache and agrees.
        assert_eq!(t.encode(&text).len(), serial);
        assert_eq!(t.count(para) * 8_000, serial);
    }

    /// The words of `text` as `encode_stretch` cuts them (`text` holding
    /// no user-defined piece).
    fn words(m: &SpmTokenizer, text: &str) -> Vec<String> {
        let normalized = m.normalize(text);
        let mut out = Vec::new();
        let mut stretches = Vec::new();
        let mut done = 0;
        if let Some((ac, _)) = &m.user {
            for u in ac.find_iter(&normalized) {
                stretches.push(&normalized[done..u.start()]);
                done = u.end();
            }
        }
        stretches.push(&normalized[done..]);
        for s in stretches {
            stretch_words(m, s, &mut out);
        }
        out.retain(|w| !w.is_empty());
        out
    }

    fn stretch_words(m: &SpmTokenizer, s: &str, out: &mut Vec<String>) {
        let mut start = 0;
        let mut prev: Option<char> = None;
        for (i, c) in s.char_indices() {
            if let Some(p) = prev
                && i > start
                && m.cut_before(s, i, p, c)
            {
                out.push(s[start..i].to_string());
                start = i;
            }
            prev = Some(c);
        }
        out.push(s[start..].to_string());
    }

    /// Every word of `text` merges as the whole-word merge by text (the
    /// reference: SentencePiece's own algorithm) merges it; returns the
    /// numbers of short words (fixed arrays) and of long ones (chunks with
    /// checked seams, or the heap).
    fn merge_agrees(m: &SpmTokenizer, text: &str) -> (usize, usize) {
        let mut scratch = Scratch::default();
        let (mut short, mut long) = (0, 0);
        for w in words(m, text) {
            let (mut fast, mut slow) = (Vec::new(), Vec::new());
            let mut padded = w.as_bytes().to_vec();
            padded.resize(w.len() + PADDING, 0xAA);
            m.merge_word(&w, &padded, &mut fast, &mut scratch);
            m.merge_emit_text(&w, &mut slow, &mut scratch);
            assert!(fast == slow, "{w:?}: {fast:?} != {slow:?}");
            if w.chars().count() <= SHORT {
                short += 1;
            } else {
                long += 1;
            }
        }
        (short, long)
    }

    /// A random text of `n` characters drawn from `alphabet`.
    fn random_text(seed: u64, alphabet: &[&str], n: usize) -> String {
        let mut x = seed | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                alphabet[(x % alphabet.len() as u64) as usize]
            })
            .collect()
    }

    /// `text` encodes as SentencePiece would: each stretch between
    /// user-defined pieces merged whole, with no cut between words.
    fn cuts_are_safe(m: &SpmTokenizer, text: &str) {
        let normalized = m.normalize(text);
        let mut stretches = Vec::new();
        let mut done = 0;
        if let Some((ac, _)) = &m.user {
            for u in ac.find_iter(&normalized) {
                stretches.push((&normalized[done..u.start()], Some(u.pattern().as_usize())));
                done = u.end();
            }
        }
        stretches.push((&normalized[done..], None));
        let mut want = Vec::new();
        let mut scratch = Scratch::default();
        for (stretch, user) in stretches {
            if !stretch.is_empty() {
                m.merge_emit_text(stretch, &mut want, &mut scratch);
            }
            if let (Some(u), Some((_, ids))) = (user, &m.user) {
                want.push(ids[u]);
            }
        }
        assert!(encode(m, text) == want, "{text:?}");
    }

    #[test]
    fn words_cut_where_no_piece_spans_the_cut() {
        let t = super::super::FileTokenizer::gemma3();
        let super::super::Backend::Spm(m) = &t.backend else {
            panic!("gemma3 is a SentencePiece model")
        };
        // Letters and punctuation of one script mostly pair in some piece,
        // across scripts mostly not: cuts between them are common.
        let a = |i: usize| m.pairs[pair_index('a').unwrap() * PAIR_CHARS + i];
        assert_eq!(a(pair_index('b').unwrap()), 1);
        let apart = (0..PAIR_CHARS).filter(|&i| a(i) == 0).count();
        assert!(apart > 10, "{apart}");
        let alphabets: [&[&str]; 5] = [
            &[
                "a", "b", "(", ")", "=", ";", "n", "r", "{", "}", ".", ",", " ", "\n",
            ],
            &["=", "+", "/", "A", "z", "9", "0", "Q"],
            &[
                "!", "\"", "#", "$", "%", "&", "'", "*", "-", ":", "<", ">", "?", "@", "[", "\\",
                "]", "^", "_", "`", "|", "~",
            ],
            &[
                "x", "1", "é", "中", "\t", "  ", "\n\n", "<", "mask", ">", "▁",
            ],
            &[
                "function", "(", "return", " ", "=>", "{", "}", "var", "e", ",", "t", "n", ".",
            ],
        ];
        for (k, alphabet) in alphabets.iter().enumerate() {
            for n in [50, 400, 3000] {
                cuts_are_safe(m, &random_text(k as u64 * 31 + n as u64, alphabet, n));
            }
        }
        cuts_are_safe(m, include_str!("spm.rs"));
    }

    #[test]
    fn long_words_merge_in_chunks_as_whole() {
        // ids: <unk>=0 a=1 b=2 ab=3 abb=4 abbb=5 ba=6 bab=7. `abbb` forms
        // last from `abb`, whose score is lower, and `bab` wins over `ab`
        // only when formed before it: a cut between chunks that no seam
        // check repaired would leave other tokens.
        let m = SpmTokenizer::parse(&model(
            &[
                ("a", -20.0, NORMAL),
                ("b", -20.0, NORMAL),
                ("ab", -1.0, NORMAL),
                ("abb", -10.0, NORMAL),
                ("abbb", -5.0, NORMAL),
                ("ba", -2.0, NORMAL),
                ("bab", -0.5, NORMAL),
            ],
            true,
            false,
            false,
        ))
        .unwrap();
        assert_eq!(encode(&m, "abbb"), [5]);
        let mut long = 0;
        for seed in 1..30 {
            let text = random_text(seed, &["a", "b", "ab", "abb", "c", "é"], 3000);
            long += merge_agrees(&m, &text).1;
        }
        assert!(long >= 29, "{long}");
        for unit in ["ab", "abb", "abbb", "ba", "bab", "aab", "c", "abbba"] {
            for n in [SHORT / 2, SHORT, SHORT + 1, 70, 500, 5000] {
                merge_agrees(&m, &unit.repeat(n));
            }
        }
    }

    #[test]
    fn words_of_a_model_with_unused_pieces_merge_whole() {
        let m = SpmTokenizer::parse(&model(
            &[
                ("a", -1.0, NORMAL),
                ("b", -1.0, NORMAL),
                ("ab", -2.0, UNUSED),
            ],
            false,
            false,
            false,
        ))
        .unwrap();
        assert!(m.has_unused);
        assert_eq!(encode(&m, &"ab".repeat(50)), [1, 2].repeat(50));
        assert_eq!(encode(&m, "ab"), [1, 2]);
    }

    /// Gemma 3's merge orders are computed from ids, and rank every two
    /// pieces merges may form as their scores do (equal when the scores
    /// are).
    #[test]
    fn gemma3_merge_orders_from_ids_rank_as_scores() {
        let t = super::super::FileTokenizer::gemma3();
        let super::super::Backend::Spm(m) = &t.backend else {
            panic!("gemma3 is a SentencePiece model")
        };
        assert!(m.id_order.is_some());
        let mut ids: Vec<u32> = m.pieces.mergeable_ids().collect();
        ids.sort_by_key(|&id| (score_order(m.pieces.score(id)), id));
        for w in ids.windows(2) {
            let by_score =
                score_order(m.pieces.score(w[0])).cmp(&score_order(m.pieces.score(w[1])));
            let by_id = m.merge_order(w[0]).cmp(&m.merge_order(w[1]));
            assert_eq!(by_id, by_score, "{} {}", w[0], w[1]);
            assert!(m.merge_order(w[0]) > 0);
        }
    }

    /// On random words the word cache rests (its gate sees few hits): the
    /// ids are still those of each word merged alone, in order.
    #[test]
    fn words_counted_with_the_cache_resting_keep_their_ids_and_order() {
        let t = super::super::FileTokenizer::gemma3();
        let super::super::Backend::Spm(m) = &t.backend else {
            panic!("gemma3 is a SentencePiece model")
        };
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let mut text = String::new();
        for _ in 0..40_000 {
            for _ in 0..1 + next(12) {
                text.push(char::from(b'a' + next(26) as u8));
            }
            text.push(' ');
        }
        let mut scratch = Scratch::default();
        let mut want = Vec::new();
        for w in words(m, &text) {
            m.merge_emit_text(&w, &mut want, &mut scratch);
        }
        assert_eq!(encode(m, &text), want);
    }

    #[test]
    fn gemma3_words_merge_as_the_whole_word_merge_does() {
        let t = super::super::FileTokenizer::gemma3();
        let super::super::Backend::Spm(m) = &t.backend else {
            panic!("gemma3 is a SentencePiece model")
        };
        assert!(!m.has_unused && m.all_direct);
        let (mut short, mut long) = merge_agrees(m, &" SSSR SSSSR ======= ======SSSR".repeat(20));
        let units = [
            "a", "ab", "\n", " ", "▁", "中", "é", "🙂", "aé", "x1", "==", "\t", "ab ", " the", ".",
            "0", "\u{0}", "\u{e000}", "=====", "ab=", "\\",
        ];
        for unit in units {
            for n in [1, 2, 3, 5, 8, 31, 32, 33, 100, 1000] {
                merge_agrees(m, &unit.repeat(n));
            }
        }
        let alphabets: [&[&str]; 8] = [
            &["a", "b", "c"],
            &["a", "b", "c", "e", "t", "h", "i", "n", "g", "s", " "],
            &["a", "b", " ", "é", "中", "文", "🙂", "\n", "▁", "▁▁"],
            &["ab", "ba", "ing", "tion", "▁", "er", "the", " ", "s"],
            &[
                "=", "+", "/", "A", "z", "9", ".", ",", "(", ")", "{", "}", " ", "\n",
            ],
            &["中", "文", "日", "本", "語", "。", "の", " "],
            &[
                "a",
                "Z",
                "\u{1}",
                "\u{7f}",
                "\u{e000}",
                "\u{10ffff}",
                "ъ",
                "ü",
                " ",
            ],
            &["\t", "\n", " ", "  ", "x", "-", "_", "#", "'", "\"", "`"],
        ];
        for (k, alphabet) in alphabets.iter().enumerate() {
            for n in [10, 200, 5000, 50_000] {
                let (s, l) = merge_agrees(m, &random_text(k as u64 * 7919 + n as u64, alphabet, n));
                short += s;
                long += l;
            }
        }
        let lower: Vec<String> = ('a'..='z').map(String::from).collect();
        let lower: Vec<&str> = lower.iter().map(String::as_str).collect();
        long += merge_agrees(m, &random_text(99, &lower, 100_000)).1;
        for n in 1..12 {
            let mut with_spaces = lower.clone();
            with_spaces.extend(std::iter::repeat_n(" ", n));
            short += merge_agrees(m, &random_text(n as u64, &with_spaces, 30_000)).0;
        }
        let mixed = "The quick brown fox, 日本語のテキスト, x=1+2; émigré 🙂 ".repeat(50);
        long += merge_agrees(m, &mixed.replace(' ', "")).1;
        short += merge_agrees(m, include_str!("spm.rs")).0;
        assert!(short > 30_000 && long > 100, "{short} {long}");
    }

    #[test]
    fn words_merge_as_whole_with_unused_and_reserved_pieces() {
        // ids: <unk>=0 a=1 b=2 c=3 ab=4 (unused) bc=5 abc=6 ca=7 (unused)
        // cab=8, then the byte pieces.
        let m = SpmTokenizer::parse(&model(
            &[
                ("a", -1.0, NORMAL),
                ("b", -1.0, NORMAL),
                ("c", -1.0, NORMAL),
                ("ab", -2.0, UNUSED),
                ("bc", -2.0, NORMAL),
                ("abc", -3.0, NORMAL),
                ("ca", -2.0, UNUSED),
                ("cab", -1.5, NORMAL),
            ],
            true,
            false,
            false,
        ))
        .unwrap();
        let mut short = 0;
        for seed in 1..40 {
            let text = random_text(seed, &["a", "b", "c", "é", "x", "▁"], 3000);
            short += merge_agrees(&m, &text).0;
        }
        assert!(short > 50, "{short}");
    }

    #[test]
    fn embedded_gemma3_counts_like_google() {
        let t = super::super::FileTokenizer::gemma3();
        assert_eq!(t.vocab_len(), 262_144);
        // The count Google's SDK documents for this sentence.
        assert_eq!(t.count("What is your name?"), 5);
        assert_eq!(t.count(""), 0);
        let ids = t.encode("Hello world\n\n  x");
        assert_eq!(t.decode_bytes(&ids), b"Hello world\n\n  x");
        // Control literals are text unless special tokens are asked for.
        assert_eq!(t.encode_with_special("<bos>"), [2]);
        assert!(t.count("<bos>") > 1);
        // <start_of_turn> is a user-defined piece: one token either way.
        assert_eq!(t.count("<start_of_turn>"), 1);
    }
}
