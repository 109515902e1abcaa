//! Pre-tokenizers: hand-written scanners that split text exactly as the
//! encodings' split patterns do under leftmost-first regex semantics.
//!
//! cl100k_base:
//! `'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s`
//!
//! o200k_base:
//! `[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?`
//! `|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?`
//! `|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`
//!
//! p50k_base and r50k_base:
//! `'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s`
//!
//! Each scanner returns the end of the piece that starts at a position; the
//! alternatives are tried in pattern order, backtracking where the pattern
//! would. Character classes come from a table built from regex-syntax's
//! Unicode data (see `build.rs`). Differential tests check the scanners
//! against the reference tokenizer.

use super::Encoding;

/// The class bits, shared with `build.rs`.
#[allow(dead_code)] // MARK and the sets are build.rs's (and the tests').
mod class {
    include!("char_class.rs");
}
use class::{LETTER, LOWERISH, NEWLINE, NUMBER, SPACE, UPPERISH};

static CLASS_BLOB: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/charclass.bin"));

const fn ascii_table() -> [u8; 128] {
    let mut t = [0u8; 128];
    let mut c = 0;
    while c < 128 {
        let b = c as u8;
        t[c] = if b.is_ascii_uppercase() {
            LETTER | UPPERISH
        } else if b.is_ascii_lowercase() {
            LETTER | LOWERISH
        } else if b.is_ascii_digit() {
            NUMBER
        } else if b == b'\r' || b == b'\n' {
            SPACE | NEWLINE
        } else if b == b' ' || b == b'\t' || b == 0x0B || b == 0x0C {
            SPACE
        } else {
            0
        };
        c += 1;
    }
    t
}

static ASCII: [u8; 128] = ascii_table();

#[inline(always)]
fn class_of_char(c: u32) -> u8 {
    let block = (c >> 8) as usize;
    let idx = u16::from_le_bytes([CLASS_BLOB[4 + block * 2], CLASS_BLOB[5 + block * 2]]) as usize;
    CLASS_BLOB[4 + 0x1100 * 2 + idx * 256 + (c & 0xFF) as usize]
}

/// Decodes the char at `i` (a char boundary): (class, byte length).
#[inline(always)]
fn at(s: &[u8], i: usize) -> (u8, usize) {
    let b0 = s[i];
    if b0 < 0x80 {
        return (ASCII[b0 as usize], 1);
    }
    let (c, len) = if b0 < 0xE0 {
        (((b0 as u32 & 0x1F) << 6) | (s[i + 1] as u32 & 0x3F), 2)
    } else if b0 < 0xF0 {
        (
            ((b0 as u32 & 0x0F) << 12) | ((s[i + 1] as u32 & 0x3F) << 6) | (s[i + 2] as u32 & 0x3F),
            3,
        )
    } else {
        (
            ((b0 as u32 & 0x07) << 18)
                | ((s[i + 1] as u32 & 0x3F) << 12)
                | ((s[i + 2] as u32 & 0x3F) << 6)
                | (s[i + 3] as u32 & 0x3F),
            4,
        )
    };
    (class_of_char(c), len)
}

/// End of the run of chars from `i` whose class intersects `mask`.
#[inline(always)]
fn run(s: &[u8], mut i: usize, mask: u8) -> usize {
    while i < s.len() {
        let b = s[i];
        if b < 0x80 {
            if ASCII[b as usize] & mask == 0 {
                break;
            }
            i += 1;
        } else {
            let (c, l) = at(s, i);
            if c & mask == 0 {
                break;
            }
            i += l;
        }
    }
    i
}

/// The start of the char that ends at `end` (`end` > 0, a char boundary).
#[inline(always)]
fn char_start_before(s: &[u8], end: usize) -> usize {
    let mut j = end - 1;
    while s[j] & 0xC0 == 0x80 {
        j -= 1;
    }
    j
}

