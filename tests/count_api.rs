//! `--count-api anthropic` against a fake count_tokens API on the loopback
//! address (ANTHROPIC_BASE_URL): exact counts, the disk cache, rate limits,
//! errors, and that nothing is sent without the flag. Nothing here reaches
//! the internet.

mod loopback;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin_cmd;
use loopback::{Reply, Request, Server};
use serde_json::{Value, json};

/// The fake API's framing of a one-message request.
const FRAMING: usize = 7;
const KEY: &str = "sk-ant-test";

/// The fake tokenizer: one token per run of non-space characters and one
/// per run of whitespace.
fn fake_tokens(text: &str) -> usize {
    let mut n = 0;
    let mut last: Option<bool> = None;
    for c in text.chars() {
        let ws = c.is_whitespace();
        if last != Some(ws) {
            n += 1;
        }
        last = Some(ws);
    }
    n
}

/// An Anthropic-like reply to a count_tokens request.
fn count_reply(req: &Request) -> Reply {
    if req.method != "POST" || req.path != "/v1/messages/count_tokens" {
        return Reply::new(
            404,
            r#"{"type":"error","error":{"type":"not_found_error","message":"Not found"}}"#,
        );
    }
    if req.header("x-api-key") != Some(KEY) {
        return Reply::new(
            401,
            r#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#,
        );
    }
    assert_eq!(req.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(req.header("content-type"), Some("application/json"));
    let body = req.json();
    let model = body["model"].as_str().unwrap_or("");
    if !model.starts_with("claude-") {
        return Reply::new(
            400,
            format!(
                r#"{{"type":"error","error":{{"type":"invalid_request_error","message":"model: {model}"}}}}"#
            ),
        );
    }
    let messages = body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["role"], "user");
    let content = messages[0]["content"].as_str().unwrap();
    assert!(!content.trim().is_empty(), "whitespace-only content sent");
    Reply::new(
        200,
        json!({"input_tokens": FRAMING + fake_tokens(content)}).to_string(),
    )
}

struct User {
    dir: tempfile::TempDir,
    base: String,
    key: Option<&'static str>,
}

impl User {
    fn new(base: &str) -> User {
        let dir = tempfile::tempdir().unwrap();
        for d in ["home", "cache", "config"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        User {
            dir,
            base: base.to_string(),
            key: Some(KEY),
        }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.path(name), text).unwrap();
    }

    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let mut cmd = cargo_bin_cmd!("tokenscope");
        cmd.current_dir(self.dir.path())
            .env("HOME", self.path("home"))
            .env("XDG_CACHE_HOME", self.path("cache"))
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("ANTHROPIC_BASE_URL", &self.base)
            .env("NO_PROXY", "*")
            .env_remove("ANTHROPIC_API_KEY")
            .env_remove("ALL_PROXY")
            .env_remove("HTTPS_PROXY")
            .env_remove("HTTP_PROXY")
            .env_remove("all_proxy")
            .env_remove("https_proxy")
            .env_remove("http_proxy");
        if let Some(k) = self.key {
            cmd.env("ANTHROPIC_API_KEY", k);
        }
        let out = cmd.args(args).output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    }
}

const A: &str = "The quick brown fox jumps over the lazy dog.";
const B: &str = "Pack my box with five dozen liquor jugs.\nSphinx of black quartz, judge my vow.";

fn count_args<'a>(files: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "count",
        "--json",
        "--count-api",
        "anthropic",
        "--model",
        "claude-sonnet-4-5",
    ];
    v.extend(files);
    v
}

