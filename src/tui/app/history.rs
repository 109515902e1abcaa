//! The History view's state: where the usage history is read from, reading
//! and analysing it in the background (with generation numbers, stale
//! results dropped), reading it again when the file changes, and the keys
//! and scrolling of the view. The figures themselves come from
//! [`crate::history::report`], the same analysis as `history report`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use time::OffsetDateTime;

use crate::history::{self, Period, Report};
use crate::tokens::ModelRegistry;
use crate::tui::action::View;
use crate::tui::jobs::{HistoryRequest, Job, JobKind};
use crate::tui::view::layout;

use super::App;
use crate::tui::Action;

/// Where the History view reads usage records from and how it prices them.
#[derive(Clone)]
pub struct HistoryOptions {
    /// The history file; `None` when none was given and the platform has no
    /// data directory.
    pub file: Option<PathBuf>,
    /// Whether the file was given (`--history FILE`): the hints for
    /// recording then name it.
    pub given: bool,
    /// Prices for the savings figure; `None` leaves costs out.
    pub registry: Option<Arc<ModelRegistry>>,
    /// A fixed time for the alerts to look back from (reproducible screens);
    /// `None`: the time of each read.
    pub now: Option<OffsetDateTime>,
}

impl HistoryOptions {
    /// The file given, else the same default as the command line
    /// ([`history::default_path`]); no prices, the current time.
    pub fn new(file: Option<PathBuf>) -> HistoryOptions {
        let given = file.is_some();
        HistoryOptions {
            file: file.or_else(|| history::default_path().ok()),
            given,
            registry: None,
            now: None,
        }
    }
}

impl std::fmt::Debug for HistoryOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HistoryOptions")
            .field("file", &self.file)
            .field("given", &self.given)
            .field("priced", &self.registry.is_some())
            .field("now", &self.now)
            .finish()
    }
}

/// The History view's state.
pub(crate) struct HistoryState {
    pub(crate) options: HistoryOptions,
    /// The file as the watcher reports it (absolute, canonical folder).
    watched: Option<PathBuf>,
    pub(crate) period: Period,
    pub(crate) loading: bool,
    /// Say how many records were read when the read finishes (`r`).
    announce: bool,
    /// The last good report.
    pub(crate) report: Option<Box<Report>>,
    /// Why the last read failed (the last good report stays).
    pub(crate) error: Option<String>,
    /// The first task type row shown.
    pub(crate) scroll: usize,
}

impl HistoryState {
    pub(crate) fn new(options: HistoryOptions) -> HistoryState {
        let watched = watched_form(options.file.as_deref());
        HistoryState {
            options,
            watched,
            period: Period::Week,
            loading: false,
            announce: false,
            report: None,
            error: None,
            scroll: 0,
        }
    }
}

/// The file as the watcher reports changed files (absolute, canonical
/// folder); `None` when its folder does not exist (yet).
fn watched_form(file: Option<&Path>) -> Option<PathBuf> {
    crate::watch::normalize_file(file?).ok()
}

/// The message when there is no history file to read.
pub(crate) const NO_DATA_DIR: &str =
    "no data directory on this platform; open the inspector with --history FILE";

impl App {
    /// Sets where the History view reads usage records from (and forgets
    /// what was read before).
    pub fn set_history(&mut self, options: HistoryOptions) {
        self.history = HistoryState::new(options);
        if self.view == View::History {
            self.request_history();
        }
        self.dirty = true;
    }

    /// The view on screen.
    pub fn view(&self) -> View {
        self.view
    }

    /// The last report the History view read, if any.
    pub fn history_report(&self) -> Option<&Report> {
        self.history.report.as_deref()
    }

    /// Why the last read of the history failed (the last good report, if
    /// any, is still shown).
    pub fn history_error(&self) -> Option<&str> {
        self.history.error.as_deref()
    }

    /// Whether the history is being read.
    pub fn history_loading(&self) -> bool {
        self.history.loading
    }

    /// The History view's trend granularity.
    pub fn history_period(&self) -> Period {
        self.history.period
    }

    /// The first task type row the History view shows.
    pub fn history_scroll(&self) -> usize {
        self.history.scroll
    }

    /// Queues a read of the history file.
    pub(crate) fn request_history(&mut self) {
        let Some(file) = self.history.options.file.clone() else {
            self.history.loading = false;
            self.history.error = Some(NO_DATA_DIR.to_string());
            self.dirty = true;
            return;
        };
        let generation = self.jobs.generations.issue(JobKind::History);
        self.history.loading = true;
        self.jobs.push(Job::History(HistoryRequest {
            generation,
            file,
            period: self.history.period,
            now: self
                .history
                .options
                .now
                .unwrap_or_else(OffsetDateTime::now_utc),
            registry: self.history.options.registry.clone(),
        }));
        self.dirty = true;
    }

