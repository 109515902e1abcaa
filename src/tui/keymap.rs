//! Key bindings: the defaults live in data (`keys.toml`, embedded), user
//! bindings from `<config dir>/tokenscope/keys.toml` override them, and every
//! binding carries the description the help overlay shows.
//!
//! A binding belongs to a [`View`] (`view = "history"` in the file; the plan
//! by default). In the History view its own bindings are looked up first and
//! the plan's fill in the rest (quit, help, scrolling), so `r` can reload the
//! history there while it toggles reallocation on the plan.

use std::fmt;
use std::path::{Path, PathBuf};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use rustc_hash::FxHashMap;
use serde::Deserialize;

use super::Action;
use super::action::View;

/// The default bindings, in help order.
pub const DEFAULT_KEYS: &str = include_str!("keys.toml");

/// A key with its modifiers, as written in `keys.toml` (`q`, `ctrl-r`, `G`,
/// `pagedown`). Shift is folded into the character (`G`, not `shift-g`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyChord {
    /// The key.
    pub code: KeyCode,
    /// Ctrl and Alt (Shift is part of `code` for characters).
    pub modifiers: KeyModifiers,
}

impl KeyChord {
    /// The chord a key event stands for, with Shift folded into characters.
    pub fn from_event(event: &KeyEvent) -> KeyChord {
        let modifiers = event.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT);
        let code = match event.code {
            KeyCode::Char(c) if modifiers.contains(KeyModifiers::CONTROL) => {
                KeyCode::Char(c.to_ascii_lowercase())
            }
            other => other,
        };
        KeyChord { code, modifiers }
    }

    /// Parses a key name such as `q`, `ctrl-c`, `alt-enter`, `pagedown`.
    pub fn parse(text: &str) -> Result<KeyChord, String> {
        let mut modifiers = KeyModifiers::NONE;
        let mut rest = text;
        loop {
            let lower = rest.to_ascii_lowercase();
            if rest.chars().count() > 1 && lower.starts_with("ctrl-") {
                modifiers |= KeyModifiers::CONTROL;
                rest = &rest[5..];
            } else if rest.chars().count() > 1 && lower.starts_with("alt-") {
                modifiers |= KeyModifiers::ALT;
                rest = &rest[4..];
            } else {
                break;
            }
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => {
                if modifiers.contains(KeyModifiers::CONTROL) {
                    KeyCode::Char(c.to_ascii_lowercase())
                } else {
                    KeyCode::Char(c)
                }
            }
            _ => match rest.to_ascii_lowercase().as_str() {
                "enter" | "return" => KeyCode::Enter,
                "esc" | "escape" => KeyCode::Esc,
                "tab" => KeyCode::Tab,
                "backtab" | "shift-tab" => KeyCode::BackTab,
                "space" => KeyCode::Char(' '),
                "backspace" => KeyCode::Backspace,
                "delete" | "del" => KeyCode::Delete,
                "insert" | "ins" => KeyCode::Insert,
                "up" => KeyCode::Up,
                "down" => KeyCode::Down,
                "left" => KeyCode::Left,
                "right" => KeyCode::Right,
                "home" => KeyCode::Home,
                "end" => KeyCode::End,
                "pageup" | "pgup" => KeyCode::PageUp,
                "pagedown" | "pgdn" => KeyCode::PageDown,
                f if f.starts_with('f') && f.len() > 1 => match f[1..].parse::<u8>() {
                    Ok(n @ 1..=12) => KeyCode::F(n),
                    _ => return Err(unknown_key(text)),
                },
                _ => return Err(unknown_key(text)),
            },
        };
        Ok(KeyChord { code, modifiers })
    }
}

fn unknown_key(text: &str) -> String {
    format!(
        "unknown key `{text}`; expected a character or one of enter, esc, tab, backtab, space, \
         backspace, delete, insert, up, down, left, right, home, end, pageup, pagedown, f1..f12, \
         optionally prefixed by ctrl- or alt-"
    )
}

