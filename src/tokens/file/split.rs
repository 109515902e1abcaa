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
struct HeldCache {
    cache: Option<Box<Cache>>,
    home: Weak<Mutex<Vec<Cache>>>,
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
const KNOWN: &[(&str, bool)] = &[
    (super::tiktoken::LLAMA3_PATTERN, true),
    (super::tiktoken::O200K_PATTERN, true),
    (super::tiktoken::BYTE_LEVEL_PATTERN, false),
    (super::tiktoken::QWEN2_PATTERN, true),
    (super::tiktoken::DEEPSEEK3_PATTERN, true),
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
        let fast = |plain: &str, newline_alternative, known| {
            let config = regex_automata::meta::Config::new().hybrid_cache_capacity(DFA_CACHE);
            let re = regex_automata::meta::Builder::new()
                .configure(config)
                .build(plain)
                .ok()?;
            static SERIAL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
            Some(Splitter::Fast {
                re,
                serial: SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
                spare: Arc::default(),
                newline_alternative,
                known,
            })
        };
        if let Some(&(known, newline_alternative)) = KNOWN.iter().find(|(p, _)| *p == pattern)
            && let Some(s) = fast(
                &known.replace(r"|\s+(?!\S)|\s+", r"|\s+"),
                newline_alternative,
                true,
            )
        {
            return Ok(s);
        }
        // A pattern the `regex` crate takes has no lookaround or
        // backreference: fancy-regex would hand it to that crate as it is,
        // through a pool of caches per match.
        if let Some(s) = fast(pattern, false, false) {
            return Ok(s);
        }
        Regex::new(pattern)
            .map(Splitter::Fancy)
            .map_err(|e| e.to_string())
    }

    /// Whether text may be cut before a line break that follows an ASCII
    /// letter and split in parts with the same pieces: true for the built-in
    /// and known patterns, whose pieces never hold a letter followed by a line
    /// break and never look behind.
    pub fn cuts_are_safe(&self) -> bool {
        matches!(
            self,
            Splitter::Scanner(_) | Splitter::Fast { known: true, .. }
        )
    }

    /// Calls `f` with each match, in order.
    fn for_each_match(&self, s: &str, mut f: impl FnMut(Range<usize>)) {
        match self {
            Splitter::Scanner(encoding) => {
                let mut at = 0;
                crate::tokens::pretok::for_each_piece(*encoding, s, |piece| {
                    f(at..at + piece.len());
                    at += piece.len();
                });
            }
            Splitter::Fancy(re) => {
                for m in re.find_iter(s) {
                    // A regex that gives up (backtracking limit) leaves the
                    // rest of the text unmatched rather than failing.
                    let Ok(m) = m else { break };
                    f(m.start()..m.end());
                }
            }
            Splitter::Fast {
                re,
                serial,
                spare,
                newline_alternative,
                known,
            } => {
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
                let cache = held
                    .cache
                    .get_or_insert_with(|| Box::new(re.create_cache()));
                let mut at = 0;
                while at <= s.len() {
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
                    f(start..end);
                    at = if end > start {
                        end
                    } else {
                        match s[end..].chars().next() {
                            Some(c) => end + c.len_utf8(),
                            None => break,
                        }
                    };
                }
                let _ = SEARCH_CACHES.try_with(|c| {
                    let mut caches = c.borrow_mut();
                    // Caches of splitters dropped since are not kept forever.
                    if caches.len() >= KEPT_CACHES {
                        caches.clear();
                    }
                    caches.push((*serial, held));
                });
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
        let mut prev = 0;
        self.for_each_match(s, |r| {
            if r.start > prev {
                out.push(prev..r.start);
            }
            if r.end > r.start {
                out.push(r.clone());
            }
            prev = prev.max(r.end);
        });
        if prev < s.len() {
            out.push(prev..s.len());
        }
    }
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
        for &(pattern, _) in KNOWN {
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
            assert!(!fast.cuts_are_safe());
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
                        }
                    });
                }
            });
        }
        // Lookaround stays with fancy-regex.
        assert!(matches!(
            Splitter::without_scanner(r"\s+(?!\S)|\s+").unwrap(),
            Splitter::Fancy(_)
        ));
    }

    proptest::proptest! {
        #[test]
        fn fast_patterns_agree_on_random_text(s in "[ a-zA-Z0-9'\\t\\r\\n\u{a0}\u{3000}é日!?.,-]{0,60}") {
            for &(pattern, _) in KNOWN {
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
}
