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
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use rustc_hash::FxHashMap;

use super::spm_table::{NO_PIECE, Pairs, PieceTable};
use crate::tokens::backtrack::{Backtrack, Rule};
use crate::tokens::gate::CacheGate;

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

/// Words of more than this many bytes are encoded by the linear-time
/// encoder when the model allows it.
const LONG_WORD: usize = 64;

/// The linear-time encoder is built once the long words merged without it
/// add up to this many bytes (its build costs about as much as merging
/// them).
const BUILD_LONG_AFTER: usize = 1 << 20;

/// The merge by piece ids is built once the words merged without it add
/// up to this many bytes (Gemma 3's build costs about as long as merging
/// 3 MB of short words by text, and halves the time of the words after).
const BUILD_BY_ID_AFTER: usize = 2 << 20;

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
    words: FxHashMap<Box<str>, Box<[u32]>>,
    gate: CacheGate,
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
    /// Whether text may be cut before a line break that follows an ASCII
    /// letter (no piece holds a letter followed by a line break).
    newline_cuts: bool,
    /// A number no other model of this process has, for the word cache.
    serial: u64,
    /// The linear-time encoder of the pieces a word can hold, built on the
    /// first long word (`None` when the model does not meet its
    /// conditions; see [`SpmTokenizer::build_long`]).
    long: OnceLock<Option<LongWords>>,
    /// The bytes of the long words merged before the encoder was built.
    long_bytes: std::sync::atomic::AtomicUsize,
    /// The merge of short words by piece ids, built on the first word
    /// (`None` when the model's pieces do not allow it; see [`Pairs`]).
    by_id: OnceLock<Option<IdMerge>>,
    /// The bytes of the words merged before the merge by ids was built.
    by_id_bytes: std::sync::atomic::AtomicUsize,
}

/// The merge by piece ids, and which ids a final symbol stands for as is.
struct IdMerge {
    pairs: Pairs,
    /// Whether a piece is emitted as its own id: not unused, and its text
    /// is not that of a control, unknown or byte piece (which
    /// [`SpmTokenizer::emit`] prefers).
    direct: Vec<bool>,
}

