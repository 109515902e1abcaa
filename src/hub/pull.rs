//! Downloading a repository file from the Hugging Face hub into
//! tokenscope's cache (`tokenscope models pull`).
//!
//! The protocol is the hub's own, as `huggingface_hub` speaks it:
//!
//! 1. `HEAD {endpoint}/{repo}/resolve/{revision}/{file}` without following
//!    redirects, with `Authorization: Bearer $HF_TOKEN` when a token is set.
//!    The reply names the commit (`X-Repo-Commit`), the checksum
//!    (`X-Linked-Etag` for files stored with Git LFS, else `ETag`), the size
//!    (`X-Linked-Size`, else `Content-Length`) and, for LFS files, where the
//!    content is (a redirect `Location`).
//! 2. `GET` of that location (redirects followed; the token is never sent to
//!    another host), into `blobs/ETAG.incomplete`. When that file is there
//!    from an earlier, cut download, the request asks for the rest with
//!    `Range: bytes=N-` and appends to it (a server that answers with the
//!    whole file starts it over).
//! 3. The whole file is checked against the checksum before it is used: the
//!    ETag of an LFS file is the SHA-256 of its content, that of any other
//!    file the git blob hash, SHA-1 of `blob LEN\0` followed by the content.
//!    A mismatch deletes the download and is an error; a server that gives
//!    no checksum is refused.
//! 4. The checked file is renamed to `blobs/ETAG`, `snapshots/COMMIT/FILE`
//!    links to it (a copy where links are not available) and
//!    `refs/REVISION` records the commit, the layout of the hub's caches.
//!
//! A file over the tokenizer size limit ([`crate::fsio::TOKENIZER_LIMIT`],
//! `--max-file-size`) is refused before and while it downloads.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha1::Digest as _;

use super::repo::{InvalidName, RepoId, is_commit, validate_file_name, validate_revision};

/// The hub used when `HF_ENDPOINT` is not set.
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

/// What to download and where to. Its `Debug` form never shows the token.
#[derive(Clone)]
pub struct PullOptions {
    /// The hub's address without a trailing `/`: `$HF_ENDPOINT` or
    /// [`DEFAULT_ENDPOINT`].
    pub endpoint: String,
    /// A hub token for gated and private repositories (`$HF_TOKEN`).
    pub token: Option<String>,
    /// The branch, tag or commit (`main` by default).
    pub revision: String,
    /// The files to try, in order; the first one the repository has is
    /// downloaded.
    pub files: Vec<String>,
    /// The cache folder to write into (holding `models--ORG--NAME`).
    pub cache_dir: PathBuf,
    /// The largest file accepted, in bytes.
    pub max_size: u64,
}

impl std::fmt::Debug for PullOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PullOptions")
            .field("endpoint", &self.endpoint)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("revision", &self.revision)
            .field("files", &self.files)
            .field("cache_dir", &self.cache_dir)
            .field("max_size", &self.max_size)
            .finish()
    }
}

impl PullOptions {
    /// Options from the environment: `HF_ENDPOINT`, `HF_TOKEN` (or the
    /// older `HUGGING_FACE_HUB_TOKEN`), revision `main`, the default file
    /// ([`super::DEFAULT_FILE`]) and the tokenizer size limit.
    pub fn from_env(cache_dir: PathBuf) -> PullOptions {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        PullOptions {
            endpoint: var("HF_ENDPOINT")
                .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string())
                .trim()
                .trim_end_matches('/')
                .to_string(),
            token: var("HF_TOKEN")
                .or_else(|| var("HUGGING_FACE_HUB_TOKEN"))
                .map(|t| t.trim().to_string()),
            revision: "main".to_string(),
            files: vec![super::DEFAULT_FILE.to_string()],
            cache_dir,
            max_size: crate::fsio::limit(crate::fsio::Limit::Tokenizer),
        }
    }
}

