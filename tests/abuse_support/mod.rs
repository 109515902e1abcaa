//! Shared pieces of the abuse suite (`tests/abuse.rs`): a seeded generator
//! of hostile text, a bounded runner for the binary, and the checks every
//! run must pass.

#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_tokenscope");

/// How long one run may take before the test fails (a hang is a finding).
pub const DEADLINE: Duration = Duration::from_secs(20);

/// The address-space limit of one run: endless inputs must stop at their
/// size limit long before this.
const MEMORY_LIMIT: u64 = 4 << 30;

/// splitmix64: deterministic, seedable test data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ 0x1234_5678)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// Pieces an attacker puts in names and text: terminal escapes (OSC title
/// and clipboard, CSI clear, alternate screen, DCS, reset), C1 controls,
/// other C0 controls, DEL, bidi and line separators, spreadsheet formula
/// starts, quoting characters, shell syntax, wide and joined characters.
pub const NASTY: &[&str] = &[
    "\u{1b}]0;pwned\u{7}",
    "\u{1b}]52;c;cHduZWQ=\u{1b}\\",
    "\u{1b}[2J\u{1b}[H",
    "\u{1b}[?1049h",
    "\u{1b}P+q544e\u{1b}\\",
    "\u{1b}c",
    "\u{9b}6n",
    "\u{9d}0;t\u{9c}",
    "\u{85}",
    "\u{90}",
    "\u{7f}",
    "\u{8}",
    "\u{b}",
    "\u{c}",
    "\r",
    "\u{7}",
    "\u{0}",
    "\u{202e}",
    "\u{202d}",
    "\u{2066}",
    "\u{2069}",
    "\u{200f}",
    "\u{61c}",
    "\u{2028}",
    "\u{2029}",
    "\t",
    "\n",
    "=",
    "+",
    "-",
    "@",
    "\"",
    ",",
    ";",
    "'",
    "\\",
    "|",
    "漢字",
    "🙂",
    "👩\u{200d}💻",
    "\u{feff}",
    "$(id)",
    "`id`",
    " ",
];

/// One of [`NASTY`].
pub fn nasty(rng: &mut Rng) -> &'static str {
    NASTY[rng.below(NASTY.len())]
}

/// `prefix` then one to six hostile pieces with letters between them.
pub fn hostile(rng: &mut Rng, prefix: &str) -> String {
    let mut s = prefix.to_string();
    for _ in 0..1 + rng.below(6) {
        s.push_str(nasty(rng));
        if rng.chance(40) {
            s.push(*rng.pick(&['a', 'b', 'x', 'z']));
        }
    }
    s
}

/// [`hostile`] without NUL (for text that must stay text).
pub fn hostile_text(rng: &mut Rng, prefix: &str) -> String {
    hostile(rng, prefix).replace('\0', "")
}

/// A TOML basic string holding `s` exactly.
pub fn toml_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// One run of the binary.
#[derive(Debug)]
pub struct Run {
    pub what: String,
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub elapsed: Duration,
}

impl Run {
    pub fn stdout_text(&self) -> String {
        String::from_utf8(self.stdout.clone())
            .unwrap_or_else(|e| panic!("{}: stdout is not UTF-8: {e}", self.what))
    }

    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "{}: stdout is not valid JSON ({e}); stderr: {}",
                self.what,
                self.stderr_text().escape_debug()
            )
        })
    }
}

/// The environment every run gets: no colour, and a home, config and data
/// folder of its own (so no user config or history leaks in or out).
pub fn command(cwd: &Path, home: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.current_dir(cwd)
        .env("NO_COLOR", "1")
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env_remove("TOKENSCOPE_HISTORY");
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: setrlimit is async-signal-safe and touches no memory of
        // the parent.
        unsafe {
            c.pre_exec(|| {
                let lim = libc::rlimit {
                    rlim_cur: MEMORY_LIMIT,
                    rlim_max: MEMORY_LIMIT,
                };
                libc::setrlimit(libc::RLIMIT_AS, &lim);
                Ok(())
            });
        }
    }
    c
}

