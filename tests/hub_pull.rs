//! `tokenscope models pull` against a fake Hugging Face hub on the loopback
//! address (HF_ENDPOINT), and models found in a Hugging Face cache on disk.
//! Nothing here reaches the internet.

mod byte_level;
mod loopback;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use assert_cmd::cargo::cargo_bin_cmd;
use byte_level::{byte_char, byte_level};
use loopback::{Reply, Request, Server};
use serde_json::{Value, json};
use sha1::Digest as _;

const REPO: &str = "meta-llama/Llama-3.1-8B-Instruct";
const COMMIT: &str = "0e9e39f249a16976918f6564b8830bc894c89659";

/// The byte-level BPE `tokenizer.json` of tests/model_tokenizer_file.rs:
/// "hello hello world" is 8 tokens with it (o200k_base: 3).
fn tiny_tokenizer_json() -> Vec<u8> {
    let merges = [
        ("h", "e"),
        ("l", "l"),
        ("he", "ll"),
        ("hell", "o"),
        (" ", "hello"),
    ];
    let mut vocab = serde_json::Map::new();
    for b in 0..=255u8 {
        vocab.insert(byte_char(b).to_string(), json!(b));
    }
    let mut merge_list = Vec::new();
    for (i, (a, b)) in merges.iter().enumerate() {
        let (a, b) = (byte_level(a), byte_level(b));
        vocab.insert(format!("{a}{b}"), json!(256 + i));
        merge_list.push(format!("{a} {b}"));
    }
    json!({
        "version": "1.0",
        "added_tokens": [],
        "normalizer": null,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
        "post_processor": null,
        "decoder": null,
        "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": false, "byte_fallback": false,
                  "ignore_merges": false, "vocab": vocab, "merges": merge_list}
    })
    .to_string()
    .into_bytes()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn git_sha1(content: &[u8]) -> String {
    let mut h = sha1::Sha1::new();
    h.update(format!("blob {}\0", content.len()).as_bytes());
    h.update(content);
    hex(&h.finalize())
}

fn sha256(content: &[u8]) -> String {
    hex(&sha2::Sha256::digest(content))
}

/// How the fake hub behaves.
#[derive(Clone, Default)]
struct Hub {
    /// Serve the file the way the hub serves LFS files: a redirect to
    /// another path, `X-Linked-Etag` = SHA-256.
    lfs: bool,
    /// Announce a checksum that does not match the content.
    wrong_checksum: bool,
    /// Cut the first GET after this many bytes.
    cut_first_get: Option<usize>,
    /// Answer every request with this status.
    status: Option<u16>,
    /// Files the repository has (default: tokenizer.json).
    files: Option<Vec<&'static str>>,
    /// Answer every GET with the whole file (a server without ranges).
    ignore_range: bool,
}

fn start(hub: Hub) -> (Server, Vec<u8>) {
    let content = tiny_tokenizer_json();
    let body = content.clone();
    let gets = Arc::new(AtomicUsize::new(0));
    let server = Server::start(move |req: &Request| answer(&hub, &body, &gets, req));
    (server, content)
}