/// A file in the cache after [`pull`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pulled {
    /// `.../snapshots/COMMIT/FILE`.
    pub path: PathBuf,
    /// The file's path in the repository.
    pub file: String,
    /// The commit the revision named.
    pub commit: String,
    /// The checksum the hub gave (SHA-256 or git blob SHA-1, hex).
    pub etag: String,
    /// The file's size in bytes.
    pub size: u64,
    /// Bytes downloaded by this call (0 when the file was already there).
    pub downloaded: u64,
    /// Bytes of an earlier, cut download that this call continued from.
    pub resumed_from: u64,
}

/// Why a pull failed. Values from the server are escaped when shown.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    /// A repository, revision, file name or endpoint that is not valid.
    #[error(transparent)]
    Name(#[from] InvalidName),
    /// `HF_ENDPOINT` is not an http(s) address.
    #[error("HF_ENDPOINT `{}` is not an http:// or https:// address", crate::text::escape::line(.0))]
    Endpoint(String),
    /// 401 or 403: a gated or private repository (or, without a token, one
    /// that does not exist: the hub does not say which).
    #[error("{}", gated_message(repo, *status, *token_sent))]
    Gated {
        /// The repository.
        repo: String,
        /// The HTTP status.
        status: u16,
        /// Whether `HF_TOKEN` was sent.
        token_sent: bool,
    },
    /// 404 for every file tried, or for the repository or revision.
    #[error(
        "{repo} (revision {revision}): {what}; tried {}{}",
        tried.join(", "),
        if *entry { " (name another file with --file)" } else { "" }
    )]
    NotFound {
        /// The repository.
        repo: String,
        /// The revision.
        revision: String,
        /// The files tried, in order.
        tried: Vec<String>,
        /// What the hub said was missing.
        what: String,
        /// Whether the files were missing (not the repository).
        entry: bool,
    },
    /// Another HTTP error status.
    #[error("{url}: the hub answered {status}{}", message_suffix(message))]
    Http {
        /// The address asked.
        url: String,
        /// The status.
        status: u16,
        /// The server's message, escaped and shortened.
        message: String,
    },
    /// The connection failed or was cut.
    #[error("{url}: {message}")]
    Transport {
        /// The address asked.
        url: String,
        /// What happened, and whether a rerun resumes.
        message: String,
    },
    /// The hub's reply lacks a header the download needs.
    #[error(
        "{url}: the reply has no valid {header} header; is {endpoint} a Hugging Face hub? (HF_ENDPOINT)"
    )]
    MissingHeader {
        /// The address asked.
        url: String,
        /// The header.
        header: &'static str,
        /// The endpoint used.
        endpoint: String,
    },
    /// The hub gave no checksum to verify the file with.
    #[error(
        "{url}: the reply's ETag `{etag}` is neither a SHA-256 nor a git SHA-1; refusing a file that cannot be verified"
    )]
    NoChecksum {
        /// The address asked.
        url: String,
        /// The ETag, escaped.
        etag: String,
    },
    /// The downloaded content does not match the checksum; nothing was kept.
    #[error(
        "{file}: checksum mismatch: the hub said {expected}, the download is {actual}; the download was deleted, nothing was written"
    )]
    Checksum {
        /// The repository file.
        file: String,
        /// The checksum the hub gave.
        expected: String,
        /// The checksum of what arrived.
        actual: String,
    },
    /// The file is larger than the limit.
    #[error(
        "{file} is {} bytes, over the {} limit for tokenizer files; pass --max-file-size to raise it",
        size, crate::fsio::format_size(*limit)
    )]
    TooLarge {
        /// The repository file.
        file: String,
        /// Its size (or the bytes received when it passed the limit).
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// Reading or writing the cache failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
}

fn gated_message(repo: &str, status: u16, token_sent: bool) -> String {
    if token_sent {
        format!(
            "{repo}: the hub refused the token in HF_TOKEN ({status}): the repository is gated or private and this token has no access; accept the model's license on its page (https://huggingface.co/{repo}) with the account the token belongs to, or check the repository name"
        )
    } else {
        format!(
            "{repo}: the hub answered {status}: the repository is gated or private (or does not exist); accept the model's license on its page (https://huggingface.co/{repo}), create a read token at https://huggingface.co/settings/tokens and set HF_TOKEN to it"
        )
    }
}

