//! Untrusted text made safe to draw: control characters escaped, widths
//! measured by display width (unicode-width), cuts on character boundaries.
//!
//! Item text, ids, section names, file paths and error messages all come from
//! files the user did not necessarily write. A prompt file must not be able to
//! move the cursor, change colours or set the terminal title, so every control
//! character (C0, DEL, C1) and every bidirectional override is shown as an
//! escape such as `\x1b` or `\u{202e}` (the rules of [`crate::escape`], shared
//! with the command line); a tab is shown as spaces up to the next multiple of
//! [`TAB_WIDTH`] columns.

use std::borrow::Cow;

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Columns a tab advances to (the next multiple of).
pub const TAB_WIDTH: usize = 4;

/// How one character of untrusted text is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Glyph {
    /// The character itself (printable).
    Char(char),
    /// A tab: this many spaces.
    Tab(usize),
    /// An escape sequence shown in place of a control character.
    Escape(char),
}

/// The escaping rules shared with every other output ([`crate::escape`]):
/// whether a character must be escaped, and its visible escape (`\x1b`,
/// `\u{202e}`, `\n`, ...).
pub use crate::escape::{escape_char, is_unsafe};

/// Untrusted single-line text (ids, names, paths, messages) with every unsafe
/// character escaped, newlines and tabs included ([`crate::escape::line`]).
pub fn sanitize(text: &str) -> Cow<'_, str> {
    crate::escape::line(text)
}

/// The display width of a character as drawn (0 for combining marks).
pub fn char_width(c: char) -> usize {
    c.width().unwrap_or(0)
}

/// The display width of safe text.
pub fn width(text: &str) -> usize {
    UnicodeWidthStr::width(text)
}

/// The longest prefix of `text` that fits in `max` columns, cut on a
/// character boundary, and its width. Zero-width characters (combining
/// marks) stay with the character before them.
pub fn prefix_by_width(text: &str, max: usize) -> (&str, usize) {
    let mut used = 0;
    for (i, c) in text.char_indices() {
        let w = char_width(c);
        if used + w > max {
            return (&text[..i], used);
        }
        used += w;
    }
    (text, used)
}

/// `text` cut to `max` columns, with `…` when it was cut.
pub fn truncate(text: &str, max: usize) -> Cow<'_, str> {
    if width(text) <= max {
        return Cow::Borrowed(text);
    }
    if max == 0 {
        return Cow::Borrowed("");
    }
    let (head, _) = prefix_by_width(text, max - 1);
    Cow::Owned(format!("{head}…"))
}

/// `text` padded with spaces (or cut) to exactly `cols` columns, left-aligned.
pub fn pad_right(text: &str, cols: usize) -> String {
    let t = truncate(text, cols);
    let w = width(&t);
    let mut s = t.into_owned();
    s.extend(std::iter::repeat_n(' ', cols.saturating_sub(w)));
    s
}

/// `text` padded with spaces (or cut) to exactly `cols` columns, right-aligned.
pub fn pad_left(text: &str, cols: usize) -> String {
    let t = truncate(text, cols);
    let w = width(&t);
    let mut s: String = std::iter::repeat_n(' ', cols.saturating_sub(w)).collect();
    s.push_str(&t);
    s
}

pub use crate::report::thousands;

/// A token count in a short form: `950`, `12.3k`, `128k`, `1.05M`.
pub fn short_count(n: usize) -> String {
    if n < 1_000 {
        n.to_string()
    } else if n < 10_000 {
        format!("{:.1}k", n as f64 / 1_000.0)
    } else if n < 1_000_000 {
        format!("{}k", (n as f64 / 1_000.0).round() as usize)
    } else {
        format!("{:.2}M", n as f64 / 1_000_000.0)
    }
}

/// One visual line of laid-out untrusted text: pieces of (byte range in the
/// source text, what to draw). Ranges let callers colour by token.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VisualLine {
    /// `(byte offset of the source character, how it is shown)` in order.
    pub glyphs: Vec<(usize, Glyph)>,
}

#[cfg(test)]
impl VisualLine {
    /// The line's display width.
    pub fn width(&self) -> usize {
        self.glyphs.iter().map(|(_, g)| glyph_width(*g)).sum()
    }
}

/// The width a glyph takes on screen.
pub fn glyph_width(g: Glyph) -> usize {
    match g {
        Glyph::Char(c) => char_width(c),
        Glyph::Tab(n) => n,
        Glyph::Escape(c) => escape_char(c).len(),
    }
}

