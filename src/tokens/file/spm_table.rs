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
