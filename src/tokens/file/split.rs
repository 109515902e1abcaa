//! Splitting text into pieces: patterns, delimiter behaviours (as in
//! HuggingFace `tokenizers`), and the byte-level alphabet.

use std::cell::RefCell;
use std::ops::Range;
use std::sync::OnceLock;
use std::sync::{Arc, Mutex, Weak};

use fancy_regex::Regex;
use regex_automata::meta::Cache;

/// A split regex. tiktoken's cl100k, o200k and r50k patterns run on the
/// exact hand-written scanners of the built-in encodings; the Llama 3, Qwen 2
/// and byte-level patterns (and o200k inside a `tokenizer.json`) on the
/// `regex` crate's automata with their `\s+(?!\S)` lookahead emulated; any
/// other pattern on `fancy-regex`.
#[derive(Debug)]
pub(super) enum Splitter {
    /// The built-in scanner of an encoding whose pattern this is.
    Scanner(crate::tokens::Encoding),
    /// A lookahead-free version of a known pattern.
    Fast {
        /// The pattern with `\s+(?!\S)|` removed.
        re: regex_automata::meta::Regex,
        /// A number no other splitter of this process has: each thread's
        /// search cache for this regex is in [`SEARCH_CACHES`] under it (the
        /// regex's own pool of caches costs an atomic lock and unlock for
        /// every match on a thread that did not build it; a shared stack
        /// taken once per text still costs them once per piece, and a
        /// model that splits in several passes searches once per piece).
        serial: u64,
        /// Caches of threads that ended (or dropped them), warm, for the
        /// next thread's first search: a lazy DFA's states cost more to
        /// build than most texts cost to search.
        spare: Arc<Mutex<Vec<Cache>>>,
        /// Whether `\s*[\r\n]+` comes before `\s+(?!\S)` in the pattern: then
        /// a whitespace match that ends in a newline came from it and is kept.
        newline_alternative: bool,
        /// Whether this is a known pattern with the lookahead emulated (else
        /// a pattern with no lookaround, run as it is).
        known: bool,
        /// When no match can be empty, the ASCII characters a match can
        /// start with (bit `b` for byte `b`): the search steps over the
        /// others without running the regex (a model's pass that isolates
        /// digits over letters), and ASCII text is not searched at all
        /// when none can (a pass that isolates CJK runs over code or
        /// base64).
        starts: Option<u128>,
        /// Whether a match that starts with an ASCII letter runs to the end
        /// of the letters (known patterns whose words are `\p{L}+` or
        /// `[\p{L}\p{M}]+` after an optional non-letter): a run of ASCII
        /// letters that an ASCII character ends is a match, found without
        /// the regex (a word of megabytes costs the regex about 3 ns a
        /// byte).
        letter_runs: bool,
        /// Whether a match that ends well before the end of the text searched
        /// is the same whatever follows (see [`Splitter::looks_ahead_little`]):
        /// known patterns, and patterns without look-around whose matches are
        /// short or are runs of one class.
        nearby: bool,
    },
    /// Any other pattern.
    Fancy(fancy_regex::Regex),
}

/// The lazy DFA's transition cache of a known pattern, in bytes (the
/// `regex` crate's default is 2 MiB): text in many scripts, or random bytes,
/// visits more states of these Unicode-class patterns than fit there, and
/// the cache was cleared and the states built again over and over.
const DFA_CACHE: usize = 32 << 20;

thread_local! {
    /// This thread's search caches, by the serial number of their splitter.
    static SEARCH_CACHES: RefCell<Vec<(u64, HeldCache)>> = const { RefCell::new(Vec::new()) };
}

/// A thread's search cache, which goes back to its splitter's spares when
/// dropped (the thread ends, or keeps too many).
pub(super) struct HeldCache {
    cache: Option<Box<Cache>>,
    home: Weak<Mutex<Vec<Cache>>>,
}

impl HeldCache {
    /// The cache itself.
    pub(super) fn cache(&mut self) -> Option<&mut Cache> {
        self.cache.as_deref_mut()
    }
}

impl Drop for HeldCache {
    fn drop(&mut self) {
        if let (Some(cache), Some(home)) = (self.cache.take(), self.home.upgrade())
            && let Ok(mut spare) = home.lock()
        {
            spare.push(*cache);
        }
    }
}

/// The most search caches a thread keeps.
const KEPT_CACHES: usize = 16;

