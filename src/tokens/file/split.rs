//! Splitting text into pieces: patterns, delimiter behaviours (as in
//! HuggingFace `tokenizers`), and the byte-level alphabet.

use std::ops::Range;
use std::sync::OnceLock;

use fancy_regex::Regex;

/// What to split on.
#[derive(Debug)]
pub(super) enum Pattern {
    /// A literal string.
    Literal(String),
    /// A regular expression.
    Regex(Regex),
}

impl Pattern {
    /// Ranges of `s` covering it entirely, each flagged as a match or not.
    pub fn find_matches(&self, s: &str) -> Vec<(Range<usize>, bool)> {
        let mut out = Vec::new();
        if s.is_empty() {
            out.push((0..0, false));
            return out;
        }
        let mut prev = 0;
        let mut push = |r: Range<usize>, out: &mut Vec<(Range<usize>, bool)>| {
            if prev != r.start {
                out.push((prev..r.start, false));
            }
            prev = r.end;
            out.push((r, true));
        };
        match self {
            Pattern::Literal(lit) => {
                if !lit.is_empty() {
                    for (at, m) in s.match_indices(lit.as_str()) {
                        push(at..at + m.len(), &mut out);
                    }
                }
            }
            Pattern::Regex(re) => {
                for m in re.find_iter(s) {
                    // A regex that gives up (backtracking limit) leaves the
                    // rest of the text unmatched rather than failing.
                    let Ok(m) = m else { break };
                    push(m.start()..m.end(), &mut out);
                }
            }
        }
        if prev != s.len() {
            out.push((prev..s.len(), false));
        }
        out
    }

    /// The ranges of `s` that the regex matches, in order (tiktoken-style
    /// splitting: text between matches is not produced).
    pub fn matches(re: &Regex, s: &str, out: &mut Vec<Range<usize>>) {
        let mut prev = 0;
        for m in re.find_iter(s) {
            // A regex that gives up (backtracking limit) leaves the rest as
            // one piece rather than failing.
            let Ok(m) = m else { break };
            if m.start() > prev {
                out.push(prev..m.start()); // text the pattern skipped
            }
            if m.end() > m.start() {
                out.push(m.start()..m.end());
            }
            prev = prev.max(m.end());
        }
        if prev < s.len() {
            out.push(prev..s.len());
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
