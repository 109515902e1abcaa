//! Linear-programming bounds on what a state of the search can still reach.

/// The density `value / weight` of the next free candidate on one side of
/// the core; every candidate further out on that side is no denser (right
/// side) or no sparser (left side).
#[derive(Debug, Clone, Copy)]
pub(super) struct Rate {
    pub(super) value: u128,
    pub(super) weight: u128,
}

impl Rate {
    /// The density of a candidate of weight `weight` (at least 1) and value
    /// `value`.
    pub(super) fn new(weight: u64, value: u64) -> Rate {
        Rate {
            value: u128::from(value),
            weight: u128::from(weight),
        }
    }
}

/// What completions of a state can do: add candidates right of the core
/// (none denser than `add`) and remove candidates left of it (none sparser
/// than `remove`, at most `removable` weight in all). `None` means that side
/// has nothing left.
#[derive(Debug, Clone, Copy)]
pub(super) struct Outlook {
    pub(super) add: Option<Rate>,
    pub(super) remove: Option<Rate>,
    pub(super) removable: u64,
}

impl Outlook {
    /// Whether some completion of the state (`weight`, `value`) could reach
    /// a total value of at least `target` within total weight `cap`,
    /// according to the LP relaxation (Dembo–Hammer bound). `false` is a
    /// proof that none can; `true` may be optimistic.
    pub(super) fn can_reach(&self, weight: u64, value: u128, cap: u64, target: u128) -> bool {
        if weight <= cap {
            if value >= target {
                return true;
            }
            // Fill the free room at the best remaining rate of the right side;
            // removing left candidates to make room never pays, they are denser.
            let Some(r) = self.add else { return false };
            let room = u128::from(cap - weight);
            let reach = value
                .checked_mul(r.weight)
                .and_then(|x| x.checked_add(room.checked_mul(r.value)?));
            match (reach, target.checked_mul(r.weight)) {
                (Some(reach), Some(need)) => reach >= need,
                // `need` beyond 128 bits is more than any `reach` that fits.
                (Some(_), None) => false,
                // Out of range: assume it can (never wrong, only slower).
                (None, _) => true,
            }
        } else {
            // At least `excess` weight must go, at the cheapest remaining rate
            // of the left side.
            let excess = weight - cap;
            if excess > self.removable {
                return false;
            }
            let Some(r) = self.remove else { return false };
            let need = target
                .checked_mul(r.weight)
                .and_then(|x| x.checked_add(u128::from(excess).checked_mul(r.value)?));
            match (value.checked_mul(r.weight), need) {
                (Some(have), Some(need)) => have >= need,
                (Some(_), None) => false,
                (None, _) => true,
            }
        }
    }
}

impl Outlook {
    /// The largest total value a completion of the state (`weight`,
    /// `value`) can reach within `cap`, by the same relaxation: `None` when
    /// no completion fits. Saturates at `u128::MAX` when out of range
    /// (never wrong, only loose).
    pub(super) fn upper(&self, weight: u64, value: u128, cap: u64) -> Option<u128> {
        if weight <= cap {
            let Some(r) = self.add else {
                return Some(value);
            };
            let room = u128::from(cap - weight);
            let more = room
                .checked_mul(r.value)
                .map_or(u128::MAX, |x| x / r.weight);
            Some(value.saturating_add(more))
        } else {
            let excess = weight - cap;
            if excess > self.removable {
                return None;
            }
            let r = self.remove?;
            // Losing at least `excess · value / weight`, rounded up.
            let loss = u128::from(excess).checked_mul(r.value)?.div_ceil(r.weight);
            value.checked_sub(loss)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outlook(add: Option<(u64, u64)>, remove: Option<(u64, u64)>, removable: u64) -> Outlook {
        Outlook {
            add: add.map(|(w, v)| Rate::new(w, v)),
            remove: remove.map(|(w, v)| Rate::new(w, v)),
            removable,
        }
    }

    #[test]
    fn underweight_fills_room_at_the_add_rate() {
        // 10 free units at rate 3/2 reach 15 more.
        let o = outlook(Some((2, 3)), Some((1, 5)), 100);
        assert!(o.can_reach(90, 100, 100, 115));
        assert!(!o.can_reach(90, 100, 100, 116));
        // Without anything to add only the value itself counts.
        let o = outlook(None, Some((1, 5)), 100);
        assert!(o.can_reach(90, 100, 100, 100));
        assert!(!o.can_reach(90, 100, 100, 101));
    }

    #[test]
    fn overweight_pays_the_remove_rate() {
        // 4 units over at rate 5/2 cost 10.
        let o = outlook(Some((1, 1)), Some((2, 5)), 100);
        assert!(o.can_reach(104, 50, 100, 40));
        assert!(!o.can_reach(104, 50, 100, 41));
        // Not enough left to remove.
        let o = outlook(Some((1, 1)), Some((2, 5)), 3);
        assert!(!o.can_reach(104, 50, 100, 0));
        let o = outlook(Some((1, 1)), None, 100);
        assert!(!o.can_reach(104, 50, 100, 0));
    }

    #[test]
    fn upper_bounds_round_down() {
        // 10 free units at rate 3/2: 15 more.
        let o = outlook(Some((2, 3)), Some((2, 5)), 100);
        assert_eq!(o.upper(90, 100, 100), Some(115));
        // 9 free units: 13.5, so 13.
        assert_eq!(o.upper(91, 100, 100), Some(113));
        // 3 over at rate 5/2: lose 7.5, so at least 8.
        assert_eq!(o.upper(103, 50, 100), Some(42));
        assert_eq!(o.upper(103, 7, 100), None);
        assert_eq!(outlook(None, None, 0).upper(5, 9, 10), Some(9));
        assert_eq!(outlook(None, None, 0).upper(11, 9, 10), None);
        // The upper bound agrees with `can_reach`.
        for w in 80..120 {
            let up = o.upper(w, 60, 100);
            for t in 0..200 {
                assert_eq!(
                    o.can_reach(w, 60, 100, t),
                    up.is_some_and(|u| u >= t),
                    "{w} {t}"
                );
            }
        }
    }

    #[test]
    fn extreme_numbers_do_not_overflow() {
        let big = u128::from(u64::MAX) << 32;
        let o = outlook(Some((1, u64::MAX)), Some((1, u64::MAX)), u64::MAX);
        assert!(o.can_reach(0, big, u64::MAX, big + 1));
        assert!(!o.can_reach(u64::MAX, big, 0, big));
        assert!(o.can_reach(1, big, 0, big - u128::from(u64::MAX)));
    }
}
