//! The summarizer runner for overflow `summarize` (DESIGN.md §2.5): an item is
//! piped to a user command, which is expected to print a shorter version.
//!
//! The command runs through `sh -c` with the item on stdin and the target
//! size in the environment variable `TOKENSCOPE_TARGET_TOKENS`. Its stdout,
//! with surrounding whitespace trimmed, is the summary. A nonzero exit, a
//! timeout, empty or non-UTF-8 output are errors ([`SummarizeError`]) that
//! the engine reports as warnings. On a timeout the command's whole process
//! group is killed (on Unix), so a pipeline's children go too.
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

/// The environment variable that carries the target size in tokens.
pub const TARGET_ENV: &str = "TOKENSCOPE_TARGET_TOKENS";

/// At most this much of a failing command's stderr is quoted in an error.
const STDERR_QUOTE: usize = 400;

/// Why a summary could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SummarizeError {
    /// The shell could not be started.
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

/// Summarizes `text` with the shell command `cmd`, asking for at most
/// `target_tokens` tokens; stops the command after `timeout`. The outcome is
/// cached in `cache`.
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
    let mut builder = Command::new("sh");
    builder
        .arg("-c")
        .arg(cmd)
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

    // Stdin is written on its own thread so that a command that prints
    // before it has read everything cannot deadlock with us.
    let mut stdin = child.stdin.take();
    let input = text.as_bytes().to_vec();
    let writer = thread::spawn(move || {
        if let Some(stdin) = stdin.as_mut() {
            // A command that exits without reading all its input closes the
            // pipe; that is its choice, not an error.
            let _ = stdin.write_all(&input);
        }
    });
    let stdout = pipe_reader(child.stdout.take(), usize::MAX);
    let stderr = pipe_reader(child.stderr.take(), 64 * 1024);

    let status = match wait_until(&mut child, deadline) {
        Ok(Some(status)) => status,
        Ok(None) => {
            kill(&mut child);
            return Err(SummarizeError::Timeout {
                command,
                after: timeout,
            });
        }
        Err(e) => {
            kill(&mut child);
            return Err(io_error("waiting for the command", e));
        }
    };
    let _ = writer.join();
    // A background child may hold the pipes open after the shell exits; the
    // deadline still applies.
    let remaining = deadline.saturating_duration_since(Instant::now());
    let out = match stdout.recv_timeout(remaining) {
        Ok(r) => r.map_err(|e| io_error("reading its output", e))?,
        Err(_) => {
            kill(&mut child);
            return Err(SummarizeError::Timeout {
                command,
                after: timeout,
            });
        }
    };
    let err = stderr
        .recv_timeout(Duration::from_millis(200))
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
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

/// Reads a pipe to its end on a thread; the result arrives on the channel.
fn pipe_reader<R: Read + Send + 'static>(
    pipe: Option<R>,
    limit: usize,
) -> mpsc::Receiver<std::io::Result<Vec<u8>>> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut buf = Vec::new();
        let result = match pipe {
            Some(p) => p.take(limit as u64).read_to_end(&mut buf).map(|_| buf),
            None => Ok(buf),
        };
        let _ = tx.send(result);
    });
    rx
}

/// Polls the child until it exits or the deadline passes (`Ok(None)`).
fn wait_until(child: &mut Child, deadline: Instant) -> std::io::Result<Option<ExitStatus>> {
    let mut pause = Duration::from_millis(1);
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(None);
        }
        thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(25));
    }
}

/// Kills the command's process group (Unix) or the command, and reaps it.
fn kill(child: &mut Child) {
    #[cfg(unix)]
    {
        if let Ok(pid) = libc::pid_t::try_from(child.id()) {
            // SAFETY: kill(2) with a negative pid signals the process group
            // the child leads (it was spawned with process_group(0)); it has
            // no memory-safety preconditions.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
    }
    let _ = child.kill();
    let _ = child.wait();
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

fn quote_stderr(err: &[u8]) -> String {
    let text = String::from_utf8_lossy(err);
    let text = text.trim();
    let mut quoted: String = text
        .chars()
        .take(STDERR_QUOTE)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().count() > STDERR_QUOTE {
        quoted.push('…');
    }
    quoted
}