fn message_suffix(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    }
}

/// How far a download is: bytes so far and the total when known. Called
/// with `(0, total)` when a download starts (or `(n, total)` when it
/// resumes at `n`) and at least once more at the end.
pub type Progress<'a> = &'a mut dyn FnMut(u64, Option<u64>);

/// Downloads the first of `options.files` that `repo` has at
/// `options.revision` into `options.cache_dir` (see the [module
/// docs](self)) and returns where it is. A file already in the cache with
/// the checksum the hub names is not downloaded again.
pub fn pull(
    repo: &RepoId,
    options: &PullOptions,
    progress: Progress<'_>,
) -> Result<Pulled, PullError> {
    validate_revision(&options.revision)?;
    for f in &options.files {
        validate_file_name(f)?;
    }
    let endpoint = options.endpoint.trim_end_matches('/');
    if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
        return Err(PullError::Endpoint(endpoint.to_string()));
    }
    let repo_dir = options.cache_dir.join(repo.cache_folder());
    let mut tried = Vec::new();
    for file in &options.files {
        let url = format!(
            "{endpoint}/{repo}/resolve/{}/{file}",
            options.revision.replace('/', "%2F")
        );
        tried.push(file.clone());
        let meta = match head(&url, options, repo)? {
            Head::Found(m) => m,
            Head::EntryMissing => continue,
            Head::Missing(what) => {
                return Err(PullError::NotFound {
                    repo: repo.to_string(),
                    revision: options.revision.clone(),
                    tried,
                    what,
                    entry: false,
                });
            }
        };
        return fetch(repo, file, &url, &meta, options, &repo_dir, progress);
    }
    Err(PullError::NotFound {
        repo: repo.to_string(),
        revision: options.revision.clone(),
        tried,
        what: "no such file in the repository".to_string(),
        entry: true,
    })
}

/// What the `HEAD` request told.
struct Meta {
    commit: String,
    etag: String,
    checksum: Checksum,
    size: Option<u64>,
    /// Where to `GET` the content (the redirect target, or the same URL).
    location: String,
}

enum Head {
    Found(Meta),
    /// 404 for this file (`EntryNotFound`, or no error code).
    EntryMissing,
    /// 404 for the repository or revision.
    Missing(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Checksum {
    Sha256,
    GitSha1,
}

fn agent(follow_redirects: bool) -> ureq::Agent {
    crate::http::agent(crate::http::AgentOptions {
        follow_redirects,
        timeout: Duration::from_secs(60),
    })
}

fn head(url: &str, options: &PullOptions, repo: &RepoId) -> Result<Head, PullError> {
    let mut req = agent(false).head(url);
    if let Some(t) = &options.token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    // Ask for the size of the content itself, not of a compressed form.
    req = req.header("accept-encoding", "identity");
    let resp = req.call().map_err(|e| transport(url, &e, None))?;
    let status = resp.status().as_u16();
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.trim().to_string())
    };
    match status {
        200..=399 => {}
        401 | 403 => {
            return Err(PullError::Gated {
                repo: repo.to_string(),
                status,
                token_sent: options.token.is_some(),
            });
        }
        404 => {
            return Ok(match header("x-error-code").as_deref() {
                Some("RepoNotFound") => Head::Missing("repository not found".into()),
                Some("RevisionNotFound") => Head::Missing("revision not found".into()),
                _ => Head::EntryMissing,
            });
        }
        _ => {
            return Err(PullError::Http {
                url: url.to_string(),
                status,
                message: header("x-error-message")
                    .map(|m| short(&m))
                    .unwrap_or_default(),
            });
        }
    }
    let missing = |header: &'static str| PullError::MissingHeader {
        url: url.to_string(),
        header,
        endpoint: options.endpoint.clone(),
    };
    let commit = header("x-repo-commit")
        .filter(|c| is_commit(c))
        .ok_or_else(|| missing("X-Repo-Commit"))?;
    let raw_etag = header("x-linked-etag")
        .or_else(|| header("etag"))
        .ok_or_else(|| missing("ETag"))?;
    let etag = raw_etag
        .trim_start_matches("W/")
        .trim_matches('"')
        .to_ascii_lowercase();
    let hex = etag.bytes().all(|b| b.is_ascii_hexdigit());
    let checksum = match etag.len() {
        64 if hex => Checksum::Sha256,
        40 if hex => Checksum::GitSha1,
        _ => {
            return Err(PullError::NoChecksum {
                url: url.to_string(),
                etag: short(&raw_etag),
            });
        }
    };
    let size = header("x-linked-size")
        .or_else(|| header("content-length"))
        .and_then(|s| s.parse::<u64>().ok());
    let location = if (300..400).contains(&status) {
        let target = header("location").ok_or_else(|| missing("Location"))?;
        join_url(url, &target)
    } else {
        url.to_string()
    };
    Ok(Head::Found(Meta {
        commit,
        etag,
        checksum,
        size,
        location,
    }))
}

