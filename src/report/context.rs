//! The `context` report: the rendered context itself; and the `request`
//! report: the trimmed chat request.

use std::io::{self, Write};

use super::{Exporter, ReportOptions};
use crate::engine::Plan;

/// Writes the rendered context exactly as the engine rendered and counted
/// it: no header, no trailing newline added.
#[derive(Debug, Clone, Copy, Default)]
pub struct ContextExporter;

impl Exporter for ContextExporter {
    fn write(&self, plan: &Plan, out: &mut dyn Write, _opts: &ReportOptions) -> io::Result<()> {
        out.write_all(plan.rendered.as_bytes())
    }
}

/// The message when a `request` report is asked of a plan that is not a
/// chat request.
pub const NOT_A_REQUEST: &str = "`--format request` writes the trimmed chat request, and the input is not a chat request; give an OpenAI chat-completions request (JSON with `messages`)";

/// Writes the trimmed chat request (the rendered context of a chat-request
/// input): the kept messages, cut contents replaced, every other field as
/// written. Refuses plans of other inputs ([`NOT_A_REQUEST`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestExporter;

impl Exporter for RequestExporter {
    fn write(&self, plan: &Plan, out: &mut dyn Write, _opts: &ReportOptions) -> io::Result<()> {
        if !plan.chat_request {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, NOT_A_REQUEST));
        }
        out.write_all(plan.rendered.as_bytes())
    }
}
