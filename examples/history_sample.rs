//! Writes the sample usage history to stdout:
//! `cargo run --example history_sample > samples/history.jsonl`.
//! Arguments: `[RECORDS] [SEED]` (default 360 and 11).

#[path = "../tests/support/synth.rs"]
#[allow(dead_code)]
mod synth;

use std::io::Write;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let n = args.next().and_then(|a| a.parse().ok()).unwrap_or(360);
    let seed = args.next().and_then(|a| a.parse().ok()).unwrap_or(11);
    let mut out = std::io::stdout().lock();
    for r in synth::generate(seed, n) {
        out.write_all(r.to_line().as_bytes())?;
    }
    Ok(())
}
