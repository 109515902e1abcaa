//! The summarizer runner for overflow `summarize` (docs/engine.md §5): an item is
//! piped to a user command, which is expected to print a shorter version.
//!
//! The command is split into a program and its arguments with POSIX shell
//! word rules ([`split_command`], the `shell-words` crate) and run directly,
//! **not through a shell**: quotes group words, but `$VAR`, `*`, `|`, `;`
//! and `>` are plain text (a user who wants a pipeline writes
//! `sh -c '...'` in the command). The item goes to its stdin and the target
//! size to the environment variable `TOKENSCOPE_TARGET_TOKENS`. Its stdout,
//! with surrounding whitespace trimmed, is the summary. A nonzero exit, a
//! timeout, output over [`output_limit`], empty or non-UTF-8 output are
//! errors ([`SummarizeError`]) that the engine reports as warnings. The
//! command runs in its own process group (on Unix); when it ends, times out
//! or prints too much, the whole group is killed and the command reaped, so
//! a pipeline's children go too and no zombie is left.
//!
//! Which command runs is the caller's choice: the loaders never set one
//! from an input file, since an input may come from anyone and must never
//! run a command. Only `--summarizer` or the user's own
//! `<config dir>/tokenscope/config.toml` name one. The engine never runs a
//! program: the session hands it a [`CommandSummarizer`] through
//! [`crate::engine::PackContext::summarizer`].
//!
//! Outcomes, errors included, are cached by (content hash, target, command)
//! in a [`SummaryCache`], so an inspector that recomputes on every key press
//! runs each command once per item and target.

use std::io::{Read, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use rustc_hash::FxHashMap;

use crate::engine::Summarizer;

/// The environment variable that carries the target size in tokens.
pub const TARGET_ENV: &str = "TOKENSCOPE_TARGET_TOKENS";

/// At most this much of a failing command's stderr is quoted in an error.
const STDERR_QUOTE: usize = 400;

/// How much of the command's stderr is kept (the rest is read and dropped).
const STDERR_KEEP: usize = 64 * 1024;

/// The least output allowed for any item (see [`output_limit`]).
pub const MIN_OUTPUT: usize = 64 * 1024;

/// The most output allowed for any item: 16 MiB (see [`output_limit`]).
pub const MAX_OUTPUT: usize = 16 * 1024 * 1024;

/// Why a summary could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SummarizeError {
    /// The command cannot be split into a program and arguments.
    #[error("summarizer `{command}`: {message}")]
    Parse {
        /// The command.
        command: String,
        /// What is wrong with it.
        message: String,
    },
    /// The program could not be started.
    #[error("summarizer `{command}` could not start: {message}")]
    Spawn {
        /// The command.
        command: String,
        /// The system's reason.
        message: String,
    },
    /// The command exited with a nonzero status or was killed by a signal.
    #[error("summarizer `{command}` failed ({status}){}", stderr_suffix(.stderr))]
    Failed {
        /// The command.
        command: String,
        /// `exit status 3`, `killed by signal 9`.
        status: String,
        /// The start of what it wrote to stderr.
        stderr: String,
    },
    /// The command did not finish in time and was killed.
    #[error("summarizer `{command}` timed out after {:.1} s and was stopped", .after.as_secs_f64())]
    Timeout {
        /// The command.
        command: String,
        /// The time limit.
        after: Duration,
    },
    /// The command printed more than the limit and was stopped.
    #[error(
        "summarizer `{command}` printed more than {} bytes and was stopped; a summary must be shorter than its item",
        .limit
    )]
    TooLong {
        /// The command.
        command: String,
        /// The limit in bytes ([`output_limit`]).
        limit: usize,
    },
    /// The command's output is not UTF-8.
    #[error(
        "summarizer `{command}` printed output that is not UTF-8 (invalid byte at offset {offset})"
    )]
    NotUtf8 {
        /// The command.
        command: String,
        /// The offset of the first invalid byte.
        offset: usize,
    },
    /// The command printed nothing (or only whitespace).
    #[error("summarizer `{command}` printed nothing")]
    Empty {
        /// The command.
        command: String,
    },
    /// Reading or writing the command's pipes failed.
    #[error("summarizer `{command}`: {message}")]
    Io {
        /// The command.
        command: String,
        /// What failed.
        message: String,
    },
}

