//! The GPT-2 byte-level alphabet, for tests that build byte-level BPE
//! `tokenizer.json` files by hand.

/// The byte-level character of a byte: printable bytes are themselves; the
/// others are shifted up from U+0100 in byte order.
pub fn byte_char(b: u8) -> char {
    let printable = |b: u8| matches!(b, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF);
    if printable(b) {
        return char::from(b);
    }
    let n = (0..b).filter(|&x| !printable(x)).count() as u32;
    char::from_u32(256 + n).unwrap()
}

/// A text in the byte-level alphabet.
pub fn byte_level(s: &str) -> String {
    s.bytes().map(byte_char).collect()
}
