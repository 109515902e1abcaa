//! The message log: every status message and warning, in full, with the
//! time and where it came from, kept in a bounded list that the log popup
//! shows (the status line has room for one line of one message).

use std::collections::VecDeque;
use std::time::SystemTime;

use super::App;

/// How many messages the log keeps (the oldest go first).
pub const LOG_LIMIT: usize = 1_000;

/// Where a logged message came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogSource {
    /// Loading (and reloading) the inputs.
    Load,
    /// An engine run: its warnings and errors.
    Engine,
    /// The model and its tokenizer.
    Model,
    /// The report export.
    Export,
    /// Saving a profile.
    Profile,
    /// Watching the inputs for changes.
    Watch,
    /// The usage history.
    History,
    /// The inspector itself: settings, undo, themes.
    Inspector,
}

impl LogSource {
    /// Its name in the log.
    pub(crate) fn name(self) -> &'static str {
        match self {
            LogSource::Load => "load",
            LogSource::Engine => "engine",
            LogSource::Model => "model",
            LogSource::Export => "export",
            LogSource::Profile => "profile",
            LogSource::Watch => "watch",
            LogSource::History => "history",
            LogSource::Inspector => "inspector",
        }
    }
}

/// One message in the log.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEntry {
    /// When it was (last) given.
    pub at: SystemTime,
    /// Where it came from.
    pub source: LogSource,
    /// The full text (untrusted: escaped when drawn).
    pub text: String,
    /// An error or warning, rather than information.
    pub error: bool,
    /// How many times in a row it was given.
    pub repeats: usize,
}

/// The bounded list of messages.
#[derive(Debug, Clone, Default)]
pub struct Log {
    entries: VecDeque<LogEntry>,
    /// Messages dropped because the log was full.
    pub dropped: usize,
}

impl Log {
    /// Adds a message; the same message from the same source given again
    /// right after counts as a repeat.
    pub(crate) fn push(&mut self, source: LogSource, text: String, error: bool) {
        if let Some(last) = self.entries.back_mut()
            && last.source == source
            && last.text == text
            && last.error == error
        {
            last.repeats += 1;
            last.at = SystemTime::now();
            return;
        }
        if self.entries.len() == LOG_LIMIT {
            self.entries.pop_front();
            self.dropped += 1;
        }
        self.entries.push_back(LogEntry {
            at: SystemTime::now(),
            source,
            text,
            error,
            repeats: 1,
        });
    }

    /// The messages, oldest first.
    pub fn entries(&self) -> impl ExactSizeIterator<Item = &LogEntry> {
        self.entries.iter()
    }

    /// The number of messages kept.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no message was given yet.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl App {
    /// The message log.
    pub fn log(&self) -> &Log {
        &self.log
    }

    /// Logs a message without showing it in the status line (warnings
    /// that a summary in the status line stands for).
    pub(crate) fn log_only(&mut self, source: LogSource, text: String, error: bool) {
        self.log.push(source, text, error);
        self.dirty = true;
    }

    /// Shows information in the status line and logs it.
    pub(crate) fn info_from(&mut self, source: LogSource, text: String) {
        self.log.push(source, text.clone(), false);
        self.set_status(text, false);
    }

    /// Shows an error in the status line and logs it.
    pub(crate) fn error_from(&mut self, source: LogSource, text: String) {
        self.log.push(source, text.clone(), true);
        self.set_status(text, true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_fold_and_the_log_is_bounded() {
        let mut log = Log::default();
        log.push(LogSource::Load, "a".into(), true);
        log.push(LogSource::Load, "a".into(), true);
        log.push(LogSource::Engine, "a".into(), true);
        assert_eq!(log.len(), 2);
        assert_eq!(log.entries().next().unwrap().repeats, 2);
        for i in 0..LOG_LIMIT + 10 {
            log.push(LogSource::Inspector, i.to_string(), false);
        }
        assert_eq!(log.len(), LOG_LIMIT);
        assert_eq!(log.dropped, 12);
        assert_eq!(log.entries().next().unwrap().text, "10");
    }
}
