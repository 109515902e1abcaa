//! The `context` report: the rendered context itself.

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
