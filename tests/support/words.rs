//! Words the engine's property tests build random texts from: prose, code,
//! Markdown, URLs, non-ASCII and whitespace runs, so that joins and
//! retokenization at boundaries are exercised.

pub const WORDS: &[&str] = &[
    "the",
    "budget",
    "token",
    "context",
    "window",
    "fn",
    "main()",
    "{",
    "}",
    "\n",
    "\n\n",
    "über",
    "漢字",
    "…",
    "x",
    "42",
    "/path",
    "  ",
    "end.",
    "# Title",
    "- item",
    "'s",
    "https://a.b/c",
];
