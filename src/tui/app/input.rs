//! Keys inside popups and the filter line: typing, choosing, committing.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::engine::SectionBudget;

use super::super::tuning;
use super::{App, ExportDialog, LogSource, ModelPicker, Pane, Popup, Prompt, PromptKind};
use crate::tokens::ModelSpec;

/// The export formats in the order the dialog cycles them: (name, file
/// extension). The names are the `--format` names of the report module.
/// The last one, `request` (the trimmed chat request), is offered only for
/// chat requests ([`App::export_formats`]).
pub(crate) const EXPORT_FORMATS: [(&str, &str); 6] = [
    ("json", "json"),
    ("md", "md"),
    ("csv", "csv"),
    ("context", "txt"),
    ("text", "txt"),
    ("request", "json"),
];

/// The path the export dialog proposes for a format.
pub(crate) fn default_export_path(format: usize) -> String {
    let (name, ext) = EXPORT_FORMATS[format % EXPORT_FORMATS.len()];
    match name {
        "context" => "tokenscope-context.txt".to_string(),
        "request" => "tokenscope-request.json".to_string(),
        _ => format!("tokenscope-report.{ext}"),
    }
}

/// `path` (the proposal the dialog opened with) with its file name set to
/// format `format`'s default: the folder was chosen once when the dialog
/// opened ([`App::export_path`]), so switching formats reads no file.
fn with_default_name(path: &str, format: usize) -> String {
    let name = default_export_path(format);
    match std::path::Path::new(path).parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join(name).display().to_string(),
        _ => name,
    }
}

impl App {
    /// The formats the export dialog offers for the plan on screen: every
    /// report format, and `request` when the input is a chat request.
    pub(crate) fn export_formats(&self) -> &'static [(&'static str, &'static str)] {
        if self.engine.plan.as_ref().is_some_and(|p| p.chat_request) {
            &EXPORT_FORMATS
        } else {
            &EXPORT_FORMATS[..EXPORT_FORMATS.len() - 1]
        }
    }
}

/// Whether writing `path` would replace an existing regular file (which
/// the export dialog asks about first). Writing to a special file such as
/// `/dev/null` replaces nothing.
fn replaces_a_file(path: &str) -> bool {
    !path.is_empty() && std::fs::metadata(path).is_ok_and(|m| m.is_file())
}

/// What a key does to a one-line text field.
enum Edit {
    Changed,
    Submit,
    Cancel,
    Other,
}

fn edit_line(value: &mut String, key: &KeyEvent) -> Edit {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Enter => Edit::Submit,
        KeyCode::Esc => Edit::Cancel,
        KeyCode::Char('c') if ctrl => Edit::Cancel,
        KeyCode::Char('u') if ctrl => {
            value.clear();
            Edit::Changed
        }
        KeyCode::Char('w') if ctrl => {
            let trimmed = value.trim_end().len();
            value.truncate(trimmed);
            let cut = value
                .char_indices()
                .rev()
                .find(|(_, c)| c.is_whitespace() || *c == '/')
                .map_or(0, |(i, c)| i + c.len_utf8());
            value.truncate(cut);
            Edit::Changed
        }
        KeyCode::Backspace => {
            value.pop();
            Edit::Changed
        }
        KeyCode::Char(c) if !ctrl && !c.is_control() => {
            value.push(c);
            Edit::Changed
        }
        _ => Edit::Other,
    }
}

/// Parses a token count such as `16000`, `16,000`, `16_000` or `16k`.
pub(crate) fn parse_tokens(text: &str) -> Result<usize, String> {
    let t: String = text
        .trim()
        .chars()
        .filter(|c| *c != ',' && *c != '_')
        .collect();
    let (digits, mult) = match t.strip_suffix(['k', 'K']) {
        Some(d) => (d, 1_000.0),
        None => match t.strip_suffix(['m', 'M']) {
            Some(d) => (d, 1_000_000.0),
            None => (t.as_str(), 1.0),
        },
    };
    let v: f64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a token count; expected e.g. 16000 or 16k"))?;
    if !v.is_finite() || v < 0.0 || v * mult > 1e12 {
        return Err(format!(
            "`{text}` is not a token count; expected a whole number from 0"
        ));
    }
    Ok((v * mult).round() as usize)
}