impl fmt::Display for KeyChord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.modifiers.contains(KeyModifiers::CONTROL) {
            f.write_str("ctrl-")?;
        }
        if self.modifiers.contains(KeyModifiers::ALT) {
            f.write_str("alt-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("enter"),
            KeyCode::Esc => f.write_str("esc"),
            KeyCode::Tab => f.write_str("tab"),
            KeyCode::BackTab => f.write_str("backtab"),
            KeyCode::Backspace => f.write_str("backspace"),
            KeyCode::Delete => f.write_str("delete"),
            KeyCode::Insert => f.write_str("insert"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::Home => f.write_str("home"),
            KeyCode::End => f.write_str("end"),
            KeyCode::PageUp => f.write_str("pageup"),
            KeyCode::PageDown => f.write_str("pagedown"),
            KeyCode::F(n) => write!(f, "f{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// One binding: the keys, the action and what it does in words.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    /// The keys, in the order they are listed.
    pub keys: Vec<KeyChord>,
    /// The action they trigger.
    pub action: Action,
    /// What the action does, for the help overlay.
    pub description: String,
    /// The view the binding works in.
    pub view: View,
}

/// A `keys.toml` that cannot be used: the file, line and column, and what was
/// expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct KeymapError {
    /// The file (or `<built-in>`).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeysFile {
    #[serde(default)]
    binding: Vec<BindingEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BindingEntry {
    #[serde(default)]
    view: View,
    action: Action,
    keys: Vec<toml::Spanned<String>>,
    #[serde(default)]
    description: Option<String>,
}

/// The key bindings in force.
#[derive(Debug, Clone)]
pub struct Keymap {
    bindings: Vec<Binding>,
    lookup: FxHashMap<(View, KeyChord), Action>,
}

impl Keymap {
    /// The built-in bindings.
    pub fn defaults() -> Keymap {
        // The embedded file is checked by a unit test.
        let bindings = parse_file(DEFAULT_KEYS, "<built-in keys.toml>").unwrap_or_default();
        Keymap::from_bindings(bindings)
    }

    /// The user's keys file: `<config dir>/tokenscope/keys.toml`.
    pub fn user_file() -> Option<PathBuf> {
        dirs::config_dir().map(|d| d.join("tokenscope").join("keys.toml"))
    }

    /// The defaults overridden by the user's keys file, when there is one.
    pub fn load_user() -> Result<Keymap, KeymapError> {
        match Keymap::user_file() {
            Some(path) if path.is_file() => Keymap::defaults().with_file(&path),
            _ => Ok(Keymap::defaults()),
        }
    }

    /// These bindings overridden by the bindings in `path`.
    pub fn with_file(self, path: &Path) -> Result<Keymap, KeymapError> {
        let text = crate::fsio::read_text_file(path, crate::fsio::Limit::Input).map_err(|e| {
            KeymapError {
                file: path.display().to_string(),
                line: 1,
                column: 1,
                message: format!("cannot read the keys file: {e}"),
            }
        })?;
        self.with_overrides(&text, &path.display().to_string())
    }

    /// These bindings overridden by bindings in `keys.toml` format: a user
    /// binding for an action replaces that action's keys in its view; a key
    /// the user binds is removed from any other action of that view; `none`
    /// unbinds.
    pub fn with_overrides(self, text: &str, origin: &str) -> Result<Keymap, KeymapError> {
        let user = parse_file(text, origin)?;
        let mut bindings = self.bindings;
        for b in &user {
            for existing in bindings.iter_mut().filter(|e| e.view == b.view) {
                if existing.action == b.action {
                    existing.keys.clear();
                }
                existing.keys.retain(|k| !b.keys.contains(k));
            }
        }
        for b in user {
            if b.action == Action::None {
                continue;
            }
            if let Some(existing) = bindings
                .iter_mut()
                .find(|e| e.action == b.action && e.view == b.view)
            {
                existing.keys = b.keys;
                if let Some(d) = Some(b.description).filter(|d| !d.is_empty()) {
                    existing.description = d;
                }
            } else {
                bindings.push(b);
            }
        }
        Ok(Keymap::from_bindings(bindings))
    }

    fn from_bindings(bindings: Vec<Binding>) -> Keymap {
        let mut lookup = FxHashMap::default();
        for b in &bindings {
            for k in &b.keys {
                lookup.entry((b.view, *k)).or_insert(b.action);
            }
        }
        Keymap { bindings, lookup }
    }

    /// The action a key event triggers on the plan, if any.
    pub fn action_for(&self, event: &KeyEvent) -> Option<Action> {
        self.action_in(View::Plan, event)
    }

    /// The action a key event triggers in `view`: the view's own binding,
    /// else the plan's.
    pub fn action_in(&self, view: View, event: &KeyEvent) -> Option<Action> {
        let chord = KeyChord::from_event(event);
        self.lookup
            .get(&(view, chord))
            .or_else(|| self.lookup.get(&(View::Plan, chord)))
            .copied()
    }

    /// Every binding, in help order.
    pub fn bindings(&self) -> &[Binding] {
        &self.bindings
    }

    /// The keys of an action on the plan as shown in hints, e.g. `q/ctrl-c`.
    pub fn keys_for(&self, action: Action) -> String {
        self.keys_in(View::Plan, action)
    }

    /// What an action does in `view`, in the words of the help overlay
    /// (the view's own binding, else the plan's): for messages, which never
    /// show the internal action names of `keys.toml`.
    pub fn description_in(&self, view: View, action: Action) -> Option<&str> {
        self.bindings
            .iter()
            .find(|b| b.action == action && b.view == view)
            .or_else(|| {
                self.bindings
                    .iter()
                    .find(|b| b.action == action && b.view == View::Plan)
            })
            .map(|b| b.description.as_str())
            .filter(|d| !d.is_empty())
    }

    /// The keys that trigger an action in `view` as shown in hints: the
    /// view's own binding, else the plan's.
    pub fn keys_in(&self, view: View, action: Action) -> String {
        self.bindings
            .iter()
            .find(|b| b.action == action && b.view == view)
            .or_else(|| {
                self.bindings
                    .iter()
                    .find(|b| b.action == action && b.view == View::Plan)
            })
            .map(|b| {
                b.keys
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("/")
            })
            .unwrap_or_default()
    }
}

fn parse_file(text: &str, origin: &str) -> Result<Vec<Binding>, KeymapError> {
    let at = |offset: usize, message: String| {
        let (line, column) = crate::text::line_column(text, offset);
        KeymapError {
            file: origin.to_string(),
            line,
            column,
            message,
        }
    };
    let file: KeysFile = toml::from_str(text).map_err(|e| {
        let offset = e.span().map(|s| s.start).unwrap_or(0);
        at(offset, e.message().to_string())
    })?;
    let mut out = Vec::with_capacity(file.binding.len());
    for entry in file.binding {
        let mut keys = Vec::with_capacity(entry.keys.len());
        for k in &entry.keys {
            let chord = KeyChord::parse(k.get_ref()).map_err(|m| at(k.span().start, m))?;
            if !keys.contains(&chord) {
                keys.push(chord);
            }
        }
        let description = entry
            .description
            .unwrap_or_else(|| default_description(entry.view, entry.action));
        out.push(Binding {
            keys,
            action: entry.action,
            description,
            view: entry.view,
        });
    }
    Ok(out)
}

fn default_description(view: View, action: Action) -> String {
    if let Some(d) = parse_defaults_descriptions()
        .ok()
        .and_then(|d| d.into_iter().find(|(v, a, _)| *v == view && *a == action))
    {
        return d.2;
    }
    action.name().replace('_', " ")
}

fn parse_defaults_descriptions() -> Result<Vec<(View, Action, String)>, toml::de::Error> {
    let file: KeysFile = toml::from_str(DEFAULT_KEYS)?;
    Ok(file
        .binding
        .into_iter()
        .map(|b| (b.view, b.action, b.description.unwrap_or_default()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyEventKind;

    fn key(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent {
            code,
            modifiers,
            kind: KeyEventKind::Press,
            state: crossterm::event::KeyEventState::NONE,
        }
    }

    #[test]
    fn events_fold_shift_and_case() {
        let ctrl_shift = KeyModifiers::CONTROL | KeyModifiers::SHIFT;
        assert_eq!(
            KeyChord::from_event(&key(KeyCode::Char('R'), ctrl_shift)),
            KeyChord::parse("ctrl-r").unwrap()
        );
        assert_eq!(
            KeyChord::from_event(&key(KeyCode::Char('G'), KeyModifiers::SHIFT)),
            KeyChord::parse("G").unwrap()
        );
        assert_eq!(
            KeyChord::from_event(&key(KeyCode::BackTab, KeyModifiers::SHIFT)),
            KeyChord::parse("backtab").unwrap()
        );
    }

    #[test]
    fn embedded_defaults_parse() {
        let bindings = parse_file(DEFAULT_KEYS, "builtin").unwrap();
        assert!(bindings.len() > 30);
        assert!(bindings.iter().all(|b| !b.keys.is_empty()));
        assert!(bindings.iter().all(|b| !b.description.is_empty()));
    }

    #[test]
    fn no_key_is_bound_twice_by_default() {
        let bindings = parse_file(DEFAULT_KEYS, "builtin").unwrap();
        let mut seen = FxHashMap::default();
        for b in &bindings {
            for k in &b.keys {
                if let Some(prev) = seen.insert((b.view, *k), b.action) {
                    panic!("{k} bound to {prev:?} and {:?} in {:?}", b.action, b.view);
                }
            }
        }
    }

    #[test]
    fn history_bindings_win_in_the_history_view_only() {
        let k = Keymap::defaults();
        let r = key(KeyCode::Char('r'), KeyModifiers::NONE);
        assert_eq!(k.action_for(&r), Some(Action::ToggleReallocate));
        assert_eq!(k.action_in(View::History, &r), Some(Action::ReloadHistory));
        // Unbound in the view: the plan's binding.
        let q = key(KeyCode::Char('q'), KeyModifiers::NONE);
        assert_eq!(k.action_in(View::History, &q), Some(Action::Quit));
        let esc = key(KeyCode::Esc, KeyModifiers::NONE);
        assert_eq!(
            k.action_in(View::History, &esc),
            Some(Action::ToggleHistory)
        );
        assert_eq!(k.action_for(&esc), Some(Action::ClearFilter));
        assert_eq!(k.keys_in(View::History, Action::ToggleHistory), "H/esc");
        assert_eq!(k.keys_in(View::History, Action::Quit), "q/ctrl-c");
    }

    #[test]
    fn user_bindings_stay_in_their_view() {
        let user =
            "[[binding]]\nview = \"history\"\naction = \"reload_history\"\nkeys = [\"f5\"]\n";
        let k = Keymap::defaults()
            .with_overrides(user, "keys.toml")
            .unwrap();
        let r = key(KeyCode::Char('r'), KeyModifiers::NONE);
        let f5 = key(KeyCode::F(5), KeyModifiers::NONE);
        assert_eq!(k.action_in(View::History, &f5), Some(Action::ReloadHistory));
        // `r` in the view falls back to the plan's binding now.
        assert_eq!(
            k.action_in(View::History, &r),
            Some(Action::ToggleReallocate)
        );
        assert_eq!(k.action_for(&f5), None);
        let b = k
            .bindings()
            .iter()
            .find(|b| b.action == Action::ReloadHistory)
            .unwrap();
        assert_eq!(b.description, "Read the history file again");
    }
}