fn fetch(
    repo: &RepoId,
    file: &str,
    url: &str,
    meta: &Meta,
    options: &PullOptions,
    repo_dir: &Path,
    progress: Progress<'_>,
) -> Result<Pulled, PullError> {
    let io_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| PullError::Io { path, source }
    };
    if let Some(size) = meta.size
        && size > options.max_size
    {
        return Err(PullError::TooLarge {
            file: file.to_string(),
            size,
            limit: options.max_size,
        });
    }
    let blobs = repo_dir.join("blobs");
    fs::create_dir_all(&blobs).map_err(io_err(&blobs))?;
    let blob = blobs.join(&meta.etag);
    // One download of a blob at a time (two pulls of the same model).
    let _lock = crate::fsio::lock_for_update(&blob).map_err(io_err(&blob))?;

    let mut downloaded = 0;
    let mut resumed_from = 0;
    let already = fs::symlink_metadata(&blob).is_ok_and(|m| m.is_file())
        && digest(&blob, meta.checksum, options.max_size).map_err(io_err(&blob))? == meta.etag;
    if !already {
        let partial = blob.with_file_name(format!("{}.incomplete", meta.etag));
        let start = match fs::symlink_metadata(&partial) {
            Ok(m) if m.is_file() => m.len(),
            Ok(_) => {
                return Err(PullError::Io {
                    path: partial,
                    source: io::Error::other("not a regular file"),
                });
            }
            Err(_) => 0,
        };
        let same_host = host(&meta.location) == host(url);
        let got = download(
            &meta.location,
            same_host.then_some(options.token.as_deref()).flatten(),
            &partial,
            start,
            meta.size,
            file,
            options.max_size,
            progress,
        )?;
        downloaded = got.received;
        resumed_from = got.resumed_from;
        let actual = digest(&partial, meta.checksum, options.max_size).map_err(io_err(&partial))?;
        if actual != meta.etag {
            let _ = fs::remove_file(&partial);
            return Err(PullError::Checksum {
                file: format!("{repo}/{file}"),
                expected: meta.etag.clone(),
                actual,
            });
        }
        fs::rename(&partial, &blob).map_err(io_err(&blob))?;
    }
    let size = fs::metadata(&blob).map_err(io_err(&blob))?.len();
    let snapshot = repo_dir.join("snapshots").join(&meta.commit).join(file);
    link_snapshot(&snapshot, &blob, &meta.etag, file).map_err(io_err(&snapshot))?;
    if !is_commit(&options.revision) {
        let reference = repo_dir.join("refs").join(&options.revision);
        if let Some(dir) = reference.parent() {
            fs::create_dir_all(dir).map_err(io_err(dir))?;
        }
        crate::fsio::write_file(&reference, meta.commit.as_bytes()).map_err(io_err(&reference))?;
    }
    Ok(Pulled {
        path: snapshot,
        file: file.to_string(),
        commit: meta.commit.clone(),
        etag: meta.etag.clone(),
        size,
        downloaded,
        resumed_from,
    })
}

