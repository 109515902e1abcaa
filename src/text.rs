//! Text primitives every human-facing output shares: escaping untrusted
//! text for a terminal ([`escape`]), measuring, cutting and padding by
//! display width ([`width`], [`fit`], [`pad_right`], [`align_right`], ...), the
//! line and column of a byte offset ([`line_column`]) and the number formats
//! people read ([`thousands`], [`signed_thousands`], [`short_count`],
//! [`percent`], [`usd`]).
//!
//! Each primitive has one copy here, below the reports, the inspector, the
//! loaders and the command line, so that an id is escaped, a column padded
//! and a cost written the same way wherever it is shown. The module depends
//! on nothing else in the crate.
//!
//! ```
//! use tokenscope::text;
//! assert_eq!(text::escape::line("a\x1b[2Jb"), "a\\x1b[2Jb");
//! assert_eq!(text::pad_right("漢", 4), "漢  ");
//! assert_eq!(text::fit("abcdef", 4), "abc…");
//! assert_eq!(text::line_column("ab\ncé", 6), (2, 3));
//! assert_eq!(text::thousands(1_234_567), "1,234,567");
//! assert_eq!(text::usd(0.0123), "$0.012");
//! ```

pub mod escape;
mod number;
mod position;
mod width;

pub use number::{delta, percent, short_count, signed_thousands, thousands, usd};
pub use position::line_column;
pub use width::{
    align_left, align_right, char_width, fit, pad_left, pad_right, prefix_by_width, width,
};
