//! Exact Claude counts from Anthropic's token counting API
//! (`--count-api anthropic`, opt-in: it sends content to Anthropic).
//!
//! The protocol: `POST {ANTHROPIC_BASE_URL or https://api.anthropic.com}/v1/messages/count_tokens`
//! with the headers `x-api-key: $ANTHROPIC_API_KEY`,
//! `anthropic-version: 2023-06-01` and `content-type: application/json`, and
//! the body `{"model": M, "messages": [{"role": "user", "content": TEXT}]}`;
//! the reply is `{"input_tokens": N}`. Errors are
//! `{"type": "error", "error": {"type": ..., "message": ...}}`.
//!
//! **How a text's count is derived.** The API counts a whole request, which
//! includes the framing of a message (role markers and the like). The count
//! of a text is the request's `input_tokens` less that framing, measured
//! once per model as the count of a one-message request whose content is
//! `x` (one token) less one. A text of whitespace only (the joiners between
//! items) is not a valid message content; it is counted as the difference
//! between `x` followed by it and `x` alone. The empty text is 0 tokens.
//! Anthropic notes that the API's counts may differ slightly from what a
//! message is billed.
//!
//! **Politeness.** Up to [`CountApi::workers`] requests run at once (4 by
//! default). A `429` (rate limited) or `529` (overloaded) reply, and `500`,
//! `502`, `503` or `504`, are retried up to [`CountApi::max_retries`] times:
//! after the `retry-after` seconds the reply gives (at most
//! [`CountApi::max_wait`]), else after a backoff doubling from one second;
//! while one request waits, none is sent. When the
//! `anthropic-ratelimit-requests-remaining` header reaches 0, no request is
//! sent before `anthropic-ratelimit-requests-reset`. A spend limit
//! (`enforced_spend_limit_reached`), a refused key (401, 403) and a bad
//! request (400, 404, 413) are not retried.
//!
//! **Cache.** Every request's count is kept on disk ([`CountStore`]) by
//! model and SHA-256 of the content, so a second run over the same texts
//! sends nothing (and needs no key).

mod store;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::tokens::{ApiCounts, Tokenizer};

pub use store::{CountStore, StoreError};

/// The API used when `ANTHROPIC_BASE_URL` is not set.
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
/// The `anthropic-version` header sent.
pub const API_VERSION: &str = "2023-06-01";
/// The count source named in reports.
pub const SOURCE: &str = "anthropic count_tokens";
/// The one-token text whose request measures the message framing.
const PROBE: &str = "x";

/// Why counting through the API failed.
#[derive(Debug, thiserror::Error)]
pub enum CountApiError {
    /// Texts need counting and `ANTHROPIC_API_KEY` is not set.
    #[error(
        "--count-api anthropic: {0} text(s) are not in the count cache and ANTHROPIC_API_KEY is not set; set it to an Anthropic API key (https://console.anthropic.com/settings/keys)"
    )]
    NoKey(usize),
    /// `ANTHROPIC_BASE_URL` is not an http(s) address.
    #[error("ANTHROPIC_BASE_URL `{}` is not an http:// or https:// address", crate::text::escape::line(.0))]
    BaseUrl(String),
    /// The key was refused.
    #[error("{url}: the API refused the key in ANTHROPIC_API_KEY ({status} {kind}: {message})")]
    Auth {
        /// The address.
        url: String,
        /// 401 or 403.
        status: u16,
        /// The error type, e.g. `authentication_error`.
        kind: String,
        /// The API's message.
        message: String,
    },
    /// Another error reply (not retried, or still failing after the
    /// retries).
    #[error("{url}: the API answered {status} {kind}: {message}{hint}")]
    Api {
        /// The address.
        url: String,
        /// The status.
        status: u16,
        /// The error type, e.g. `invalid_request_error`.
        kind: String,
        /// The API's message.
        message: String,
        /// What to do about it.
        hint: String,
    },
    /// The connection failed.
    #[error("{url}: {message}")]
    Transport {
        /// The address.
        url: String,
        /// What happened.
        message: String,
    },
    /// A reply that is not `{"input_tokens": N}`.
    #[error("{url}: unexpected reply: {message}")]
    Reply {
        /// The address.
        url: String,
        /// What was wrong.
        message: String,
    },
    /// The disk cache could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A client of the count_tokens API. Its `Debug` form never shows the key.
