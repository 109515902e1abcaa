//! The pieces of a SentencePiece model, stored once: every piece's text and
//! bytes in two buffers, and an open-addressing table from text to id over
//! the pieces merges may form. Building it costs one pass and no
//! allocation per piece, so the 262,144-piece Gemma 3 model loads in a few
//! milliseconds.

use crate::tokens::vocab::table_hash;

const EMPTY: u64 = u64::MAX;
const TAG: u64 = 0xFFFF_FFFF_0000_0000;

/// Piece texts and bytes, and the merge table.
pub(super) struct PieceTable {
    /// Every piece's text, concatenated; piece `k` is
    /// `text[offsets[k]..offsets[k + 1]]`.
    text: String,
    offsets: Vec<u32>,
    /// Every piece's bytes (`▁` as a space, `<0xAB>` as its byte).
    bytes: Vec<u8>,
    byte_offsets: Vec<u32>,
    scores: Vec<f32>,
    /// The pieces merges may form: the high half of a slot is the high half
    /// of the text's hash (most misses stop there without reading the
    /// text), the low half the id; `u64::MAX` is an empty slot.
    slots: Vec<u64>,
    mask: usize,
    /// The same pieces when their text has 1 to [`SHORT_TEXT`] bytes, each
    /// in one slot that holds the text (bits 0-95), its length (bits 96-99)
    /// and the id (bits 100-127); 0 is empty. A lookup reads one slot, where
    /// the general table reads a slot, the offsets and the text.
    short: Vec<u128>,
    short_shift: u32,
}

/// Pieces with texts up to this many bytes go into the short table too.
const SHORT_TEXT: usize = 12;
const SHORT_KEY: u128 = (1 << 100) - 1;

#[inline(always)]
fn short_key(s: &[u8]) -> u128 {
    let mut b = [0u8; 16];
    b[..s.len()].copy_from_slice(s);
    b[12] = s.len() as u8;
    u128::from_le_bytes(b)
}

#[inline(always)]
fn short_start(key: u128, shift: u32) -> usize {
    let folded = (key as u64) ^ ((key >> 64) as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    (folded.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> shift) as usize
}

impl PieceTable {
    /// An empty table with room for `n` pieces.
    pub(super) fn with_capacity(n: usize, text_len: usize) -> PieceTable {
        let cap = (n * 2).next_power_of_two().max(2);
        let mut offsets = Vec::with_capacity(n + 1);
        offsets.push(0);
        let mut byte_offsets = Vec::with_capacity(n + 1);
        byte_offsets.push(0);
        PieceTable {
            text: String::with_capacity(text_len),
            offsets,
            bytes: Vec::with_capacity(text_len),
            byte_offsets,
            scores: Vec::with_capacity(n),
            slots: vec![EMPTY; cap],
            mask: cap - 1,
            short: vec![0; cap],
            short_shift: 64 - cap.trailing_zeros(),
        }
    }

    /// The number of pieces.
    pub(super) fn len(&self) -> usize {
        self.scores.len()
    }

    /// Appends the next piece (its id is the number of pieces before it),
    /// with the bytes it stands for. A piece merges may form goes into the
    /// merge table; `Err` when that table has it already.
    pub(super) fn push(
        &mut self,
        text: &str,
        bytes: &[u8],
        score: f32,
        mergeable: bool,
    ) -> Result<(), ()> {
        let id = self.len() as u32;
        if mergeable {
            if self.find(text).is_some() {
                return Err(());
            }
            let h = table_hash(text.as_bytes());
            let mut i = h as usize & self.mask;
            while self.slots[i] != EMPTY {
                i = (i + 1) & self.mask;
            }
            self.slots[i] = (h & TAG) | u64::from(id);
            if !text.is_empty() && text.len() <= SHORT_TEXT && id < 1 << 28 {
                let key = short_key(text.as_bytes());
                let mut i = short_start(key, self.short_shift);
                while self.short[i] != 0 {
                    i = (i + 1) & self.mask;
                }
                self.short[i] = key | u128::from(id) << 100;
            }
        }
        self.text.push_str(text);
        self.offsets.push(self.text.len() as u32);
        self.bytes.extend_from_slice(bytes);
        self.byte_offsets.push(self.bytes.len() as u32);
        self.scores.push(score);
        Ok(())
    }

    /// The text of a piece.
    #[inline]
    pub(super) fn text(&self, id: u32) -> &str {
        let k = id as usize;
        &self.text[self.offsets[k] as usize..self.offsets[k + 1] as usize]
    }

    /// The bytes of a piece, if the model has that id.
    #[inline]
    pub(super) fn bytes(&self, id: u32) -> Option<&[u8]> {
        let k = id as usize;
        let end = *self.byte_offsets.get(k + 1)?;
        Some(&self.bytes[self.byte_offsets[k] as usize..end as usize])
    }

    /// The score of a piece.
    #[inline]
    pub(super) fn score(&self, id: u32) -> f32 {
        self.scores[id as usize]
    }

    /// The id of a piece merges may form, by its text.
    #[inline]
    pub(super) fn find(&self, s: &str) -> Option<u32> {
        if !s.is_empty() && s.len() <= SHORT_TEXT && self.len() < 1 << 28 {
            let key = short_key(s.as_bytes());
            let mut i = short_start(key, self.short_shift);
            loop {
                let slot = self.short[i];
                if slot & SHORT_KEY == key {
                    return Some((slot >> 100) as u32);
                }
                if slot == 0 {
                    return None;
                }
                i = (i + 1) & self.mask;
            }
        }
        let h = table_hash(s.as_bytes());
        let mut i = h as usize & self.mask;
        loop {
            let slot = self.slots[i];
            if slot == EMPTY {
                return None;
            }
            if slot & TAG == h & TAG {
                let id = slot as u32;
                if self.text(id) == s {
                    return Some(id);
                }
            }
            i = (i + 1) & self.mask;
        }
    }

    /// The texts of the pieces merges may form.
    pub(super) fn mergeable(&self) -> impl Iterator<Item = &str> {
        self.slots
            .iter()
            .filter(|&&slot| slot != EMPTY)
            .map(|&slot| self.text(slot as u32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_mergeable_pieces_and_refuses_duplicates() {
        let mut t = PieceTable::with_capacity(3, 8);
        t.push("<unk>", b"<unk>", 0.0, false).unwrap();
        t.push("▁a", b" a", -1.0, true).unwrap();
        t.push("b", b"b", -2.0, true).unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!(t.find("▁a"), Some(1));
        assert_eq!(t.find("b"), Some(2));
        assert_eq!(t.find("<unk>"), None, "not mergeable");
        assert_eq!(t.find("c"), None);
        assert_eq!(t.text(1), "▁a");
        assert_eq!(t.bytes(1), Some(&b" a"[..]));
        assert_eq!(t.bytes(3), None);
        assert_eq!(t.score(2), -2.0);
        assert!(t.push("b", b"b", -3.0, true).is_err());
        let mut m: Vec<&str> = t.mergeable().collect();
        m.sort();
        assert_eq!(m, ["b", "▁a"]);
    }
}