    pub(super) fn open_history(&mut self) {
        self.view = View::History;
        self.history.announce = false;
        // Read it afresh each time: the file may have grown meanwhile.
        self.request_history();
    }

    pub(super) fn toggle_trend_period(&mut self) {
        self.history.period = match self.history.period {
            Period::Day => Period::Week,
            Period::Week => Period::Day,
        };
        self.request_history();
    }

    /// An action while the History view is open. Returns `false` for the
    /// actions that work the same everywhere (quit, help, theme).
    pub(super) fn history_update(&mut self, action: Action) -> bool {
        match action {
            Action::Quit
            | Action::Help
            | Action::CycleTheme
            | Action::ShowLog
            | Action::ToggleCounts
            | Action::None => return false,
            Action::ToggleHistory => self.view = View::Plan,
            Action::ReloadHistory => {
                self.request_history();
                self.history.announce = true;
            }
            Action::ToggleTrendPeriod => self.toggle_trend_period(),
            Action::Down => self.history_scroll_by(1),
            Action::Up => self.history_scroll_by(-1),
            Action::PageDown => self.history_scroll_by(self.history_page() as isize),
            Action::PageUp => self.history_scroll_by(-(self.history_page() as isize)),
            Action::First => self.history_scroll_by(isize::MIN / 2),
            Action::Last => self.history_scroll_by(isize::MAX / 2),
            _ => {
                let back = self.keymap.keys_in(View::History, Action::ToggleHistory);
                let keys = self.keymap.keys_for(action);
                // The help's words for it, up to the list of values.
                let what = self
                    .keymap
                    .description_in(View::Plan, action)
                    .map(|d| d.split([':', '(']).next().unwrap_or(d).trim().to_string())
                    .unwrap_or_else(|| "that key".to_string());
                let keys = if keys.is_empty() {
                    String::new()
                } else {
                    format!("{keys}: ")
                };
                self.info(format!(
                    "{keys}{what} works on the plan, not in the History view; {back} returns to it"
                ));
            }
        }
        self.dirty = true;
        true
    }

    /// Task type rows that fit in the History view.
    fn history_page(&self) -> usize {
        let report = self.history.report.as_deref();
        let l = layout::history(
            self.size,
            report.map_or(0, |r| r.types.len()),
            report.map_or(0, |r| r.alerts.len()),
            self.history.error.is_some(),
        );
        layout::history_rows(&l).max(1)
    }

    /// The largest useful scroll: the last rows just fit.
    fn history_max_scroll(&self) -> usize {
        let n = self.history.report.as_ref().map_or(0, |r| r.types.len());
        let report = self.history.report.as_deref();
        let l = layout::history(
            self.size,
            n,
            report.map_or(0, |r| r.alerts.len()),
            self.history.error.is_some(),
        );
        n.saturating_sub(layout::history_rows(&l))
    }

    pub(crate) fn history_scroll_by(&mut self, delta: isize) {
        let max = self.history_max_scroll();
        let now = self.history.scroll.min(max) as isize;
        self.history.scroll = now.saturating_add(delta).clamp(0, max as isize) as usize;
        self.dirty = true;
    }

    pub(super) fn clamp_history_scroll(&mut self) {
        self.history.scroll = self.history.scroll.min(self.history_max_scroll());
    }

    /// Takes a finished read of the history; stale ones are dropped.
    pub(super) fn on_history(&mut self, generation: u64, result: Result<Box<Report>, String>) {
        if !self
            .jobs
            .generations
            .is_current(JobKind::History, generation)
        {
            return;
        }
        self.history.loading = false;
        match result {
            Ok(report) => {
                if std::mem::take(&mut self.history.announce) {
                    let file = self
                        .history
                        .options
                        .file
                        .as_ref()
                        .map(|f| f.display().to_string())
                        .unwrap_or_default();
                    let n = report.records;
                    self.info_from(
                        super::LogSource::History,
                        format!("read {file}: {n} record{}", if n == 1 { "" } else { "s" }),
                    );
                }
                self.history.report = Some(report);
                self.history.error = None;
            }
            Err(e) => {
                self.history.announce = false;
                self.log_only(super::LogSource::History, e.clone(), true);
                self.history.error = Some(e);
            }
        }
        self.clamp_history_scroll();
        self.dirty = true;
    }

    /// Files changed on disk: reads the history again when it is one of
    /// them and the view is open (opening the view reads it anyway), and
    /// returns the other files.
    pub(super) fn history_files_changed(&mut self, paths: &[PathBuf]) -> Vec<PathBuf> {
        let Some(watched) = &self.history.watched else {
            return paths.to_vec();
        };
        let (ours, rest): (Vec<&PathBuf>, Vec<&PathBuf>) =
            paths.iter().partition(|p| *p == watched);
        if !ours.is_empty() && self.view == View::History {
            self.request_history();
        }
        rest.into_iter().cloned().collect()
    }
}