fn answer(hub: &Hub, body: &[u8], gets: &AtomicUsize, req: &Request) -> Reply {
    if let Some(status) = hub.status {
        return Reply::new(status, "{\"error\":\"Access to model is restricted\"}")
            .header("X-Error-Code", "GatedRepo");
    }
    let files = hub.files.clone().unwrap_or(vec!["tokenizer.json"]);
    let prefix = format!("/{REPO}/resolve/main/");
    if req.method == "HEAD" {
        let Some(file) = req.path.strip_prefix(&prefix) else {
            return Reply::new(404, "").header("X-Error-Code", "RepoNotFound");
        };
        if !files.contains(&file) {
            return Reply::new(404, "").header("X-Error-Code", "EntryNotFound");
        }
        let mut sum = if hub.lfs {
            sha256(body)
        } else {
            git_sha1(body)
        };
        if hub.wrong_checksum {
            sum = sum.replace(|c: char| c != '0', "0");
        }
        return if hub.lfs {
            Reply::new(302, "")
                .header("X-Repo-Commit", COMMIT)
                .header("X-Linked-Etag", format!("\"{sum}\""))
                .header("X-Linked-Size", body.len().to_string())
                .header("ETag", "\"not-the-content-hash\"")
                .header("Location", "/cdn/blob-1234")
        } else {
            Reply::new(200, body.to_vec())
                .header("X-Repo-Commit", COMMIT)
                .header("ETag", format!("\"{sum}\""))
        };
    }
    let is_content = if hub.lfs {
        req.path == "/cdn/blob-1234"
    } else {
        req.path.starts_with(&prefix)
    };
    if req.method != "GET" || !is_content {
        return Reply::new(404, "");
    }
    let n = gets.fetch_add(1, Ordering::SeqCst);
    let start = req
        .header("range")
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|s| s.parse::<usize>().ok());
    let reply = match start.filter(|_| !hub.ignore_range) {
        Some(s) if s < body.len() => Reply::new(206, body[s..].to_vec()).header(
            "Content-Range",
            format!("bytes {s}-{}/{}", body.len() - 1, body.len()),
        ),
        _ => Reply::new(200, body.to_vec()),
    };
    match hub.cut_first_get {
        Some(at) if n == 0 => reply.cut_after(at),
        _ => reply,
    }
}

/// A home, cache, config and Hugging Face folder of a fake user.
struct User {
    dir: tempfile::TempDir,
    endpoint: String,
    token: Option<String>,
}

impl User {
    fn new(endpoint: &str) -> User {
        let dir = tempfile::tempdir().unwrap();
        for d in ["home", "cache", "config", "hf"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        User {
            dir,
            endpoint: endpoint.to_string(),
            token: None,
        }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    /// Our cache's repository folder.
    fn own_repo(&self) -> PathBuf {
        self.path("cache/tokenscope/hub/models--meta-llama--Llama-3.1-8B-Instruct")
    }

    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let mut cmd = cargo_bin_cmd!("tokenscope");
        cmd.current_dir(self.dir.path())
            .env("HOME", self.path("home"))
            .env("XDG_CACHE_HOME", self.path("cache"))
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("HF_HOME", self.path("hf"))
            .env("HF_ENDPOINT", &self.endpoint)
            .env("NO_PROXY", "*")
            .env_remove("HF_HUB_CACHE")
            .env_remove("HF_TOKEN")
            .env_remove("HUGGING_FACE_HUB_TOKEN")
            .env_remove("ALL_PROXY")
            .env_remove("HTTPS_PROXY")
            .env_remove("HTTP_PROXY")
            .env_remove("all_proxy")
            .env_remove("https_proxy")
            .env_remove("http_proxy");
        if let Some(t) = &self.token {
            cmd.env("HF_TOKEN", t);
        }
        let out = cmd.args(args).output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    }

    /// `count --json` of "hello hello world" with the model.
    fn count_json(&self, model: &str) -> Value {
        std::fs::write(self.path("t.txt"), "hello hello world").unwrap();
        let (code, out, err) = self.run(&["count", "--json", "--model", model, "t.txt"]);
        assert_eq!(code, 0, "{err}");
        serde_json::from_str(&out).unwrap()
    }
}

fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() && !p.is_symlink() {
            out.extend(files_under(&p));
        } else {
            out.push(p.display().to_string());
        }
    }
    out
}

