//! The inspector: `tokenscope [PATH]...` on a terminal.
//!
//! One event loop reads one channel (`event::Event`): key presses, mouse,
//! resizes, file changes, ticks, finished background work and termination
//! signals. Keys map to actions through the keymap (defaults in data, user
//! overrides in `keys.toml`); `App::update` changes the state; drawing
//! (`view::draw`) is a pure function of the state, one file per pane or
//! popup under `view/`. Engine runs, counting under a new model, the budget
//! frontier, loading, reading the usage history (the History view) and
//! writing files (the export, profiles) run on worker threads (`jobs`)
//! with generation numbers. The screen is redrawn only when something
//! changed, after draining every queued event (bursts coalesce), inside a
//! synchronized update. The terminal is restored on every exit
//! (`terminal`).
//!
//! Everything here is internal to the crate but [`testing`], the small API
//! the integration tests and benchmarks drive the inspector through without
//! a terminal.

pub(crate) mod action;
pub(crate) mod app;
pub(crate) mod event;
pub(crate) mod jobs;
pub(crate) mod keymap;
pub(crate) mod models;
pub(crate) mod terminal;
pub mod testing;
pub(crate) mod text;
pub(crate) mod theme;
pub(crate) mod tuning;
pub(crate) mod view;

use std::io::{self, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};

pub(crate) use action::Action;
pub(crate) use app::{App, AppOptions, HistoryOptions};
pub(crate) use keymap::{Keymap, KeymapError};
pub(crate) use theme::{Theme, ThemeError};
pub(crate) use view::draw;

use event::{Event, Events};
use jobs::{Loader, Workers};
use terminal::TerminalGuard;

/// How often the loop ticks (spinners, expiring highlights).
pub(crate) const TICK: Duration = Duration::from_millis(200);

/// What the inspector is opened on.
pub(crate) struct InspectOptions {
    /// The input paths (for the header and the watcher).
    pub(crate) inputs: Vec<PathBuf>,
    /// Loads the inputs with the profile and command-line settings applied.
    pub(crate) loader: Loader,
    /// The models to pick from.
    pub(crate) models: Vec<crate::tokens::ModelSpec>,
    /// `--theme NAME`, if given.
    pub(crate) theme: Option<String>,
    /// Whether colour is allowed (`--color`, `NO_COLOR`); without colour the
    /// `monochrome` theme is the default.
    pub(crate) color: bool,
    /// Where the tuned settings are saved as profiles.
    pub(crate) profile_file: PathBuf,
    /// Starts watching the input paths; changes arrive through `sink`.
    /// Returns a handle kept alive while the inspector runs.
    pub(crate) watch: Option<WatchStarter>,
    /// Where the History view reads usage records from.
    pub(crate) history: HistoryOptions,
    /// The `optimal` strategy's deadline per engine run (`None`: none).
    pub(crate) optimal_deadline: Option<std::time::Duration>,
    /// The summarizer for overflow `summarize` (`None`: degrade instead).
    pub(crate) summarizer: Option<crate::summarize::CommandSummarizer>,
}

/// Starts a file watcher that reports changed paths (or an error) to a sink.
pub(crate) type WatchStarter = Box<
    dyn FnOnce(
        Box<dyn Fn(Result<Vec<PathBuf>, String>) + Send + Sync>,
    ) -> Result<Box<dyn std::any::Any>, String>,
>;

/// How the inspector ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The user quit.
    Quit,
    /// A termination signal arrived (SIGTERM, SIGHUP, SIGINT).
    Terminated,
}

