//! The rules a profile adds to a plan's check (`tokenscope check`); the
//! check itself is in [`crate::report::check`].

/// The rules a profile adds (`max_utilization`, per-section `min_included`,
/// `must_include` in `tokenscope.toml`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rules {
    /// The most of the total the rendered context may use, from 0 to 1.
    pub max_utilization: Option<f64>,
    /// Sections and the least number of items each must include, in the
    /// order they were given.
    pub min_included: Vec<(String, usize)>,
    /// Item ids that must be included.
    pub must_include: Vec<String>,
}

impl Rules {
    /// Whether the profile sets no rules (only the built-in ones apply).
    pub fn is_empty(&self) -> bool {
        self.max_utilization.is_none()
            && self.min_included.is_empty()
            && self.must_include.is_empty()
    }
}
