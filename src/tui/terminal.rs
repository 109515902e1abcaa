//! The terminal guard: raw mode, the alternate screen and mouse capture on
//! entry; restored exactly once on every way out — a normal quit, an error
//! returned with `?`, a panic (a chained panic hook), SIGTERM/SIGHUP/SIGINT
//! (the event loop ends normally), and every other signal that would end
//! the process (restored, then the signal's default action: see
//! [`super::event`]). SIGTSTP suspends: [`TerminalGuard::suspend`] gives the
//! terminal back, stops the process, and takes the terminal again when it
//! is continued.

use std::io::{self, Stdout, Write};
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::cursor::Show;
use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::execute;
use crossterm::terminal::{
    Clear, ClearType, EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

/// Whether the terminal is in the inspector's mode and needs restoring.
static ACTIVE: AtomicBool = AtomicBool::new(false);
static HOOK: Once = Once::new();

/// The terminal the inspector draws to.
pub(crate) type Term = Terminal<CrosstermBackend<Stdout>>;

/// Holds the terminal in raw mode on the alternate screen; dropping it
/// restores the terminal.
pub(crate) struct TerminalGuard {
    terminal: Term,
}

impl TerminalGuard {
    /// Enters raw mode and the alternate screen, with mouse capture, and
    /// installs the panic hook (once per process). On failure whatever was
    /// entered is restored.
    pub(crate) fn enter() -> io::Result<TerminalGuard> {
        install_panic_hook();
        take_terminal().map(|terminal| TerminalGuard { terminal })
    }

    /// Suspends the inspector (for SIGTSTP): restores the terminal, stops the
    /// process as SIGTSTP's default action would, and once it is continued
    /// (SIGCONT, e.g. the shell's `fg`) enters raw mode and the alternate
    /// screen again with a fresh terminal, so the next draw repaints every
    /// cell. The caller redraws.
    #[cfg(unix)]
    pub(crate) fn suspend(&mut self) -> io::Result<()> {
        restore();
        // Stops the whole process until SIGCONT; returns after it.
        signal_hook::low_level::emulate_default_handler(signal_hook::consts::SIGTSTP)?;
        self.terminal = take_terminal()?;
        Ok(())
    }

    /// The terminal to draw on.
    pub(crate) fn terminal(&mut self) -> &mut Term {
        &mut self.terminal
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Enters raw mode, the alternate screen and mouse capture, clears the
/// screen and hides the cursor; on failure whatever was entered is restored.
fn take_terminal() -> io::Result<Term> {
    ACTIVE.store(true, Ordering::SeqCst);
    let setup = || -> io::Result<Term> {
        enable_raw_mode()?;
        let mut out = io::stdout();
        // A clear screen without `Terminal::clear`, which asks the
        // terminal for the cursor position (not every terminal answers).
        execute!(
            out,
            EnterAlternateScreen,
            EnableMouseCapture,
            Clear(ClearType::All)
        )?;
        let mut terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
        terminal.hide_cursor()?;
        Ok(terminal)
    };
    setup().inspect_err(|_| {
        restore();
    })
}

/// Restores the terminal for a signal that ends the process, and keeps
/// standard output locked by the calling thread, so that no frame the event
/// loop is drawing lands on the restored screen before the process ends.
/// Returns the lock, to hold until then.
pub(crate) fn restore_for_exit() -> io::StdoutLock<'static> {
    let mut out = io::stdout().lock();
    restore_to(&mut out);
    out
}

/// Restores the terminal if the inspector still holds it; `true` when this
/// call did the restoring (so it happens exactly once).
pub(crate) fn restore() -> bool {
    restore_to(&mut io::stdout())
}

/// [`restore`] writing the escape sequences to `out`.
pub(crate) fn restore_to<W: Write>(out: &mut W) -> bool {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return false;
    }
    let _ = disable_raw_mode();
    let _ = execute!(out, DisableMouseCapture, LeaveAlternateScreen, Show);
    let _ = out.flush();
    true
}

thread_local! {
    /// Set while a background job runs work whose panics are caught and
    /// shown as an error in the status line.
    static CAUGHT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f`, turning a panic inside it into `None` without restoring the
/// terminal or printing over the screen: for background work (engine runs,
/// loading) whose failure the inspector shows and survives.
pub(crate) fn catch_quietly<R>(f: impl FnOnce() -> R) -> Option<R> {
    let was = CAUGHT.with(|c| c.replace(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    CAUGHT.with(|c| c.set(was));
    result.ok()
}

/// Chains a panic hook that restores the terminal before the panic message
/// is printed, so the message lands on the normal screen. Panics caught by
/// [`catch_quietly`] leave the terminal alone.
fn install_panic_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if CAUGHT.with(|c| c.get()) {
                return;
            }
            restore();
            previous(info);
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restores_exactly_once() {
        ACTIVE.store(true, Ordering::SeqCst);
        let mut first = Vec::new();
        assert!(restore_to(&mut first));
        let text = String::from_utf8_lossy(&first);
        assert!(
            text.contains("\x1b[?1049l"),
            "leaves the alternate screen: {text:?}"
        );
        assert!(text.contains("\x1b[?25h"), "shows the cursor: {text:?}");
        let mut second = Vec::new();
        assert!(!restore_to(&mut second));
        assert!(second.is_empty());
    }

    #[test]
    fn caught_panics_become_errors() {
        install_panic_hook();
        assert_eq!(catch_quietly(|| 7), Some(7));
        assert_eq!(catch_quietly(|| -> i32 { panic!("inside a job") }), None);
        // The flag is cleared afterwards.
        assert!(!CAUGHT.with(|c| c.get()));
    }
}
