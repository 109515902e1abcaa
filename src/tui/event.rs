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
pub enum Event {
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
}

/// The sending and receiving ends of the event channel.
pub struct Events {
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
    pub fn new() -> Events {
        let (tx, rx) = mpsc::channel();
        Events { tx, rx }
    }

    /// A sender for a new source.
    pub fn sender(&self) -> Sender<Event> {
        self.tx.clone()
    }

    /// The next event, waiting for it.
    pub fn next(&self) -> Option<Event> {
        self.rx.recv().ok()
    }

    /// The next event if one is waiting.
    pub fn try_next(&self) -> Option<Event> {
        self.rx.try_recv().ok()
    }

    /// Starts the terminal input reader: key presses, mouse, resizes.
    pub fn spawn_input(&self) {
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
    pub fn spawn_ticker(&self, every: Duration) {
        let tx = self.sender();
        let _ = thread::Builder::new()
            .name("tokenscope-tick".into())
            .spawn(move || {
                while tx.send(Event::Tick).is_ok() {
                    thread::sleep(every);
                }
            });
    }

    /// Turns SIGTERM, SIGHUP and SIGINT into [`Event::Terminate`], so the
    /// loop ends and the terminal guard restores the terminal.
    #[cfg(unix)]
    pub fn spawn_signals(&self) -> std::io::Result<()> {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGHUP, SIGINT])?;
        let tx = self.sender();
        thread::Builder::new()
            .name("tokenscope-signals".into())
            .spawn(move || {
                let mut seen = false;
                for signal in signals.forever() {
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
    pub fn spawn_signals(&self) -> std::io::Result<()> {
        Ok(())
    }
}
