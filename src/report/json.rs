//! The `json` report: the serde form of [`Plan`], pretty-printed
//! (`tokenscope.report/1`, DESIGN.md §5). Field order is the struct order, so
//! the output is stable.

use std::io::{self, Write};

use super::{Exporter, ReportOptions};
use crate::engine::Plan;

/// Writes the `tokenscope.report/1` JSON document, followed by a newline.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonExporter;

impl Exporter for JsonExporter {
    fn write(&self, plan: &Plan, out: &mut dyn Write, _opts: &ReportOptions) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, plan).map_err(io::Error::other)?;
        out.write_all(b"\n")
    }
}
