//! The one event channel: terminal input, resizes, file changes, ticks,
//! finished background work and termination signals all arrive as one
//! [`Event`] into the loop.

use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;
use std::time::Duration;

use crossterm::event::{self as ct, KeyEvent, KeyEventKind, MouseEvent};

use super::jobs::JobOutput;

/// Everything the event loop reacts to.
#[derive(Debug)]
pub(crate) enum Event {
    /// A key press (releases and repeats of releases are filtered out).
    Key(KeyEvent),
    /// A mouse event.
    Mouse(MouseEvent),
    /// The terminal was resized to (columns, rows).
    Resize(u16, u16),
    /// Input files changed on disk.
    FilesChanged(Vec<PathBuf>),
    /// The file watcher failed; the message to show.
    WatchError(String),
    /// Time passed (drives spinners and expiring highlights).
    Tick,
    /// A background job reported (boxed: a plan is large).
    Job(Box<JobOutput>),
    /// SIGTERM, SIGHUP or SIGINT: leave cleanly.
    Terminate,
    /// SIGTSTP: give the terminal back, stop until continued, then redraw.
    Suspend,
}

/// The catchable signals, besides SIGTERM, SIGHUP and SIGINT, whose default
/// action ends the process: the inspector restores the terminal first.
#[cfg(unix)]
pub(crate) const FATAL_SIGNALS: &[i32] = &[
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGALRM,
    libc::SIGVTALRM,
    libc::SIGPROF,
    libc::SIGXCPU,
    libc::SIGXFSZ,
    libc::SIGABRT,
    #[cfg(any(target_os = "linux", target_os = "android"))]
    libc::SIGIO,
    #[cfg(any(target_os = "linux", target_os = "android"))]
    libc::SIGPWR,
    #[cfg(any(target_os = "linux", target_os = "android"))]
    libc::SIGSTKFLT,
];

/// The sending and receiving ends of the event channel.
pub(crate) struct Events {
    tx: Sender<Event>,
    rx: Receiver<Event>,
}

impl Default for Events {
    fn default() -> Self {
        Events::new()
    }
}

impl Events {
    /// A new channel with no sources.
    pub(crate) fn new() -> Events {
        let (tx, rx) = mpsc::channel();
        Events { tx, rx }
    }

    /// A sender for a new source.
    pub(crate) fn sender(&self) -> Sender<Event> {
        self.tx.clone()
    }

    /// The next event, waiting for it.
    pub(crate) fn next(&self) -> Option<Event> {
        self.rx.recv().ok()
    }

    /// The next event if one is waiting.
    pub(crate) fn try_next(&self) -> Option<Event> {
        self.rx.try_recv().ok()
    }

    /// Starts the terminal input reader: key presses, mouse, resizes.
    pub(crate) fn spawn_input(&self) {
        let tx = self.sender();
        let _ = thread::Builder::new()
            .name("tokenscope-input".into())
            .spawn(move || {
                while let Ok(event) = ct::read() {
                    let out = match event {
                        ct::Event::Key(k) if k.kind == KeyEventKind::Press => Event::Key(k),
                        ct::Event::Mouse(m) => Event::Mouse(m),
                        ct::Event::Resize(w, h) => Event::Resize(w, h),
                        _ => continue,
                    };
                    if tx.send(out).is_err() {
                        break;
                    }
                }
            });
    }

    /// Starts a ticker.
    pub(crate) fn spawn_ticker(&self, every: Duration) {
        let tx = self.sender();
        let _ = thread::Builder::new()
            .name("tokenscope-tick".into())
            .spawn(move || {
                while tx.send(Event::Tick).is_ok() {
                    thread::sleep(every);
                }
            });
    }

    /// Handles the signals that would leave the terminal unusable:
    ///
    /// - SIGTERM, SIGHUP and SIGINT become [`Event::Terminate`], so the loop
    ///   ends and the terminal guard restores the terminal (a second one
    ///   restores it and exits at once);
    /// - SIGTSTP becomes [`Event::Suspend`] (the loop suspends cleanly);
    /// - the other catchable signals whose default action ends the process
    ///   ([`FATAL_SIGNALS`]) restore the terminal, then take their default
    ///   action, so the process still ends by that signal (exit status
    ///   128 + its number, a core dump for SIGQUIT where enabled).
    ///
    /// SIGPIPE stays ignored (as in every Rust program: a closed pipe is an
    /// error on write, not a kill); SIGKILL and SIGSTOP cannot be caught;
    /// faults (SIGSEGV, SIGBUS, SIGILL, SIGFPE) are not handled here: a
    /// panic, the only way safe code gets one, restores the terminal
    /// through the panic hook.
    #[cfg(unix)]
    pub(crate) fn spawn_signals(&self) -> std::io::Result<()> {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGTSTP};
        let mut wanted = vec![SIGTERM, SIGHUP, SIGINT, SIGTSTP];
        wanted.extend_from_slice(FATAL_SIGNALS);
        let mut signals = signal_hook::iterator::Signals::new(wanted)?;
        let tx = self.sender();
        thread::Builder::new()
            .name("tokenscope-signals".into())
            .spawn(move || {
                let mut seen = false;
                for signal in signals.forever() {
                    if signal == SIGTSTP {
                        let _ = tx.send(Event::Suspend);
                        continue;
                    }
                    if FATAL_SIGNALS.contains(&signal) {
                        let _stdout = super::terminal::restore_for_exit();
                        let _ = signal_hook::low_level::emulate_default_handler(signal);
                        std::process::exit(128 + signal);
                    }
                    if seen {
                        // A second signal: the loop did not end in time;
                        // restore the terminal and leave now.
                        super::terminal::restore();
                        std::process::exit(128 + signal);
                    }
                    seen = true;
                    let _ = tx.send(Event::Terminate);
                }
            })?;
        Ok(())
    }

    /// Signals are not handled on this platform (the console closes the
    /// process; the panic hook and the guard cover the other paths).
    #[cfg(not(unix))]
    pub(crate) fn spawn_signals(&self) -> std::io::Result<()> {
        Ok(())
    }
}
