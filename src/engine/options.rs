//! The named choices of the engine: strategies, overflow modes, kinds.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A value that is not one of a choice's valid names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{value}`; expected one of: {}", valid.join(", "))]
pub struct UnknownChoice {
    /// What was being chosen, e.g. `strategy`.
    pub what: &'static str,
    /// The value given.
    pub value: String,
    /// The valid names.
    pub valid: Vec<&'static str>,
}

macro_rules! choice {
    ($(#[$doc:meta])* $name:ident, $what:literal, { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in the order the inspector cycles through them.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The name used in files and on the command line.
            pub fn name(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }

        impl FromStr for $name {
            type Err = UnknownChoice;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s.trim() {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownChoice { what: $what, value: s.to_string(), valid: vec![$($text),+] }),
                }
            }
        }
    };
}

choice!(
    /// How a section chooses its items (docs/engine.md §3).
    Strategy, "strategy", {
        /// Priority order; take what fits, skip what does not.
        Greedy => "greedy",
        /// Priority order; stop at the first item that does not fit.
        Strict => "strict",
        /// Priority per token, highest first.
        Density => "density",
        /// Exact 0/1 knapsack on priority.
        Optimal => "optimal",
        /// Fair quotas across categories (or levels).
        Balanced => "balanced",
    }
);

choice!(
    /// What happens to the best item that does not fit (docs/engine.md §5).
    Overflow, "overflow", {
        /// Excluded.
        Drop => "drop",
        /// Cut at a token boundary to fill the remaining budget.
        Truncate => "truncate",
        /// Progressively shorter forms, the mildest that fits.
        Degrade => "degrade",
        /// Piped to a user command; falls back to degrade.
        Summarize => "summarize",
        /// Items below a threshold excluded outright, the rest dropped.
        PriorityCut => "priority-cut",
    }
);

choice!(
    /// Where unused tokens flow when reallocation is on (docs/engine.md §4).
    ReallocateMode, "reallocation mode", {
        /// In proportion to unmet demand.
        Proportional => "proportional",
        /// To the section named first in `reallocate_order`.
        Priority => "priority",
        /// Evenly among the receivers.
        Even => "even",
    }
);

choice!(
    /// Which part of a truncated item is kept.
    TruncateSide, "truncation side", {
        /// The beginning.
        Head => "head",
        /// The end.
        Tail => "tail",
        /// The beginning and the end, cut in the middle.
        Middle => "middle",
    }
);

choice!(
    /// What an item's content is, which decides its degraded forms.
    Kind, "kind", {
        /// Plain prose.
        Prose => "prose",
        /// Source code.
        Code => "code",
        /// Tests.
        Test => "test",
        /// Documentation (Markdown and the like).
        Docs => "docs",
        /// Configuration (TOML, YAML, JSON).
        Config => "config",
        /// Code comments.
        Comment => "comment",
        /// A chat message.
        Chat => "chat",
        /// A tool definition, call or result.
        Tool => "tool",
    }
);
