//! The summarizer runner with small shell commands.

use std::time::{Duration, Instant};

use tokenscope::engine::summarize::{SummarizeError, SummaryCache, summarize};

const SECOND: Duration = Duration::from_secs(1);

#[test]
fn output_is_the_summary_and_the_target_is_in_the_environment() {
    let cache = SummaryCache::new();
    let out = summarize(
        "head -c 11",
        "hello world, long text",
        5,
        10 * SECOND,
        &cache,
    );
    assert_eq!(out.as_deref(), Ok("hello world"));
    let out = summarize(
        "echo \"$TOKENSCOPE_TARGET_TOKENS\"",
        "x",
        42,
        10 * SECOND,
        &cache,
    );
    assert_eq!(out.as_deref(), Ok("42"));
}

#[test]
fn results_are_cached_by_content_target_and_command() {
    let cache = SummaryCache::new();
    let first = summarize("cat", "same text", 10, 10 * SECOND, &cache);
    let second = summarize("cat", "same text", 10, 10 * SECOND, &cache);
    assert_eq!(first, second);
    assert_eq!((cache.runs(), cache.hits()), (1, 1));
    summarize("cat", "same text", 11, 10 * SECOND, &cache).unwrap();
    summarize("cat ", "same text", 10, 10 * SECOND, &cache).unwrap();
    summarize("cat", "other text", 10, 10 * SECOND, &cache).unwrap();
    assert_eq!((cache.runs(), cache.hits(), cache.len()), (4, 1, 4));
    cache.clear();
    assert!(cache.is_empty());
}

#[test]
fn nonzero_exit_is_an_error_with_stderr() {
    let cache = SummaryCache::new();
    let err = summarize(
        "echo 'model unavailable' >&2; exit 3",
        "x",
        5,
        10 * SECOND,
        &cache,
    )
    .unwrap_err();
    assert_eq!(
        err,
        SummarizeError::Failed {
            command: "echo 'model unavailable' >&2; exit 3".into(),
            status: "exit status 3".into(),
            stderr: "model unavailable".into(),
        }
    );
    assert_eq!(
        err.to_string(),
        "summarizer `echo 'model unavailable' >&2; exit 3` failed (exit status 3): model unavailable"
    );
    // Failures are cached too: the command does not run again.
    let again = summarize(
        "echo 'model unavailable' >&2; exit 3",
        "x",
        5,
        10 * SECOND,
        &cache,
    );
    assert_eq!(again, Err(err));
    assert_eq!(cache.runs(), 1);
}

#[test]
fn a_timeout_kills_the_command_and_its_children() {
    let cache = SummaryCache::new();
    let started = Instant::now();
    let err = summarize(
        "sleep 30 | cat; echo late",
        "x",
        5,
        Duration::from_millis(300),
        &cache,
    )
    .unwrap_err();
    assert!(matches!(err, SummarizeError::Timeout { .. }), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert!(err.to_string().contains("timed out after 0.3 s"));
}

#[test]
fn a_background_child_holding_stdout_does_not_hang_the_caller() {
    let cache = SummaryCache::new();
    let started = Instant::now();
    let err = summarize(
        "sleep 30 & echo partial",
        "x",
        5,
        Duration::from_millis(400),
        &cache,
    )
    .unwrap_err();
    assert!(matches!(err, SummarizeError::Timeout { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn non_utf8_and_empty_output_are_errors() {
    let cache = SummaryCache::new();
    let err = summarize("printf 'ok\\377'", "x", 5, 10 * SECOND, &cache).unwrap_err();
    assert!(
        matches!(err, SummarizeError::NotUtf8 { offset: 2, .. }),
        "{err:?}"
    );
    let err = summarize("printf '  \\n'", "x", 5, 10 * SECOND, &cache).unwrap_err();
    assert!(matches!(err, SummarizeError::Empty { .. }), "{err:?}");
}

#[test]
fn large_items_do_not_deadlock() {
    // 4 MiB in, 4 MiB out: far beyond pipe buffers in both directions.
    let cache = SummaryCache::new();
    let text = "abcdefghij\n".repeat(400_000);
    let out = summarize("cat", &text, 5, 60 * SECOND, &cache).unwrap();
    assert_eq!(out.len(), text.trim().len());
    // A command that ignores its input and exits early is fine too.
    let out = summarize("echo short", &text, 5, 60 * SECOND, &cache).unwrap();
    assert_eq!(out, "short");
}