/// Patterns whose tail is `\s+(?!\S)|\s+`, and whether an `\s*[\r\n]+`
/// alternative comes first. No earlier alternative of these can match
/// whitespace alone, which the emulation relies on.
const KNOWN: &[(&str, bool, bool)] = &[
    (super::tiktoken::LLAMA3_PATTERN, true, true),
    (super::tiktoken::O200K_PATTERN, true, false),
    (super::tiktoken::BYTE_LEVEL_PATTERN, false, true),
    (super::tiktoken::QWEN2_PATTERN, true, true),
    (super::tiktoken::DEEPSEEK3_PATTERN, true, true),
];

impl Splitter {
    /// Compiles a split pattern.
    pub fn new(pattern: &str) -> Result<Splitter, String> {
        use super::tiktoken::{CL100K_PATTERN, GPT2_PATTERN, O200K_PATTERN};
        use crate::tokens::Encoding;
        match pattern {
            CL100K_PATTERN => return Ok(Splitter::Scanner(Encoding::Cl100kBase)),
            O200K_PATTERN => return Ok(Splitter::Scanner(Encoding::O200kBase)),
            GPT2_PATTERN => return Ok(Splitter::Scanner(Encoding::R50kBase)),
            _ => {}
        }
        Self::without_scanner(pattern)
    }

    /// Compiles a split pattern without the built-in scanners.
    fn without_scanner(pattern: &str) -> Result<Splitter, String> {
        let fast = |plain: &str, newline_alternative, known, letter_runs| {
            let config = regex_automata::meta::Config::new().hybrid_cache_capacity(DFA_CACHE);
            let re = regex_automata::meta::Builder::new()
                .configure(config)
                .build(plain)
                .ok()?;
            static SERIAL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
            let hir = regex_automata::util::syntax::parse(plain).ok();
            let starts = hir.as_ref().and_then(|hir| match first_chars(hir) {
                (_, true) => None,
                (set, false) => Some(set),
            });
            let nearby = known || hir.as_ref().is_some_and(decided_nearby);
            Some(Splitter::Fast {
                re,
                serial: SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
                spare: Arc::default(),
                newline_alternative,
                known,
                starts,
                letter_runs,
                nearby,
            })
        };
        if let Some(&(known, newline_alternative, letter_runs)) =
            KNOWN.iter().find(|(p, ..)| *p == pattern)
            && let Some(s) = fast(
                &known.replace(r"|\s+(?!\S)|\s+", r"|\s+"),
                newline_alternative,
                true,
                letter_runs,
            )
        {
            return Ok(s);
        }
        // A pattern the `regex` crate takes has no lookaround or
        // backreference: fancy-regex would hand it to that crate as it is,
        // through a pool of caches per match.
        if let Some(s) = fast(pattern, false, false, false) {
            return Ok(s);
        }
        Regex::new(pattern)
            .map(Splitter::Fancy)
            .map_err(|e| e.to_string())
    }

    /// Calls `f` with each match, in order.
    fn for_each_match(&self, s: &str, f: impl FnMut(Range<usize>)) {
        let mut f = f;
        self.with_cache(|cache| {
            self.matches_with(cache, s, 0, |r| {
                f(r);
                false
            })
        });
    }

    /// Runs `f` with this thread's search cache of a [`Splitter::Fast`]
    /// (`None` for the others), taken once for all of `f`'s searches.
    fn with_cache<R>(&self, f: impl FnOnce(Option<&mut Cache>) -> R) -> R {
        let mut held = self.take_cache();
        let result = f(held.as_mut().and_then(HeldCache::cache));
        self.put_cache(held);
        result
    }

    /// Takes this thread's search cache of a [`Splitter::Fast`] (`None` for
    /// the others) until [`Splitter::put_cache`] gives it back: for a
    /// caller that runs many short searches, such as a split applied to
    /// each piece of the split before it, and pays for the thread-local
    /// lookup once instead of once per piece.
    pub(super) fn take_cache(&self) -> Option<HeldCache> {
        let Splitter::Fast {
            re, serial, spare, ..
        } = self
        else {
            return None;
        };
        let taken = SEARCH_CACHES
            .try_with(|c| {
                let mut caches = c.borrow_mut();
                let k = caches.iter().position(|(id, _)| id == serial)?;
                Some(caches.swap_remove(k).1)
            })
            .ok()
            .flatten();
        let mut held = taken.unwrap_or_else(|| HeldCache {
            cache: spare.lock().ok().and_then(|mut v| v.pop()).map(Box::new),
            home: Arc::downgrade(spare),
        });
        held.cache
            .get_or_insert_with(|| Box::new(re.create_cache()));
        Some(held)
    }

