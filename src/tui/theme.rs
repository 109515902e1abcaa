//! Colour themes: `themes/*.toml` embedded with `include_str!`, semantic slots
//! (`included`, `excluded`, `over_budget`, `bar_fill`, `over_allocated`, ...), a user file that
//! may override some slots, and `monochrome` when `NO_COLOR` is set.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

/// The bundled themes: (name, TOML source), the default first.
pub const BUNDLED: [(&str, &str); 4] = [
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
    ("monochrome", include_str!("../../themes/monochrome.toml")),
];

macro_rules! slots {
    ($($(#[$doc:meta])* $slot:ident),+ $(,)?) => {
        /// A theme: one style per semantic slot.
        #[derive(Debug, Clone, PartialEq)]
        pub struct Theme {
            /// The theme's name.
            pub name: String,
            $($(#[$doc])* pub $slot: Style,)+
        }

        /// Every slot name, in file order.
        pub const SLOTS: &[&str] = &[$(stringify!($slot)),+];

        impl Theme {
            fn slot_mut(&mut self, name: &str) -> Option<&mut Style> {
                match name {
                    $(stringify!($slot) => Some(&mut self.$slot),)+
                    _ => None,
                }
            }

            fn blank(name: &str) -> Theme {
                Theme { name: name.to_string(), $($slot: Style::default(),)+ }
            }
        }
    };
}

slots!(
    /// Ordinary text.
    text,
    /// Secondary text: labels, hints, zero values.
    muted,
    /// The header line.
    header,
    /// Pane titles.
    title,
    /// Pane borders.
    border,
    /// The focused pane's border.
    border_focused,
    /// The selected row.
    selected,
    /// Included items.
    included,
    /// Pinned items.
    pinned,
    /// Truncated items.
    truncated,
    /// Degraded items.
    degraded,
    /// Excluded items.
    excluded,
    /// A budget overrun (pinned items over the section budget).
    over_budget,
    /// The filled part of a utilisation bar.
    bar_fill,
    /// The filled part of a bar that is under half used.
    bar_low,
    /// The empty part of a bar.
    bar_empty,
    /// Every other token in the detail pane.
    token_a,
    /// The tokens between.
    token_b,
    /// An escaped control character in item text.
    escape,
    /// Rows whose tokens or status just changed.
    changed,
    /// The status line showing an error.
    status_error,
    /// The status line showing information.
    status_info,
    /// Progress of background work.
    progress,
    /// The frontier chart's kept-priority line.
    chart_priority,
    /// The frontier chart's kept-items line.
    chart_items,
    /// The current budget on the frontier chart.
    chart_marker,
    /// History: a task type that mostly wasted its budget (used under half),
    /// and the 50 % line on the trend chart.
    over_allocated,
    /// History: a task type that mostly ran short (over 95 % used, or
    /// failed), and the 95 % line on the trend chart.
    under_allocated,
    /// History: the utilisation trend line.
    chart_trend,
    /// Popup windows.
    popup,
    /// Key names in the help overlay and hints.
    key,
);

/// A theme that cannot be used: where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThemeError {
    /// A theme name that is not bundled.
    #[error("unknown theme `{0}`; expected one of: dark, light, high-contrast, monochrome")]
    Unknown(String),
    /// A theme file with a bad value.
    #[error("{file}:{line}:{column}: {message}")]
    Invalid {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong and what was expected.
        message: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    slots: BTreeMap<toml::Spanned<String>, StyleSpec>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct StyleSpec {
    fg: Option<toml::Spanned<String>>,
    bg: Option<toml::Spanned<String>>,
    #[serde(default)]
    bold: bool,
    #[serde(default)]
    dim: bool,
    #[serde(default)]
    italic: bool,
    #[serde(default)]
    underline: bool,
    #[serde(default)]
    reversed: bool,
}

impl Theme {
    /// A bundled theme by name.
    pub fn bundled(name: &str) -> Result<Theme, ThemeError> {
        let (n, src) = BUNDLED
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| ThemeError::Unknown(name.to_string()))?;
        let mut theme = Theme::blank(n);
        theme.apply_toml(src, &format!("themes/{n}.toml"), true)?;
        Ok(theme)
    }

    /// The default theme: `monochrome` when colour is off, else `dark`.
    pub fn default_for(color: bool) -> Theme {
        let name = if color { "dark" } else { "monochrome" };
        // Bundled themes are checked by tests; the fallback keeps the
        // inspector usable even so.
        Theme::bundled(name).unwrap_or_else(|_| Theme::blank(name))
    }

    /// Whether colour is wanted: `NO_COLOR` set to a non-empty value turns it
    /// off.
    pub fn color_from_env() -> bool {
        std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
    }

    /// The user's theme overrides file: `<config dir>/tokenscope/theme.toml`.
    pub fn user_file() -> Option<PathBuf> {
        dirs::config_dir().map(|d| d.join("tokenscope").join("theme.toml"))
    }

    /// This theme with the slots given in `path` overridden.
    pub fn with_file(mut self, path: &Path) -> Result<Theme, ThemeError> {
        let text = crate::fsio::read_text_file(path, crate::fsio::Limit::Input).map_err(|e| {
            ThemeError::Invalid {
                file: path.display().to_string(),
                line: 1,
                column: 1,
                message: format!("cannot read the theme file: {e}"),
            }
        })?;
        self.apply_toml(&text, &path.display().to_string(), false)?;
        Ok(self)
    }

    /// Overrides slots from TOML text in theme-file format.
    pub fn with_overrides(mut self, text: &str, origin: &str) -> Result<Theme, ThemeError> {
        self.apply_toml(text, origin, false)?;
        Ok(self)
    }

    fn apply_toml(&mut self, text: &str, origin: &str, complete: bool) -> Result<(), ThemeError> {
        let err = |offset: usize, message: String| {
            let (line, column) = crate::text::line_column(text, offset);
            ThemeError::Invalid {
                file: origin.to_string(),
                line,
                column,
                message,
            }
        };
        let file: ThemeFile = toml::from_str(text).map_err(|e| {
            err(
                e.span().map(|s| s.start).unwrap_or(0),
                e.message().to_string(),
            )
        })?;
        if complete {
            if let Some(name) = file.name {
                self.name = name;
            }
            let missing: Vec<&str> = SLOTS
                .iter()
                .copied()
                .filter(|s| !file.slots.keys().any(|k| k.get_ref() == s))
                .collect();
            if !missing.is_empty() {
                return Err(err(0, format!("missing slots: {}", missing.join(", "))));
            }
        }
        for (name, spec) in file.slots {
            let style = spec.to_style(&err)?;
            let slot = self.slot_mut(name.get_ref()).ok_or_else(|| {
                err(
                    name.span().start,
                    format!(
                        "unknown slot `{}`; expected one of: {}",
                        name.get_ref(),
                        SLOTS.join(", ")
                    ),
                )
            })?;
            *slot = style;
        }
        Ok(())
    }

    /// The style for a section bar's fill at a utilisation.
    pub fn bar_for(&self, utilization: f64, overrun: bool) -> Style {
        if overrun {
            self.over_budget
        } else if utilization < 0.5 {
            self.bar_low
        } else {
            self.bar_fill
        }
    }

    /// The next bundled theme after `name`.
    pub fn next_name(name: &str) -> &'static str {
        let i = BUNDLED.iter().position(|(n, _)| *n == name).unwrap_or(0);
        BUNDLED[(i + 1) % BUNDLED.len()].0
    }
}

impl StyleSpec {
    fn to_style(&self, err: &dyn Fn(usize, String) -> ThemeError) -> Result<Style, ThemeError> {
        let mut style = Style::default();
        if let Some(fg) = &self.fg {
            style = style.fg(parse_color(fg.get_ref()).map_err(|m| err(fg.span().start, m))?);
        }
        if let Some(bg) = &self.bg {
            style = style.bg(parse_color(bg.get_ref()).map_err(|m| err(bg.span().start, m))?);
        }
        let mut m = Modifier::empty();
        for (on, flag) in [
            (self.bold, Modifier::BOLD),
            (self.dim, Modifier::DIM),
            (self.italic, Modifier::ITALIC),
            (self.underline, Modifier::UNDERLINED),
            (self.reversed, Modifier::REVERSED),
        ] {
            if on {
                m |= flag;
            }
        }
        Ok(style.add_modifier(m))
    }
}

/// Parses a colour: a name (`red`, `light-green`, `dark-gray`, `reset`),
/// `#rrggbb`, or an index 0-255.
pub fn parse_color(text: &str) -> Result<Color, String> {
    let t = text.trim().to_ascii_lowercase().replace('_', "-");
    let named = match t.as_str() {
        "reset" | "default" => Some(Color::Reset),
        "black" => Some(Color::Black),
        "red" => Some(Color::Red),
        "green" => Some(Color::Green),
        "yellow" => Some(Color::Yellow),
        "blue" => Some(Color::Blue),
        "magenta" => Some(Color::Magenta),
        "cyan" => Some(Color::Cyan),
        "gray" | "grey" => Some(Color::Gray),
        "dark-gray" | "dark-grey" => Some(Color::DarkGray),
        "light-red" => Some(Color::LightRed),
        "light-green" => Some(Color::LightGreen),
        "light-yellow" => Some(Color::LightYellow),
        "light-blue" => Some(Color::LightBlue),
        "light-magenta" => Some(Color::LightMagenta),
        "light-cyan" => Some(Color::LightCyan),
        "white" => Some(Color::White),
        _ => None,
    };
    if let Some(c) = named {
        return Ok(c);
    }
    if let Some(hex) = t
        .strip_prefix('#')
        .filter(|h| h.len() == 6 && h.chars().all(|c| c.is_ascii_hexdigit()))
    {
        let v = u32::from_str_radix(hex, 16).map_err(|e| e.to_string())?;
        return Ok(Color::Rgb((v >> 16) as u8, (v >> 8) as u8, v as u8));
    }
    if let Ok(i) = t.parse::<u8>() {
        return Ok(Color::Indexed(i));
    }
    Err(format!(
        "unknown colour `{text}`; expected a name (black, red, green, yellow, blue, magenta, \
         cyan, gray, dark-gray, light-red, light-green, light-yellow, light-blue, \
         light-magenta, light-cyan, white, reset), #rrggbb, or 0-255"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours() {
        assert_eq!(parse_color("light-green"), Ok(Color::LightGreen));
        assert_eq!(parse_color("#ff0080"), Ok(Color::Rgb(255, 0, 128)));
        assert_eq!(parse_color("42"), Ok(Color::Indexed(42)));
        assert!(parse_color("#ff00").is_err());
        assert!(parse_color("mauve").unwrap_err().contains("light-cyan"));
    }
}