/// Why the inspector could not run.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TuiError {
    /// The terminal could not be set up or written.
    #[error("terminal: {0}")]
    Io(#[from] io::Error),
    /// The user's keys file is invalid.
    #[error("keys file: {0}")]
    Keymap(#[from] KeymapError),
    /// The theme is unknown or the user's theme file is invalid.
    #[error("theme: {0}")]
    Theme(#[from] ThemeError),
}

/// Picks the theme: `--theme` wins; else `monochrome` without colour, `dark`
/// with it; then the user's `theme.toml` overrides slots.
pub fn choose_theme(name: Option<&str>, color: bool) -> Result<Theme, ThemeError> {
    let theme = match name {
        Some(n) => Theme::bundled(n)?,
        None => Theme::default_for(color),
    };
    match Theme::user_file() {
        Some(path) if path.is_file() => theme.with_file(&path),
        _ => Ok(theme),
    }
}

/// Runs the inspector until the user quits or a signal arrives.
pub(crate) fn run(options: InspectOptions) -> Result<Outcome, TuiError> {
    let keymap = Keymap::load_user()?;
    let theme = choose_theme(options.theme.as_deref(), options.color)?;
    let events = Events::new();
    let job_tx = events.sender();
    let workers = Workers::start(move |out| {
        let _ = job_tx.send(Event::Job(Box::new(out)));
    });
    let mut app = App::new(AppOptions {
        inputs: options.inputs,
        models: options.models,
        theme,
        keymap,
        profile_file: options.profile_file,
        loader: Some(options.loader),
    });
    app.set_history(options.history);
    app.set_optimal_deadline(options.optimal_deadline);
    app.set_summarizer(options.summarizer);
    let _watcher = match options.watch {
        Some(start) => {
            let tx = events.sender();
            let sink = Box::new(move |r: Result<Vec<PathBuf>, String>| {
                let _ = tx.send(match r {
                    Ok(paths) => Event::FilesChanged(paths),
                    Err(e) => Event::WatchError(e),
                });
            });
            match start(sink) {
                Ok(handle) => Some(handle),
                Err(e) => {
                    app.error_from(
                        app::LogSource::Watch,
                        format!("not watching the inputs: {e}"),
                    );
                    None
                }
            }
        }
        None => None,
    };

    let mut guard = TerminalGuard::enter()?;
    events.spawn_input();
    events.spawn_ticker(TICK);
    events.spawn_signals()?;
    let size = guard.terminal().size()?;
    app.on_resize(size.width, size.height);

    let mut outcome = Outcome::Quit;
    loop {
        for job in app.take_jobs() {
            workers.submit(job);
        }
        if app.is_dirty() {
            draw_frame(&mut guard, &app)?;
            app.mark_drawn();
        }
        let Some(first) = events.next() else { break };
        let mut next = Some(first);
        // Coalesce a burst: apply every queued event, draw once.
        while let Some(ev) = next {
            if let Event::Terminate = ev {
                outcome = Outcome::Terminated;
                break;
            }
            if let Event::Suspend = ev {
                suspend(&mut guard)?;
                let size = guard.terminal().size()?;
                // Marks the state for a full redraw (on the new terminal).
                app.on_resize(size.width, size.height);
                next = events.try_next();
                continue;
            }
            handle(&mut app, ev);
            if app.should_quit() {
                break;
            }
            next = events.try_next();
        }
        if outcome == Outcome::Terminated || app.should_quit() {
            break;
        }
    }
    if outcome == Outcome::Quit {
        finish_writes(&mut app, &workers, &events);
    }
    drop(guard);
    Ok(outcome)
}

/// How long quitting waits for the files being written.
const WRITE_GRACE: Duration = Duration::from_secs(10);

/// Lets the writes asked for before quitting (a confirmed export or
/// profile) finish, for up to [`WRITE_GRACE`]; other work is dropped.
fn finish_writes(app: &mut App, workers: &Workers, events: &Events) {
    for job in app.take_jobs() {
        if job.kind() == jobs::JobKind::Write {
            workers.submit(job);
        }
    }
    let until = Instant::now() + WRITE_GRACE;
    // The ticker wakes the wait at least every [`TICK`].
    while app.pending_writes().next().is_some() && Instant::now() < until {
        match events.next() {
            Some(Event::Job(out)) => app.on_job(*out),
            Some(Event::Terminate) | None => break,
            Some(_) => {}
        }
    }
}

fn handle(app: &mut App, ev: Event) {
    match ev {
        Event::Key(k) => app.on_key(k),
        Event::Mouse(m) => app.on_mouse(m),
        Event::Resize(w, h) => app.on_resize(w, h),
        Event::FilesChanged(paths) => app.on_files_changed(&paths),
        Event::WatchError(e) => app.error_from(app::LogSource::Watch, format!("watching: {e}")),
        Event::Tick => app.on_tick(Instant::now()),
        Event::Job(out) => app.on_job(*out),
        Event::Terminate | Event::Suspend => {}
    }
}

/// SIGTSTP: suspend cleanly (see [`TerminalGuard::suspend`]).
#[cfg(unix)]
fn suspend(guard: &mut TerminalGuard) -> io::Result<()> {
    guard.suspend()
}

/// Not sent on this platform.
#[cfg(not(unix))]
fn suspend(_guard: &mut TerminalGuard) -> io::Result<()> {
    Ok(())
}

fn draw_frame(guard: &mut TerminalGuard, app: &App) -> io::Result<()> {
    let terminal = guard.terminal();
    crossterm::queue!(terminal.backend_mut(), BeginSynchronizedUpdate)?;
    let drawn = terminal.draw(|f| draw(f, app)).map(|_| ());
    crossterm::queue!(terminal.backend_mut(), EndSynchronizedUpdate)?;
    terminal.backend_mut().flush()?;
    drawn
}