    /// Gives back a cache [`Splitter::take_cache`] took.
    pub(super) fn put_cache(&self, held: Option<HeldCache>) {
        let (Splitter::Fast { serial, .. }, Some(held)) = (self, held) else {
            return;
        };
        let _ = SEARCH_CACHES.try_with(|c| {
            let mut caches = c.borrow_mut();
            // Caches of splitters dropped since are not kept forever.
            if caches.len() >= KEPT_CACHES {
                caches.clear();
            }
            caches.push((*serial, held));
        });
    }

    /// Calls `f` with each match in `s` of the search from byte `from`, in
    /// order, until `f` returns true; `cache` is the search cache of a
    /// [`Splitter::Fast`] (from [`Splitter::with_cache`]). Only the fancy
    /// regex (never scanned from a position, see
    /// [`Splitter::scans_from_anywhere`]) ignores `from`.
    fn matches_with(
        &self,
        cache: Option<&mut Cache>,
        s: &str,
        from: usize,
        mut f: impl FnMut(Range<usize>) -> bool,
    ) {
        match self {
            Splitter::Scanner(encoding) => {
                let mut at = from;
                crate::tokens::pretok::scan_pieces(*encoding, s, from, |piece, _| {
                    at += piece.len();
                    f(at - piece.len()..at)
                });
            }
            Splitter::Fancy(re) => {
                debug_assert_eq!(from, 0);
                for m in re.find_iter(s) {
                    // A regex that gives up (backtracking limit) leaves the
                    // rest of the text unmatched rather than failing.
                    let Ok(m) = m else { break };
                    if f(m.start()..m.end()) {
                        break;
                    }
                }
            }
            Splitter::Fast {
                re,
                newline_alternative,
                known,
                starts,
                letter_runs,
                ..
            } => {
                let mut own = None;
                let cache = match cache {
                    Some(c) => c,
                    None => own.insert(re.create_cache()),
                };
                let mut at = from;
                while at <= s.len() {
                    if let Some(set) = *starts {
                        at += s.as_bytes()[at..]
                            .iter()
                            .position(|&b| b >= 0x80 || set >> b & 1 == 1)
                            .unwrap_or(s.len() - at);
                    }
                    if *letter_runs && s.as_bytes().get(at).is_some_and(u8::is_ascii_alphabetic) {
                        let end = at + ascii_letters(&s.as_bytes()[at..]);
                        if s.as_bytes().get(end).is_none_or(|&b| b < 0x80) {
                            if f(at..end) {
                                break;
                            }
                            at = end;
                            continue;
                        }
                    }
                    let input = regex_automata::Input::new(s).range(at..);
                    // A known pattern matches wherever it starts: anchored
                    // there, the search needs no reverse pass for the start.
                    let anchored = input.clone().anchored(regex_automata::Anchored::Yes);
                    let found = match known {
                        true => re.search_with(cache, &anchored),
                        false => None,
                    };
                    let Some(m) = found.or_else(|| re.search_with(cache, &input)) else {
                        break;
                    };
                    let (start, mut end) = (m.start(), m.end());
                    let text = &s[start..end];
                    // `\s+(?!\S)`: a whitespace run followed by more text
                    // leaves its last character to the next piece.
                    if *known
                        && end < s.len()
                        && text.chars().all(char::is_whitespace)
                        && !(*newline_alternative && text.ends_with(['\r', '\n']))
                        && let Some((last, _)) = text.char_indices().last()
                        && last > 0
                    {
                        end = start + last;
                    }
                    if f(start..end) {
                        break;
                    }
                    at = if end > start {
                        end
                    } else {
                        match s[end..].chars().next() {
                            Some(c) => end + c.len_utf8(),
                            None => break,
                        }
                    };
                }
            }
        }
    }

    /// Ranges covering `s`, each flagged as a match or not (empty matches
    /// included, as `tokenizers` produces them).
    pub fn find_matches(&self, s: &str) -> Vec<(Range<usize>, bool)> {
        let mut out = Vec::new();
        if s.is_empty() {
            out.push((0..0, false));
            return out;
        }
        let mut prev = 0;
        self.for_each_match(s, |r| {
            if r.start > prev {
                out.push((prev..r.start, false));
            }
            prev = r.end.max(prev);
            out.push((r, true));
        });
        if prev < s.len() {
            out.push((prev..s.len(), false));
        }
        out
    }

    /// The pieces of `s` for BPE, tiktoken-style: the matches, plus any text
    /// the pattern skipped as pieces of its own; empty matches dropped.
    pub fn pieces(&self, s: &str, out: &mut Vec<Range<usize>>) {
        self.pieces_of(s, std::slice::from_ref(&(0..s.len())), out);
    }

