//! Measuring, cutting and padding by display width (unicode-width), never
//! by bytes or characters: `漢` takes two columns, a combining accent none.
//!
//! Two kinds of padding, because a table has two kinds of cell:
//! [`pad_right`] and [`pad_left`] give exactly the columns asked for,
//! cutting with `…` what is longer (a pane of the inspector must not spill
//! into the next); [`align_left`] and [`align_right`] only add spaces and
//! keep longer text whole (a figure in a report must never lose a digit).

use std::borrow::Cow;

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// The display width of a character (0 for combining marks and for
/// control characters, which are escaped before they are drawn).
pub fn char_width(c: char) -> usize {
    c.width().unwrap_or(0)
}

/// The display width of text (escape it first: control characters count 0).
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

/// `text` cut to at most `max` columns, ending in `…` when it was cut
/// (empty when `max` is 0). Borrows when it fits.
pub fn fit(text: &str, max: usize) -> Cow<'_, str> {
    if width(text) <= max {
        return Cow::Borrowed(text);
    }
    if max == 0 {
        return Cow::Borrowed("");
    }
    let (head, _) = prefix_by_width(text, max - 1);
    Cow::Owned(format!("{head}…"))
}

/// `text` in exactly `cols` columns, left-aligned: padded with spaces, or
/// cut with `…` ([`fit`]) when longer.
pub fn pad_right(text: &str, cols: usize) -> String {
    align_left(&fit(text, cols), cols)
}

/// `text` in exactly `cols` columns, right-aligned: padded with spaces on
/// the left, or cut with `…` ([`fit`]) when longer.
pub fn pad_left(text: &str, cols: usize) -> String {
    align_right(&fit(text, cols), cols)
}

/// `text` followed by spaces up to `cols` columns; longer text is kept
/// whole.
pub fn align_left(text: &str, cols: usize) -> String {
    let pad = cols.saturating_sub(width(text));
    let mut out = String::with_capacity(text.len() + pad);
    out.push_str(text);
    out.extend(std::iter::repeat_n(' ', pad));
    out
}

/// Spaces up to `cols` columns followed by `text`; longer text is kept
/// whole.
pub fn align_right(text: &str, cols: usize) -> String {
    let pad = cols.saturating_sub(width(text));
    let mut out = String::with_capacity(text.len() + pad);
    out.extend(std::iter::repeat_n(' ', pad));
    out.push_str(text);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_are_display_columns() {
        assert_eq!(width("abc"), 3);
        assert_eq!(width("漢字"), 4);
        assert_eq!(width("e\u{301}"), 1);
        assert_eq!(char_width('漢'), 2);
        assert_eq!(char_width('\u{301}'), 0);
        assert_eq!(char_width('\x1b'), 0);
    }

    #[test]
    fn cuts_by_display_width_not_bytes() {
        assert_eq!(prefix_by_width("漢字abc", 3), ("漢", 2));
        assert_eq!(prefix_by_width("漢字abc", 4), ("漢字", 4));
        assert_eq!(prefix_by_width("abc", 10), ("abc", 3));
        // A combining mark stays with its base.
        assert_eq!(prefix_by_width("e\u{301}x", 1), ("e\u{301}", 1));
    }

    /// The report's `fit` and the inspector's `truncate` agreed; this is the
    /// one left.
    #[test]
    fn fit_cuts_with_an_ellipsis() {
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("日本語", 4), "日…");
        assert_eq!(fit("日本語", 5), "日本…");
        assert_eq!(fit("abc", 3), "abc");
        assert!(matches!(fit("abc", 3), Cow::Borrowed(_)));
        assert_eq!(fit("abc", 1), "…");
        assert_eq!(fit("abc", 0), "");
        assert_eq!(fit("", 0), "");
    }

    /// The copies disagreed on text longer than the column: the inspector
    /// cut it, the report kept it whole. Both are kept under two names:
    /// `pad_*` for exact-width cells, `align_*` for figures that must not
    /// lose a digit.
    #[test]
    fn pad_gives_exact_width_align_keeps_text_whole() {
        assert_eq!(pad_right("漢", 4), "漢  ");
        assert_eq!(pad_left("ab", 4), "  ab");
        assert_eq!(pad_left("日", 3), " 日");
        assert_eq!(pad_right("abcdef", 4), "abc…");
        assert_eq!(pad_left("漢字漢字", 5), "漢字…");
        assert_eq!(pad_right("漢字", 3), "漢…");
        assert_eq!(pad_right("漢字x", 4), "漢… ");
        assert_eq!(pad_right("x", 0), "");
        assert_eq!(align_left("abcdef", 4), "abcdef");
        assert_eq!(align_right("1,234,567", 5), "1,234,567");
        assert_eq!(align_right("12", 5), "   12");
        assert_eq!(align_left("漢", 3), "漢 ");
        for cols in 0..8 {
            for text in ["", "a", "漢字漢", "e\u{301}e\u{301}", "abcdefghij"] {
                assert_eq!(width(&pad_right(text, cols)), cols, "{text:?} {cols}");
                assert_eq!(width(&pad_left(text, cols)), cols, "{text:?} {cols}");
                assert!(width(&align_left(text, cols)) >= cols);
            }
        }
    }
}