/// Lays out untrusted multi-line text into visual lines of at most `cols`
/// columns: a newline starts a new line, long lines wrap by display width at
/// the last space when the word fits on the next line (else anywhere, never
/// inside a character; combining marks stay with their base), control
/// characters become escapes, tabs become spaces. Every character of the
/// text is kept, spaces included, so that token colours stay exact.
///
/// Stops after `max_lines` visual lines, so that drawing a huge item costs
/// only what is shown.
pub fn layout(text: &str, cols: usize, max_lines: usize) -> Vec<VisualLine> {
    let mut lines = Vec::new();
    if cols == 0 || max_lines == 0 {
        return lines;
    }
    let mut cur = VisualLine::default();
    let mut used = 0usize;
    // Index in `cur.glyphs` just after the last space: where a word starts.
    let mut word_start: Option<usize> = None;
    for (i, c) in text.char_indices() {
        if c == '\n' {
            lines.push(std::mem::take(&mut cur));
            used = 0;
            word_start = None;
            if lines.len() >= max_lines {
                return lines;
            }
            continue;
        }
        let make = |used: usize| {
            if c == '\t' {
                Glyph::Tab(
                    (TAB_WIDTH - used % TAB_WIDTH)
                        .min(cols - used.min(cols))
                        .max(1),
                )
            } else if is_unsafe(c) {
                Glyph::Escape(c)
            } else {
                Glyph::Char(c)
            }
        };
        let mut glyph = make(used);
        let mut w = glyph_width(glyph);
        if w > 0 && used + w > cols && used > 0 {
            let tail_w = word_start
                .filter(|&k| k > 0 && k < cur.glyphs.len() && !c.is_whitespace())
                .map(|k| {
                    (
                        k,
                        cur.glyphs[k..]
                            .iter()
                            .map(|(_, g)| glyph_width(*g))
                            .sum::<usize>(),
                    )
                });
            match tail_w {
                Some((k, tw)) if tw + w <= cols => {
                    let tail = cur.glyphs.split_off(k);
                    lines.push(std::mem::take(&mut cur));
                    cur.glyphs = tail;
                    used = tw;
                }
                _ => {
                    lines.push(std::mem::take(&mut cur));
                    used = 0;
                }
            }
            word_start = None;
            if lines.len() >= max_lines {
                return lines;
            }
            glyph = make(used);
            w = glyph_width(glyph);
        }
        if w > cols {
            // A wide character or an escape in a pane narrower than it:
            // show a placeholder that fits.
            cur.glyphs.push((i, Glyph::Char('…')));
            used += 1;
            continue;
        }
        cur.glyphs.push((i, glyph));
        used += w;
        if c == ' ' || c == '\t' {
            word_start = Some(cur.glyphs.len());
        }
    }
    lines.push(cur);
    lines.truncate(max_lines);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_controls_and_bidi() {
        assert_eq!(sanitize("a\x1b[31mb"), "a\\x1b[31mb");
        assert_eq!(sanitize("x\u{202e}y"), "x\\u{202e}y");
        assert_eq!(sanitize("t\tn\n"), "t\\tn\\n");
        assert_eq!(sanitize("\u{9b}"), "\\x9b");
        assert!(matches!(sanitize("plain é 漢"), Cow::Borrowed(_)));
    }

    #[test]
    fn cuts_by_display_width_not_bytes() {
        assert_eq!(prefix_by_width("漢字abc", 3), ("漢", 2));
        assert_eq!(truncate("漢字漢字", 5), "漢字…");
        assert_eq!(pad_right("漢", 4), "漢  ");
        assert_eq!(pad_left("ab", 4), "  ab");
        // A combining mark stays with its base.
        assert_eq!(prefix_by_width("e\u{301}x", 1), ("e\u{301}", 1));
    }

    #[test]
    fn numbers() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(short_count(999), "999");
        assert_eq!(short_count(1500), "1.5k");
        assert_eq!(short_count(128_000), "128k");
        assert_eq!(short_count(1_050_000), "1.05M");
    }

    #[test]
    fn layout_wraps_by_width_and_escapes() {
        let lines = layout("ab漢cd\n\x1b[2J", 4, 10);
        let shown: Vec<String> = lines
            .iter()
            .map(|l| {
                l.glyphs
                    .iter()
                    .map(|(_, g)| match g {
                        Glyph::Char(c) => c.to_string(),
                        Glyph::Tab(n) => " ".repeat(*n),
                        Glyph::Escape(c) => escape_char(*c),
                    })
                    .collect()
            })
            .collect();
        assert_eq!(shown, vec!["ab漢", "cd", "\\x1b", "[2J"]);
        let words = layout("one two three", 8, 10);
        assert_eq!(words.len(), 2);
        assert_eq!(words[0].glyphs.len(), 8); // "one two " keeps its space
        assert_eq!(words[1].glyphs[0].0, 8); // "three" starts the next line
        assert!(lines.iter().all(|l| l.width() <= 4));
    }

    #[test]
    fn layout_is_bounded_and_never_panics_on_tiny_widths() {
        assert!(layout("abc", 0, 5).is_empty());
        let lines = layout("漢\x1b", 1, 5);
        assert!(lines.iter().all(|l| l.width() <= 1));
        assert_eq!(layout("a\nb\nc\nd", 10, 2).len(), 2);
    }
}
