//! The summarizer runner with small commands (run as argv, no shell).

use std::time::{Duration, Instant};

use tokenscope::summarize::{SummarizeError, SummaryCache, output_limit, summarize};

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
        "sh -c 'echo \"$TOKENSCOPE_TARGET_TOKENS\"'",
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
        "sh -c \"echo 'model unavailable' >&2; exit 3\"",
        "x",
        5,
        10 * SECOND,
        &cache,
    )
    .unwrap_err();
    assert_eq!(
        err,
        SummarizeError::Failed {
            command: "sh -c \"echo 'model unavailable' >&2; exit 3\"".into(),
            status: "exit status 3".into(),
            stderr: "model unavailable".into(),
        }
    );
    assert_eq!(
        err.to_string(),
        "summarizer `sh -c \"echo 'model unavailable' >&2; exit 3\"` failed (exit status 3): model unavailable"
    );
    // Failures are cached too: the command does not run again.
    let again = summarize(
        "sh -c \"echo 'model unavailable' >&2; exit 3\"",
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
        "sh -c 'sleep 30 | cat; echo late'",
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
        "sh -c 'sleep 30 & echo partial'",
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

#[test]
fn the_command_runs_without_a_shell() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("marker");
    let cmd = format!("echo '$HOME' \"a  b\"; touch {}", marker.display());
    let cache = SummaryCache::new();
    let out = summarize(&cmd, "x", 5, 10 * SECOND, &cache).unwrap();
    // `;` and `$HOME` are plain words; quotes group words as in a shell.
    assert_eq!(out, format!("$HOME a  b; touch {}", marker.display()));
    assert!(!marker.exists(), "nothing ran after the `;`");
}

#[test]
fn a_command_that_cannot_be_split_or_started_is_an_error() {
    let cache = SummaryCache::new();
    let err = summarize("llm 'unclosed", "x", 5, 10 * SECOND, &cache).unwrap_err();
    assert!(matches!(err, SummarizeError::Parse { .. }), "{err:?}");
    assert!(
        err.to_string().contains("cannot split it into words"),
        "{err}"
    );
    let err = summarize("   ", "x", 5, 10 * SECOND, &cache).unwrap_err();
    assert!(matches!(err, SummarizeError::Parse { .. }), "{err:?}");
    let err = summarize("/nonexistent/summarizer", "x", 5, 10 * SECOND, &cache).unwrap_err();
    assert!(matches!(err, SummarizeError::Spawn { .. }), "{err:?}");
}

#[test]
fn endless_output_is_stopped_at_the_limit() {
    let cache = SummaryCache::new();
    let started = Instant::now();
    let err = summarize("yes", "a short item", 5, 60 * SECOND, &cache).unwrap_err();
    assert_eq!(
        err,
        SummarizeError::TooLong {
            command: "yes".into(),
            limit: output_limit("a short item".len()),
        }
    );
    assert!(
        err.to_string().contains("printed more than 65536 bytes"),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    // The limit grows with the item, up to 16 MiB.
    assert_eq!(output_limit(10), 64 * 1024);
    assert_eq!(output_limit(1_000_000), 4_000_000);
    assert_eq!(output_limit(usize::MAX), 16 * 1024 * 1024);
    // Output up to the limit is fine.
    let text = "z".repeat(100_000);
    let out = summarize("cat", &text, 5, 60 * SECOND, &cache).unwrap();
    assert_eq!(out.len(), 100_000);
}

/// Zombie children of this process whose command name is `name`.
#[cfg(target_os = "linux")]
fn zombies_named(name: &str) -> usize {
    let me = std::process::id().to_string();
    let mut n = 0;
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid ...
        let Some((head, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let comm = head.split_once('(').map(|(_, c)| c).unwrap_or("");
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if comm == name && fields.first() == Some(&"Z") && fields.get(1) == Some(&me.as_str()) {
            n += 1;
        }
    }
    n
}

#[cfg(target_os = "linux")]
#[test]
fn stopped_commands_are_reaped_and_their_children_killed() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    // A uniquely named program: its name is what /proc shows for it.
    let script = dir.path().join("tsprobe-reap");
    let pid_file = dir.path().join("child.pid");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nsleep 30 &\necho $! > {}\nif [ \"$1\" = loud ]; then exec yes; fi\nwait\n",
            pid_file.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let cache = SummaryCache::new();
    for (arg, timeout) in [("quiet", Duration::from_millis(500)), ("loud", 30 * SECOND)] {
        let cmd = format!("{} {arg}", script.display());
        let err = summarize(&cmd, "x", 5, timeout, &cache).unwrap_err();
        match arg {
            "quiet" => assert!(matches!(err, SummarizeError::Timeout { .. }), "{err:?}"),
            _ => assert!(matches!(err, SummarizeError::TooLong { .. }), "{err:?}"),
        }
        assert_eq!(zombies_named("tsprobe-reap"), 0, "the command was reaped");
        // Its background child (same process group) was killed too.
        let pid = std::fs::read_to_string(&pid_file).unwrap();
        let alive = || {
            std::fs::read_to_string(format!("/proc/{}/stat", pid.trim()))
                .is_ok_and(|s| !s.rsplit_once(')').unwrap().1.trim_start().starts_with('Z'))
        };
        let deadline = Instant::now() + 5 * SECOND;
        while alive() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(!alive(), "the command's `sleep 30` still runs ({arg})");
    }
}
