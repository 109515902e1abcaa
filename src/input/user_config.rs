//! The user's own settings, `<config dir>/tokenscope/config.toml` (e.g.
//! `~/.config/tokenscope/config.toml`), beside `models.toml`, `keys.toml`
//! and `theme.toml`:
//!
//! ```toml
//! summarizer = "llm -m fast 'Summarize in at most $N tokens'"
//! ```
//!
//! This is the one file, besides the command line, that may name a command
//! to run: it belongs to the user running tokenscope, whereas item sets,
//! prompt files and a project's `tokenscope.toml` may come from anyone
//! (e.g. a pull request that `tokenscope check` gates). `--summarizer`
//! wins over it.

use std::path::{Path, PathBuf};

use super::error::{LoadError, LoadErrorKind, read_text};
use super::tree::{self, Source, TableView};

/// The file name in the user's `tokenscope` config folder.
pub const USER_CONFIG_FILE: &str = "config.toml";

const KEYS: &[&str] = &["summarizer"];

/// The user's settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserConfig {
    /// The summarizer command for overflow `summarize`.
    pub summarizer: Option<String>,
}

impl UserConfig {
    /// `<config dir>/tokenscope/config.toml`, when the platform has a
    /// config folder.
    pub fn default_path() -> Option<PathBuf> {
        dirs::config_dir().map(|d| d.join("tokenscope").join(USER_CONFIG_FILE))
    }

    /// The settings in the default file; empty when there is no such file.
    pub fn load_default() -> Result<UserConfig, LoadError> {
        match UserConfig::default_path() {
            Some(path) if path.is_file() => UserConfig::load(&path),
            _ => Ok(UserConfig::default()),
        }
    }

    /// Reads and checks `file`.
    pub fn load(file: &Path) -> Result<UserConfig, LoadError> {
        let text = read_text(file)?;
        UserConfig::parse(&text, file)
    }

    /// Parses the settings in `text`; `file` names it in messages. The
    /// summarizer must split into a program and its arguments
    /// ([`crate::summarize::split_command`]).
    pub fn parse(text: &str, file: &Path) -> Result<UserConfig, LoadError> {
        let src = Source { file, text };
        let root = tree::parse_toml(src)?;
        let view = TableView::new(src, &root, USER_CONFIG_FILE)?;
        view.check_keys(KEYS)?;
        let summarizer = view.name("summarizer")?.map(str::to_string);
        if let (Some(cmd), Some(e)) = (&summarizer, view.entry("summarizer"))
            && let Err(problem) = crate::summarize::split_command(cmd)
        {
            return Err(view.error_at(
                e,
                LoadErrorKind::InvalidValue,
                format!("`summarizer` `{cmd}`: {problem}"),
            ));
        }
        Ok(UserConfig { summarizer })
    }
}
