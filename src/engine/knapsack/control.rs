//! What stops an anytime solve early: a deadline, a cancellation poll and a
//! memory cap, checked cheaply (the clock and the poll only every
//! [`CHECK_EVERY`] units of work).

use std::cell::Cell;
use std::time::Instant;

use super::{Limits, Stop};

/// Units of work (states carried, steps taken, bitset words shifted / 64)
/// between two looks at the clock and the cancellation poll.
pub(super) const CHECK_EVERY: usize = 1 << 14;

/// The limits of one solve, with the work done since the last look.
pub(super) struct Control<'a> {
    deadline: Option<Instant>,
    memory: usize,
    cancel: Option<&'a dyn Fn() -> bool>,
    since: Cell<usize>,
    stopped: Cell<Option<Stop>>,
}

impl<'a> Control<'a> {
    pub(super) fn new(limits: &Limits<'a>) -> Control<'a> {
        Control {
            deadline: limits.deadline,
            memory: limits.memory.unwrap_or(usize::MAX),
            cancel: limits.cancel,
            since: Cell::new(0),
            stopped: Cell::new(None),
        }
    }

    /// No limit at all: the search never needs to look.
    pub(super) fn unlimited(&self) -> bool {
        self.deadline.is_none() && self.cancel.is_none() && self.memory == usize::MAX
    }

    /// The memory cap in bytes (`usize::MAX`: none).
    pub(super) fn memory(&self) -> usize {
        self.memory
    }

    /// Counts `work` more units and, every [`CHECK_EVERY`], looks at the
    /// clock and the poll. `Some` once a limit is reached (and from then on).
    #[inline]
    pub(super) fn tick(&self, work: usize) -> Option<Stop> {
        let since = self.since.get().saturating_add(work);
        if since < CHECK_EVERY {
            self.since.set(since);
            return self.stopped.get();
        }
        self.since.set(0);
        self.look()
    }

    /// Looks at the clock and the poll now.
    pub(super) fn look(&self) -> Option<Stop> {
        if self.stopped.get().is_none() {
            if self.cancel.is_some_and(|c| c()) {
                self.stopped.set(Some(Stop::Cancelled));
            } else if self.deadline.is_some_and(|d| Instant::now() >= d) {
                self.stopped.set(Some(Stop::Deadline));
            }
        }
        self.stopped.get()
    }

    /// Whether `bytes` would break the memory cap; records the stop if so.
    pub(super) fn over_memory(&self, bytes: usize) -> bool {
        let over = bytes > self.memory;
        if over && self.stopped.get().is_none() {
            self.stopped.set(Some(Stop::Memory));
        }
        over
    }

    /// Why the solve stopped, if it did.
    pub(super) fn stopped(&self) -> Option<Stop> {
        self.stopped.get()
    }

    /// The instant halfway between now and the deadline (`None`: none).
    pub(super) fn halfway(&self) -> Option<Instant> {
        let d = self.deadline?;
        let now = Instant::now();
        Some(now + d.saturating_duration_since(now) / 2)
    }
}
