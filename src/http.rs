//! The HTTP client shared by `models pull` and the count API: `ureq` (a
//! blocking client) with rustls and the webpki root certificates.
//!
//! Proxies come from the environment as `curl` reads them: `ALL_PROXY`,
//! `HTTPS_PROXY`, `HTTP_PROXY` (and their lowercase forms), with `NO_PROXY`
//! naming hosts reached directly. Error statuses are returned as replies (not
//! errors) so that callers can read the body and headers of a 401 or 429.

use std::time::Duration;

/// How to build an agent.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AgentOptions {
    /// Follow up to 10 redirects (else a 3xx reply is returned as it is).
    pub follow_redirects: bool,
    /// The longest wait for connecting, for a reply, and between two reads
    /// of the body.
    pub timeout: Duration,
}

/// A new agent with tokenscope's user agent.
pub(crate) fn agent(options: AgentOptions) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(if options.follow_redirects { 10 } else { 0 })
        .max_redirects_will_error(false)
        .user_agent(concat!("tokenscope/", env!("CARGO_PKG_VERSION")))
        .timeout_connect(Some(options.timeout))
        .timeout_recv_response(Some(options.timeout))
        .timeout_per_read(Some(options.timeout))
        .build()
        .new_agent()
}

/// A transport error in words for a person.
pub(crate) fn describe(e: &ureq::Error) -> String {
    match e {
        ureq::Error::HostNotFound => "host not found (check the address and the network)".into(),
        ureq::Error::ConnectionFailed => {
            "cannot connect (is the server up? is a proxy needed: HTTPS_PROXY?)".into()
        }
        ureq::Error::Timeout(t) => format!("timed out ({t})"),
        ureq::Error::Io(io) => format!("connection error: {io}"),
        other => other.to_string(),
    }
}