    /// [`Splitter::pieces`] of each of `parts` of `s` in turn, appended to
    /// `out` as ranges of `s`: one pass of a model's pre-tokenizer over the
    /// pieces of the pass before, with the search cache taken once.
    pub fn pieces_of(&self, s: &str, parts: &[Range<usize>], out: &mut Vec<Range<usize>>) {
        self.with_cache(|cache| self.pieces_of_with(cache, s, parts, out));
    }

    /// [`Splitter::pieces_of`] with the search cache given (from
    /// [`Splitter::take_cache`]; `None` for any splitter but a
    /// [`Splitter::Fast`]).
    pub(super) fn pieces_of_with(
        &self,
        mut cache: Option<&mut Cache>,
        s: &str,
        parts: &[Range<usize>],
        out: &mut Vec<Range<usize>>,
    ) {
        let ascii_free = matches!(
            self,
            Splitter::Fast {
                starts: Some(0),
                ..
            }
        );
        for part in parts {
            let text = &s[part.clone()];
            if text.is_empty() {
                continue;
            }
            if ascii_free && text.is_ascii() {
                out.push(part.clone());
                continue;
            }
            let base = part.start;
            let mut prev = 0;
            self.matches_with(cache.as_deref_mut(), text, 0, |r| {
                if r.start > prev {
                    out.push(base + prev..base + r.start);
                }
                if r.end > r.start {
                    out.push(base + r.start..base + r.end);
                }
                prev = prev.max(r.end);
                false
            });
            if prev < text.len() {
                out.push(base + prev..base + text.len());
            }
        }
    }
}

impl Splitter {
    /// Whether [`Splitter::scan_from`] can start anywhere: every splitter
    /// but the fancy regex (whose look-behind would need the text before).
    pub fn scans_from_anywhere(&self) -> bool {
        !matches!(self, Splitter::Fancy(_))
    }

    /// Whether a piece that ends before a position is decided by the text up
    /// to [`LOOKAHEAD`](crate::tokens::chunks::LOOKAHEAD) bytes past it:
    /// the built-in and known patterns, whose alternatives look ahead a
    /// character at most beyond what they match; patterns with no
    /// look-around whose matches are at most that long (all of a match
    /// that starts before the position is then in the text read, and a
    /// match in it is one in the whole text); and runs of one class of
    /// characters (a run ends where the class does).
    pub fn looks_ahead_little(&self) -> bool {
        match self {
            Splitter::Scanner(_) => true,
            Splitter::Fast { nearby, .. } => *nearby,
            Splitter::Fancy(_) => false,
        }
    }

    /// Counts the pieces of the search of `text` from `from`, each by
    /// `count(text read, piece)`: a [`Scan`](crate::tokens::chunks::Scan)
    /// for [`count_synced`](crate::tokens::chunks::count_synced), which
    /// reads only as far past `until` as [`Splitter::looks_ahead_little`]
    /// allows and stops at settled pieces only.
    pub fn count_scan(
        &self,
        text: &str,
        from: usize,
        until: usize,
        stop: crate::tokens::chunks::Stop<'_>,
        mut count: impl FnMut(&str, Range<usize>) -> usize,
    ) -> (usize, usize) {
        let view = match self.looks_ahead_little() {
            true => crate::tokens::chunks::view_until(text, until),
            false => text,
        };
        let mut total = 0;
        let mut settled = (from, 0);
        self.scan_from(view, from, |r, settles| {
            if r.end > until {
                return true;
            }
            total += count(view, r.clone());
            if !settles {
                return false;
            }
            settled = (r.end, total);
            stop(r.end, total)
        });
        settled
    }

    /// The pieces of [`Splitter::pieces`] of the search of `s` that starts
    /// at character boundary `from` (not for the fancy regex): calls
    /// `f(piece, settled)` for each, in order, until it returns true;
    /// `settled` when the search goes on from the piece's end and nothing
    /// else (after a non-empty match), so that two searches that settle at
    /// the same place go on alike.
    pub fn scan_from(&self, s: &str, from: usize, mut f: impl FnMut(Range<usize>, bool) -> bool) {
        debug_assert!(self.scans_from_anywhere());
        self.with_cache(|cache| {
            let mut prev = from;
            let mut stopped = false;
            self.matches_with(cache, s, from, |r| {
                if r.start > prev && f(prev..r.start, false) {
                    stopped = true;
                    return true;
                }
                prev = prev.max(r.end);
                stopped = r.end > r.start && f(r, true);
                stopped
            });
            if !stopped && prev < s.len() {
                f(prev..s.len(), true);
            }
        });
    }
}