/// Length of a contraction suffix after an apostrophe at `i`: `'s`, `'t`,
/// `'re`, `'ve`, `'m`, `'ll`, `'d`, case-insensitive when `fold` (Unicode
/// simple case folding: `ſ` matches `s`).
#[inline]
fn contraction(s: &[u8], i: usize, fold: bool) -> usize {
    if i >= s.len() || s[i] != b'\'' {
        return 0;
    }
    let rest = &s[i + 1..];
    let lower = |b: u8| if fold { b.to_ascii_lowercase() } else { b };
    match rest.first().map(|&b| lower(b)) {
        Some(b's' | b'd' | b'm' | b't') => 2,
        Some(b'l') if rest.get(1).map(|&b| lower(b)) == Some(b'l') => 3,
        Some(b'v' | b'r') if rest.get(1).map(|&b| lower(b)) == Some(b'e') => 3,
        Some(0xC5) if fold && rest.get(1) == Some(&0xBF) => 3, // 'ſ (U+017F)
        _ => 0,
    }
}

/// The whitespace alternatives shared by the patterns; `c` is at `i` and is
/// white space.
#[inline]
fn whitespace(s: &[u8], i: usize, clen: usize, enc: Encoding) -> usize {
    let end = run(s, i, SPACE);
    let last_newline = || {
        s[i..end]
            .iter()
            .rposition(|&b| b == b'\n' || b == b'\r')
            .map(|p| i + p + 1)
    };
    match enc {
        Encoding::Cl100kBase => {
            if end == s.len() {
                return end; // \s++$
            }
            if let Some(p) = last_newline() {
                return p; // \s*[\r\n]
            }
        }
        Encoding::O200kBase | Encoding::O200kHarmony => {
            if let Some(p) = last_newline() {
                return p; // \s*[\r\n]+
            }
            if end == s.len() {
                return end; // \s+(?!\S) at the end
            }
        }
        Encoding::P50kBase | Encoding::R50kBase => {
            if end == s.len() {
                return end; // \s++$
            }
        }
    }
    // \s+(?!\S): all but the last char of the run, when that leaves one.
    let last = char_start_before(s, end);
    if last > i {
        return last;
    }
    // \s (or \s+ for o200k: a single char here).
    i + clen
}

/// End of the piece starting at `i` for cl100k_base.
#[inline]
fn next_cl100k(s: &[u8], i: usize) -> usize {
    let (c, clen) = at(s, i);
    if s[i] == b'\'' {
        let l = contraction(s, i, true);
        if l > 0 {
            return i + l;
        }
    }
    if c & LETTER != 0 {
        return run(s, i + clen, LETTER);
    }
    if c & (NUMBER | NEWLINE) == 0 {
        let j = i + clen;
        if j < s.len() && at(s, j).0 & LETTER != 0 {
            return run(s, j, LETTER);
        }
    }
    if c & NUMBER != 0 {
        return up_to_three_numbers(s, i + clen);
    }
    // ` ?[^\s\p{L}\p{N}]++[\r\n]*+`
    if let Some(e) = punctuation(s, i, |b| b == b'\r' || b == b'\n') {
        return e;
    }
    whitespace(s, i, clen, Encoding::Cl100kBase)
}

/// `\p{N}{1,3}` after its first number, which ends at `j`.
#[inline(always)]
fn up_to_three_numbers(s: &[u8], mut j: usize) -> usize {
    for _ in 0..2 {
        if j < s.len() {
            let (c, l) = at(s, j);
            if c & NUMBER != 0 {
                j += l;
                continue;
            }
        }
        break;
    }
    j
}

/// ` ?[^\s\p{L}\p{N}]+` followed by a run of the ASCII bytes `tail` accepts,
/// from `i`; `None` when it does not match there.
#[inline(always)]
fn punctuation(s: &[u8], i: usize, tail: impl Fn(u8) -> bool) -> Option<usize> {
    let j = if s[i] == b' ' { i + 1 } else { i };
    if j < s.len() && at(s, j).0 & (SPACE | LETTER | NUMBER) == 0 {
        return Some(run_ascii(s, run_other(s, j), tail));
    }
    None
}

/// End of the run of chars that are not white space, letters or numbers.
#[inline(always)]
fn run_other(s: &[u8], mut i: usize) -> usize {
    while i < s.len() {
        let (c, l) = at(s, i);
        if c & (SPACE | LETTER | NUMBER) != 0 {
            break;
        }
        i += l;
    }
    i
}

#[inline(always)]
fn run_ascii(s: &[u8], mut i: usize, f: impl Fn(u8) -> bool) -> usize {
    while i < s.len() && f(s[i]) {
        i += 1;
    }
    i
}