struct Got {
    received: u64,
    resumed_from: u64,
}

#[allow(clippy::too_many_arguments)]
fn download(
    url: &str,
    token: Option<&str>,
    partial: &Path,
    start: u64,
    size: Option<u64>,
    file: &str,
    max_size: u64,
    progress: Progress<'_>,
) -> Result<Got, PullError> {
    let io_err = |source| PullError::Io {
        path: partial.to_path_buf(),
        source,
    };
    // A partial file as long as the whole is checked as it is.
    if start > 0 && size == Some(start) {
        progress(start, size);
        return Ok(Got {
            received: 0,
            resumed_from: start,
        });
    }
    let mut req = agent(true).get(url).header("accept-encoding", "identity");
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    if start > 0 {
        req = req.header("range", format!("bytes={start}-"));
    }
    let mut resp = req.call().map_err(|e| transport(url, &e, None))?;
    let status = resp.status().as_u16();
    let (mut out, offset) = match status {
        206 if start > 0 && content_range_start(&resp) == Some(start) => (
            OpenOptions::new()
                .append(true)
                .open(partial)
                .map_err(io_err)?,
            start,
        ),
        200 | 206 => (File::create(partial).map_err(io_err)?, 0),
        416 if start > 0 => {
            // The partial file is longer than the content: start over.
            fs::remove_file(partial).map_err(io_err)?;
            return download(url, token, partial, 0, size, file, max_size, progress);
        }
        401 | 403 => {
            return Err(PullError::Http {
                url: url.to_string(),
                status,
                message: "the content server refused the download".into(),
            });
        }
        _ => {
            return Err(PullError::Http {
                url: url.to_string(),
                status,
                message: String::new(),
            });
        }
    };
    let total = size.or_else(|| {
        resp.body()
            .content_length()
            .map(|n| n.saturating_add(offset))
    });
    progress(offset, total);
    let mut reader = resp.body_mut().as_reader();
    let mut buf = vec![0u8; 64 * 1024];
    let mut done = offset;
    let mut received = 0u64;
    let mut last = std::time::Instant::now();
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let _ = out.flush();
                return Err(PullError::Transport {
                    url: url.to_string(),
                    message: format!(
                        "the download was cut after {done} bytes ({e}); run the same command again to resume it"
                    ),
                });
            }
        };
        done += n as u64;
        received += n as u64;
        if done > max_size {
            drop(out);
            let _ = fs::remove_file(partial);
            return Err(PullError::TooLarge {
                file: file.to_string(),
                size: done,
                limit: max_size,
            });
        }
        out.write_all(&buf[..n]).map_err(io_err)?;
        if last.elapsed() >= Duration::from_millis(100) {
            progress(done, total);
            last = std::time::Instant::now();
        }
    }
    out.flush().map_err(io_err)?;
    out.sync_all().map_err(io_err)?;
    progress(done, total);
    if let Some(total) = total
        && done < total
    {
        return Err(PullError::Transport {
            url: url.to_string(),
            message: format!(
                "the connection closed after {done} of {total} bytes; run the same command again to resume it"
            ),
        });
    }
    Ok(Got {
        received,
        resumed_from: offset,
    })
}

/// The first byte of a `Content-Range: bytes A-B/N` reply.
fn content_range_start(resp: &ureq::http::Response<ureq::Body>) -> Option<u64> {
    let v = resp.headers().get("content-range")?.to_str().ok()?;
    let range = v.trim().strip_prefix("bytes")?.trim_start();
    range.split('-').next()?.trim().parse().ok()
}