/// Whether the matches of `hir` that end before the end of the text
/// searched by [`LOOKAHEAD`](crate::tokens::chunks::LOOKAHEAD) bytes or more
/// do not depend on the text after that: no look-around and matches at most
/// that long, or a greedy run of one class (`[...]+`).
fn decided_nearby(hir: &regex_syntax::hir::Hir) -> bool {
    use regex_syntax::hir::HirKind;
    let props = hir.properties();
    if !props.look_set().is_empty() {
        return false;
    }
    if props
        .maximum_len()
        .is_some_and(|n| n <= crate::tokens::chunks::LOOKAHEAD)
    {
        return true;
    }
    let mut h = hir;
    while let HirKind::Capture(cap) = h.kind() {
        h = &cap.sub;
    }
    matches!(h.kind(), HirKind::Repetition(rep)
        if rep.greedy && rep.min >= 1 && rep.max.is_none()
            && matches!(rep.sub.kind(), HirKind::Class(_)))
}

/// The ASCII characters a match of `hir` can start with (bit `b` for byte
/// `b`), and whether it can be empty; over-estimates both (a look-around
/// counts as possibly empty).
fn first_chars(hir: &regex_syntax::hir::Hir) -> (u128, bool) {
    use regex_syntax::hir::{Class, HirKind};
    /// The bits of the ASCII characters from `start` to `end`.
    fn span(start: u32, end: u32) -> u128 {
        match start {
            0x80.. => 0,
            _ => {
                let end = end.min(0x7F);
                (u128::MAX >> (127 - (end - start))) << start
            }
        }
    }
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => (0, true),
        HirKind::Literal(lit) => match lit.0.first() {
            Some(&b) => (span(b.into(), b.into()), false),
            None => (0, true),
        },
        HirKind::Class(Class::Unicode(c)) => (
            c.ranges()
                .iter()
                .fold(0, |set, r| set | span(r.start().into(), r.end().into())),
            false,
        ),
        HirKind::Class(Class::Bytes(c)) => (
            c.ranges()
                .iter()
                .fold(0, |set, r| set | span(r.start().into(), r.end().into())),
            false,
        ),
        HirKind::Repetition(rep) => {
            let (set, empty) = first_chars(&rep.sub);
            (set, empty || rep.min == 0)
        }
        HirKind::Capture(cap) => first_chars(&cap.sub),
        HirKind::Concat(subs) => {
            let mut set = 0;
            for sub in subs {
                let (s, empty) = first_chars(sub);
                set |= s;
                if !empty {
                    return (set, false);
                }
            }
            (set, true)
        }
        HirKind::Alternation(subs) => subs
            .iter()
            .map(first_chars)
            .fold((0, false), |(a, e), (b, f)| (a | b, e || f)),
    }
}

/// The length of the run of ASCII letters `s` starts with.
fn ascii_letters(s: &[u8]) -> usize {
    let letter = |b: u8| (b | 0x20).wrapping_sub(b'a') < 26;
    let mut n = 0;
    // Sixteen at a time, without a branch per byte (the compiler's vector
    // compares), then one at a time in the block that ends the run.
    for block in s.chunks_exact(16) {
        if !block.iter().fold(true, |all, &b| all & letter(b)) {
            break;
        }
        n += 16;
    }
    n + s[n..]
        .iter()
        .position(|&b| !letter(b))
        .unwrap_or(s.len() - n)
}

/// What to split on.
#[derive(Debug)]
pub(super) enum Pattern {
    /// A literal string.
    Literal(String),
    /// A regular expression.
    Regex(Splitter),
    /// Every character the test accepts, each a match of its own.
    Char(fn(char) -> bool),
}

impl Pattern {
    /// Ranges of `s` covering it entirely, each flagged as a match or not.
    pub fn find_matches(&self, s: &str) -> Vec<(Range<usize>, bool)> {
        match self {
            Pattern::Regex(re) => re.find_matches(s),
            Pattern::Char(test) => {
                let mut out = Vec::new();
                let mut prev = 0;
                for (at, c) in s.char_indices() {
                    if test(c) {
                        if prev != at {
                            out.push((prev..at, false));
                        }
                        prev = at + c.len_utf8();
                        out.push((at..prev, true));
                    }
                }
                if prev != s.len() || s.is_empty() {
                    out.push((prev..s.len(), false));
                }
                out
            }
            Pattern::Literal(lit) => {
                let mut out = Vec::new();
                if s.is_empty() {
                    out.push((0..0, false));
                    return out;
                }
                let mut prev = 0;
                if !lit.is_empty() {
                    for (at, m) in s.match_indices(lit.as_str()) {
                        if prev != at {
                            out.push((prev..at, false));
                        }
                        prev = at + m.len();
                        out.push((at..prev, true));
                    }
                }
                if prev != s.len() {
                    out.push((prev..s.len(), false));
                }
                out
            }
        }
    }
}