#[test]
fn pull_by_model_name_writes_the_hub_layout_and_the_model_counts_exactly() {
    let (server, content) = start(Hub::default());
    let user = User::new(&server.url);

    // Before: an estimate, and `models` says how to make it exact.
    let before = user.count_json("llama-3.1-8b");
    assert_eq!(before["results"][0]["exact"], false);
    let (_, listing, _) = user.run(&["models"]);
    assert!(
        listing.contains("exact after `tokenscope models pull NAME`"),
        "{listing}"
    );

    let (code, out, err) = user.run(&["models", "pull", "llama-3.1-8b"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("llama-3.1-8b now counts exactly"), "{out}");
    // No progress bar when standard error is not a terminal.
    assert!(!err.contains('%'), "{err}");

    let repo = user.own_repo();
    let etag = git_sha1(&content);
    assert_eq!(
        std::fs::read(repo.join("blobs").join(&etag)).unwrap(),
        content
    );
    let snapshot = repo.join("snapshots").join(COMMIT).join("tokenizer.json");
    assert_eq!(std::fs::read(&snapshot).unwrap(), content);
    assert!(std::fs::symlink_metadata(&snapshot).unwrap().is_symlink());
    assert_eq!(
        std::fs::read_to_string(repo.join("refs/main")).unwrap(),
        COMMIT
    );
    assert!(out.contains(&snapshot.display().to_string()), "{out}");

    // The request: HEAD then GET of the resolve URL, no token.
    let reqs = server.requests();
    let methods: Vec<&str> = reqs.iter().map(|r| r.method.as_str()).collect();
    assert_eq!(methods, ["HEAD", "GET"]);
    assert_eq!(reqs[0].path, format!("/{REPO}/resolve/main/tokenizer.json"));
    assert!(reqs.iter().all(|r| r.header("authorization").is_none()));

    // After: exact, with the pulled file.
    let after = user.count_json("llama-3.1-8b");
    assert_eq!(after["results"][0]["exact"], true, "{after}");
    assert_eq!(after["results"][0]["total"], 8, "{after}");
    let (_, models, _) = user.run(&["models", "--json"]);
    let models: Value = serde_json::from_str(&models).unwrap();
    let m = models["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "llama-3.1-8b")
        .unwrap();
    assert_eq!(m["tokenizer_found_in"], "tokenscope");
    assert_eq!(m["repo"], REPO);
    assert_eq!(m["exact"], true);

    // A second pull downloads nothing.
    let (code, out, err) = user.run(&["models", "pull", "llama-3.1-8b", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["schema"], "tokenscope.pull/1");
    assert_eq!(v["downloaded"], 0);
    assert_eq!(v["cache"], "tokenscope");
    assert_eq!(server.requests().len(), 2, "no new request");
}

#[test]
fn lfs_files_follow_the_redirect_and_are_checked_by_sha256_and_the_token_is_sent() {
    let (server, content) = start(Hub {
        lfs: true,
        ..Hub::default()
    });
    let mut user = User::new(&server.url);
    user.token = Some("hf_test_token".into());
    let (code, out, err) = user.run(&["models", "pull", REPO, "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    // The repository is an alias of the registry model.
    assert_eq!(v["model"], "llama-3.1-8b");
    assert_eq!(v["downloaded"], content.len());
    assert!(
        user.own_repo()
            .join("blobs")
            .join(sha256(&content))
            .is_file()
    );
    let reqs = server.requests();
    assert_eq!(
        reqs[0].header("authorization"),
        Some("Bearer hf_test_token")
    );
    assert_eq!(reqs[1].path, "/cdn/blob-1234");
}

#[test]
fn a_checksum_mismatch_is_an_error_and_leaves_no_file() {
    for lfs in [false, true] {
        let (server, _) = start(Hub {
            lfs,
            wrong_checksum: true,
            ..Hub::default()
        });
        let user = User::new(&server.url);
        let (code, out, err) = user.run(&["models", "pull", "llama-3.1-8b"]);
        assert_eq!(code, 4, "a remote failure: {out}");
        assert!(err.contains("checksum mismatch"), "{err}");
        let left: Vec<String> = files_under(&user.own_repo())
            .into_iter()
            .filter(|f| !f.ends_with(".lock"))
            .collect();
        assert!(left.is_empty(), "left behind: {left:?}");
        assert_eq!(
            user.count_json("llama-3.1-8b")["results"][0]["exact"],
            false
        );
    }
}

#[test]
fn a_cut_download_resumes_with_a_range_request() {
    let (server, content) = start(Hub {
        cut_first_get: Some(700),
        ..Hub::default()
    });
    let user = User::new(&server.url);
    let (code, _, err) = user.run(&["models", "pull", "llama-3.1-8b"]);
    assert_eq!(code, 4, "a remote failure");
    assert!(
        err.contains("run the same command again to resume"),
        "{err}"
    );
    let partial = user
        .own_repo()
        .join("blobs")
        .join(format!("{}.incomplete", git_sha1(&content)));
    assert_eq!(std::fs::metadata(&partial).unwrap().len(), 700);

    let (code, out, err) = user.run(&["models", "pull", "llama-3.1-8b", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["downloaded"], content.len() - 700);
    let gets: Vec<Request> = server
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET")
        .collect();
    assert_eq!(gets.len(), 2);
    assert_eq!(gets[0].header("range"), None);
    assert_eq!(gets[1].header("range"), Some("bytes=700-"));
    assert!(!partial.exists());
    let snapshot = user
        .own_repo()
        .join("snapshots")
        .join(COMMIT)
        .join("tokenizer.json");
    assert_eq!(std::fs::read(snapshot).unwrap(), content);
}

#[test]
fn gated_repositories_explain_hf_token() {
    for status in [401, 403] {
        let (server, _) = start(Hub {
            status: Some(status),
            ..Hub::default()
        });
        let mut user = User::new(&server.url);
        let (code, _, err) = user.run(&["models", "pull", "llama-3.1-8b"]);
        assert_eq!(code, 4, "a remote failure");
        assert!(err.contains("gated or private"), "{err}");
        assert!(err.contains("set HF_TOKEN"), "{err}");
        assert!(err.contains(REPO), "{err}");
        user.token = Some("hf_wrong".into());
        let (code, _, err) = user.run(&["models", "pull", "llama-3.1-8b"]);
        assert_eq!(code, 4, "a remote failure");
        assert!(err.contains("refused the token in HF_TOKEN"), "{err}");
    }
}

#[test]
fn missing_files_name_every_file_tried() {
    let (server, _) = start(Hub {
        files: Some(vec!["tokenizer.model"]),
        ..Hub::default()
    });
    let user = User::new(&server.url);
    let (code, _, err) = user.run(&[
        "models",
        "pull",
        "llama-3.1-8b",
        "--file",
        "tokenizer.json",
        "--file",
        "tiktoken.model",
    ]);
    assert_eq!(code, 4, "a remote failure");
    assert!(
        err.contains("tried tokenizer.json, tiktoken.model"),
        "{err}"
    );
    assert!(err.contains("--file"), "{err}");

    let (code, _, err) = user.run(&["models", "pull", "nobody/nothing"]);
    assert_eq!(code, 4, "a remote failure");
    assert!(err.contains("repository not found"), "{err}");
}

#[test]
fn bad_names_are_refused_before_any_request() {
    let (server, _) = start(Hub::default());
    let user = User::new(&server.url);
    for (args, expected) in [
        (vec!["models", "pull", "../../etc"], "invalid repository"),
        (vec!["models", "pull", "a/b/c"], "invalid repository"),
        (vec!["models", "pull", "gpt-4o"], "already counts exactly"),
        (
            vec!["models", "pull", "claude-sonnet-4-5"],
            "publishes no tokenizer",
        ),
        (
            vec!["models", "pull", "llama-3.1-8b", "--file", "../x"],
            "invalid file name",
        ),
        (
            vec!["models", "pull", "llama-3.1-8b", "--revision", "../../x"],
            "invalid revision",
        ),
        (
            vec!["models", "pull", "lama-3.1-8b"],
            "closest known models",
        ),
    ] {
        let (code, _, err) = user.run(&args);
        assert_eq!(code, 2, "{args:?}");
        assert!(err.contains(expected), "{args:?}: {err}");
    }
    assert!(server.requests().is_empty());
}

#[test]
fn a_model_in_the_hugging_face_cache_counts_exactly_without_a_download() {
    // No server: the endpoint is a closed port, so any request would fail.
    let user = User::new("http://127.0.0.1:9");
    let content = tiny_tokenizer_json();
    let etag = git_sha1(&content);
    let repo = user.path("hf/hub/models--meta-llama--Llama-3.1-8B-Instruct");
    std::fs::create_dir_all(repo.join("blobs")).unwrap();
    std::fs::create_dir_all(repo.join("refs")).unwrap();
    std::fs::create_dir_all(repo.join("snapshots").join(COMMIT)).unwrap();
    std::fs::write(repo.join("blobs").join(&etag), &content).unwrap();
    std::fs::write(repo.join("refs/main"), COMMIT).unwrap();
    std::os::unix::fs::symlink(
        format!("../../blobs/{etag}"),
        repo.join("snapshots").join(COMMIT).join("tokenizer.json"),
    )
    .unwrap();

    let v = user.count_json("llama-3.1-8b");
    assert_eq!(v["results"][0]["exact"], true, "{v}");
    assert_eq!(v["results"][0]["total"], 8);

    let (code, out, err) = user.run(&["models"]);
    assert_eq!(code, 0, "{err}");
    let line = out
        .lines()
        .find(|l| l.starts_with("llama-3.1-8b "))
        .unwrap();
    assert!(
        line.contains("tokenizer.json (Hugging Face cache)"),
        "{line}"
    );

    let (code, out, err) = user.run(&["models", "pull", "llama-3.1-8b"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("already in the Hugging Face cache"), "{out}");
    assert!(!user.own_repo().exists(), "nothing written to our cache");

    // HF_HUB_CACHE wins over HF_HOME.
    let (code, out, _) = {
        let mut cmd = cargo_bin_cmd!("tokenscope");
        let out = cmd
            .current_dir(user.dir.path())
            .env("HOME", user.path("home"))
            .env("XDG_CACHE_HOME", user.path("cache"))
            .env("XDG_CONFIG_HOME", user.path("config"))
            .env("HF_HOME", user.path("hf"))
            .env("HF_HUB_CACHE", user.path("elsewhere"))
            .args(["models", "--json"])
            .output()
            .unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8(out.stdout).unwrap(),
            (),
        )
    };
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    let m = v["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "llama-3.1-8b")
        .unwrap()
        .clone();
    assert_eq!(m["exact"], false);
    assert_eq!(m["tokenizer_found_in"], Value::Null);
}

#[test]
fn a_server_without_ranges_starts_the_download_over() {
    let (server, content) = start(Hub {
        cut_first_get: Some(500),
        ignore_range: true,
        ..Hub::default()
    });
    let user = User::new(&server.url);
    let (code, _, _) = user.run(&["models", "pull", "llama-3.1-8b"]);
    assert_eq!(code, 4, "a remote failure");
    let (code, out, err) = user.run(&["models", "pull", "llama-3.1-8b", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["downloaded"], content.len(), "the whole file again");
    let snapshot = user
        .own_repo()
        .join("snapshots")
        .join(COMMIT)
        .join("tokenizer.json");
    assert_eq!(std::fs::read(snapshot).unwrap(), content);
}

#[test]
fn files_over_the_size_limit_are_refused() {
    let (server, _) = start(Hub::default());
    let user = User::new(&server.url);
    let (code, _, err) = user.run(&["models", "pull", "llama-3.1-8b", "--max-file-size", "1KiB"]);
    assert_eq!(code, 2);
    assert!(err.contains("over the 1 KiB limit"), "{err}");
    assert!(
        server.requests().iter().all(|r| r.method == "HEAD"),
        "nothing downloaded"
    );
    assert!(
        !user.own_repo().join("blobs").read_dir().is_ok_and(
            |mut d| d.any(|e| { !e.unwrap().file_name().to_string_lossy().ends_with(".lock") })
        )
    );
}