fn stderr_suffix(stderr: &str) -> String {
    if stderr.is_empty() {
        String::new()
    } else {
        format!(": {stderr}")
    }
}

/// How long a summarizer command may run for one item.
pub const SUMMARIZER_TIMEOUT: Duration = Duration::from_secs(30);

/// The engine's [`Summarizer`] that runs a user's command ([`summarize`]),
/// with the process-wide [`SummaryCache`] and [`SUMMARIZER_TIMEOUT`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandSummarizer {
    command: String,
}

impl CommandSummarizer {
    /// A summarizer for `command`, checked to split into a program and its
    /// arguments ([`split_command`]).
    pub fn new(command: &str) -> Result<CommandSummarizer, String> {
        split_command(command)?;
        Ok(CommandSummarizer {
            command: command.to_string(),
        })
    }

    /// The command it runs.
    pub fn command(&self) -> &str {
        &self.command
    }
}

impl Summarizer for CommandSummarizer {
    fn summarize(
        &self,
        text: &str,
        target_tokens: usize,
    ) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
        summarize(
            &self.command,
            text,
            target_tokens,
            SUMMARIZER_TIMEOUT,
            SummaryCache::global(),
        )
        .map_err(Into::into)
    }
}

type Key = (u128, usize, u64);

/// Summaries (and failures) by (content hash, target tokens, command hash).
#[derive(Debug, Default)]
pub struct SummaryCache {
    map: Mutex<FxHashMap<Key, Result<String, SummarizeError>>>,
    runs: AtomicU64,
    hits: AtomicU64,
}

