//! How long and in how much memory the `optimal` strategy's knapsack may
//! search, and how a caller cancels it ([`OptimalLimits`], part of
//! [`PackContext`](super::PackContext)).
//!
//! The deadline covers all the `optimal` solves of one [`pack`](super::pack)
//! together (sections, reruns after reallocation or `priority-cut`): it
//! starts when the run starts. A solve that starts after it has passed still
//! does a little work (the greedy fill by density and about 16,000 states)
//! before it looks at the clock. A solve a limit stops keeps the best set
//! found so far, and the plan reports its `optimality_gap`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::knapsack::{self, Limits};

/// The deadline of `pack`, `check` and `watch` when none is given.
pub const DEFAULT_OPTIMAL_DEADLINE: Duration = Duration::from_secs(2);

/// The inspector's deadline when none is given: well under a frame.
pub const INSPECTOR_OPTIMAL_DEADLINE: Duration = Duration::from_millis(10);

/// A cancellation poll: answers `true` once the run's result is no longer
/// wanted. Cheap to clone; polled every few thousand states.
#[derive(Clone)]
pub struct Cancel(Arc<dyn Fn() -> bool + Send + Sync>);

impl Cancel {
    /// A poll that calls `f`.
    pub fn new(f: impl Fn() -> bool + Send + Sync + 'static) -> Cancel {
        Cancel(Arc::new(f))
    }

    /// Whether the run is cancelled.
    pub fn is_cancelled(&self) -> bool {
        (self.0)()
    }
}

impl std::fmt::Debug for Cancel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cancel(..)")
    }
}

/// Limits on the `optimal` strategy's search in one engine run.
#[derive(Debug, Clone)]
pub struct OptimalLimits {
    /// Time for all the run's `optimal` solves together; `None`: no deadline
    /// (the search is exact, however long it takes).
    pub deadline: Option<Duration>,
    /// Most bytes one solve's state lists and history may take; `None`: no
    /// cap.
    pub memory: Option<usize>,
    /// Stops the solves at once when it answers `true` (the plan is then
    /// built from the best sets found so far; callers drop it).
    pub cancel: Option<Cancel>,
}

impl Default for OptimalLimits {
    /// [`DEFAULT_OPTIMAL_DEADLINE`] and [`knapsack::DEFAULT_MEMORY`], no
    /// cancellation.
    fn default() -> Self {
        OptimalLimits {
            deadline: Some(DEFAULT_OPTIMAL_DEADLINE),
            memory: Some(knapsack::DEFAULT_MEMORY),
            cancel: None,
        }
    }
}

impl OptimalLimits {
    /// No deadline, no memory cap, no cancellation: always exact.
    pub fn unlimited() -> Self {
        OptimalLimits {
            deadline: None,
            memory: None,
            cancel: None,
        }
    }
}

/// The limits of one run, with its deadline fixed.
#[derive(Debug, Clone, Default)]
pub(super) struct RunLimits {
    deadline: Option<Instant>,
    memory: Option<usize>,
    cancel: Option<Cancel>,
}

impl RunLimits {
    /// The limits of a run starting now.
    pub(super) fn start(limits: &OptimalLimits) -> RunLimits {
        RunLimits {
            deadline: limits.deadline.and_then(|d| Instant::now().checked_add(d)),
            memory: limits.memory,
            cancel: limits.cancel.clone(),
        }
    }

    /// The knapsack's view of them.
    pub(super) fn limits(&self) -> Limits<'_> {
        Limits {
            deadline: self.deadline,
            memory: self.memory,
            cancel: self.cancel.as_ref().map(|c| &*c.0 as &dyn Fn() -> bool),
        }
    }
}

/// Parses a deadline as given on the command line: milliseconds (`500`), or
/// a number with a unit (`250ms`, `2s`, `1.5s`, `1m`); `none` or `off` for
/// no deadline.
pub fn parse_deadline(text: &str) -> Result<Option<Duration>, String> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("none") || t.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let scale = match unit.trim() {
        "" | "ms" => 1e-3,
        "s" => 1.0,
        "m" | "min" => 60.0,
        other => {
            return Err(format!(
                "`{text}`: unknown unit `{other}`; expected ms, s or m (e.g. 500, 250ms, 2s), or none"
            ));
        }
    };
    let value: f64 = number.parse().map_err(|_| {
        format!("`{text}`: expected a duration such as 500 (milliseconds), 250ms or 2s, or none")
    })?;
    Duration::try_from_secs_f64(value * scale)
        .map(Some)
        .map_err(|_| format!("`{text}`: duration out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_deadlines() {
        let ms = |n| Ok(Some(Duration::from_millis(n)));
        assert_eq!(parse_deadline("500"), ms(500));
        assert_eq!(parse_deadline("250ms"), ms(250));
        assert_eq!(parse_deadline("2s"), ms(2000));
        assert_eq!(parse_deadline("1.5s"), ms(1500));
        assert_eq!(parse_deadline("1m"), ms(60_000));
        assert_eq!(parse_deadline(" 0 "), ms(0));
        assert_eq!(parse_deadline("none"), Ok(None));
        assert_eq!(parse_deadline("OFF"), Ok(None));
        for bad in ["", "s", "2h", "-1", "1.2.3", "1e9999s", "fast"] {
            assert!(parse_deadline(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_run_fixes_its_deadline() {
        let run = RunLimits::start(&OptimalLimits::default());
        let limits = run.limits();
        assert!(limits.deadline.is_some_and(|d| d > Instant::now()));
        assert_eq!(limits.memory, Some(knapsack::DEFAULT_MEMORY));
        assert!(limits.cancel.is_none());
        let cancel = Cancel::new(|| true);
        let run = RunLimits::start(&OptimalLimits {
            cancel: Some(cancel),
            ..OptimalLimits::unlimited()
        });
        assert!(run.limits().cancel.is_some_and(|c| c()));
        assert!(run.limits().deadline.is_none());
    }
}