#[test]
fn count_is_exact_through_the_api_and_cached_on_disk() {
    let server = Server::start(count_reply);
    let mut user = User::new(&server.url);
    user.write("a.txt", A);
    user.write("b.txt", B);
    let (code, out, err) = user.run(&count_args(&["a.txt", "b.txt"]));
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let r = &v["results"][0];
    assert_eq!(r["exact"], true, "{v}");
    assert_eq!(r["error_band"], Value::Null);
    assert_eq!(r["count_source"], "anthropic count_tokens");
    assert_eq!(r["files"][0]["tokens"], fake_tokens(A));
    assert_eq!(r["files"][1]["tokens"], fake_tokens(B));
    assert_eq!(r["total"], fake_tokens(A) + fake_tokens(B));
    // The framing probe and one request per text.
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    let sent: Vec<String> = reqs
        .iter()
        .map(|r| {
            r.json()["messages"][0]["content"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(sent.contains(&"x".to_string()));
    assert!(sent.contains(&A.to_string()));
    assert!(
        reqs.iter()
            .all(|r| r.json()["model"] == "claude-sonnet-4-5")
    );

    // The cache file holds hashes, not content.
    let cache =
        std::fs::read_to_string(user.path("cache/tokenscope/anthropic/counts.json")).unwrap();
    assert!(!cache.contains("quick brown"), "{cache}");

    // A second run sends nothing, even without a key.
    user.key = None;
    let (code, out2, err) = user.run(&count_args(&["a.txt", "b.txt"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(server.requests().len(), 3, "no new request");
    let v2: Value = serde_json::from_str(&out2).unwrap();
    assert_eq!(v2["results"][0]["total"], r["total"]);

    // A new text needs the key.
    user.write("c.txt", "something new");
    let (code, _, err) = user.run(&count_args(&["c.txt"]));
    assert_eq!(code, 2);
    assert!(err.contains("ANTHROPIC_API_KEY is not set"), "{err}");
    assert_eq!(server.requests().len(), 3);
}

#[test]
fn nothing_is_sent_without_the_flag() {
    let server = Server::start(count_reply);
    let user = User::new(&server.url);
    user.write("a.txt", A);
    let (code, out, err) = user.run(&["count", "--json", "--model", "claude-sonnet-4-5", "a.txt"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["results"][0]["exact"], false);
    assert!(v["results"][0].get("count_source").is_none());
    std::fs::write(
        user.path("set.toml"),
        "[budget]\ntotal = 1000\n[[items]]\ntext = \"hello there\"\n",
    )
    .unwrap();
    let (code, _, err) = user.run(&[
        "pack",
        "--format",
        "json",
        "--model",
        "claude-sonnet-4-5",
        "set.toml",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(server.requests().is_empty());
}

#[test]
fn rate_limits_are_waited_out_and_retried() {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let server = Server::start(move |req| {
        if h.fetch_add(1, Ordering::SeqCst) == 0 {
            return Reply::new(
                429,
                r#"{"type":"error","error":{"type":"rate_limit_error","message":"Number of requests has exceeded your rate limit"}}"#,
            )
            .header("retry-after", "1");
        }
        count_reply(req)
    });
    let user = User::new(&server.url);
    user.write("a.txt", A);
    let start = Instant::now();
    let (code, out, err) = user.run(&count_args(&["a.txt"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "retry-after was not waited"
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["results"][0]["total"], fake_tokens(A));
    assert_eq!(server.requests().len(), 3, "one retry");
}

#[test]
fn overload_is_retried_and_a_refused_key_or_bad_model_is_not() {
    // 529 overloaded, then fine.
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let server = Server::start(move |req| {
        if h.fetch_add(1, Ordering::SeqCst) == 0 {
            return Reply::new(
                529,
                r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
            );
        }
        count_reply(req)
    });
    let user = User::new(&server.url);
    user.write("a.txt", A);
    let (code, _, err) = user.run(&count_args(&["a.txt"]));
    assert_eq!(code, 0, "{err}");

    let server = Server::start(count_reply);
    let mut user = User::new(&server.url);
    user.write("a.txt", A);
    user.key = Some("sk-wrong");
    let (code, _, err) = user.run(&count_args(&["a.txt"]));
    assert_eq!(code, 4, "a remote failure: {err}");
    assert!(
        err.contains("refused the key in ANTHROPIC_API_KEY"),
        "{err}"
    );
    assert!(err.contains("authentication_error"), "{err}");
    assert!(server.requests().len() <= 4, "not retried");

    // A model the API does not know (a user entry with a bad api_model).
    let server = Server::start(count_reply);
    let user = User::new(&server.url);
    user.write("a.txt", A);
    user.write(
        "models.toml",
        "[[models]]\nname = \"claude-sonnet-4-5\"\napi_model = \"sonnet-typo\"\n",
    );
    let mut args = count_args(&["a.txt"]);
    args.extend(["--models-file", "models.toml"]);
    let (code, _, err) = user.run(&args);
    assert_eq!(code, 4, "a remote failure: {err}");
    assert!(err.contains("400 invalid_request_error"), "{err}");
    assert!(err.contains("api_model"), "{err}");
}

#[test]
fn only_claude_models_count_through_the_api() {
    let server = Server::start(count_reply);
    let user = User::new(&server.url);
    user.write("a.txt", A);
    let (code, _, err) = user.run(&[
        "count",
        "--count-api",
        "anthropic",
        "--model",
        "gpt-4o",
        "a.txt",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("counts Claude models"), "{err}");
    let (code, _, err) = user.run(&["count", "--count-api", "anthropic", "a.txt"]);
    assert_eq!(code, 2);
    assert!(err.contains("counts Claude models"), "{err}");
    assert!(server.requests().is_empty());
}

#[test]
fn pack_counts_items_exactly_and_measures_the_pieces_it_cuts() {
    let server = Server::start(count_reply);
    let user = User::new(&server.url);
    let long = "word ".repeat(60);
    std::fs::write(
        user.path("set.toml"),
        format!(
            "[budget]\ntotal = 60\n\n[[sections]]\nname = \"docs\"\nshare = 100\noverflow = \"truncate\"\n\n\
             [[items]]\nid = \"a\"\nsection = \"docs\"\ntext = \"{A}\"\n\n\
             [[items]]\nid = \"b\"\nsection = \"docs\"\ntext = \"{}\"\n",
            long.trim_end()
        ),
    )
    .unwrap();
    let (code, out, err) = user.run(&[
        "pack",
        "--format",
        "json",
        "--model",
        "claude-sonnet-4-5",
        "--count-api",
        "anthropic",
        "set.toml",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["count_source"], "anthropic count_tokens", "{v}");
    let a = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "a")
        .unwrap();
    assert_eq!(a["tokens"], fake_tokens(A));
    let b = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "b")
        .unwrap();
    assert_eq!(b["tokens"], fake_tokens(long.trim_end()));
    // The cut piece and the rendered context were measured in a later
    // round, so the whole report is exact.
    assert_eq!(v["exact"], true, "{v}\n{err}");
    assert_eq!(b["status"], "truncated", "{v}");
    assert!(server.requests().len() > 4);
    let used = v["totals"]["used"].as_u64().unwrap();
    assert!(used <= 60, "{used}");
}

#[test]
fn the_default_command_and_check_use_the_api_too() {
    let server = Server::start(count_reply);
    let user = User::new(&server.url);
    std::fs::write(
        user.path("set.toml"),
        format!("[budget]\ntotal = 1000\n[[items]]\ntext = \"{A}\"\n"),
    )
    .unwrap();
    for cmd in [vec!["--json"], vec!["check", "--json"]] {
        let mut args = cmd.clone();
        args.extend([
            "--model",
            "claude-sonnet-4-5",
            "--count-api",
            "anthropic",
            "set.toml",
        ]);
        let (code, out, err) = user.run(&args);
        assert_eq!(code, 0, "{args:?}: {err}");
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["exact"], true, "{v}\n{err}");
        assert_eq!(v["items"][0]["tokens"], fake_tokens(A));
    }
}

#[test]
fn calibrate_measures_on_the_users_files_and_writes_the_models_toml() {
    let server = Server::start(count_reply);
    let mut user = User::new(&server.url);
    std::fs::create_dir_all(user.path("docs/sub")).unwrap();
    user.write("docs/a.md", A);
    user.write("docs/sub/b.txt", B);
    user.write("docs/empty.txt", "");
    std::fs::write(user.path("docs/bin.dat"), [0u8, 1, 2]).unwrap();
    let config = user.path("config/tokenscope/models.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(
        &config,
        "# my own models\n[[models]]\nname = \"house\"\nencoding = \"o200k_base\"\n",
    )
    .unwrap();

    // --dry-run: measured and printed, nothing written.
    let (code, out, err) = user.run(&[
        "calibrate",
        "claude-sonnet-4-5",
        "docs",
        "--dry-run",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["schema"], "tokenscope.calibrate/1");
    assert_eq!(v["files"].as_array().unwrap().len(), 2);
    assert_eq!(v["skipped"], 2);
    assert_eq!(v["total_exact"], fake_tokens(A) + fake_tokens(B));
    assert_eq!(v["base"], "o200k_base");
    let ratio = v["ratio"].as_f64().unwrap();
    let expected = v["total_exact"].as_f64().unwrap() / v["total_base"].as_f64().unwrap();
    assert!((ratio - expected).abs() < 1e-4, "{ratio} {expected}");
    let error = v["error"].as_f64().unwrap();
    let worst = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["error"].as_f64().unwrap())
        .fold(0.0, f64::max);
    assert!(
        (error - (worst * 1000.0).ceil() / 1000.0).abs() < 1e-9 || error == 0.005,
        "{v}"
    );
    assert_eq!(v["written"], Value::Null);
    assert!(
        std::fs::read_to_string(&config)
            .unwrap()
            .ends_with("encoding = \"o200k_base\"\n")
    );

    // For real: the second run needs no request (the counts are cached).
    let before = server.requests().len();
    user.key = None;
    let (code, out, err) = user.run(&["calibrate", "claude-sonnet-4-5", "docs"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(server.requests().len(), before);
    assert!(out.contains("Written to"), "{out}");
    let written = std::fs::read_to_string(&config).unwrap();
    assert!(written.starts_with("# my own models\n"), "{written}");
    assert!(written.contains("name = \"house\""), "{written}");
    assert!(
        written.contains("name = \"claude-sonnet-4-5\""),
        "{written}"
    );
    assert!(
        written.contains("# calibrated by `tokenscope calibrate` on 2 files"),
        "{written}"
    );

    // The registry now carries the measured ratio and band.
    let (code, out, err) = user.run(&["models", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let m = v["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "claude-sonnet-4-5")
        .unwrap();
    assert_eq!(m["error_band"].as_f64().unwrap(), error);
    assert_eq!(m["encoding"], format!("o200k_base*{ratio}"));
    assert!(m["source"].as_str().unwrap().ends_with("models.toml"));
}

#[test]
fn a_spent_request_budget_pauses_until_its_reset() {
    use tokenscope::anthropic::{CountApi, CountStore};
    use tokenscope::tokens::{ApiCounts, Encoding, Estimate, Tokenizer};

    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let server = Server::start(move |req| {
        let reply = count_reply(req);
        if h.fetch_add(1, Ordering::SeqCst) == 0 {
            let reset = time::OffsetDateTime::now_utc() + time::Duration::milliseconds(1200);
            let reset = reset
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap();
            return reply
                .header("anthropic-ratelimit-requests-remaining", "0")
                .header("anthropic-ratelimit-requests-reset", reset);
        }
        reply
    });
    let mut api = CountApi::new(&server.url, Some(KEY.to_string())).unwrap();
    api.workers = 1;
    let counts = ApiCounts::new(
        "claude-sonnet-4-5",
        "test",
        [],
        Tokenizer::estimate(Estimate::Scaled {
            base: Encoding::O200kBase,
            ratio: 1.2,
        }),
    );
    let store = CountStore::in_memory();
    let start = Instant::now();
    api.measure(
        "claude-sonnet-4-5",
        &[A, "  "],
        &counts,
        &store,
        &mut |_, _| {},
    )
    .unwrap();
    assert!(
        start.elapsed() >= Duration::from_millis(900),
        "the second request did not wait for the reset: {:?}",
        start.elapsed()
    );
    assert_eq!(counts.get(A), Some(fake_tokens(A)));
    // Whitespace is measured after `x` and less it: "x  " is 2 runs, "x" 1.
    assert_eq!(counts.get("  "), Some(1));
    assert_eq!(server.requests().len(), 3);
}
