//! Writing files: the report export (through the report module, atomically)
//! and saving the tuned settings as a profile (through the profile module,
//! which keeps the file's comments and layout). An export may not land on a
//! file the inspector read ([`crate::fsio::Inputs`]): the error shows in the
//! dialog. `tokenscope.toml` is the one file written on purpose, even when
//! it lies in an input folder.

use std::path::PathBuf;

use crate::fsio::Inputs;
use crate::input::profile::{ProfileSettings, save_profile};
use crate::report::{Format, ReportOptions, format_from_name, write_report_file};

use super::App;

impl App {
    /// Writes the current plan as report format `format` (an index into
    /// [`App::export_formats`]) to `path`; the message to show, or the
    /// error.
    pub(crate) fn export_to(&mut self, format: usize, path: &str) -> Result<String, String> {
        let plan = self.plan.as_ref().ok_or("no plan to export yet")?;
        if path.is_empty() {
            return Err("give a file name to write the report to".to_string());
        }
        let formats = self.export_formats();
        let (name, _) = formats[format % formats.len()];
        let format = format_from_name(name).map_err(|e| e.to_string())?;
        let path = PathBuf::from(path);
        self.inputs_read().check(&path).map_err(|e| e.to_string())?;
        let opts = ReportOptions {
            color: false,
            width: 100,
            title: Some(self.inputs_title()),
            check: None,
        };
        write_report_file(plan, format, &path, &opts)
            .map_err(|e| format!("{}: cannot write the report: {e}", path.display()))?;
        if format == Format::Request {
            return Ok(format!(
                "wrote the trimmed request ({}) to {}",
                self.kept_messages(plan),
                path.display()
            ));
        }
        Ok(format!(
            "wrote the {} report to {}",
            format.name(),
            path.display()
        ))
    }

    /// Whether an export may be written to `path` (it is no file or folder
    /// the inspector read).
    pub(crate) fn export_allowed(&self, path: &str) -> bool {
        self.inputs_read().check(std::path::Path::new(path)).is_ok()
    }

    /// `7 of 11 messages`: how many of the chat request's messages the
    /// plan keeps.
    fn kept_messages(&self, plan: &crate::engine::Plan) -> String {
        let all = self
            .base
            .as_ref()
            .and_then(|b| b.chat.as_ref())
            .map_or(0, |c| c.parsed.messages.len());
        let kept = plan
            .items
            .iter()
            .filter(|i| {
                i.status != crate::engine::ItemStatus::Excluded
                    && self
                        .base
                        .as_ref()
                        .and_then(|b| b.chat.as_ref())
                        .and_then(|c| c.parts.get(&i.id))
                        .is_some_and(|p| matches!(p, crate::engine::ChatPart::Message(_)))
            })
            .count();
        format!("{kept} of {all} message{}", if all == 1 { "" } else { "s" })
    }

    /// Saves the tuned settings as profile `name` in the project's
    /// `tokenscope.toml`; the message to show, or the error.
    pub(crate) fn save_profile_as(&mut self, name: &str) -> Result<String, String> {
        let base = self.base.clone().ok_or("nothing loaded to save")?;
        let set = self
            .tuning
            .apply(&base, self.model.as_ref().and_then(|m| m.context_window));
        let mut settings = ProfileSettings::from_item_set(&set);
        // A total the user never gave stays unset: it follows the model.
        settings.total = self.tuning.total.or(base.budget.total);
        save_profile(&self.profile_file, name, &settings).map_err(|e| e.to_string())?;
        let mut msg = format!(
            "saved profile `{name}` to {} (use --profile {name})",
            self.profile_file.display()
        );
        let items = self.tuning.item_changes();
        if items > 0 {
            msg.push_str(&format!(
                "; {items} item pin/priority change{} not saved (profiles hold budget settings)",
                if items == 1 { " is" } else { "s are" }
            ));
        }
        Ok(msg)
    }

    /// The path the export dialog proposes for format `format`: the
    /// default name in the working folder, or, when the working folder is
    /// inside a folder input (where an export is refused: the next run
    /// would read it as an item) or that name is an input, the same name in
    /// the nearest folder above that is not, else in the home folder, else
    /// in the temporary folder, as an absolute path the user sees before
    /// confirming.
    pub(crate) fn export_path(&self, format: usize) -> String {
        let name = super::input::default_export_path(format);
        let inputs = self.inputs_read();
        let cwd = std::env::current_dir().ok();
        if let Some(cwd) = &cwd {
            for dir in cwd.ancestors() {
                let candidate = dir.join(&name);
                if inputs.check(&candidate).is_ok() {
                    return if dir == cwd {
                        name
                    } else {
                        candidate.display().to_string()
                    };
                }
            }
        }
        for dir in [dirs::home_dir(), Some(std::env::temp_dir())]
            .into_iter()
            .flatten()
        {
            let candidate = dir.join(&name);
            if inputs.check(&candidate).is_ok() {
                return candidate.display().to_string();
            }
        }
        name
    }

    /// Every file the inspector read, which an export must not replace: the
    /// inputs and the files their items point to, `tokenscope.toml`, the
    /// history file and the chosen model's tokenizer file.
    fn inputs_read(&self) -> Inputs {
        let mut inputs = match &self.base {
            Some(base) => crate::input::read_files(base),
            None => Inputs::new(),
        };
        inputs.extend(self.inputs.iter().map(PathBuf::as_path));
        inputs.add(&self.profile_file);
        if let Some(file) = &self.history.options.file {
            inputs.add(file);
        }
        if let Some(crate::tokens::ModelCounting::File(f)) =
            self.model.as_ref().map(|m| &m.counting)
        {
            inputs.add(&f.path);
        }
        inputs
    }

    /// The input paths, for report titles.
    pub(crate) fn inputs_title(&self) -> String {
        self.inputs
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}
