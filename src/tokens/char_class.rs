// The character class bits of the pre-tokenizers' class table, and the
// Unicode sets behind them. Shared, through `include!`, by build.rs (which
// lays the table out) and src/tokens/pretok.rs (which reads it), so the two
// cannot disagree on a bit; pretok's tests check the built table against
// these sets.

/// `\p{L}`.
pub const LETTER: u8 = 1;
/// `\p{N}`.
pub const NUMBER: u8 = 2;
/// `\s`.
pub const SPACE: u8 = 4;
/// o200k's upper-case side: `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]`.
pub const UPPERISH: u8 = 8;
/// o200k's lower-case side: `[\p{Ll}\p{Lm}\p{Lo}\p{M}]`.
pub const LOWERISH: u8 = 16;
/// `\p{M}`.
pub const MARK: u8 = 32;
/// `\r` or `\n`: set by the scanner's ASCII table only, never in the
/// Unicode table.
pub const NEWLINE: u8 = 64;

/// The regex class of each bit of the Unicode table.
pub const CLASS_SETS: [(&str, u8); 6] = [
    (r"\p{L}", LETTER),
    (r"\p{N}", NUMBER),
    (r"\s", SPACE),
    (r"[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]", UPPERISH),
    (r"[\p{Ll}\p{Lm}\p{Lo}\p{M}]", LOWERISH),
    (r"\p{M}", MARK),
];

// Every bit is its own, and the table's bits leave NEWLINE free.
const _: () = {
    let mut seen = NEWLINE;
    let mut k = 0;
    while k < CLASS_SETS.len() {
        let bit = CLASS_SETS[k].1;
        assert!(bit.count_ones() == 1 && seen & bit == 0);
        seen |= bit;
        k += 1;
    }
};