/// The checksum of a file as the hub computes its ETag.
fn digest(path: &Path, kind: Checksum, max: u64) -> io::Result<String> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    if len > max {
        return Err(io::Error::new(
            io::ErrorKind::FileTooLarge,
            "larger than the tokenizer size limit",
        ));
    }
    let mut buf = vec![0u8; 64 * 1024];
    let hex = match kind {
        Checksum::Sha256 => {
            let mut h = sha2::Sha256::new();
            loop {
                let n = file.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                h.update(&buf[..n]);
            }
            to_hex(&h.finalize())
        }
        Checksum::GitSha1 => {
            let mut h = sha1::Sha1::new();
            h.update(format!("blob {len}\0").as_bytes());
            let mut seen = 0u64;
            loop {
                let n = file.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                seen += n as u64;
                h.update(&buf[..n]);
            }
            if seen != len {
                return Err(io::Error::other("the file changed while it was checked"));
            }
            to_hex(&h.finalize())
        }
    };
    Ok(hex)
}

pub(crate) fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Points `snapshot` at `blob`: a relative link (`../../blobs/ETAG`), made
/// under a temporary name and renamed over any old one; a copy where links
/// cannot be made.
fn link_snapshot(snapshot: &Path, blob: &Path, etag: &str, file: &str) -> io::Result<()> {
    let dir = snapshot
        .parent()
        .ok_or_else(|| io::Error::other("no folder"))?;
    fs::create_dir_all(dir)?;
    let name = snapshot
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let _ = fs::remove_file(&temp);
    #[cfg(unix)]
    {
        let ups = 2 + file.matches('/').count();
        let target = format!("{}blobs/{etag}", "../".repeat(ups));
        if std::os::unix::fs::symlink(&target, &temp).is_ok() {
            return fs::rename(&temp, snapshot).inspect_err(|_| {
                let _ = fs::remove_file(&temp);
            });
        }
    }
    let _ = (etag, file);
    fs::copy(blob, &temp)?;
    fs::rename(&temp, snapshot).inspect_err(|_| {
        let _ = fs::remove_file(&temp);
    })
}

/// `target` (absolute, or relative to `base`'s host or path) as an
/// absolute URL.
fn join_url(base: &str, target: &str) -> String {
    if target.starts_with("http://") || target.starts_with("https://") {
        return target.to_string();
    }
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    if target.starts_with('/') {
        format!("{}{target}", &base[..host_end])
    } else {
        let dir_end = base
            .rfind('/')
            .filter(|&i| i >= host_end)
            .unwrap_or(host_end);
        format!("{}/{target}", &base[..dir_end])
    }
}

/// The `scheme://host:port` of a URL.
fn host(url: &str) -> &str {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let end = url[scheme_end..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| scheme_end + i);
    &url[..end]
}

fn short(s: &str) -> String {
    crate::text::escape::line_cut(s, 300)
}

fn transport(url: &str, e: &ureq::Error, _at: Option<u64>) -> PullError {
    PullError::Transport {
        url: url.to_string(),
        message: crate::http::describe(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_join_and_hosts_compare() {
        let base = "http://127.0.0.1:9/org/m/resolve/main/tokenizer.json";
        assert_eq!(join_url(base, "https://cdn.x/a"), "https://cdn.x/a");
        assert_eq!(
            join_url(base, "/api/resolve-cache/x"),
            "http://127.0.0.1:9/api/resolve-cache/x"
        );
        assert_eq!(
            join_url(base, "other.json"),
            "http://127.0.0.1:9/org/m/resolve/main/other.json"
        );
        assert_eq!(host(base), "http://127.0.0.1:9");
        assert_eq!(host("https://cdn.x"), "https://cdn.x");
    }

    #[test]
    fn git_blob_hash_matches_git() {
        // `printf 'hello\n' | git hash-object --stdin`
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("f");
        fs::write(&p, "hello\n").unwrap();
        assert_eq!(
            digest(&p, Checksum::GitSha1, 1 << 20).unwrap(),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
        assert_eq!(
            digest(&p, Checksum::Sha256, 1 << 20).unwrap(),
            "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
        );
    }
}
