//! Driving the inspector without a terminal, for the integration tests and
//! the benchmarks: everything else in `tui` is internal to the crate.
//!
//! - Build an [`App`] from [`AppOptions`] and give it an item set with
//!   [`App::set_loaded`].
//! - Feed it keys ([`App::on_key`], [`key`], [`code`]), actions
//!   ([`App::update`]), mouse events, resizes and time.
//! - Its background work comes out of [`App::take_jobs`]; run it on the
//!   calling thread ([`InlineRunner`], or [`run_jobs`] for all of it) and
//!   hand the outputs back with [`App::on_job`].
//! - Draw it to text ([`screen`]) or to a buffer ([`buffer`]) at any size.
//!
//! The state is read through [`App`]'s methods (the plan, the selection,
//! the popup, the status line, the log). Not a stable interface: it follows
//! the inspector.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

use crate::tokens::CountCache;

pub use super::action::{Action, View};
pub use super::app::{
    App, AppOptions, ExportDialog, HIGHLIGHT_FOR, HistoryOptions, LOG_LIMIT, Log, LogEntry,
    LogSource, ModelPicker, Pane, Popup, Prompt, PromptKind, Status, TokenizerLoad,
};
pub use super::choose_theme;
pub use super::jobs::{
    Executor, FrontierPoint, FrontierRequest, HistoryRequest, InlineRunner, Job, JobKind,
    JobOutput, LoadRequest, Loader, PackRequest, TokenizerRequest, Workers, WriteRequest,
    WriteWhat, kept,
};
pub use super::keymap::{DEFAULT_KEYS, KeyChord, Keymap, KeymapError};
pub use super::theme::{BUNDLED, SLOTS, Theme, ThemeError};
pub use super::tuning::Tuning;
pub use super::view::draw;
pub use crate::tokens::ModelSpec;

/// The screen `app` draws at `width` x `height`, as text (one quoted line
/// per row, as ratatui's test backend shows it).
pub fn screen(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("a test terminal");
    terminal
        .draw(|f| draw(f, app))
        .expect("drawing to a test terminal");
    terminal.backend().to_string()
}

/// The buffer `app` draws at `width` x `height` (text and styles).
pub fn buffer(app: &App, width: u16, height: u16) -> Buffer {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("a test terminal");
    terminal
        .draw(|f| draw(f, app))
        .expect("drawing to a test terminal");
    terminal.backend().buffer().clone()
}

/// Runs every job `app` queued, and every job their answers queue, on the
/// calling thread with the real engine, loaders and writers; returns how
/// many ran.
pub fn run_jobs(app: &mut App) -> usize {
    let runner = InlineRunner::new();
    let cache = CountCache::global();
    let mut ran = 0;
    loop {
        let jobs = app.take_jobs();
        if jobs.is_empty() {
            return ran;
        }
        for job in jobs {
            ran += 1;
            for out in runner.run(job, cache) {
                app.on_job(out);
            }
        }
    }
}

/// A key press of the character `c`, no modifiers.
pub fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

/// A key press of `code`, no modifiers.
pub fn code(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}
