//! How exact a count is, and the one way every count is shown to a person.
//!
//! An exact count is shown as the number (`1,234`). An estimate is shown
//! with `≈` in front and, when its expected error is known, the band after
//! it: `≈1,234 ±10%`. The band is relative: the real count is expected
//! within 10 % of the estimate either way. [`Accuracy::label`] is the helper
//! every command, report and inspector pane goes through, so the form is the
//! same everywhere.

use std::fmt;

use serde::Serialize;

/// The expected relative error of an estimate: `ErrorBand::new(0.10)` is
/// ±10 %. Serialized as the fraction (`0.1`).
///
/// ```
/// use tokenscope::tokens::ErrorBand;
/// assert_eq!(ErrorBand::new(0.10).unwrap().to_string(), "±10%");
/// assert_eq!(ErrorBand::new(0.125).unwrap().to_string(), "±12.5%");
/// assert!(ErrorBand::new(0.0).is_none());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct ErrorBand(f64);

impl ErrorBand {
    /// The default band of a ratio estimate (`{ base, ratio }`): ±10 %.
    pub const RATIO: ErrorBand = ErrorBand(0.10);
    /// The default band of `chars/4`: ±25 %.
    pub const CHARS4: ErrorBand = ErrorBand(0.25);
    /// The default band of `words*1.3`: ±50 %.
    pub const WORDS13: ErrorBand = ErrorBand(0.50);

    /// A band of `fraction` (0.10 for ±10 %); `None` unless it is above 0
    /// and at most 1.
    pub fn new(fraction: f64) -> Option<ErrorBand> {
        (fraction.is_finite() && fraction > 0.0 && fraction <= 1.0).then_some(ErrorBand(fraction))
    }

    /// The band as a fraction of the count (0.10 for ±10 %).
    pub fn fraction(self) -> f64 {
        self.0
    }
}

impl fmt::Display for ErrorBand {
    /// `±10%`, with one decimal when the percentage is not whole (`±12.5%`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pct = self.0 * 100.0;
        if (pct - pct.round()).abs() < 0.05 {
            write!(f, "±{pct:.0}%")
        } else {
            write!(f, "±{pct:.1}%")
        }
    }
}

/// Whether a count is exact, or an estimate and how far off it may be.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Accuracy {
    /// An exact count.
    Exact,
    /// An estimate, with its expected error band when one is known (a chat
    /// request with parts no tokenizer can count is an estimate without
    /// one).
    Estimate(Option<ErrorBand>),
}

impl Accuracy {
    /// `Exact` when `exact`, else an estimate with `band`.
    pub fn new(exact: bool, band: Option<ErrorBand>) -> Accuracy {
        if exact {
            Accuracy::Exact
        } else {
            Accuracy::Estimate(band)
        }
    }

    /// Whether counts are exact.
    pub fn is_exact(self) -> bool {
        self == Accuracy::Exact
    }

    /// The expected error band of an estimate.
    pub fn band(self) -> Option<ErrorBand> {
        match self {
            Accuracy::Exact => None,
            Accuracy::Estimate(band) => band,
        }
    }

    /// A formatted value (a count such as `1,234`, or a share or cost
    /// derived from one) as a person reads it: as it is when exact,
    /// `≈1,234 ±10%` for an estimate with a band, `≈1,234` without one.
    ///
    /// ```
    /// use tokenscope::tokens::{Accuracy, ErrorBand};
    /// assert_eq!(Accuracy::Exact.label("1,234"), "1,234");
    /// assert_eq!(Accuracy::Estimate(ErrorBand::new(0.1)).label("1,234"), "≈1,234 ±10%");
    /// assert_eq!(Accuracy::Estimate(None).label("+56"), "≈+56");
    /// ```
    pub fn label(self, value: &str) -> String {
        match self {
            Accuracy::Exact => value.to_string(),
            Accuracy::Estimate(None) => format!("≈{value}"),
            Accuracy::Estimate(Some(band)) => format!("≈{value} {band}"),
        }
    }