/// The first two o200k alternatives from `start` (after an optional prefix).
/// Returns the end of the match, if any.
#[inline]
fn o200k_word(s: &[u8], start: usize) -> Option<usize> {
    // ASCII fast path: upper and lower case are disjoint there, so the word is
    // `[A-Z]*[a-z]+` or `[A-Z]+`, as long as the runs end on an ASCII byte.
    if s[start].is_ascii_alphabetic() {
        let j = run_ascii(s, start, |b| b.is_ascii_uppercase());
        if j == s.len() || s[j] < 0x80 {
            if j < s.len() && s[j].is_ascii_lowercase() {
                let k = run_ascii(s, j, |b| b.is_ascii_lowercase());
                if k == s.len() || s[k] < 0x80 {
                    return Some(k + contraction(s, k, true));
                }
            } else {
                return Some(j + contraction(s, j, true));
            }
        }
    }
    // Alternative 1: U* W+ suffix?
    let u_end = run(s, start, UPPERISH);
    let mut w_start = None;
    if u_end < s.len() && at(s, u_end).0 & LOWERISH != 0 {
        w_start = Some(u_end);
    } else {
        // Give back chars of the U run until one can start W+.
        let mut j = u_end;
        while j > start {
            let p = char_start_before(s, j);
            if at(s, p).0 & LOWERISH != 0 {
                w_start = Some(p);
                break;
            }
            j = p;
        }
    }
    if let Some(w) = w_start {
        let e = run(s, w, LOWERISH);
        return Some(e + contraction(s, e, true));
    }
    // Alternative 2: U+ W* suffix?
    if u_end > start {
        let e = run(s, u_end, LOWERISH);
        return Some(e + contraction(s, e, true));
    }
    None
}

/// End of the piece starting at `i` for o200k_base.
#[inline]
fn next_o200k(s: &[u8], i: usize) -> usize {
    let (c, clen) = at(s, i);
    // Alternatives 1 and 2 share the prefix `[^\r\n\p{L}\p{N}]?`: with the
    // prefix first, then without it. Alternative 1 with and without the prefix
    // is tried before alternative 2, so handle the rare case where `c` itself
    // can start a word (a combining mark) separately.
    let is_prefix = c & (LETTER | NUMBER | NEWLINE) == 0;
    if is_prefix && c & (UPPERISH | LOWERISH) == 0 {
        if i + clen < s.len()
            && let Some(e) = o200k_word(s, i + clen)
        {
            return e;
        }
    } else if is_prefix {
        // `c` is a mark: exact backtracking order over both alternatives.
        if let Some(e) = o200k_mark_start(s, i, clen) {
            return e;
        }
    } else if c & LETTER != 0
        && let Some(e) = o200k_word(s, i)
    {
        return e;
    }
    if c & NUMBER != 0 {
        return up_to_three_numbers(s, i + clen);
    }
    // ` ?[^\s\p{L}\p{N}]+[\r\n/]*`
    if let Some(e) = punctuation(s, i, |b| b == b'\r' || b == b'\n' || b == b'/') {
        return e;
    }
    whitespace(s, i, clen, Encoding::O200kBase)
}

/// The word alternatives when the piece starts with a combining mark, which
/// can be the optional prefix or part of the word.
fn o200k_mark_start(s: &[u8], i: usize, clen: usize) -> Option<usize> {
    // Alternative 1 with the prefix, then without it.
    if i + clen < s.len()
        && let Some(e) = o200k_alt1(s, i + clen)
    {
        return Some(e);
    }
    if let Some(e) = o200k_alt1(s, i) {
        return Some(e);
    }
    // Alternative 2 with the prefix, then without it.
    if i + clen < s.len() {
        let u_end = run(s, i + clen, UPPERISH);
        if u_end > i + clen {
            let e = run(s, u_end, LOWERISH);
            return Some(e + contraction(s, e, true));
        }
    }
    let u_end = run(s, i, UPPERISH);
    if u_end > i {
        let e = run(s, u_end, LOWERISH);
        return Some(e + contraction(s, e, true));
    }
    None
}

/// Alternative 1 alone (`U* W+ suffix?`) from `start`.
fn o200k_alt1(s: &[u8], start: usize) -> Option<usize> {
    let u_end = run(s, start, UPPERISH);
    let mut j = u_end;
    if u_end < s.len() && at(s, u_end).0 & LOWERISH != 0 {
        let e = run(s, u_end, LOWERISH);
        return Some(e + contraction(s, e, true));
    }
    while j > start {
        let p = char_start_before(s, j);
        if at(s, p).0 & LOWERISH != 0 {
            let e = run(s, p, LOWERISH);
            return Some(e + contraction(s, e, true));
        }
        j = p;
    }
    None
}

