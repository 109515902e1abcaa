//! Untrusted text made safe to show: the one set of escaping rules every
//! human-facing output uses (tables, report lines, error messages on stderr,
//! `watch` lines, CSV cells and the inspector).
//!
//! Item ids, section names, file names, task types, model names and error
//! messages that quote them all come from files a stranger may have written.
//! Shown raw, an `ESC ]0;…BEL` sets the terminal's title, `ESC ]52;…` writes
//! the clipboard, `ESC [2J` clears the screen, a C1 `CSI` (U+009B) does the
//! same on terminals that honour C1 codes, and a bidi override (U+202E)
//! reverses what follows. So every such character is shown as a visible
//! escape instead:
//!
//! | character                                    | shown as      |
//! |----------------------------------------------|---------------|
//! | newline, carriage return, tab                | `\n` `\r` `\t` |
//! | other C0 controls, DEL, C1 controls          | `\x1b` `\x7f` `\x9b` |
//! | bidi controls U+061C, U+200E–U+200F, U+202A–U+202E, U+2066–U+2069; line and paragraph separators U+2028–U+2029 | `\u{202e}` |
//!
//! [`line()`] escapes all of them (ids, names, paths: one line each);
//! [`multiline`] keeps newlines and tabs, which are layout in an error
//! message with a source snippet. Backslashes are not doubled, so escaping
//! twice changes nothing ([`line()`] of [`line()`] is [`line()`]); the escapes
//! are for reading, not for decoding back.
//!
//! [`csv_text`] makes a CSV text cell: escaped as [`line()`], neutralised
//! against spreadsheet formulas (OWASP: a `'` before a cell that starts with
//! `=`, `+`, `-`, `@`, tab or carriage return) and quoted as RFC 4180 says.
//!
//! Byte-exact outputs do not go through here: the packed `context`, the
//! trimmed `request` and every JSON document (serde escapes JSON strings).
//!
//! ```
//! use tokenscope::text::escape;
//! assert_eq!(escape::line("a\x1b]0;owned\x07b"), "a\\x1b]0;owned\\x07b");
//! assert_eq!(escape::multiline("one\ntwo\u{202e}"), "one\ntwo\\u{202e}");
//! assert_eq!(escape::csv_text("=1+1"), "'=1+1");
//! ```

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` must be escaped before it reaches a terminal: a C0 or C1
/// control, DEL, a bidirectional control, or a line/paragraph separator.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// Appends the visible escape of `c` to `out`: `\n`, `\r`, `\t`, `\x1b`
/// (for code points below 0x100) or `\u{202e}`.
pub fn push_escape(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if (c as u32) < 0x100 => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

/// The visible escape of one character (see [`push_escape`]).
pub fn escape_char(c: char) -> String {
    let mut out = String::with_capacity(8);
    push_escape(&mut out, c);
    out
}

/// Single-line text (an id, a name, a path, a value quoted in a message)
/// with every unsafe character escaped, newlines and tabs included.
/// Borrows when there is nothing to escape.
pub fn line(text: &str) -> Cow<'_, str> {
    escape_where(text, is_unsafe)
}

/// Multi-line text (an error message, a warning) with every unsafe character
/// escaped except newline and tab, which stay layout.
pub fn multiline(text: &str) -> Cow<'_, str> {
    escape_where(text, |c| c != '\n' && c != '\t' && is_unsafe(c))
}

fn escape_where(text: &str, unsafe_char: impl Fn(char) -> bool) -> Cow<'_, str> {
    let Some(first) = text.find(&unsafe_char) else {
        return Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len() + 8);
    out.push_str(&text[..first]);
    for c in text[first..].chars() {
        if unsafe_char(c) {
            push_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Text of any shape on one line: every run of whitespace (newlines and
/// tabs included) becomes one space, the ends are trimmed, and what is left
/// is escaped as [`line()`]. For a message or a value shown in a status
/// line or a table cell, where layout would only break the row.
pub fn one_line(text: &str) -> String {
    let mut flat = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !flat.is_empty() {
            flat.push(' ');
        }
        flat.push_str(word);
    }
    match line(&flat) {
        Cow::Borrowed(_) => flat,
        Cow::Owned(escaped) => escaped,
    }
}

/// [`line()`] cut to at most `max` characters, with `…` when cut: for
/// quoting a value of unknown length (a server's message, a bad token) in
/// an error message.
pub fn line_cut(text: &str, max: usize) -> String {
    let escaped = line(text);
    match escaped.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &escaped[..end]),
        None => escaped.into_owned(),
    }
}

/// The characters that make a spreadsheet read a cell as a formula when the
/// cell starts with one (OWASP's CSV injection list).
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A CSV cell for untrusted text: escaped as [`line()`]; a `'` put before it
/// when it starts (after any spaces) with `=`, `+`, `-`, `@`, tab or carriage
/// return, so that a spreadsheet shows it as text instead of running it;
/// quoted (quotes doubled) when it holds a comma, a semicolon (the separator
/// in some locales), a quote, or starts or ends with a space.
///
/// Only for text columns: a number the program wrote (`-0.5`) stays a
/// number.
pub fn csv_text(text: &str) -> String {
    let starts_formula = text
        .trim_start_matches(' ')
        .starts_with(|c| FORMULA_START.contains(&c));
    let escaped = line(text);
    let cell: Cow<'_, str> = if starts_formula {
        Cow::Owned(format!("'{escaped}"))
    } else {
        escaped
    };
    if cell.contains([',', ';', '"']) || cell.starts_with(' ') || cell.ends_with(' ') {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (input, `line`, `multiline`)
    const TABLE: &[(&str, &str, &str)] = &[
        ("plain é 漢 🙂", "plain é 漢 🙂", "plain é 漢 🙂"),
        ("", "", ""),
        (
            "a\x1b]0;title\x07b",
            "a\\x1b]0;title\\x07b",
            "a\\x1b]0;title\\x07b",
        ),
        (
            "\x1b]52;c;aGk=\x07",
            "\\x1b]52;c;aGk=\\x07",
            "\\x1b]52;c;aGk=\\x07",
        ),
        ("\x1b[2J\x1b[H", "\\x1b[2J\\x1b[H", "\\x1b[2J\\x1b[H"),
        ("\u{9b}2J", "\\x9b2J", "\\x9b2J"),
        ("\u{85}", "\\x85", "\\x85"),
        ("del\x7f", "del\\x7f", "del\\x7f"),
        ("nul\0", "nul\\x00", "nul\\x00"),
        ("one\ntwo", "one\\ntwo", "one\ntwo"),
        ("a\tb", "a\\tb", "a\tb"),
        ("ok\rFAIL", "ok\\rFAIL", "ok\\rFAIL"),
        ("crlf\r\n", "crlf\\r\\n", "crlf\\r\n"),
        (
            "evil\u{202e}txt.exe",
            "evil\\u{202e}txt.exe",
            "evil\\u{202e}txt.exe",
        ),
        (
            "\u{202a}\u{202b}\u{202c}\u{202d}",
            "\\u{202a}\\u{202b}\\u{202c}\\u{202d}",
            "\\u{202a}\\u{202b}\\u{202c}\\u{202d}",
        ),
        (
            "\u{2066}\u{2067}\u{2068}\u{2069}",
            "\\u{2066}\\u{2067}\\u{2068}\\u{2069}",
            "\\u{2066}\\u{2067}\\u{2068}\\u{2069}",
        ),
        (
            "\u{200e}\u{200f}\u{61c}",
            "\\u{200e}\\u{200f}\\u{61c}",
            "\\u{200e}\\u{200f}\\u{61c}",
        ),
        (
            "\u{2028}\u{2029}",
            "\\u{2028}\\u{2029}",
            "\\u{2028}\\u{2029}",
        ),
        // Zero-width joiners are not controls: emoji sequences stay.
        ("👩\u{200d}💻", "👩\u{200d}💻", "👩\u{200d}💻"),
    ];

    #[test]
    fn table_of_escapes() {
        for (input, one_line, multi) in TABLE {
            assert_eq!(line(input), *one_line, "line({input:?})");
            assert_eq!(multiline(input), *multi, "multiline({input:?})");
        }
    }

    #[test]
    fn nothing_unsafe_survives_and_escaping_is_idempotent() {
        for (input, _, _) in TABLE {
            let once = line(input);
            assert!(!once.chars().any(is_unsafe), "{once:?}");
            assert_eq!(line(&once), once);
            let multi = multiline(input);
            assert!(
                !multi
                    .chars()
                    .any(|c| c != '\n' && c != '\t' && is_unsafe(c)),
                "{multi:?}"
            );
            assert_eq!(multiline(&multi), multi);
        }
    }

    #[test]
    fn borrows_when_clean() {
        assert!(matches!(line("plain"), Cow::Borrowed(_)));
        assert!(matches!(multiline("two\nlines"), Cow::Borrowed(_)));
        assert!(matches!(line("two\nlines"), Cow::Owned(_)));
    }

    #[test]
    fn escape_char_names() {
        assert_eq!(escape_char('\x1b'), "\\x1b");
        assert_eq!(escape_char('\u{9b}'), "\\x9b");
        assert_eq!(escape_char('\u{202e}'), "\\u{202e}");
        assert_eq!(escape_char('\n'), "\\n");
    }

    #[test]
    fn one_line_collapses_layout_and_escapes_the_rest() {
        assert_eq!(one_line("  a\n\tb  c \r\n"), "a b c");
        assert_eq!(one_line("x\u{2028}y"), "x y");
        assert_eq!(one_line("a\x1b[2J\n\u{202e}b"), "a\\x1b[2J \\u{202e}b");
        assert_eq!(one_line(""), "");
        assert_eq!(one_line("漢 字"), "漢 字");
    }

    #[test]
    fn line_cut_escapes_then_cuts() {
        assert_eq!(line_cut("short", 10), "short");
        assert_eq!(line_cut("abcdef", 3), "abc…");
        assert_eq!(line_cut("abc", 3), "abc");
        assert_eq!(line_cut("漢字漢字", 2), "漢字…");
        assert_eq!(line_cut("a\x1bb", 10), "a\\x1bb");
        assert_eq!(line_cut("", 0), "");
        assert!(!line_cut("\u{202e}\u{202e}", 3).contains('\u{202e}'));
    }

    #[test]
    fn csv_cells_are_neutralised_and_quoted() {
        for (input, cell) in [
            ("plain", "plain"),
            (
                "=HYPERLINK(\"http://x\")",
                "\"'=HYPERLINK(\"\"http://x\"\")\"",
            ),
            ("+1", "'+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\\t=1"),
            ("\r=1", "'\\r=1"),
            ("  =1", "'  =1"),
            ("a=b", "a=b"),
            ("a,b", "\"a,b\""),
            ("a;=1", "\"a;=1\""),
            ("say \"hi\"", "\"say \"\"hi\"\"\""),
            ("two\nlines", "two\\nlines"),
            (" pad", "\" pad\""),
            ("\x1b[2J", "\\x1b[2J"),
        ] {
            assert_eq!(csv_text(input), cell, "csv_text({input:?})");
        }
    }
}