impl App {
    pub(super) fn filter_key(&mut self, key: KeyEvent) {
        let keep = self.selected_item().map(|i| i.id.clone());
        match edit_line(&mut self.items.filter, &key) {
            Edit::Submit => self.items.filter_editing = false,
            Edit::Cancel => {
                self.items.filter_editing = false;
                self.items.filter.clear();
                self.refresh_visible(keep.as_deref());
            }
            Edit::Changed => self.refresh_visible(keep.as_deref()),
            Edit::Other => match key.code {
                KeyCode::Down => {
                    self.focus = Pane::Items;
                    self.move_by(1);
                }
                KeyCode::Up => {
                    self.focus = Pane::Items;
                    self.move_by(-1);
                }
                _ => {}
            },
        }
    }

    /// The models matching the picker's query, in registry order.
    pub(crate) fn model_matches(&self, query: &str) -> Vec<&ModelSpec> {
        self.models.iter().filter(|m| m.matches(query)).collect()
    }

    pub(super) fn popup_key(&mut self, key: KeyEvent) {
        let Some(mut popup) = self.popup.take() else {
            return;
        };
        let help_max = crate::tui::view::help_max_scroll(self);
        let formats = self.export_formats().len();
        let keep_open = match &mut popup {
            Popup::Help { scroll } => match key.code {
                KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q' | '?') | KeyCode::F(1) => false,
                KeyCode::Down | KeyCode::Char('j') => {
                    *scroll = (*scroll + 1).min(help_max);
                    true
                }
                KeyCode::Up | KeyCode::Char('k') => {
                    *scroll = scroll.saturating_sub(1);
                    true
                }
                KeyCode::PageDown | KeyCode::Char(' ') => {
                    *scroll = (*scroll + 10).min(help_max);
                    true
                }
                KeyCode::PageUp => {
                    *scroll = scroll.saturating_sub(10);
                    true
                }
                KeyCode::Home | KeyCode::Char('g') => {
                    *scroll = 0;
                    true
                }
                KeyCode::End | KeyCode::Char('G') => {
                    *scroll = help_max;
                    true
                }
                _ => true,
            },
            Popup::Log { scroll } => {
                let max = crate::tui::view::log_max_scroll(self);
                let page = crate::tui::view::log_page(self);
                match key.code {
                    KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q') => false,
                    // The log key closes it too, unless it is one of the
                    // scrolling keys below.
                    code if self.keymap.action_for(&key) == Some(crate::tui::Action::ShowLog)
                        && !matches!(
                            code,
                            KeyCode::Up
                                | KeyCode::Down
                                | KeyCode::PageUp
                                | KeyCode::PageDown
                                | KeyCode::Home
                                | KeyCode::End
                                | KeyCode::Char('j' | 'k' | 'g' | 'G' | ' ')
                        ) =>
                    {
                        false
                    }
                    KeyCode::Down | KeyCode::Char('j') => {
                        *scroll = (*scroll + 1).min(max);
                        true
                    }
                    KeyCode::Up | KeyCode::Char('k') => {
                        *scroll = scroll.saturating_sub(1);
                        true
                    }
                    KeyCode::PageDown | KeyCode::Char(' ') => {
                        *scroll = (*scroll + page).min(max);
                        true
                    }
                    KeyCode::PageUp => {
                        *scroll = scroll.saturating_sub(page);
                        true
                    }
                    KeyCode::Home | KeyCode::Char('g') => {
                        *scroll = 0;
                        true
                    }
                    KeyCode::End | KeyCode::Char('G') => {
                        *scroll = max;
                        true
                    }
                    _ => true,
                }
            }
            Popup::Models(ModelPicker { query, selected }) => {
                let n = self.model_matches(query).len();
                match key.code {
                    KeyCode::Down => {
                        *selected = (*selected + 1).min(n.saturating_sub(1));
                        true
                    }
                    KeyCode::Char('n') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                        *selected = (*selected + 1).min(n.saturating_sub(1));
                        true
                    }
                    KeyCode::Up => {
                        *selected = selected.saturating_sub(1);
                        true
                    }
                    KeyCode::Char('p') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                        *selected = selected.saturating_sub(1);
                        true
                    }
                    KeyCode::PageDown => {
                        *selected = (*selected + 10).min(n.saturating_sub(1));
                        true
                    }
                    KeyCode::PageUp => {
                        *selected = selected.saturating_sub(10);
                        true
                    }
                    _ => match edit_line(query, &key) {
                        Edit::Changed => {
                            *selected = 0;
                            true
                        }
                        Edit::Submit => {
                            let chosen = self
                                .model_matches(query)
                                .get(*selected)
                                .map(|m| m.name.clone());
                            match chosen {
                                Some(name) => {
                                    self.choose_model(name);
                                    false
                                }
                                None => true,
                            }
                        }
                        Edit::Cancel => false,
                        Edit::Other => true,
                    },
                }
            }
            Popup::Prompt(Prompt { kind, value, error }) => match edit_line(value, &key) {
                Edit::Submit => match self.commit_prompt(kind, value) {
                    Ok(()) => false,
                    Err(e) => {
                        *error = Some(e);
                        true
                    }
                },
                Edit::Cancel => false,
                Edit::Changed => {
                    *error = None;
                    true
                }
                Edit::Other => true,
            },
            Popup::Export(ExportDialog {
                format,
                path,
                edited,
                error,
                overwrite,
            }) => {
                // Asked whether to replace an existing file: enter or `y`
                // writes, `n` or esc goes back to the path; anything else
                // goes back too and edits as usual.
                if *overwrite {
                    *overwrite = false;
                    match key.code {
                        KeyCode::Enter | KeyCode::Char('y' | 'Y') => {
                            return self.finish_export(popup);
                        }
                        KeyCode::Char('n' | 'N') | KeyCode::Esc => {
                            self.popup = Some(popup);
                            self.dirty = true;
                            return;
                        }
                        _ => {}
                    }
                }
                match key.code {
                    KeyCode::Tab | KeyCode::Right => {
                        *format = (*format + 1) % formats;
                        if !*edited {
                            *path = with_default_name(path, *format);
                        }
                        true
                    }
                    KeyCode::BackTab | KeyCode::Left => {
                        *format = (*format + formats - 1) % formats;
                        if !*edited {
                            *path = with_default_name(path, *format);
                        }
                        true
                    }
                    _ => match edit_line(path, &key) {
                        Edit::Changed => {
                            *edited = true;
                            *error = None;
                            true
                        }
                        // A path that is refused (an input) gets the
                        // refusal at once, not the question.
                        Edit::Submit
                            if replaces_a_file(path.trim()) && self.export_allowed(path.trim()) =>
                        {
                            *overwrite = true;
                            *error = None;
                            true
                        }
                        Edit::Submit => return self.finish_export(popup),
                        Edit::Cancel => false,
                        Edit::Other => true,
                    },
                }
            }
        };
        if keep_open {
            self.popup = Some(popup);
        }
        self.dirty = true;
    }

    /// Queues the write the export dialog `popup` describes and closes it,
    /// or keeps it open with the reason it cannot be written there.
    fn finish_export(&mut self, mut popup: Popup) {
        if let Popup::Export(ExportDialog {
            format,
            path,
            error,
            ..
        }) = &mut popup
        {
            match self.export_to(*format, path.trim()) {
                Ok(()) => self.popup = None,
                Err(e) => {
                    self.log_only(LogSource::Export, e.clone(), true);
                    *error = Some(e);
                    self.popup = Some(popup);
                }
            }
        }
        self.dirty = true;
    }

    /// Switches to a model (undoable); counting under it, and loading its
    /// tokenizer file, run in the background. Picking a model whose file
    /// failed to load tries the file again.
    pub(crate) fn choose_model(&mut self, name: String) {
        let retry = self.counting.failed.take().is_some();
        let before = self.tuning.model.clone();
        self.change(|t| t.model = Some(name));
        if retry && self.tuning.model == before {
            self.after_change();
        }
        if let Some(load) = &self.counting.load {
            let msg = format!(
                "model {}: loading its tokenizer file {} …",
                load.file.model,
                load.file.name()
            );
            self.info_from(LogSource::Model, msg);
        } else if let Some(w) = &self.counting.warning {
            // E.g. the model's tokenizer file cannot be loaded.
            // Logged when it was found (resolve_model).
            let w = w.clone();
            self.set_status(w, true);
        } else if let Some(m) = &self.counting.model {
            let kind = if m.counting.is_exact() {
                "exact"
            } else {
                "estimate"
            };
            let msg = format!("model {} ({}, {kind})", m.name, m.counting_name());
            self.info_from(LogSource::Model, msg);
        }
    }

    fn commit_prompt(&mut self, kind: &PromptKind, value: &str) -> Result<(), String> {
        match kind {
            PromptKind::Budget => {
                let v = value.trim();
                if v.is_empty() {
                    self.change(|t| t.total = None);
                } else {
                    let n = parse_tokens(v)?;
                    if n == 0 {
                        return Err("the budget must be at least 1 token".to_string());
                    }
                    self.change(|t| t.total = Some(n));
                }
                Ok(())
            }
            PromptKind::Reserve => {
                let v = value.trim();
                if v.is_empty() {
                    self.change(|t| t.reserve_output = None);
                } else {
                    let n = parse_tokens(v)?;
                    self.change(|t| t.reserve_output = Some(n));
                }
                Ok(())
            }
            PromptKind::SectionSize(name) => self.commit_section_size(name, value.trim()),
            PromptKind::Priority(id) => {
                let p: f64 = value.trim().parse().map_err(|_| {
                    format!(
                        "`{}` is not a priority; expected a number such as 0.8",
                        value.trim()
                    )
                })?;
                if !p.is_finite() || p < 0.0 {
                    return Err(format!(
                        "`{}` is not a priority; expected a number from 0",
                        value.trim()
                    ));
                }
                self.set_priority(id.clone(), p);
                Ok(())
            }
            PromptKind::ProfileName => {
                let name = value.trim();
                if name.is_empty()
                    || !name
                        .chars()
                        .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
                {
                    return Err(format!(
                        "`{name}` is not a profile name; use letters, digits, `-` and `_`"
                    ));
                }
                self.save_profile_as(name)
            }
        }
    }

    fn commit_section_size(&mut self, name: &str, value: &str) -> Result<(), String> {
        let Some(base) = self.base.clone() else {
            return Ok(());
        };
        if value.is_empty() {
            let name = name.to_string();
            self.change(|t| {
                t.sections.remove(&name);
            });
            return Ok(());
        }
        if let Some(pct) = value.strip_suffix('%') {
            let p: f64 = pct.trim().parse().map_err(|_| {
                format!("`{value}` is not a share; expected a percentage such as 30%")
            })?;
            if !(0.0..=100.0).contains(&p) {
                return Err(format!("`{value}` is not a share; expected 0% to 100%"));
            }
            let mut budgets = self.tuning.section_budgets(&base);
            // An absolute section turned into a share joins the shares.
            for (n, b) in budgets.iter_mut() {
                if n == name && matches!(b, SectionBudget::Tokens(_)) {
                    *b = SectionBudget::Share(0.0);
                }
            }
            let n_shares = budgets
                .iter()
                .filter(|(_, b)| matches!(b, SectionBudget::Share(_)))
                .count();
            if n_shares < 2 {
                let name = name.to_string();
                self.change(|t| {
                    t.sections.insert(name, SectionBudget::Share(100.0));
                });
                return Ok(());
            }
            let shares = tuning::rescale_shares(&budgets, name, p)
                .ok_or_else(|| format!("cannot give `{name}` a share"))?;
            self.change(|t| {
                for (n, p) in shares {
                    t.sections.insert(n, SectionBudget::Share(p));
                }
            });
            return Ok(());
        }
        let n = parse_tokens(value).map_err(|_| {
            format!("`{value}` is not a section size; expected tokens (2000, 2k) or a share (30%)")
        })?;
        // The share sections left keep adding up to 100 %.
        let mut budgets = self.tuning.section_budgets(&base);
        for (n_, b) in budgets.iter_mut() {
            if n_ == name {
                *b = SectionBudget::Tokens(n);
            }
        }
        let shares = tuning::normalise_shares(&budgets).unwrap_or_default();
        let name = name.to_string();
        self.change(|t| {
            t.sections.insert(name, SectionBudget::Tokens(n));
            for (s, p) in shares {
                t.sections.insert(s, SectionBudget::Share(p));
            }
        });
        Ok(())
    }

    /// The prompt's title and hint.
    pub(crate) fn prompt_label(kind: &PromptKind) -> (String, &'static str) {
        match kind {
            PromptKind::Budget => (
                "Total budget (tokens)".to_string(),
                "e.g. 16000 or 16k; empty: the file's (or model's) budget",
            ),
            PromptKind::Reserve => (
                "Output reserve (tokens)".to_string(),
                "kept free for the reply; empty: the file's",
            ),
            PromptKind::SectionSize(s) => (
                format!("Size of section `{s}`"),
                "tokens (2000, 2k) or a share (30%); empty: the file's",
            ),
            PromptKind::Priority(id) => (
                format!("Priority of `{id}`"),
                "a number from 0; higher is more important",
            ),
            PromptKind::ProfileName => (
                "Save as profile".to_string(),
                "written into tokenscope.toml, comments kept",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_counts() {
        assert_eq!(parse_tokens("16000"), Ok(16000));
        assert_eq!(parse_tokens("16,000"), Ok(16000));
        assert_eq!(parse_tokens("16k"), Ok(16000));
        assert_eq!(parse_tokens("1.5M"), Ok(1_500_000));
        assert!(parse_tokens("-3").is_err());
        assert!(parse_tokens("lots").unwrap_err().contains("lots"));
    }
}