/// How delimiters (matches) are treated when splitting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
pub(super) enum Behavior {
    /// Matches are dropped.
    Removed,
    /// Matches are pieces of their own.
    Isolated,
    /// A match joins the piece before it.
    MergedWithPrevious,
    /// A match joins the piece after it.
    MergedWithNext,
    /// Consecutive matches form one piece.
    Contiguous,
}

/// Applies a delimiter behaviour to flagged ranges; returns the kept ranges.
pub(super) fn split_ranges(
    matches: Vec<(Range<usize>, bool)>,
    behavior: Behavior,
) -> Vec<Range<usize>> {
    let mut out: Vec<Range<usize>> = Vec::with_capacity(matches.len());
    match behavior {
        Behavior::Isolated => out.extend(matches.into_iter().map(|(r, _)| r)),
        Behavior::Removed => out.extend(matches.into_iter().filter(|(_, m)| !m).map(|(r, _)| r)),
        Behavior::Contiguous => {
            let mut previous = false;
            for (r, is_match) in matches {
                match out.last_mut() {
                    Some(last) if is_match == previous => last.end = r.end,
                    _ => out.push(r),
                }
                previous = is_match;
            }
        }
        Behavior::MergedWithPrevious => {
            let mut previous = false;
            for (r, is_match) in matches {
                match out.last_mut() {
                    Some(last) if is_match && !previous => last.end = r.end,
                    _ => out.push(r),
                }
                previous = is_match;
            }
        }
        Behavior::MergedWithNext => {
            let mut previous = false;
            for (r, is_match) in matches.into_iter().rev() {
                match out.last_mut() {
                    Some(last) if is_match && !previous => last.start = r.start,
                    _ => out.push(r),
                }
                previous = is_match;
            }
            out.reverse();
        }
    }
    out
}

/// The GPT-2 byte-level alphabet: each byte as a printable character.
pub(super) fn byte_chars() -> &'static [char; 256] {
    static TABLE: OnceLock<[char; 256]> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = ['\0'; 256];
        let mut n = 0u32;
        for b in 0..=255u8 {
            let printable = matches!(b, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF);
            table[b as usize] = if printable {
                char::from(b)
            } else {
                let c = char::from_u32(256 + n).unwrap_or('\u{FFFD}');
                n += 1;
                c
            };
        }
        table
    })
}

