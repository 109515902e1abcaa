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
    /// The same pieces when their text has 1 to [`TINY_TEXT`] bytes: see
    /// [`Tiny`].
    tiny: Tiny,
    /// The same pieces when their text has [`TINY_TEXT`] + 1 to
    /// [`SHORT_TEXT`] bytes: see [`Short`].
    short: Short,
}

/// Pieces with texts up to this many bytes go into the tiny table.
const TINY_TEXT: usize = 4;
/// The shortest text of the short table.
const SHORT_FIRST: usize = TINY_TEXT + 1;

/// Merge-table pieces of 1 to [`TINY_TEXT`] bytes (two letters, `▁` and a
/// letter), each in one `u64` slot: the text (bits 0-31), its length (bits
/// 32-34) and the id (bits 35-63); 0 is empty. A lookup reads one slot,
/// where the general table reads a slot, the offsets and the text; and the
/// table is sized by its own pieces (Gemma 3: 46,543 pieces, 1 MiB), so
/// the lookups of a merge mostly stay in the CPU's cache.
struct Tiny {
    slots: Vec<u64>,
    len: usize,
    /// As [`Short::filter`], one bit per 8 bits of `slots`.
    filter: Vec<u64>,
}

/// Merge-table pieces of [`TINY_TEXT`] + 1 to [`SHORT_TEXT`] bytes, each in
/// one `u128` slot: the text (bits 0-95), its length (bits 96-99) and the
/// id (bits 100-127); 0 is empty.
struct Short {
    slots: Vec<u128>,
    len: usize,
    /// One bit per 16 bits of `slots`, set for every key's hash: most
    /// texts that are no piece (the common lookup on text no model has
    /// seen) stop at this bitmap, small enough to stay in the CPU's cache,
    /// without reading the table.
    filter: Vec<u64>,
}

/// The bit of `folded` in a filter of `words` 64-bit words (a power of two).
#[inline(always)]
fn filter_bit(folded: u64, words: usize) -> (usize, u64) {
    let h = folded.wrapping_mul(0xD6E8_FEB8_6659_FD93);
    let bits = (words * 64).trailing_zeros();
    let i = (h >> (64 - bits)) as usize;
    (i >> 6, 1 << (i & 63))
}

const TINY_KEY: u64 = (1 << 35) - 1;

#[inline(always)]
fn tiny_key(s: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    b[..s.len()].copy_from_slice(s);
    b[4] = s.len() as u8;
    u64::from_le_bytes(b)
}

/// The first slot to probe for `key` in a table of `cap` (a power of two)
/// slots.
#[inline(always)]
fn slot_of(folded: u64, cap: usize) -> usize {
    (folded.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - cap.trailing_zeros())) as usize
}

#[inline(always)]
fn fold(key: u128) -> u64 {
    (key as u64) ^ ((key >> 64) as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
}

impl Tiny {
    fn insert(&mut self, key: u64, id: u32) {
        if (self.len + 1) * 2 > self.slots.len() {
            let cap = (self.slots.len() * 2).max(64);
            let old = std::mem::replace(&mut self.slots, vec![0; cap]);
            self.filter = vec![0; cap / 8];
            for slot in old.into_iter().filter(|&s| s != 0) {
                self.place(slot);
            }
        }
        self.place(key | u64::from(id) << 35);
        self.len += 1;
    }

    fn place(&mut self, slot: u64) {
        let mask = self.slots.len() - 1;
        let (w, bit) = filter_bit(slot & TINY_KEY, self.filter.len());
        self.filter[w] |= bit;
        let mut i = slot_of(slot & TINY_KEY, self.slots.len());
        while self.slots[i] != 0 {
            i = (i + 1) & mask;
        }
        self.slots[i] = slot;
    }

    #[inline(always)]
    fn get(&self, key: u64) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let (w, bit) = filter_bit(key, self.filter.len());
        if self.filter[w] & bit == 0 {
            return None;
        }
        let mut i = slot_of(key, self.slots.len());
        loop {
            let slot = self.slots[i];
            if slot & TINY_KEY == key {
                return Some((slot >> 35) as u32);
            }
            if slot == 0 {
                return None;
            }
            i = (i + 1) & mask;
        }
    }
}

impl Short {
    fn insert(&mut self, key: u128, id: u32) {
        if (self.len + 1) * 3 > self.slots.len() * 2 {
            let cap = (self.slots.len() * 2).max(64);
            let old = std::mem::replace(&mut self.slots, vec![0; cap]);
            self.filter = vec![0; cap / 8];
            for slot in old.into_iter().filter(|&s| s != 0) {
                self.place(slot);
            }
        }
        self.place(key | u128::from(id) << 100);
        self.len += 1;
    }

    fn place(&mut self, slot: u128) {
        let mask = self.slots.len() - 1;
        let folded = fold(slot & SHORT_KEY);
        let (w, bit) = filter_bit(folded, self.filter.len());
        self.filter[w] |= bit;
        let mut i = slot_of(folded, self.slots.len());
        while self.slots[i] != 0 {
            i = (i + 1) & mask;
        }
        self.slots[i] = slot;
    }

    #[inline(always)]
    fn get(&self, key: u128) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let folded = fold(key);
        let (w, bit) = filter_bit(folded, self.filter.len());
        if self.filter[w] & bit == 0 {
            return None;
        }
        let mut i = slot_of(folded, self.slots.len());
        loop {
            let slot = self.slots[i];
            if slot & SHORT_KEY == key {
                return Some((slot >> 100) as u32);
            }
            if slot == 0 {
                return None;
            }
            i = (i + 1) & mask;
        }
    }
}