/// End of the piece starting at `i` for p50k_base and r50k_base.
#[inline]
fn next_p50k(s: &[u8], i: usize) -> usize {
    let (c, clen) = at(s, i);
    if s[i] == b'\'' {
        let l = contraction(s, i, false);
        if l > 0 {
            return i + l;
        }
    }
    let (start, cls) = if s[i] == b' ' && i + 1 < s.len() {
        let (c2, _) = at(s, i + 1);
        (i + 1, c2)
    } else {
        (i, c)
    };
    if cls & LETTER != 0 {
        return run(s, start, LETTER);
    }
    if cls & NUMBER != 0 {
        return run(s, start, NUMBER);
    }
    if cls & SPACE == 0 && (start > i || c & SPACE == 0) {
        return run_other(s, start);
    }
    whitespace(s, i, clen, Encoding::P50kBase)
}

/// Calls `f` with each piece of `text` under `enc`'s split pattern.
#[inline]
pub(crate) fn for_each_piece(enc: Encoding, text: &str, mut f: impl FnMut(&[u8])) {
    scan_pieces(enc, text, 0, |piece, _| {
        f(piece);
        false
    });
}

/// Calls `f(piece, end)` with each piece of the scan of `text` that starts
/// at `from` (a character boundary), `end` being the piece's end in `text`,
/// until `f` returns true or the text ends; returns where the scan stopped.
///
/// The scanners look only ahead, so the pieces after a position depend on
/// nothing before it: two scans that reach the same piece end go on alike.
#[inline]
pub(crate) fn scan_pieces(
    enc: Encoding,
    text: &str,
    from: usize,
    mut f: impl FnMut(&[u8], usize) -> bool,
) -> usize {
    let s = text.as_bytes();
    let mut i = from;
    let next = match enc {
        Encoding::Cl100kBase => next_cl100k,
        Encoding::O200kBase | Encoding::O200kHarmony => next_o200k,
        Encoding::P50kBase | Encoding::R50kBase => next_p50k,
    };
    while i < s.len() {
        let e = next(s, i);
        debug_assert!(e > i && text.is_char_boundary(e));
        let stop = f(&s[i..e], e);
        i = e;
        if stop {
            break;
        }
    }
    i
}

#[cfg(test)]
mod tests {
    use super::class::{CLASS_SETS, MARK};
    use super::*;

    /// The table build.rs laid out holds, for every code point, exactly the
    /// bits of the shared sets it belongs to (by the `regex` crate, the
    /// reference tokenizer's engine), and the ASCII table the scanners use
    /// first agrees with it apart from its own NEWLINE bit.
    #[test]
    fn the_class_table_matches_the_shared_sets() {
        let sets: Vec<(regex::Regex, u8)> = CLASS_SETS
            .iter()
            .map(|&(p, bit)| (regex::Regex::new(&format!("^{p}$")).unwrap(), bit))
            .collect();
        let mut checked = 0;
        let mut seen = 0u8;
        for c in (0..0x11_0000u32)
            .step_by(7)
            .chain(0..0x3000)
            .filter_map(char::from_u32)
        {
            let mut buf = [0u8; 4];
            let s = c.encode_utf8(&mut buf);
            let want = sets
                .iter()
                .filter(|(re, _)| re.is_match(s))
                .fold(0u8, |acc, (_, bit)| acc | bit);
            let got = class_of_char(c as u32);
            assert_eq!(got, want, "U+{:04X}", c as u32);
            if c.is_ascii() {
                assert_eq!(ASCII[c as usize] & !NEWLINE, want, "U+{:04X}", c as u32);
            }
            seen |= got;
            checked += 1;
        }
        assert!(checked > 150_000);
        assert_eq!(seen, LETTER | NUMBER | SPACE | UPPERISH | LOWERISH | MARK);
        assert_eq!(ASCII[b'\n' as usize], SPACE | NEWLINE);
        assert_eq!(at("\u{301}".as_bytes(), 0).0 & MARK, MARK);
    }
}