/// The byte a byte-level character stands for.
pub(super) fn char_byte(c: char) -> Option<u8> {
    let code = c as u32;
    match code {
        0x21..=0x7E | 0xA1..=0xAC | 0xAE..=0xFF => Some(code as u8),
        256..=323 => {
            let n = code - 256;
            // The non-printable bytes in ascending order.
            (0..=255u8)
                .filter(|b| !matches!(b, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF))
                .nth(n as usize)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_alphabet_round_trips() {
        let table = byte_chars();
        assert_eq!(table[b' ' as usize], 'Ġ');
        assert_eq!(table[b'\n' as usize], 'Ċ');
        for b in 0..=255u8 {
            assert_eq!(char_byte(table[b as usize]), Some(b));
        }
    }

    #[test]
    fn scanners_split_like_fancy_regex() {
        use crate::tokens::file::tiktoken::{CL100K_PATTERN, GPT2_PATTERN, O200K_PATTERN};
        let samples = [
            "",
            " ",
            "a  b",
            "  \nx",
            "\n  ",
            "x\r ",
            "I'm 123456 ",
            "日本 🎉\t\n",
        ];
        for pattern in [CL100K_PATTERN, O200K_PATTERN, GPT2_PATTERN] {
            let scanner = Splitter::new(pattern).unwrap();
            assert!(matches!(scanner, Splitter::Scanner(_)));
            let fancy = Splitter::Fancy(Regex::new(pattern).unwrap());
            for s in samples {
                assert_eq!(
                    scanner.find_matches(s),
                    fancy.find_matches(s),
                    "{pattern} on {s:?}"
                );
            }
        }
    }

    #[test]
    fn fast_patterns_split_like_fancy_regex() {
        let samples = [
            "",
            " ",
            "  ",
            "a  b",
            "a \n\n b",
            "  \nx",
            "\n  x",
            "x\t\t",
            "x \u{a0}\u{2003}y",
            "Hello,   world!\r\n\r\n  fn main() {}\n\n\n",
            "I'm  12345 ab'LL  ",
            " \n \n",
            "日本語  のテキスト 🎉👩‍💻 ",
            "tabs\t\tand\nnewlines\n\t end  ",
        ];
        for &(pattern, ..) in KNOWN {
            let fast = Splitter::without_scanner(pattern).unwrap();
            assert!(matches!(fast, Splitter::Fast { .. }));
            let fancy = Splitter::Fancy(Regex::new(pattern).unwrap());
            for s in samples {
                assert_eq!(
                    fast.find_matches(s),
                    fancy.find_matches(s),
                    "{pattern} on {s:?}"
                );
            }
        }
    }

    /// Patterns with no lookaround run on the `regex` crate's automata as
    /// they are, and split as fancy-regex splits them, on any thread.
    #[test]
    fn plain_patterns_split_like_fancy_regex() {
        let patterns = [
            r"\p{N}{1,3}",
            "[一-龥぀-ゟ゠-ヿ]+",
            r"(?i:'s|'t|'re)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+|\s+",
            r"\w+|[^\w\s]+",
            " ",
        ];
        let mut samples: Vec<String> = [
            "",
            "I'm  12345 ab'LL  ",
            "日本語  のテキスト 🎉👩‍💻 ",
            "1234567 x12 ４５６",
            "Hello,   world!\r\n\r\n  fn main() {}\n\n\n",
        ]
        .map(String::from)
        .to_vec();
        samples.push("ab1 2日本'S\n".repeat(50));
        for pattern in patterns {
            let fast = Splitter::without_scanner(pattern).unwrap();
            assert!(matches!(fast, Splitter::Fast { known: false, .. }));
            assert!(fast.scans_from_anywhere());
            let fancy = Splitter::Fancy(Regex::new(pattern).unwrap());
            std::thread::scope(|scope| {
                for _ in 0..3 {
                    scope.spawn(|| {
                        for s in &samples {
                            assert_eq!(
                                fast.find_matches(s),
                                fancy.find_matches(s),
                                "{pattern} on {s:?}"
                            );
                            // A pass over the pieces of an earlier one: parts
                            // of every kind, pure ASCII among them.
                            let bounds: Vec<usize> = s
                                .char_indices()
                                .map(|(i, _)| i)
                                .step_by(3)
                                .chain([s.len()])
                                .collect();
                            let parts: Vec<Range<usize>> =
                                bounds.windows(2).map(|w| w[0]..w[1]).collect();
                            let mut got = Vec::new();
                            fast.pieces_of(s, &parts, &mut got);
                            let want: Vec<Range<usize>> = parts
                                .iter()
                                .flat_map(|p| {
                                    fancy
                                        .find_matches(&s[p.clone()])
                                        .into_iter()
                                        .filter(|(r, _)| !r.is_empty())
                                        .map(|(r, _)| r.start + p.start..r.end + p.start)
                                })
                                .collect();
                            assert_eq!(got, want, "{pattern} on {s:?}");
                        }
                    });
                }
            });
        }
        // Patterns none of whose matches start with an ASCII character
        // skip ASCII text; the others, and those that match empty, do not.
        for (pattern, free) in [
            ("[一-龥぀-ゟ゠-ヿ]+", true),
            ("(?:é|日)x*", true),
            (r"\b[é-ÿ]", true),
            (r"\p{N}{1,3}", false),
            ("[é-ÿ]*", false),
            ("(?:é|a)", false),
            ("x?日", false),
            (r"[^\p{L}]", false),
        ] {
            let fast = Splitter::without_scanner(pattern).unwrap();
            let ascii_free = matches!(
                fast,
                Splitter::Fast {
                    starts: Some(0),
                    ..
                }
            );
            assert_eq!(ascii_free, free, "{pattern}");
        }
        // The ASCII characters a match can start with.
        let digits = (0x30..0x3A).fold(0u128, |set, b| set | 1 << b);
        for (pattern, want) in [
            (r"\p{N}{1,3}", Some(digits)),
            (r"\b\d+", Some(digits)),
            (r"x|\d", Some(digits | 1 << b'x')),
            (r"(?i)k", Some(1 << b'K' | 1 << b'k')),
            (r"[^\x00-\x7E]", Some(1 << 0x7F)),
            (r"\d*", None),
            (r"(?:\d|)", None),
        ] {
            match Splitter::without_scanner(pattern).unwrap() {
                Splitter::Fast { starts, .. } => assert_eq!(starts, want, "{pattern}"),
                _ => panic!("{pattern}: not run on the automata"),
            }
        }
        // Lookaround stays with fancy-regex.
        assert!(matches!(
            Splitter::without_scanner(r"\s+(?!\S)|\s+").unwrap(),
            Splitter::Fancy(_)
        ));
    }

    proptest::proptest! {
        #[test]
        fn fast_patterns_agree_on_random_text(s in "[ a-zA-Z0-9'\\t\\r\\n\u{a0}\u{3000}\u{301}é日!?.,-]{0,60}") {
            for &(pattern, ..) in KNOWN {
                let fast = Splitter::without_scanner(pattern).unwrap();
                let fancy = Splitter::Fancy(Regex::new(pattern).unwrap());
                proptest::prop_assert_eq!(fast.find_matches(&s), fancy.find_matches(&s));
            }
            use crate::tokens::file::tiktoken::{CL100K_PATTERN, GPT2_PATTERN, O200K_PATTERN};
            for pattern in [CL100K_PATTERN, O200K_PATTERN, GPT2_PATTERN] {
                let scanner = Splitter::new(pattern).unwrap();
                let fancy = Splitter::Fancy(Regex::new(pattern).unwrap());
                proptest::prop_assert_eq!(scanner.find_matches(&s), fancy.find_matches(&s));
            }
        }
    }

    #[test]
    fn behaviours() {
        let m =
            |v: &[(usize, usize, bool)]| v.iter().map(|&(a, b, f)| (a..b, f)).collect::<Vec<_>>();
        // "a-b--c": matches at 1..2, 3..4, 4..5
        let input = m(&[
            (0, 1, false),
            (1, 2, true),
            (2, 3, false),
            (3, 4, true),
            (4, 5, true),
            (5, 6, false),
        ]);
        assert_eq!(
            split_ranges(input.clone(), Behavior::Removed),
            [0..1, 2..3, 5..6]
        );
        assert_eq!(
            split_ranges(input.clone(), Behavior::MergedWithPrevious),
            [0..2, 2..4, 4..5, 5..6]
        );
        assert_eq!(
            split_ranges(input.clone(), Behavior::MergedWithNext),
            [0..1, 1..3, 3..4, 4..6]
        );
        assert_eq!(
            split_ranges(input.clone(), Behavior::Contiguous),
            [0..1, 1..2, 2..3, 3..5, 5..6]
        );
        assert_eq!(split_ranges(input, Behavior::Isolated).len(), 6);
    }

    /// Which patterns may be searched in a text cut short: known ones, short
    /// matches without look-around, runs of one class; and for those, every
    /// piece that ends well before the cut is the piece of the whole text.
    #[test]
    fn pieces_before_a_cut_are_the_whole_texts() {
        use crate::tokens::chunks::view_until;
        let nearby = |p: &str| Splitter::new(p).unwrap().looks_ahead_little();
        for p in [
            r"\p{N}{1,3}",
            "[\u{4e00}-\u{9fa5}\u{3040}-\u{309f}]+",
            super::super::tiktoken::LLAMA3_PATTERN,
            super::super::tiktoken::DEEPSEEK3_PATTERN,
            super::super::tiktoken::CL100K_PATTERN,
        ] {
            assert!(nearby(p), "{p}");
        }
        for p in [r"a+b", r"\w+$", r"(?:ab)+", r"\bx{1,3}", r"x{1,100}"] {
            assert!(!nearby(p), "{p}");
        }
        let texts = [
            "12345 678 9 日本語のテキスト  abc1234567\n\n  x".repeat(40),
            "١٢٣٤٥٦٧ 12 漢字かな 😀 it's  ".repeat(60),
        ];
        for p in [
            r"\p{N}{1,3}",
            "[\u{4e00}-\u{9fa5}\u{3040}-\u{309f}]+",
            super::super::tiktoken::LLAMA3_PATTERN,
            super::super::tiktoken::DEEPSEEK3_PATTERN,
        ] {
            let sp = Splitter::new(p).unwrap();
            for text in &texts {
                let mut whole = Vec::new();
                sp.scan_from(text, 0, |r, _| {
                    whole.push(r);
                    false
                });
                for until in (0..text.len()).step_by(37) {
                    let view = view_until(text, until);
                    let mut cut = Vec::new();
                    sp.scan_from(view, 0, |r, _| {
                        if r.end > until {
                            return true;
                        }
                        cut.push(r);
                        false
                    });
                    let want: Vec<_> = whole.iter().filter(|r| r.end <= until).cloned().collect();
                    assert_eq!(cut, want, "{p} cut at {until}");
                }
            }
        }
    }
}