/// Runs the binary in `cwd` with `args` (and `stdin`), killing it and
/// failing the test when it takes longer than [`DEADLINE`].
pub fn run<S: AsRef<OsStr>>(cwd: &Path, home: &Path, args: &[S], stdin: Option<&[u8]>) -> Run {
    let what = format!(
        "tokenscope {}",
        args.iter()
            .map(|a| a.as_ref().to_string_lossy().escape_debug().to_string())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let start = Instant::now();
    let mut child = command(cwd, home)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let writer = stdin.map(|bytes| {
        let bytes = bytes.to_vec();
        let mut pipe = child.stdin.take().unwrap();
        thread::spawn(move || {
            let _ = pipe.write_all(&bytes);
        })
    });
    let out = reader(child.stdout.take().unwrap());
    let err = reader(child.stderr.take().unwrap());
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: still running after {DEADLINE:?} (a hang)");
        }
        thread::sleep(Duration::from_millis(5));
    };
    if let Some(w) = writer {
        let _ = w.join();
    }
    Run {
        what,
        code: status.code().unwrap_or(-1),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
        elapsed: start.elapsed(),
    }
}

fn reader(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.read_to_end(&mut buf);
        buf
    })
}

/// A character that must never reach a terminal raw: C0 controls but
/// newline (and tab where it is layout), DEL, C1 controls, bidi controls,
/// line and paragraph separators.
pub fn is_raw_control(c: char, tab_ok: bool) -> bool {
    let n = c as u32;
    if c == '\n' || (tab_ok && c == '\t') {
        return false;
    }
    n < 0x20
        || (0x7f..=0x9f).contains(&n)
        || matches!(
            c,
            '\u{61c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
        )
}

fn assert_clean(what: &str, stream: &str, bytes: &[u8], tab_ok: bool) {
    let text =
        std::str::from_utf8(bytes).unwrap_or_else(|e| panic!("{what}: {stream} is not UTF-8: {e}"));
    if let Some((at, c)) = text
        .char_indices()
        .find(|(_, c)| is_raw_control(*c, tab_ok))
    {
        let from = text.floor_char_boundary(at.saturating_sub(80));
        let to = text.ceil_char_boundary((at + 40).min(text.len()));
        panic!(
            "{what}: raw {c:?} on {stream} at byte {at}: …{}…",
            text[from..to].escape_debug()
        );
    }
}

/// What every run must show: no panic, exit 0, 1 or 2, a message with exit
/// 2, stderr free of raw controls (tabs may lay out a snippet), and stdout
/// too when it is for a human (`human_stdout`).
pub fn assert_sane(r: &Run, human_stdout: bool) {
    let err = r.stderr_text();
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{}: panicked:\n{}",
        r.what,
        err.escape_debug()
    );
    assert!(
        (0..=2).contains(&r.code),
        "{}: exit code {} (signal or abort); stderr: {}",
        r.what,
        r.code,
        err.escape_debug()
    );
    if r.code == 2 {
        assert!(
            !err.trim().is_empty(),
            "{}: exit 2 without a message",
            r.what
        );
    }
    assert_clean(&r.what, "stderr", &r.stderr, true);
    if human_stdout {
        assert_clean(&r.what, "stdout", &r.stdout, false);
    }
}

/// The bytes of every regular file under `dir` (links not followed), to
/// compare before and after: no input may change.
pub fn snapshot(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let t = e.file_type().unwrap();
            if t.is_dir() {
                stack.push(e.path());
            } else if t.is_file() && e.metadata().unwrap().len() < (1 << 20) {
                out.push((e.path(), std::fs::read(e.path()).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[cfg(unix)]
pub fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

/// `bytes` without SGR sequences (`ESC [ digits;… m`): the only escapes
/// tokenscope itself writes with `--color always`.
pub fn strip_sgr(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == 0x1b && bytes.get(i + 1) == Some(&b'[') {
            let mut j = i + 2;
            while j < bytes.len() && (bytes[j].is_ascii_digit() || bytes[j] == b';') {
                j += 1;
            }
            if bytes.get(j) == Some(&b'm') {
                i = j + 1;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// [`assert_sane`] for a coloured run: its own SGR sequences removed first,
/// nothing else may be an escape.
pub fn assert_sane_colored(r: &Run) {
    let plain = Run {
        what: r.what.clone(),
        code: r.code,
        stdout: strip_sgr(&r.stdout),
        stderr: strip_sgr(&r.stderr),
        elapsed: r.elapsed,
    };
    assert_sane(&plain, true);
}
