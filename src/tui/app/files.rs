//! Writing files: the report export (through the report module, atomically)
//! and saving the tuned settings as a profile (through the profile module,
//! which keeps the file's comments and layout). The app checks a request at
//! once (an export may not land on a file the inspector read,
//! [`crate::fsio::Inputs`]: the error shows in the dialog), then a
//! background job ([`Job::Write`]) writes while the keys keep working; its
//! answer shows in the status line and the log. A second write to a file
//! whose first write has not answered supersedes it: the first answer is
//! dropped, and the worker writes both in order, so the second lands.
//! `tokenscope.toml` is the one file written on purpose, even when it lies
//! in an input folder.

use std::path::PathBuf;
use std::sync::Arc;

use crate::fsio::Inputs;
use crate::report::{Format, ReportOptions, format_from_name};
use crate::tui::jobs::{Job, JobKind, WriteRequest, WriteWhat};

use super::{App, LogSource};

/// The files being written in the background.
#[derive(Debug, Default)]
pub(crate) struct Writes {
    /// The writes whose answer is still wanted, oldest first.
    pub(crate) pending: Vec<PendingWrite>,
}

/// A write asked for and not answered yet.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PendingWrite {
    /// The job's generation.
    pub(crate) generation: u64,
    /// The file.
    pub(crate) path: PathBuf,
    /// Who asked (the export, a profile save), for the log.
    pub(crate) source: LogSource,
}

impl App {
    /// Queues the write of the current plan as report format `format` (an
    /// index into [`App::export_formats`]) to `path`, or says why not.
    pub(crate) fn export_to(&mut self, format: usize, path: &str) -> Result<(), String> {
        let plan = self.engine.plan.as_ref().ok_or("no plan to export yet")?;
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
        let done = if format == Format::Request {
            format!(
                "wrote the trimmed request ({}) to {}",
                self.kept_messages(plan),
                path.display()
            )
        } else {
            format!("wrote the {} report to {}", format.name(), path.display())
        };
        let what = WriteWhat::Report {
            plan: Arc::new(plan.clone()),
            format,
            options: opts,
        };
        self.queue_write(path, what, done, LogSource::Export);
        Ok(())
    }

    /// Queues a background write of `what` to `path`; `done` is the message
    /// once written. An unanswered write to the same file is superseded.
    fn queue_write(&mut self, path: PathBuf, what: WriteWhat, done: String, source: LogSource) {
        let generation = self.jobs.generations.issue(JobKind::Write);
        self.writes.pending.retain(|w| w.path != path);
        self.writes.pending.push(PendingWrite {
            generation,
            path: path.clone(),
            source,
        });
        self.set_status(format!("writing {} …", path.display()), false);
        self.jobs.push(Job::Write(WriteRequest {
            generation,
            path,
            what,
            done,
        }));
    }

    /// A write answered: show its message or its error (status line and
    /// log). The answer of a superseded write is dropped.
    pub(super) fn on_written(
        &mut self,
        generation: u64,
        path: PathBuf,
        result: Result<String, String>,
    ) {
        let Some(i) = self
            .writes
            .pending
            .iter()
            .position(|w| w.generation == generation && w.path == path)
        else {
            return;
        };
        let write = self.writes.pending.remove(i);
        match result {
            Ok(msg) => self.info_from(write.source, msg),
            Err(e) => self.error_from(write.source, e),
        }
    }

    /// The files being written in the background.
    pub fn pending_writes(&self) -> impl Iterator<Item = &std::path::Path> {
        self.writes.pending.iter().map(|w| w.path.as_path())
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

    /// Queues saving the tuned settings as profile `name` in the project's
    /// `tokenscope.toml`, or says why not.
    pub(crate) fn save_profile_as(&mut self, name: &str) -> Result<(), String> {
        let base = self.base.clone().ok_or("nothing loaded to save")?;
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
        let what = WriteWhat::Profile {
            name: name.to_string(),
            base,
            tuning: self.tuning.clone(),
            context_window: self.counting.model.as_ref().and_then(|m| m.context_window),
        };
        self.queue_write(self.profile_file.clone(), what, msg, LogSource::Profile);
        Ok(())
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
            self.counting.model.as_ref().map(|m| &m.counting)
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
