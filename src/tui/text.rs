//! Untrusted multi-line text laid out for a pane: wrapped by display
//! width, control characters shown as escapes, tabs as spaces.
//!
//! Item text comes from files the user did not necessarily write, so every
//! character the shared rules call unsafe ([`crate::text::escape`]) is drawn
//! as its escape (`\x1b`, `\u{202e}`); widths are display widths
//! ([`crate::text::width`]); a tab is shown as spaces up to the next
//! multiple of [`TAB_WIDTH`] columns. Single-line text (ids, names, paths)
//! goes through [`crate::text`] directly.

use crate::text::char_width;
use crate::text::escape::{escape_char, is_unsafe};

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
