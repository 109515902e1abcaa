//! One open-addressing hash table for the lookups on counting's hot path:
//! a slot holds its key and its value packed in one integer, so a lookup
//! reads one slot (or a few neighbours, linear probing) and nothing else,
//! where a general map reads a control byte and then the entry, and a table
//! of byte strings also reads the offsets and the bytes.

/// A packed slot: a key and a value in one integer; the all-zero slot is
/// empty, so no stored slot may be zero.
pub(crate) trait Slot: Copy + Eq {
    /// The empty slot.
    const EMPTY: Self;
    /// What a lookup is by: the slot's key bits, in the slot's type.
    type Key: Copy;
    /// The key's hash; the table takes its top bits.
    fn hash(key: Self::Key) -> u64;
    /// Whether this slot holds `key`.
    fn holds(self, key: Self::Key) -> bool;
}

/// An open-addressing table of packed slots, at most half full, with a
/// presence filter in front: one bit per key's hash, [`FILTER_BITS`] bits
/// per slot, set for every key stored. Most lookups of a key that is not
/// there (on text no model has seen, the common case) stop at the filter,
/// small enough to stay in the CPU's cache, without reading the table.
#[derive(Debug)]
pub(crate) struct OpenTable<S> {
    slots: Box<[S]>,
    mask: usize,
    shift: u32,
    filter: Box<[u64]>,
    filter_shift: u32,
}

/// Filter bits per slot: with the table at most half full, sixteen or more
/// per key, so at most one lookup in sixteen of a missing key reads the
/// table (eight bits per slot were 3-5 % faster than four on random words,
/// `o200k_base`).
pub(crate) const FILTER_BITS: usize = 8;

impl<S: Slot> OpenTable<S> {
    /// An empty table with room for `n` slots.
    pub(crate) fn with_room(n: usize) -> OpenTable<S> {
        let cap = (n * 2).next_power_of_two().max(16);
        let filter_bits = cap * FILTER_BITS;
        OpenTable {
            slots: vec![S::EMPTY; cap].into_boxed_slice(),
            mask: cap - 1,
            shift: 64 - cap.trailing_zeros(),
            filter: vec![0; filter_bits / 64].into_boxed_slice(),
            filter_shift: 64 - filter_bits.trailing_zeros(),
        }
    }

    /// A table with no slots, that finds nothing and takes nothing.
    pub(crate) fn none() -> OpenTable<S> {
        OpenTable {
            slots: Box::new([]),
            mask: 0,
            shift: 0,
            filter: Box::new([]),
            filter_shift: 0,
        }
    }

    /// Whether the table has no room (made by [`OpenTable::none`]).
    pub(crate) fn is_none(&self) -> bool {
        self.slots.is_empty()
    }

    #[inline(always)]
    fn start(&self, key: S::Key) -> usize {
        (S::hash(key).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    /// The filter word and bit of `key`, from other bits of its hash than
    /// the slot's.
    #[inline(always)]
    fn filter_bit(&self, key: S::Key) -> (usize, u64) {
        let i = (S::hash(key).wrapping_mul(0xD6E8_FEB8_6659_FD93) >> self.filter_shift) as usize;
        (i >> 6, 1 << (i & 63))
    }

    /// Stores `slot` under `key` unless the key is there already (the
    /// first slot stored for a key is kept). The table must have room.
    pub(crate) fn insert_first(&mut self, key: S::Key, slot: S) {
        debug_assert!(slot != S::EMPTY && slot.holds(key));
        let (w, bit) = self.filter_bit(key);
        self.filter[w] |= bit;
        let mut i = self.start(key);
        loop {
            let s = self.slots[i];
            if s == S::EMPTY {
                self.slots[i] = slot;
                return;
            }
            if s.holds(key) {
                return;
            }
            i = (i + 1) & self.mask;
        }
    }

    /// The slot that holds `key`.
    #[inline(always)]
    pub(crate) fn get(&self, key: S::Key) -> Option<S> {
        if self.slots.is_empty() {
            return None;
        }
        let (w, bit) = self.filter_bit(key);
        if self.filter[w] & bit == 0 {
            return None;
        }
        let mut i = self.start(key);
        loop {
            let s = self.slots[i];
            if s.holds(key) {
                return Some(s);
            }
            if s == S::EMPTY {
                return None;
            }
            i = (i + 1) & self.mask;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A slot of a 32-bit key (plus one, so no key is zero) and a value.
    #[derive(Clone, Copy, PartialEq, Eq)]
    struct Pair(u64);

    impl Slot for Pair {
        const EMPTY: Pair = Pair(0);
        type Key = u32;
        fn hash(key: u32) -> u64 {
            u64::from(key)
        }
        fn holds(self, key: u32) -> bool {
            self.0 as u32 == key.wrapping_add(1)
        }
    }

    #[test]
    fn finds_what_it_holds_keeps_the_first_and_nothing_else() {
        let mut t: OpenTable<Pair> = OpenTable::with_room(1000);
        for k in 0..1000u32 {
            t.insert_first(k * 7, Pair(u64::from(k) << 32 | u64::from(k * 7 + 1)));
        }
        t.insert_first(14, Pair(99 << 32 | 15));
        for k in 0..1000u32 {
            assert_eq!(t.get(k * 7).map(|p| p.0 >> 32), Some(u64::from(k)));
            if k % 7 != 0 {
                assert!(t.get(k).is_none(), "{k}");
            }
        }
        let none: OpenTable<Pair> = OpenTable::none();
        assert!(none.is_none() && none.get(0).is_none());
    }
}