pub struct CountApi {
    /// The API's address, without a trailing `/`.
    pub base_url: String,
    key: Option<String>,
    /// Requests at once.
    pub workers: usize,
    /// Retries of one request after 429, 529 or a 5xx.
    pub max_retries: u32,
    /// The longest single wait before a retry.
    pub max_wait: Duration,
    agent: ureq::Agent,
    /// No request is sent before this instant (rate limits).
    not_before: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for CountApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CountApi")
            .field("base_url", &self.base_url)
            .field("key", &self.key.as_ref().map(|_| "<redacted>"))
            .field("workers", &self.workers)
            .field("max_retries", &self.max_retries)
            .field("max_wait", &self.max_wait)
            .finish_non_exhaustive()
    }
}

impl CountApi {
    /// A client of `base_url` with `key` (none: only cached counts can be
    /// used).
    pub fn new(base_url: &str, key: Option<String>) -> Result<CountApi, CountApiError> {
        let base_url = base_url.trim().trim_end_matches('/').to_string();
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(CountApiError::BaseUrl(base_url));
        }
        Ok(CountApi {
            base_url,
            key,
            workers: 4,
            max_retries: 6,
            max_wait: Duration::from_secs(120),
            agent: crate::http::agent(crate::http::AgentOptions {
                follow_redirects: false,
                timeout: Duration::from_secs(120),
            }),
            not_before: Mutex::new(None),
        })
    }

    /// A client from `ANTHROPIC_BASE_URL` (default [`DEFAULT_BASE_URL`])
    /// and `ANTHROPIC_API_KEY`.
    pub fn from_env() -> Result<CountApi, CountApiError> {
        let var = |n: &str| std::env::var(n).ok().filter(|v| !v.trim().is_empty());
        CountApi::new(
            &var("ANTHROPIC_BASE_URL").unwrap_or_else(|| DEFAULT_BASE_URL.to_string()),
            var("ANTHROPIC_API_KEY").map(|k| k.trim().to_string()),
        )
    }

    fn url(&self) -> String {
        format!("{}/v1/messages/count_tokens", self.base_url)
    }

    /// The `input_tokens` of a request body, with retries (see the module
    /// docs).
    pub fn count_request(&self, body: &Value) -> Result<usize, CountApiError> {
        let url = self.url();
        let Some(key) = &self.key else {
            return Err(CountApiError::NoKey(1));
        };
        let payload = serde_json::to_vec(body).map_err(|e| CountApiError::Reply {
            url: url.clone(),
            message: e.to_string(),
        })?;
        let mut attempt = 0u32;
        loop {
            self.wait_turn();
            let resp = self
                .agent
                .post(&url)
                .header("x-api-key", key)
                .header("anthropic-version", API_VERSION)
                .header("content-type", "application/json")
                .send(&payload[..]);
            let mut resp = match resp {
                Ok(r) => r,
                Err(e) => {
                    if attempt < self.max_retries && transient(&e) {
                        self.pause(backoff(attempt).min(self.max_wait));
                        attempt += 1;
                        continue;
                    }
                    return Err(CountApiError::Transport {
                        url,
                        message: crate::http::describe(&e),
                    });
                }
            };
            let status = resp.status().as_u16();
            let header = |name: &str| {
                resp.headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(|s| s.trim().to_string())
            };
            let retry_after = header("retry-after").and_then(|s| s.parse::<f64>().ok());
            if header("anthropic-ratelimit-requests-remaining").as_deref() == Some("0")
                && let Some(reset) = header("anthropic-ratelimit-requests-reset")
                && let Some(wait) = until(&reset)
            {
                self.pause(wait.min(self.max_wait));
            }
            let text = resp
                .body_mut()
                .with_config()
                .limit(1024 * 1024)
                .read_to_string()
                .unwrap_or_default();
            if (200..300).contains(&status) {
                return parse_count(&text).ok_or_else(|| CountApiError::Reply {
                    url: url.clone(),
                    message: format!("expected {{\"input_tokens\": N}}, got {}", short(&text)),
                });
            }
            let (kind, message) = error_of(&text);
            let spend_limit = text.contains("enforced_spend_limit_reached");
            let retryable = matches!(status, 429 | 500 | 502 | 503 | 504 | 529) && !spend_limit;
            if retryable && attempt < self.max_retries {
                let wait = retry_after
                    .filter(|s| s.is_finite() && *s >= 0.0)
                    .map_or_else(|| backoff(attempt), Duration::from_secs_f64)
                    .min(self.max_wait);
                self.pause(wait);
                attempt += 1;
                continue;
            }
            return Err(match status {
                401 | 403 => CountApiError::Auth {
                    url,
                    status,
                    kind,
                    message,
                },
                _ => CountApiError::Api {
                    url,
                    status,
                    kind,
                    message,
                    hint: match status {
                        429 | 529 if spend_limit => {
                            "; the organisation's spend limit is reached".into()
                        }
                        429 | 529 | 500..=599 => format!(
                            "; still failing after {} retries, run the command again later (counts so far are cached)",
                            self.max_retries
                        ),
                        400 | 404 => {
                            "; is the model name one the API knows (`api_model` in models.toml)?"
                                .into()
                        }
                        413 => "; the text is too large for one request".into(),
                        _ => String::new(),
                    },
                },
            });
        }
    }

    /// Waits until no pause is in force.
    fn wait_turn(&self) {
        loop {
            let until = *self.not_before.lock().unwrap_or_else(|e| e.into_inner());
            match until {
                Some(t) if t > Instant::now() => std::thread::sleep(t - Instant::now()),
                _ => return,
            }
        }
    }

    /// Holds every worker for `wait`.
    fn pause(&self, wait: Duration) {
        let mut nb = self.not_before.lock().unwrap_or_else(|e| e.into_inner());
        let t = Instant::now() + wait;
        if nb.is_none_or(|old| old < t) {
            *nb = Some(t);
        }
    }

    /// The raw `input_tokens` of one user message with `content`, from the
    /// store or the API.
    fn message_tokens(
        &self,
        model: &str,
        content: &str,
        store: &CountStore,
    ) -> Result<usize, CountApiError> {
        if let Some(n) = store.get(model, content) {
            return Ok(n);
        }
        let n = self.count_request(&json!({
            "model": model,
            "messages": [{"role": "user", "content": content}],
        }))?;
        store.put(model, content, n);
        Ok(n)
    }

    /// Measures every text of `texts` for `model` (cached ones from
    /// `store`, the rest through the API, in parallel) and adds the derived
    /// counts to `counts`. New counts are added to `store` (save it after).
    /// `progress` gets (texts done, texts to fetch).
    pub fn measure(
        &self,
        model: &str,
        texts: &[&str],
        counts: &ApiCounts,
        store: &CountStore,
        progress: &mut (dyn FnMut(usize, usize) + Send),
    ) -> Result<(), CountApiError> {
        // The request content each text needs.
        let mut wanted: Vec<(&str, String)> = Vec::new();
        let mut seen = rustc_hash::FxHashSet::default();
        for &t in texts {
            if t.is_empty() || counts.get(t).is_some() || !seen.insert(t) {
                continue;
            }
            wanted.push((t, request_content(t)));
        }
        if wanted.is_empty() {
            return Ok(());
        }
        let mut contents: Vec<String> = vec![PROBE.to_string()];
        contents.extend(wanted.iter().map(|(_, c)| c.clone()));
        contents.sort();
        contents.dedup();
        let to_fetch: Vec<String> = contents
            .into_iter()
            .filter(|c| store.get(model, c).is_none())
            .collect();
        if !to_fetch.is_empty() && self.key.is_none() {
            return Err(CountApiError::NoKey(to_fetch.len()));
        }
        self.fetch_all(model, &to_fetch, store, progress)?;

        let framing = self.message_tokens(model, PROBE, store)?.saturating_sub(1);
        let probe = framing + 1;
        for (text, content) in &wanted {
            let raw = self.message_tokens(model, content, store)?;
            let n = if text.trim().is_empty() {
                raw.saturating_sub(probe)
            } else {
                raw.saturating_sub(framing)
            };
            counts.insert(text, n);
        }
        Ok(())
    }

    fn fetch_all(
        &self,
        model: &str,
        contents: &[String],
        store: &CountStore,
        progress: &mut (dyn FnMut(usize, usize) + Send),
    ) -> Result<(), CountApiError> {
        let total = contents.len();
        if total == 0 {
            return Ok(());
        }
        progress(0, total);
        let next = Mutex::new(0usize);
        let done = Mutex::new((0usize, progress));
        let failed = AtomicBool::new(false);
        let error: Mutex<Option<CountApiError>> = Mutex::new(None);
        let workers = self.workers.clamp(1, 16).min(total);
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| {
                    loop {
                        if failed.load(Ordering::Relaxed) {
                            return;
                        }
                        let i = {
                            let mut n = next.lock().unwrap_or_else(|e| e.into_inner());
                            let i = *n;
                            *n += 1;
                            i
                        };
                        let Some(content) = contents.get(i) else {
                            return;
                        };
                        match self.message_tokens(model, content, store) {
                            Ok(_) => {
                                let mut d = done.lock().unwrap_or_else(|e| e.into_inner());
                                d.0 += 1;
                                let count = d.0;
                                (d.1)(count, total);
                            }
                            Err(e) => {
                                failed.store(true, Ordering::Relaxed);
                                let mut slot = error.lock().unwrap_or_else(|e| e.into_inner());
                                slot.get_or_insert(e);
                                return;
                            }
                        }
                    }
                });
            }
        });
        match error.into_inner().unwrap_or_else(|e| e.into_inner()) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// A tokenizer that counts `texts` exactly for `model` through the API:
