//! Where a byte offset is in a text, as people count: line and column.

/// The 1-based line and column of byte `offset` in `text`, the column
/// counted in characters (a tab, a CJK character and an emoji are one
/// column each; a carriage return before a newline ends its line's count).
///
/// An offset past the end is moved to the end, and an offset inside a
/// multi-byte character to that character's start, so any offset gives a
/// position and the position names the character the offset falls in.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_lines_and_characters_from_one() {
        let text = "ab\ncdé\nf";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 2), (1, 3)); // the newline itself
        assert_eq!(line_column(text, 3), (2, 1));
        assert_eq!(line_column(text, 5), (2, 3));
        assert_eq!(line_column(text, 7), (2, 4));
        assert_eq!(line_column(text, 8), (3, 1));
        assert_eq!(line_column("漢字x", 6), (1, 3));
        assert_eq!(line_column("a\r\nb", 3), (2, 1));
    }

    /// The copies disagreed on an offset inside a character: the inspector's
    /// counted the character as passed (column + 1), the loaders' moved back
    /// to its start. The start is kept: the position names the character
    /// that holds the offset.
    #[test]
    fn an_offset_inside_a_character_names_that_character() {
        let text = "ab\ncdé\nf";
        assert_eq!(line_column(text, 6), (2, 3));
        assert_eq!(line_column("🙂x", 2), (1, 1));
    }

    #[test]
    fn offsets_past_the_end_are_clamped() {
        assert_eq!(line_column("ab\ncdé\nf", 100), (3, 2));
        assert_eq!(line_column("", 5), (1, 1));
        assert_eq!(line_column("a\n", 9), (2, 1));
    }
}