/// The bytes [`PieceTable::find_padded`] may read from where a text starts.
pub(super) const PADDING: usize = 16;

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
            tiny: Tiny {
                slots: Vec::new(),
                len: 0,
                filter: Vec::new(),
            },
            short: Short {
                slots: Vec::new(),
                len: 0,
                filter: Vec::new(),
            },
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
            match text.len() {
                0 => {}
                1..=TINY_TEXT if id < 1 << 28 => self.tiny.insert(tiny_key(text.as_bytes()), id),
                SHORT_FIRST..=SHORT_TEXT if id < 1 << 28 => {
                    self.short.insert(short_key(text.as_bytes()), id)
                }
                _ => {}
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
        // Ids from 2^28 on are only in the general table (no real model has
        // that many pieces).
        if self.len() <= 1 << 28 {
            match s.len() {
                0 => {}
                1..=TINY_TEXT => return self.tiny.get(tiny_key(s.as_bytes())),
                SHORT_FIRST..=SHORT_TEXT => return self.short.get(short_key(s.as_bytes())),
                _ => {}
            }
        }
        self.table_find(s.as_bytes())
    }

    /// [`PieceTable::find`] of `buf[a..e]` (1 byte or more), where `buf`
    /// holds [`PADDING`] bytes or more past `a`: the keys of the tiny and
    /// short tables are read in one load and masked, with no copy.
    #[inline(always)]
    pub(super) fn find_padded(&self, buf: &[u8], a: usize, e: usize) -> Option<u32> {
        let len = e - a;
        debug_assert!(len >= 1 && buf.len() >= a + PADDING);
        if self.len() <= 1 << 28 {
            if len <= TINY_TEXT {
                let x = u64::from_le_bytes(buf[a..a + 8].try_into().expect("8 bytes"));
                let key = (x & ((1u64 << (8 * len)) - 1)) | (len as u64) << 32;
                return self.tiny.get(key);
            }
            if len <= SHORT_TEXT {
                let x = u128::from_le_bytes(buf[a..a + 16].try_into().expect("16 bytes"));
                let key = (x & ((1u128 << (8 * len)) - 1)) | (len as u128) << 96;
                return self.short.get(key);
            }
        }
        self.table_find(&buf[a..e])
    }

    /// [`PieceTable::find`] by the general table only.
    #[inline]
    fn table_find(&self, s: &[u8]) -> Option<u32> {
        let h = table_hash(s);
        let mut i = h as usize & self.mask;
        loop {
            let slot = self.slots[i];
            if slot == EMPTY {
                return None;
            }
            if slot & TAG == h & TAG {
                let id = slot as u32;
                if self.text(id).as_bytes() == s {
                    return Some(id);
                }
            }
            i = (i + 1) & self.mask;
        }
    }

    /// The texts of the pieces merges may form.
    pub(super) fn mergeable(&self) -> impl Iterator<Item = &str> {
        self.mergeable_ids().map(|id| self.text(id))
    }

    /// The ids of the pieces merges may form, in no particular order.
    pub(super) fn mergeable_ids(&self) -> impl Iterator<Item = u32> {
        self.slots
            .iter()
            .filter(|&&slot| slot != EMPTY)
            .map(|&slot| slot as u32)
    }
}

/// A character that is no piece merges may form.
pub(super) const NO_PIECE: u32 = u32::MAX;

impl PieceTable {}

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

    /// The tiny and short tables answer as the general table does, for
    /// every piece of many (past a few growths of both tables) and for
    /// texts that are not pieces, of every length around their limits.
    #[test]
    fn the_fast_tables_agree_with_the_general_table() {
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut below = move |n: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n as u64) as usize
        };
        let alphabet = ["a", "b", "c", "▁", "é", "\n", "中"];
        let text = |below: &mut dyn FnMut(usize) -> usize| {
            let n = 1 + below(8);
            (0..n)
                .map(|_| alphabet[below(alphabet.len())])
                .collect::<String>()
        };
        let mut t = PieceTable::with_capacity(60_000, 600_000);
        let mut pieces = Vec::new();
        while t.len() < 60_000 {
            let s = text(&mut below);
            let mergeable = below(10) != 0;
            if t.push(&s, s.as_bytes(), 0.0, mergeable).is_ok() && mergeable {
                pieces.push((s, t.len() as u32 - 1));
            }
        }
        let (mut tiny, mut short, mut long) = (0, 0, 0);
        for (s, id) in &pieces {
            assert_eq!(t.find(s), Some(*id), "{s:?}");
            let mut buf = s.as_bytes().to_vec();
            buf.resize(s.len() + PADDING, 0xFF);
            assert_eq!(t.find_padded(&buf, 0, s.len()), Some(*id), "{s:?}");
            assert_eq!(t.table_find(s.as_bytes()), Some(*id), "{s:?}");
            match s.len() {
                0..=TINY_TEXT => tiny += 1,
                SHORT_FIRST..=SHORT_TEXT => short += 1,
                _ => long += 1,
            }
        }
        assert!(
            tiny > 100 && short > 10_000 && long > 10_000,
            "{tiny} {short} {long}"
        );
        assert!(t.tiny.slots.len() >= 2 * tiny && t.short.slots.len() * 2 >= 3 * short);
        let mut found = 0;
        for _ in 0..200_000 {
            let s = text(&mut below);
            let got = t.find(&s);
            assert_eq!(got, t.table_find(s.as_bytes()), "{s:?}");
            // By a window of a padded buffer, with text on both sides.
            let mut buf = b"x\n".to_vec();
            buf.extend_from_slice(s.as_bytes());
            buf.extend_from_slice(b"ab");
            buf.resize(buf.len() + PADDING, 0);
            assert_eq!(t.find_padded(&buf, 2, 2 + s.len()), got, "{s:?}");
            found += usize::from(got.is_some());
        }
        assert!(found > 1000 && found < 199_000, "{found}");
    }
}