/// the texts are measured now (from `store` or the API); any other text is
/// counted later with `fallback` (see [`ApiCounts`]).
pub fn tokenizer_for(
    api: &CountApi,
    model: &str,
    texts: &[&str],
    fallback: Tokenizer,
    store: &CountStore,
    progress: &mut (dyn FnMut(usize, usize) + Send),
) -> Result<Tokenizer, CountApiError> {
    let counts = Arc::new(ApiCounts::new(model, SOURCE, [], fallback));
    api.measure(model, texts, &counts, store, progress)?;
    Ok(Tokenizer::Api(counts))
}

/// The message content whose count gives `text`'s.
fn request_content(text: &str) -> String {
    if text.trim().is_empty() {
        format!("{PROBE}{text}")
    } else {
        text.to_string()
    }
}

fn parse_count(text: &str) -> Option<usize> {
    let v: Value = serde_json::from_str(text).ok()?;
    usize::try_from(v.get("input_tokens")?.as_u64()?).ok()
}

/// The error type and message of an error reply.
fn error_of(text: &str) -> (String, String) {
    let v: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    let err = &v["error"];
    let kind = err["type"].as_str().unwrap_or("error").to_string();
    let message = err["message"].as_str().map_or_else(|| short(text), short);
    (short(&kind), message)
}

