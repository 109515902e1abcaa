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

/// An open-addressing table of packed slots, at most half full.
#[derive(Debug)]
pub(crate) struct OpenTable<S> {
    slots: Box<[S]>,
    mask: usize,
    shift: u32,
}

impl<S: Slot> OpenTable<S> {
    /// An empty table with room for `n` slots.
    pub(crate) fn with_room(n: usize) -> OpenTable<S> {
        let cap = (n * 2).next_power_of_two().max(16);
        OpenTable {
            slots: vec![S::EMPTY; cap].into_boxed_slice(),
            mask: cap - 1,
            shift: 64 - cap.trailing_zeros(),
        }
    }

    /// A table with no slots, that finds nothing and takes nothing.
    pub(crate) fn none() -> OpenTable<S> {
        OpenTable {
            slots: Box::new([]),
            mask: 0,
            shift: 0,
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

    /// Stores `slot` under `key` unless the key is there already (the
    /// first slot stored for a key is kept). The table must have room.
    pub(crate) fn insert_first(&mut self, key: S::Key, slot: S) {
        debug_assert!(slot != S::EMPTY && slot.holds(key));
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