impl SummaryCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The process-wide cache.
    pub fn global() -> &'static SummaryCache {
        static GLOBAL: OnceLock<SummaryCache> = OnceLock::new();
        GLOBAL.get_or_init(SummaryCache::new)
    }

    /// How many times a command was actually run.
    pub fn runs(&self) -> u64 {
        self.runs.load(Ordering::Relaxed)
    }

    /// How many results came from the cache.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    /// The number of cached outcomes.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every outcome (e.g. after the user changed the command's
    /// script, which the key does not see).
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FxHashMap<Key, Result<String, SummarizeError>>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Summarizes `text` with the command `cmd` (a program and its arguments,
/// split by [`split_command`]; no shell), asking for at most `target_tokens`
/// tokens; stops the command after `timeout` or once it printed more than
/// [`output_limit`] bytes. The outcome is cached in `cache`.
///
/// Whether the summary fits is for the caller to check.
pub fn summarize(
    cmd: &str,
    text: &str,
    target_tokens: usize,
    timeout: Duration,
    cache: &SummaryCache,
) -> Result<String, SummarizeError> {
    let key = (
        xxhash_rust::xxh3::xxh3_128(text.as_bytes()),
        target_tokens,
        xxhash_rust::xxh3::xxh3_64(cmd.as_bytes()),
    );
    if let Some(hit) = cache.lock().get(&key) {
        cache.hits.fetch_add(1, Ordering::Relaxed);
        return hit.clone();
    }
    cache.runs.fetch_add(1, Ordering::Relaxed);
    let outcome = run(cmd, text, target_tokens, timeout);
    cache.lock().insert(key, outcome.clone());
    outcome
}

fn run(cmd: &str, text: &str, target: usize, timeout: Duration) -> Result<String, SummarizeError> {
    let command = cmd.to_string();
    let io_error = |what: &str, e: std::io::Error| SummarizeError::Io {
        command: command.clone(),
        message: format!("{what}: {e}"),
    };
    let argv = split_command(cmd).map_err(|message| SummarizeError::Parse {
        command: command.clone(),
        message,
    })?;
    let mut builder = Command::new(&argv[0]);
    builder
        .args(&argv[1..])
        .env(TARGET_ENV, target.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        builder.process_group(0);
    }
    let mut child = builder.spawn().map_err(|e| SummarizeError::Spawn {
        command: command.clone(),
        message: e.to_string(),
    })?;
    let deadline = Instant::now() + timeout;
    let limit = output_limit(text.len());

    // Stdin is written on its own thread so that a command that prints
    // before it has read everything cannot deadlock with us. The thread is
    // not joined: it ends when the pipe closes, which stopping the process
    // group (below) guarantees for every process of the group.
    let mut stdin = child.stdin.take();
    let input = text.as_bytes().to_vec();
    let _ = thread::Builder::new()
        .name("tokenscope-summarizer-stdin".into())
        .spawn(move || {
            if let Some(stdin) = stdin.as_mut() {
                // A command that exits without reading all its input closes
                // the pipe; that is its choice, not an error.
                let _ = stdin.write_all(&input);
            }
        });
    let stdout = pipe_reader(child.stdout.take(), limit, true);
    let stderr = pipe_reader(child.stderr.take(), STDERR_KEEP, false);

    let mut exited = false;
    let mut out: Option<Drained> = None;
    let mut pause = Duration::from_millis(1);
    loop {
        if out.is_none() {
            match stdout.try_recv() {
                Ok(r) => out = Some(r),
                Err(mpsc::TryRecvError::Empty) => {}
                Err(mpsc::TryRecvError::Disconnected) => {
                    out = Some(Drained::Failed(std::io::Error::other("the reader stopped")))
                }
            }
        }
        if matches!(out, Some(Drained::TooLong)) {
            let _ = stop(&mut child);
            return Err(SummarizeError::TooLong { command, limit });
        }
        if !exited {
            match has_exited(&mut child) {
                Ok(e) => exited = e,
                Err(e) => {
                    let _ = stop(&mut child);
                    return Err(io_error("waiting for the command", e));
                }
            }
        }
        if exited && out.is_some() {
            break;
        }
        // A background child may hold the pipes open after the command
        // exits; the deadline still applies.
        let now = Instant::now();
        if now >= deadline {
            let _ = stop(&mut child);
            return Err(SummarizeError::Timeout {
                command,
                after: timeout,
            });
        }
        thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(25));
    }
    // The command has exited (and is not reaped yet, so its process group id
    // cannot have been reused): stop whatever it left running, then reap it.
    let status = stop(&mut child).map_err(|e| io_error("waiting for the command", e))?;
    let out = match out {
        Some(Drained::Done(bytes)) => bytes,
        Some(Drained::Failed(e)) => return Err(io_error("reading its output", e)),
        // The loop leaves only with the output read in full.
        Some(Drained::TooLong) | None => return Err(SummarizeError::TooLong { command, limit }),
    };
    let err = match stderr.recv_timeout(Duration::from_millis(200)) {
        Ok(Drained::Done(bytes)) => bytes,
        _ => Vec::new(),
    };
    if !status.success() {
        return Err(SummarizeError::Failed {
            command,
            status: describe(status),
            stderr: quote_stderr(&err),
        });
    }
    let summary = String::from_utf8(out).map_err(|e| SummarizeError::NotUtf8 {
        command: command.clone(),
        offset: e.utf8_error().valid_up_to(),
    })?;
    let summary = summary.trim();
    if summary.is_empty() {
        return Err(SummarizeError::Empty { command });
    }
    Ok(summary.to_string())
}
/// What a pipe reader thread delivers.
enum Drained {
    /// Everything up to the end of the pipe (or the first bytes kept).
    Done(Vec<u8>),
    /// More than the limit arrived (only when asked to stop there).
    TooLong,
    /// Reading failed.
    Failed(std::io::Error),
}

/// Reads a pipe to its end on a thread; the result arrives on the channel.
/// With `stop_over`, more than `limit` bytes end the reading with
/// [`Drained::TooLong`]; without it, the first `limit` bytes are kept and
/// the rest is read and dropped, so the writer never blocks on a full pipe.
fn pipe_reader<R: Read + Send + 'static>(
    pipe: Option<R>,
    limit: usize,
    stop_over: bool,
) -> mpsc::Receiver<Drained> {
    let (tx, rx) = mpsc::channel();
    let _ = thread::Builder::new()
        .name("tokenscope-summarizer-pipe".into())
        .spawn(move || {
            let _ = tx.send(drain(pipe, limit, stop_over));
        });
    rx
}

