//! One line of progress on standard error, redrawn in place, only when
//! standard error is a terminal (`models pull`, `--count-api`).

use std::io::{self, IsTerminal, Write};
use std::sync::Mutex;

use crate::session::CountProgress;

/// A line on standard error that is redrawn in place and cleared at the end.
#[derive(Debug)]
pub(crate) struct StatusLine {
    on: bool,
    drawn: bool,
}

impl StatusLine {
    /// A line drawn only when standard error is a terminal.
    pub(crate) fn new() -> StatusLine {
        StatusLine {
            on: io::stderr().is_terminal(),
            drawn: false,
        }
    }

    /// Whether anything is drawn at all.
    pub(crate) fn is_on(&self) -> bool {
        self.on
    }

    /// Replaces the line with `text` (escaped by the caller).
    pub(crate) fn show(&mut self, text: &str) {
        if !self.on {
            return;
        }
        let mut err = io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{text}");
        let _ = err.flush();
        self.drawn = true;
    }

    /// Clears the line, if one was drawn.
    pub(crate) fn clear(&mut self) {
        if self.drawn {
            let mut err = io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
            self.drawn = false;
        }
    }
}

/// The count API's progress as a status line.
#[derive(Debug)]
pub(crate) struct CountApiLine(Mutex<StatusLine>);

impl CountApiLine {
    /// A line for the count API's progress.
    pub(crate) fn new() -> CountApiLine {
        CountApiLine(Mutex::new(StatusLine::new()))
    }

    fn line(&self) -> std::sync::MutexGuard<'_, StatusLine> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl CountProgress for CountApiLine {
    fn draw(&self, done: usize, total: usize) {
        self.line().show(&format!(
            "anthropic count_tokens: {done}/{total} texts counted"
        ));
    }

    fn clear(&self) {
        self.line().clear();
    }
}