    /// A name of what counts (an encoding, an estimate's formula) or of what
    /// was counted, marked the same way: as it is when exact,
    /// `≈ o200k_base*1.2 ±10%` for an estimate (`≈ name` without a band).
    ///
    /// ```
    /// use tokenscope::tokens::{Accuracy, ErrorBand};
    /// let est = Accuracy::Estimate(ErrorBand::new(0.25));
    /// assert_eq!(est.describe("chars/4"), "≈ chars/4 ±25%");
    /// assert_eq!(Accuracy::Exact.describe("o200k_base"), "o200k_base");
    /// ```
    pub fn describe(self, name: &str) -> String {
        match self {
            Accuracy::Exact => name.to_string(),
            Accuracy::Estimate(None) => format!("≈ {name}"),
            Accuracy::Estimate(Some(band)) => format!("≈ {name} {band}"),
        }
    }

    /// The accuracy of a count of `n` tokens: none is none, so a zero (an
    /// excluded item's final tokens, a full section's headroom) is shown as
    /// a plain `0` rather than `≈0 ±10%`.
    ///
    /// ```
    /// use tokenscope::tokens::{Accuracy, ErrorBand};
    /// let est = Accuracy::Estimate(ErrorBand::new(0.1));
    /// assert_eq!(est.of_count(0), Accuracy::Exact);
    /// assert_eq!(est.of_count(7), est);
    /// ```
    pub fn of_count(self, n: usize) -> Accuracy {
        if n == 0 { Accuracy::Exact } else { self }
    }

    /// A count of `n` tokens as every output shows it: `1,234` with
    /// thousands separators, marked as [`Accuracy::label`] says when it is
    /// an estimate (`≈1,234 ±10%`); zero is always `0` ([`Accuracy::of_count`]).
    ///
    /// ```
    /// use tokenscope::tokens::{Accuracy, ErrorBand};
    /// let est = Accuracy::Estimate(ErrorBand::new(0.1));
    /// assert_eq!(est.count_label(16_000), "≈16,000 ±10%");
    /// assert_eq!(est.count_label(0), "0");
    /// assert_eq!(Accuracy::Exact.count_label(1_234), "1,234");
    /// ```
    pub fn count_label(self, n: usize) -> String {
        self.of_count(n).label(&crate::text::thousands(n))
    }

    /// The kind of counting in words: `exact`, `≈ estimate ±10%` (or
    /// `≈ estimate`).
    pub fn kind(self) -> String {
        match self {
            Accuracy::Exact => "exact".to_string(),
            estimate => estimate.describe("estimate"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_are_checked_and_shown_as_percentages() {
        assert!(ErrorBand::new(-0.1).is_none());
        assert!(ErrorBand::new(f64::NAN).is_none());
        assert!(ErrorBand::new(1.5).is_none());
        assert_eq!(ErrorBand::new(1.0).unwrap().to_string(), "±100%");
        assert_eq!(ErrorBand::new(0.05).unwrap().to_string(), "±5%");
        assert_eq!(ErrorBand::new(0.333).unwrap().to_string(), "±33.3%");
        assert_eq!(ErrorBand::RATIO.to_string(), "±10%");
        assert_eq!(ErrorBand::CHARS4.to_string(), "±25%");
        assert_eq!(ErrorBand::WORDS13.to_string(), "±50%");
        assert!(ErrorBand::CHARS4 > ErrorBand::RATIO);
        assert!(ErrorBand::WORDS13 > ErrorBand::RATIO);
        assert_eq!(serde_json::to_string(&ErrorBand::RATIO).unwrap(), "0.1");
    }

    #[test]
    fn labels_mark_estimates_only() {
        let est = Accuracy::new(false, Some(ErrorBand::RATIO));
        assert_eq!(est.label("16,000"), "≈16,000 ±10%");
        assert_eq!(est.kind(), "≈ estimate ±10%");
        assert_eq!(est.band(), Some(ErrorBand::RATIO));
        let exact = Accuracy::new(true, Some(ErrorBand::RATIO));
        assert_eq!(exact, Accuracy::Exact);
        assert_eq!(exact.label("16,000"), "16,000");
        assert_eq!(exact.kind(), "exact");
        assert_eq!(exact.band(), None);
        assert_eq!(Accuracy::Estimate(None).kind(), "≈ estimate");
    }
}