fn short(s: &str) -> String {
    crate::text::escape::line_cut(s, 300)
}

/// 1 s, 2 s, 4 s, ... (at most 30 s), plus up to a quarter more so that
/// clients do not retry in step.
fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_secs(1u64 << attempt.min(5)).min(Duration::from_secs(30));
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    base + base.mul_f64(f64::from(nanos % 1000) / 4000.0)
}

fn transient(e: &ureq::Error) -> bool {
    matches!(
        e,
        ureq::Error::Io(_) | ureq::Error::Timeout(_) | ureq::Error::ConnectionFailed
    )
}

/// The time from now until an RFC 3339 instant (none if past or invalid).
fn until(rfc3339: &str) -> Option<Duration> {
    let t = time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .ok()?;
    let left = t - time::OffsetDateTime::now_utc();
    left.is_positive()
        .then(|| Duration::from_secs_f64(left.as_seconds_f64()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_and_errors_parse() {
        assert_eq!(parse_count(r#"{"input_tokens": 14}"#), Some(14));
        assert_eq!(parse_count(r#"{"input_tokens": -1}"#), None);
        assert_eq!(parse_count("nope"), None);
        let (k, m) = error_of(
            r#"{"type":"error","error":{"type":"invalid_request_error","message":"model: bad\u001b"}}"#,
        );
        assert_eq!(k, "invalid_request_error");
        assert_eq!(m, "model: bad\\x1b");
        assert_eq!(request_content("\n\n"), "x\n\n");
        assert_eq!(request_content("a b"), "a b");
        assert!(until("2000-01-01T00:00:00Z").is_none());
        assert!(until("2999-01-01T00:00:00Z").is_some());
        assert!(backoff(0) >= Duration::from_secs(1) && backoff(0) < Duration::from_secs(2));
        assert!(backoff(10) <= Duration::from_secs(38));
        let api = CountApi::new("http://127.0.0.1:1", Some("sk-secret".into())).unwrap();
        assert!(!format!("{api:?}").contains("sk-secret"));
        assert!(CountApi::new("ftp://x", None).is_err());
    }
}
