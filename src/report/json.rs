//! The `json` report: the serde form of [`Plan`], pretty-printed
//! (`tokenscope.report/1`, docs/report-schema.md). Field order is the struct order, so
//! the output is stable.

use std::io::{self, Write};

use serde::Serialize;

use super::{CheckReport, Exporter, ReportOptions};
use crate::engine::Plan;

/// The report with `check`'s verdict after the plan's fields.
#[derive(Serialize)]
struct Checked<'a> {
    #[serde(flatten)]
    plan: &'a Plan,
    check: &'a CheckReport,
}

/// Writes the `tokenscope.report/1` JSON document, followed by a newline.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonExporter;

impl Exporter for JsonExporter {
    fn write(&self, plan: &Plan, out: &mut dyn Write, opts: &ReportOptions) -> io::Result<()> {
        // `io::Error::from` keeps an I/O error's kind (a closed pipe stays
        // `BrokenPipe`, which exits 0).
        match &opts.check {
            Some(check) => serde_json::to_writer_pretty(&mut *out, &Checked { plan, check }),
            None => serde_json::to_writer_pretty(&mut *out, plan),
        }
        .map_err(io::Error::from)?;
        out.write_all(b"\n")
    }
}