/// The linear-time encoder of long words, and the texts it must not be
/// given (see [`SpmTokenizer::build_long`]).
struct LongWords {
    encoder: Backtrack,
    aside: Option<AhoCorasick>,
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
        let newline_cuts = !pieces.mergeable().any(|t| {
            t.as_bytes()
                .windows(2)
                .any(|w| w[0].is_ascii_alphabetic() && w[1] == b'\n')
        });
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
        Ok(SpmTokenizer {
            line_cuts,
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
            newline_cuts,
            serial,
            long: OnceLock::new(),
            long_bytes: std::sync::atomic::AtomicUsize::new(0),
            by_id: OnceLock::new(),
            by_id_bytes: std::sync::atomic::AtomicUsize::new(0),
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

    /// The number of tokens of `text` as ordinary text; a large text is cut
    /// where no piece can span (before a line break that follows an ASCII
    /// letter) and counted on all cores, when the normalizer maps the text
    /// character for character.
    pub(super) fn count(&self, text: &str, chunk: usize) -> usize {
        let local = !self.add_dummy_prefix && !self.remove_extra_whitespaces;
        let count = |part: &str| {
            let mut ids = Vec::new();
            self.encode_text(part, &mut ids);
            ids.len()
        };
        if local && self.newline_cuts {
            crate::tokens::chunks::count_in_chunks(text, chunk, count)
        } else {
            count(text)
        }
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
        let normalized = self.normalize(text);
        let s = normalized.as_str();
        let mut scratch = Scratch::default();
        match &self.user {
            Some((ac, ids)) => {
                let mut done = 0;
                for m in ac.find_iter(s) {
                    self.encode_stretch(&s[done..m.start()], out, &mut scratch);
                    out.push(ids[m.pattern().as_usize()]);
                    done = m.end();
                }
                self.encode_stretch(&s[done..], out, &mut scratch);
            }
            None => self.encode_stretch(s, out, &mut scratch),
        }
    }

    /// Encodes normalized text with no user-defined piece in it, cut into
    /// words where no piece can span the cut.
    fn encode_stretch(&self, s: &str, out: &mut Vec<u32>, scratch: &mut Scratch) {
        let mut start = 0;
        let mut prev: Option<char> = None;
        for (i, c) in s.char_indices() {
            let cut = match c {
                SPACE => prev.is_some_and(|p| p != SPACE) && i > start && self.can_cut(s, i),
                '\n' => self.line_cuts && prev.is_some_and(|p| p != '\n') && i > start,
                _ => false,
            };
            if cut {
                self.encode_word(&s[start..i], out, scratch);
                start = i;
            }
            prev = Some(c);
        }
        self.encode_word(&s[start..], out, scratch);
    }

    fn can_cut(&self, s: &str, i: usize) -> bool {
        !self
            .bridges
            .iter()
            .any(|(before, after)| s[..i].ends_with(&**before) && s[i..].starts_with(&**after))
    }

    /// The ids of one word: from this thread's cache, or by BPE.
    fn encode_word(&self, word: &str, out: &mut Vec<u32>, scratch: &mut Scratch) {
        if word.is_empty() {
            return;
        }
        if word.len() > CACHED_WORD {
            self.merge_word(word, out, scratch);
            return;
        }
        let owner = self.serial;
        WORDS.with(|cell| {
            let mut cache = cell.borrow_mut();
            if cache.owner != owner || cache.words.len() > WORD_CACHE_LIMIT {
                cache.words.clear();
                cache.owner = owner;
            }
            if !cache.gate.active() {
                self.merge_word(word, out, scratch);
                return;
            }
            if let Some(ids) = cache.words.get(word) {
                out.extend_from_slice(ids);
                cache.gate.hit();
                return;
            }
            let start = out.len();
            self.merge_word(word, out, scratch);
            cache.words.insert(word.into(), out[start..].into());
        });
    }

    /// BPE over one word.
    fn merge_word(&self, word: &str, out: &mut Vec<u32>, scratch: &mut Scratch) {
        if word.len() > LONG_WORD
            && let Some(long) = self.long_for(word.len())
            && self.encode_long(long, word, out, scratch)
        {
            return;
        }
        self.merge_emit(word, out, scratch);
    }

    /// BPE over one word by the merge itself (scan or heap): by piece ids
    /// for a short word when the model allows it, else by text.
    fn merge_emit(&self, word: &str, out: &mut Vec<u32>, scratch: &mut Scratch) {
        if let Some(m) = self.by_id_for(word.len())
            && self.merge_short_ids(m, word, out, scratch)
        {
            return;
        }
        self.merge_emit_text(word, out, scratch);
    }

    /// The merge by piece ids once it is worth its build: when the words
    /// merged so far add up to more than [`BUILD_BY_ID_AFTER`] bytes. A
    /// short text, or one whose words repeat (served by the word cache),
    /// does not pay for it.
    #[inline]
    fn by_id_for(&self, len: usize) -> Option<&IdMerge> {
        if let Some(m) = self.by_id.get() {
            return m.as_ref();
        }
        let seen = self
            .by_id_bytes
            .fetch_add(len, std::sync::atomic::Ordering::Relaxed);
        if seen + len > BUILD_BY_ID_AFTER {
            return self.by_id();
        }
        None
    }

    /// The merge by piece ids, built on first use.
    fn by_id(&self) -> Option<&IdMerge> {
        self.by_id
            .get_or_init(|| {
                let pairs = self.pieces.pairs()?;
                let mut direct: Vec<bool> = self.unused.iter().map(|&u| !u).collect();
                for text in self.reserved.keys() {
                    if let Some(id) = self.pieces.find(text) {
                        direct[id as usize] = false;
                    }
                }
                Some(IdMerge { pairs, direct })
            })
            .as_ref()
    }

    /// [`SpmTokenizer::merge_scan`] and emit over piece ids, in fixed
    /// arrays, for a word of up to [`SHORT`] characters (`false`, with
    /// `out` unchanged, for a longer one). The same merges in the same
    /// order: the highest score first, the leftmost among equals, and the
    /// candidates of the two symbols next to a merge found again (left one
    /// last), so unused pieces note the pair that formed them as the text
    /// merge does.
    fn merge_short_ids(
        &self,
        m: &IdMerge,
        word: &str,
        out: &mut Vec<u32>,
        scratch: &mut Scratch,
    ) -> bool {
        let mut ids = [NO_PIECE; SHORT];
        let mut starts = [0u32; SHORT + 1];
        let mut n = 0;
        for (i, c) in word.char_indices() {
            if n == SHORT {
                return false;
            }
            ids[n] = m.pairs.char_id(&self.pieces, c);
            starts[n] = i as u32;
            n += 1;
        }
        if n == 0 {
            return true;
        }
        starts[n] = word.len() as u32;
        scratch.rev_merge.clear();
        // Per symbol, the merge with the one after it: its score and id
        // (`NO_PIECE` for none).
        let mut scores = [0f32; SHORT];
        let mut merged = [NO_PIECE; SHORT];
        let candidate = |k: usize,
                         ids: &[u32; SHORT],
                         starts: &[u32; SHORT + 1],
                         scratch: &mut Scratch|
         -> (f32, u32) {
            let (l, r) = (ids[k], ids[k + 1]);
            if l == NO_PIECE || r == NO_PIECE {
                return (0.0, NO_PIECE);
            }
            match m.pairs.get(l, r) {
                Some((score, id)) => {
                    if self.unused[id as usize] {
                        let [a, b, e] =
                            [starts[k], starts[k + 1], starts[k + 2]].map(|x| x as usize);
                        scratch.rev_merge.insert(
                            word[a..e].to_string(),
                            (word[a..b].to_string(), word[b..e].to_string()),
                        );
                    }
                    (score, id)
                }
                None => (0.0, NO_PIECE),
            }
        };
        for k in 0..n - 1 {
            (scores[k], merged[k]) = candidate(k, &ids, &starts, scratch);
        }
        loop {
            let mut best: Option<(f32, usize)> = None;
            for k in 0..n - 1 {
                if merged[k] != NO_PIECE && best.is_none_or(|(s, _)| scores[k] > s) {
                    best = Some((scores[k], k));
                }
            }
            let Some((_, k)) = best else { break };
            ids[k] = merged[k];
            ids.copy_within(k + 2..n, k + 1);
            starts.copy_within(k + 2..n + 1, k + 1);
            scores.copy_within(k + 2..n, k + 1);
            merged.copy_within(k + 2..n, k + 1);
            n -= 1;
            if k + 1 < n {
                (scores[k], merged[k]) = candidate(k, &ids, &starts, scratch);
            } else {
                merged[k] = NO_PIECE;
            }
            if k > 0 {
                (scores[k - 1], merged[k - 1]) = candidate(k - 1, &ids, &starts, scratch);
            }
        }
        for k in 0..n {
            let id = ids[k];
            if id != NO_PIECE && m.direct[id as usize] {
                out.push(id);
            } else {
                self.emit(
                    &word[starts[k] as usize..starts[k + 1] as usize],
                    out,
                    scratch,
                );
            }
        }
        true
    }

    /// BPE over one word by the merge of texts (scan or heap): the
    /// reference of the merge by ids.
    fn merge_emit_text(&self, word: &str, out: &mut Vec<u32>, scratch: &mut Scratch) {
        self.merge_symbols(word, scratch);
        let mut k = 0u32;
        while k != NONE {
            let sym = scratch.symbols[k as usize];
            self.emit(&word[sym.start as usize..sym.end as usize], out, scratch);
            k = sym.next;
        }
    }

    /// The ids of the pieces the merge leaves of `word` ([`NONE`] for a
    /// symbol that is no piece), before unused pieces are split back or
    /// unknown symbols fall back to bytes: the reference the linear-time
    /// encoder is checked against.
    fn merge_ids(&self, word: &str) -> Vec<u32> {
        let mut scratch = Scratch::default();
        let mut ids = Vec::new();
        if word.is_empty() {
            return ids;
        }
        self.merge_symbols(word, &mut scratch);
        let mut k = 0u32;
        while k != NONE {
            let sym = scratch.symbols[k as usize];
            let text = &word[sym.start as usize..sym.end as usize];
            ids.push(self.pieces.find(text).unwrap_or(NONE));
            k = sym.next;
        }
        ids
    }

    /// The linear-time encoder for a long word of `len` bytes, once it is
    /// worth its build (about as long as merging 1 MB of long words): when
    /// the word is longer than [`BUILD_LONG_AFTER`] or the long words so far
    /// add up to more. Text with a few long lines does not pay for it.
    fn long_for(&self, len: usize) -> Option<&LongWords> {
        if let Some(long) = self.long.get() {
            return long.as_ref();
        }
        let seen = self
            .long_bytes
            .fetch_add(len, std::sync::atomic::Ordering::Relaxed);
        if seen + len > BUILD_LONG_AFTER {
            return self.long();
        }
        None
    }

    /// The linear-time encoder, built on first use; `None` when the model
    /// does not meet its conditions.
    fn long(&self) -> Option<&LongWords> {
        self.long.get_or_init(|| self.build_long()).as_ref()
    }

    /// Builds the linear-time encoder of the pieces a word can hold.
    ///
    /// A word (text between user-defined pieces) holds none of their
    /// texts, so the merge only ever forms pieces that hold none either.
    /// The encoder's symbols are those pieces of one character, and every
    /// split of such a piece into two is a rule whose priority is the
    /// piece's rank by score (highest first, equal scores equal): the
    /// merge's own order, highest score first and leftmost among equals.
    /// A character that is no piece merges with nothing when no piece
    /// holds it, so words are cut around it.
    ///
    /// The encoder needs each piece the merge can leave to be formed last
    /// from two pieces of higher score. A few pieces are not: Gemma 3's
    /// `▁======` is formed last from `▁=====`, whose score is lower. The
    /// merge forms a piece only in a word that holds its text, so such
    /// pieces are set aside with every piece that holds them (a first
    /// build finds them all), and the encoder serves only words that hold
    /// none of them.
    ///
    /// `None` when the model has unused pieces (they are split back by how
    /// the merge formed them), when a piece the encoder covers holds a
    /// character that is no symbol, or has the text of a control, unknown
    /// or byte piece, or when the second build still finds pieces to set
    /// aside or [`Backtrack::build`] refuses for another reason.
    fn build_long(&self) -> Option<LongWords> {
        if self.unused.iter().any(|&u| u) {
            return None;
        }
        let mut aside: Vec<String> = Vec::new();
        for _ in 0..2 {
            let matcher = if aside.is_empty() {
                None
            } else {
                Some(AhoCorasick::new(&aside).ok()?)
            };
            let found = RefCell::new(Vec::new());
            let encoder = self.build_long_without(matcher.as_ref(), |text| {
                let ids = self.merge_ids(text);
                if ids.len() == 1 {
                    // The merge leaves a piece the encoder cannot explain:
                    // note it and let the build go on to find the others.
                    found.borrow_mut().push(text.to_string());
                    return Vec::new();
                }
                ids
            });
            let found = found.into_inner();
            if found.is_empty() {
                return encoder.map(|encoder| LongWords {
                    encoder,
                    aside: matcher,
                });
            }
            aside.extend(found);
        }
        None
    }

    /// [`SpmTokenizer::build_long`] over the pieces that hold neither a
    /// user-defined piece nor a text of `aside`, with `reference` the merge
    /// of a text into ids.
    fn build_long_without(
        &self,
        aside: Option<&AhoCorasick>,
        reference: impl Fn(&str) -> Vec<u32>,
    ) -> Option<Backtrack> {
        let n = self.pieces.len();
        let held = |text: &str| {
            self.user.as_ref().is_some_and(|(ac, _)| ac.is_match(text))
                || aside.is_some_and(|ac| ac.is_match(text))
        };
        let mut covered = vec![false; n];
        let mut ids = Vec::new();
        for id in self.pieces.mergeable_ids() {
            let text = self.pieces.text(id);
            if !text.is_empty() && !held(text) {
                covered[id as usize] = true;
                ids.push(id);
            }
        }
        ids.sort_unstable();
        let mut atoms = Vec::new();
        let mut buf = [0u8; 4];
        for &id in &ids {
            let text = self.pieces.text(id);
            if self.reserved.contains_key(text) {
                return None;
            }
            let mut chars = text.chars();
            if let (Some(_), None) = (chars.next(), chars.next()) {
                atoms.push((id, id));
                continue;
            }
            let all_atoms = text.chars().all(|c| {
                self.pieces
                    .find(c.encode_utf8(&mut buf))
                    .is_some_and(|a| covered[a as usize])
            });
            if !all_atoms {
                return None;
            }
        }
        let mut scores: Vec<f32> = ids.iter().map(|&id| self.pieces.score(id)).collect();
        scores.sort_unstable_by(|a, b| b.total_cmp(a));
        scores.dedup_by(|a, b| a.total_cmp(b) == Ordering::Equal);
        let rank = |id: u32| -> u32 {
            let s = self.pieces.score(id);
            scores.partition_point(|x| x.total_cmp(&s) == Ordering::Greater) as u32
        };
        let mut rules: Vec<Rule> = Vec::new();
        for &m in &ids {
            let text = self.pieces.text(m);
            let p = rank(m);
            for (k, _) in text.char_indices().skip(1) {
                if let Some(l) = self.pieces.find(&text[..k])
                    && let Some(r) = self.pieces.find(&text[k..])
                    && covered[l as usize]
                    && covered[r as usize]
                {
                    rules.push((l, r, p, m));
                }
            }
        }
        Backtrack::build(n, &atoms, rules, false, |symbols| {
            let text: String = symbols.iter().map(|&s| self.pieces.text(s)).collect();
            reference(&text)
        })
    }

    /// Encodes a word with the linear-time encoder: each run of characters
    /// that are symbols of it, and the other characters on their own.
    /// `false`, with `out` unchanged, if the word holds a text set aside or
    /// the encoder turns a run down.
    fn encode_long(
        &self,
        long: &LongWords,
        word: &str,
        out: &mut Vec<u32>,
        scratch: &mut Scratch,
    ) -> bool {
        if long.aside.as_ref().is_some_and(|ac| ac.is_match(word)) {
            return false;
        }
        let base = out.len();
        let mut run = std::mem::take(&mut scratch.run);
        run.clear();
        let mut buf = [0u8; 4];
        let mut ok = true;
        for c in word.chars() {
            let text = c.encode_utf8(&mut buf);
            if let Some(id) = self.pieces.find(text) {
                run.push(id);
                continue;
            }
            if !long.encoder.encode(&run, out) {
                ok = false;
                break;
            }
            run.clear();
            self.emit(text, out, scratch);
        }
        ok = ok && long.encoder.encode(&run, out);
        scratch.run = run;
        if !ok {
            out.truncate(base);
        }
        ok
    }

    /// Merges the symbols of `word` (left in `scratch.symbols`).
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
        if n <= SHORT {
            self.merge_scan(word, scratch);
        } else {
            self.merge_heap(word, scratch);
        }
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

    /// The merge of symbol `k` with the one after it, if that is a piece:
    /// (score, id).
    fn candidate(&self, word: &str, k: u32, scratch: &mut Scratch) -> Option<(f32, u32)> {
        let a = scratch.symbols[k as usize];
        if a.next == NONE {
            return None;
        }
        let b = scratch.symbols[a.next as usize];
        let (id, score) = self.pair(word, a, b)?;
        self.note(word, a, b, id, scratch);
        Some((score, id))
    }

    /// Merges by scanning the candidates kept per symbol (only the two
    /// next to a merge change): cheaper than a heap for short words.
    fn merge_scan(&self, word: &str, scratch: &mut Scratch) {
        let n = scratch.symbols.len();
        scratch.candidates.clear();
        scratch.candidates.resize(n, None);
        for k in 0..n as u32 {
            scratch.candidates[k as usize] = self.candidate(word, k, scratch);
        }
        loop {
            let mut best: Option<(f32, u32)> = None;
            let mut k = 0u32;
            while k != NONE {
                if let Some((score, _)) = scratch.candidates[k as usize]
                    && best.is_none_or(|(s, _)| score > s)
                {
                    best = Some((score, k));
                }
                k = scratch.symbols[k as usize].next;
            }
            let Some((_, k)) = best else { break };
            merge(&mut scratch.symbols, k);
            scratch.candidates[k as usize] = self.candidate(word, k, scratch);
            let prev = scratch.symbols[k as usize].prev;
            if prev != NONE {
                scratch.candidates[prev as usize] = self.candidate(word, prev, scratch);
            }
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
    /// Per symbol, the merge with the symbol after it: (score, id).
    candidates: Vec<Option<(f32, u32)>>,
    rev_merge: FxHashMap<String, (String, String)>,
    /// The symbols of a run of a word, for the linear-time encoder.
    run: Vec<u32>,
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
        assert!(text.len() > 2 * super::super::PARALLEL_CHUNK);
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
            let cut = match c {
                SPACE => prev.is_some_and(|p| p != SPACE) && i > start && m.can_cut(s, i),
                '\n' => m.line_cuts && prev.is_some_and(|p| p != '\n') && i > start,
                _ => false,
            };
            if cut {
                out.push(s[start..i].to_string());
                start = i;
            }
            prev = Some(c);
        }
        out.push(s[start..].to_string());
    }

    /// The linear-time encoder and the merge agree on every word of `text`
    /// that holds no text set aside, and the encoder turns down the others;
    /// returns the number of words.
    fn long_agrees(m: &SpmTokenizer, text: &str) -> usize {
        let long = m.long().expect("the model meets the encoder's conditions");

        let mut scratch = Scratch::default();
        let words = words(m, text);
        for w in &words {
            let (mut fast, mut slow) = (Vec::new(), Vec::new());
            let aside = long.aside.as_ref().is_some_and(|ac| ac.is_match(w));
            assert_eq!(
                m.encode_long(long, w, &mut fast, &mut scratch),
                !aside,
                "{w:?}"
            );
            if aside {
                assert!(fast.is_empty());
                continue;
            }
            m.merge_emit(w, &mut slow, &mut scratch);
            assert!(fast == slow, "{w:?}: {fast:?} != {slow:?}");
        }
        words.len()
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

    #[test]
    fn long_words_set_aside_pieces_formed_from_lower_scores() {
        // ids: <unk>=0 a=1 b=2 ab=3 abb=4 abbb=5 ba=6. `abbb` is formed
        // last from `abb`, whose score is lower: set aside, with the words
        // that hold it.
        let m = SpmTokenizer::parse(&model(
            &[
                ("a", -20.0, NORMAL),
                ("b", -20.0, NORMAL),
                ("ab", -1.0, NORMAL),
                ("abb", -10.0, NORMAL),
                ("abbb", -5.0, NORMAL),
                ("ba", -2.0, NORMAL),
            ],
            true,
            false,
            false,
        ))
        .unwrap();
        assert_eq!(encode(&m, "abbb"), [5]);
        let long = m.long().expect("built with abbb set aside");
        let aside = long.aside.as_ref().expect("abbb is set aside");
        assert!(aside.is_match("abbb") && !aside.is_match("abb"));
        let mut scratch = Scratch::default();
        let mut out = Vec::new();
        assert!(!m.encode_long(long, &"abbb".repeat(40), &mut out, &mut scratch));
        assert!(out.is_empty());
        let words = long_agrees(&m, &random_text(5, &["a", "b", "ab", "c", "é"], 4000));
        assert_eq!(words, 1);
        let words = long_agrees(&m, &random_text(6, &["a", "ab", "abb", "c", "é"], 4000));
        assert_eq!(words, 1);
        for unit in ["ab", "abb", "ba", "bab", "aab", "c"] {
            long_agrees(&m, &unit.repeat(70));
        }
    }

    #[test]
    fn the_long_word_encoder_is_built_once_long_words_add_up() {
        let m = SpmTokenizer::parse(&model(
            &[
                ("a", -20.0, NORMAL),
                ("b", -20.0, NORMAL),
                ("ab", -1.0, NORMAL),
            ],
            true,
            false,
            false,
        ))
        .unwrap();
        assert!(m.long_for(LONG_WORD + 1).is_none());
        assert!(m.long.get().is_none(), "not built for one long word");
        let word = random_text(17, &["a", "b", "é"], BUILD_LONG_AFTER);
        let mut merged = Vec::new();
        m.merge_emit(&word, &mut merged, &mut Scratch::default());
        // Through `encode`: the word passes the limit and is encoded by it.
        assert_eq!(encode(&m, &word), merged);
        assert!(m.long.get().is_some_and(|l| l.is_some()));
    }

    #[test]
    fn long_words_need_a_model_without_unused_pieces() {
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
        assert!(m.long().is_none());
        assert_eq!(encode(&m, &"ab".repeat(50)), [1, 2].repeat(50));
    }

    #[test]
    fn gemma3_long_words_encode_as_the_merge_does() {
        let t = super::super::FileTokenizer::gemma3();
        let super::super::Backend::Spm(m) = &t.backend else {
            panic!("gemma3 is a SentencePiece model")
        };
        let aside = m.long().unwrap().aside.as_ref().unwrap();
        assert!(aside.is_match("▁======") && aside.is_match("x▁SSSRx"));
        assert!(!aside.is_match("▁=====") && !aside.is_match("▁SSS"));
        long_agrees(m, &" SSSR SSSSR ======= ======SSSR".repeat(20));
        let units = [
            "a", "ab", "\n", " ", "▁", "中", "é", "🙂", "aé", "x1", "==", "\t", "ab ", " the", ".",
            "0", "\u{0}", "\u{e000}",
        ];
        for unit in units {
            for n in [1, 2, 3, 5, 8, 33, 100, 1000] {
                long_agrees(m, &unit.repeat(n));
            }
        }
        let alphabets: [&[&str]; 6] = [
            &["a", "b", "c"],
            &["a", "b", " ", "é", "中", "文", "🙂", "\n"],
            &["ab", "ba", "ing", "tion", "▁", "er"],
            &["=", "+", "/", "A", "z", "9"],
            &["中", "文", "日", "本", "語", "。", "の"],
            &[
                "a",
                "Z",
                "\u{1}",
                "\u{7f}",
                "\u{e000}",
                "\u{10ffff}",
                "ъ",
                "ü",
            ],
        ];
        let mut words = 0;
        for (k, alphabet) in alphabets.iter().enumerate() {
            for n in [10, 200, 5000] {
                words += long_agrees(m, &random_text(k as u64 * 7919 + n as u64, alphabet, n));
            }
        }
        assert!(words > 100, "{words}");
        let lower: Vec<String> = ('a'..='z').map(String::from).collect();
        let lower: Vec<&str> = lower.iter().map(String::as_str).collect();
        long_agrees(m, &random_text(99, &lower, 100_000));
        let mixed = "The quick brown fox, 日本語のテキスト, x=1+2; émigré 🙂 ".repeat(50);
        long_agrees(m, &mixed.replace(' ', ""));
    }

    /// The merge by piece ids leaves what the merge by text leaves, word
    /// by word; returns the number of words merged by ids.
    fn ids_agree(m: &SpmTokenizer, text: &str) -> usize {
        let by_id = m.by_id().expect("the model allows the merge by ids");
        let mut scratch = Scratch::default();
        let mut short = 0;
        for w in words(m, text) {
            let (mut fast, mut slow) = (Vec::new(), Vec::new());
            if m.merge_short_ids(by_id, &w, &mut fast, &mut scratch) {
                short += 1;
            } else {
                assert!(fast.is_empty());
                assert!(w.chars().count() > SHORT, "{w:?}");
                continue;
            }
            m.merge_emit_text(&w, &mut slow, &mut scratch);
            assert!(fast == slow, "{w:?}: {fast:?} != {slow:?}");
        }
        short
    }

    #[test]
    fn gemma3_short_words_merge_by_ids_as_by_text() {
        let t = super::super::FileTokenizer::gemma3();
        let super::super::Backend::Spm(m) = &t.backend else {
            panic!("gemma3 is a SentencePiece model")
        };
        assert!(m.by_id().unwrap().pairs.len() > 500_000);
        let alphabets: [&[&str]; 7] = [
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
        let mut words = 0;
        for (k, alphabet) in alphabets.iter().enumerate() {
            for n in [10, 200, 5000, 50_000] {
                words += ids_agree(m, &random_text(k as u64 * 7919 + n as u64, alphabet, n));
            }
        }
        let lower: Vec<String> = ('a'..='z').map(String::from).collect();
        let lower: Vec<&str> = lower.iter().map(String::as_str).collect();
        for n in 1..12 {
            let mut with_spaces = lower.clone();
            with_spaces.extend(std::iter::repeat_n(" ", n));
            words += ids_agree(m, &random_text(n as u64, &with_spaces, 30_000));
        }
        let source = include_str!("spm.rs");
        words += ids_agree(m, source);
        assert!(words > 30_000, "{words}");
    }

    #[test]
    fn short_words_merge_by_ids_as_by_text_with_unused_and_reserved_pieces() {
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
        let mut words = 0;
        for seed in 1..40 {
            let text = random_text(seed, &["a", "b", "c", "é", "x", "▁"], 3000);
            words += ids_agree(&m, &text);
        }
        assert!(words > 50, "{words}");
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