fn drain<R: Read>(pipe: Option<R>, limit: usize, stop_over: bool) -> Drained {
    let mut kept = Vec::new();
    let Some(mut pipe) = pipe else {
        return Drained::Done(kept);
    };
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        match pipe.read(&mut chunk) {
            Ok(0) => return Drained::Done(kept),
            Ok(n) => {
                let room = limit.saturating_sub(kept.len());
                if n > room && stop_over {
                    return Drained::TooLong;
                }
                kept.extend_from_slice(&chunk[..n.min(room)]);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Drained::Failed(e),
        }
    }
}

/// The most a summarizer may print for an item of `item_bytes`: four times
/// the item, at least [`MIN_OUTPUT`], at most [`MAX_OUTPUT`]. A summary is
/// meant to be shorter than its item; past this the command is stopped.
pub fn output_limit(item_bytes: usize) -> usize {
    item_bytes.saturating_mul(4).clamp(MIN_OUTPUT, MAX_OUTPUT)
}

/// Whether the command has exited, without reaping it (Unix), so that its
/// process id, which names its process group, stays reserved until
/// [`stop`] has signalled the group.
fn has_exited(child: &mut Child) -> std::io::Result<bool> {
    #[cfg(unix)]
    {
        let pid: libc::id_t = child.id();
        loop {
            // SAFETY: a zeroed siginfo_t is a valid out-parameter for
            // waitid(2), which only writes to it.
            let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
            // SAFETY: waitid(2) on our own child's pid with a valid pointer;
            // WNOWAIT leaves the child waitable for `Child::wait`.
            let r = unsafe {
                libc::waitid(
                    libc::P_PID,
                    pid,
                    &mut info,
                    libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
                )
            };
            if r == 0 {
                // SAFETY: waitid filled `info`, or left it zeroed (pid 0)
                // when the child has not exited yet.
                return Ok(unsafe { info.si_pid() } != 0);
            }
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }
    #[cfg(not(unix))]
    {
        Ok(child.try_wait()?.is_some())
    }
}

/// Kills the command's process group (Unix) and the command, then reaps the
/// command: nothing of the group outlives the call and no zombie is left.
fn stop(child: &mut Child) -> std::io::Result<ExitStatus> {
    #[cfg(unix)]
    {
        if let Ok(pid) = libc::pid_t::try_from(child.id()) {
            // SAFETY: kill(2) with a negative pid signals the process group
            // the child leads (it was spawned with process_group(0) and is
            // not reaped yet, so the id is still its own); it has no
            // memory-safety preconditions.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
    }
    // When it has exited already, kill fails harmlessly and wait reaps it.
    let _ = child.kill();
    child.wait()
}

/// Splits a summarizer command into a program and its arguments with POSIX
/// shell word rules (quotes and backslashes), as [`summarize`] runs it:
/// nothing goes through a shell, so there are no variables, globs, pipes or
/// redirections (run `sh -c '...'` explicitly for those).
pub fn split_command(cmd: &str) -> Result<Vec<String>, String> {
    let words = shell_words::split(cmd).map_err(|e| {
        format!(
            "cannot split it into words ({e}); quote it as a shell would, e.g. `llm -m fast \"summarize briefly\"`"
        )
    })?;
    if words.is_empty() {
        return Err("it names no program".to_string());
    }
    Ok(words)
}

fn describe(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exit status {code}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("killed by signal {signal}");
        }
    }
    status.to_string()
}

/// The command's error output for a message on one line
/// ([`crate::text::escape::one_line`]), cut to [`STDERR_QUOTE`] characters.
fn quote_stderr(err: &[u8]) -> String {
    let flat = crate::text::escape::one_line(&String::from_utf8_lossy(err));
    crate::text::escape::line_cut(&flat, STDERR_QUOTE)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This copy turned control characters into spaces and let bidi
    /// controls through; it now collapses whitespace to single spaces and
    /// escapes the rest by the shared rules.
    #[test]
    fn stderr_is_quoted_on_one_safe_line() {
        assert_eq!(
            quote_stderr(b"  error:\n\tbad\x1b[2J \xe2\x80\xae end \n"),
            "error: bad\\x1b[2J \\u{202e} end"
        );
        let long = quote_stderr("é".repeat(STDERR_QUOTE + 5).as_bytes());
        assert_eq!(long.chars().count(), STDERR_QUOTE + 1);
        assert!(long.ends_with('…'));
    }
}
