//! `tokenscope` with no arguments in a real terminal: the inspector on `.`
//! with the default model when the folder has files, the short help (exit 2)
//! when it has none.
#![cfg(unix)]

use std::io::{Read, Write};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, PtySize, native_pty_system};

struct Session {
    child: Box<dyn Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    output: Receiver<Vec<u8>>,
    parser: vt100::Parser,
    raw: Vec<u8>,
    _master: Box<dyn portable_pty::MasterPty + Send>,
    _home: tempfile::TempDir,
}

impl Session {
    fn start_in(cwd: &std::path::Path) -> Session {
        Session::start_with(cwd, &[])
    }

    fn start_with(cwd: &std::path::Path, args: &[&str]) -> Session {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: 30,
                cols: 100,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let home = tempfile::tempdir().unwrap();
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_tokenscope"));
        cmd.args(args);
        cmd.cwd(cwd);
        cmd.env("TERM", "xterm-256color");
        cmd.env("XDG_CONFIG_HOME", home.path());
        cmd.env("XDG_DATA_HOME", home.path());
        cmd.env("HOME", home.path());
        let child = pair.slave.spawn_command(cmd).unwrap();
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().unwrap();
        let writer = pair.master.take_writer().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        Session {
            child,
            writer,
            output: rx,
            parser: vt100::Parser::new(
                std::num::NonZeroU16::new(30).unwrap(),
                std::num::NonZeroU16::new(100).unwrap(),
                0,
            ),
            raw: Vec::new(),
            _master: pair.master,
            _home: home,
        }
    }

    fn pump(&mut self, wait: Duration) {
        if let Ok(chunk) = self.output.recv_timeout(wait) {
            self.parser.process(&chunk);
            self.raw.extend_from_slice(&chunk);
        }
        while let Ok(chunk) = self.output.try_recv() {
            self.parser.process(&chunk);
            self.raw.extend_from_slice(&chunk);
        }
    }

    fn screen(&self) -> String {
        self.parser.screen().contents()
    }

    fn wait_for(&mut self, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self.screen().contains(what) {
            assert!(
                Instant::now() < deadline,
                "`{what}` did not appear; the screen shows:\n{}",
                self.screen()
            );
            self.pump(Duration::from_millis(50));
        }
    }

    fn wait_exit(&mut self) -> portable_pty::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            self.pump(Duration::from_millis(20));
            if let Some(status) = self.child.try_wait().unwrap() {
                self.pump(Duration::from_millis(200));
                return status;
            }
            assert!(Instant::now() < deadline, "tokenscope did not exit");
        }
    }
}

#[test]
fn no_arguments_in_a_folder_with_files_opens_the_inspector_on_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("notes.md"),
        "# Notes\n\nSome text to count.\n",
    )
    .unwrap();
    let mut s = Session::start_in(dir.path());
    s.wait_for("model gpt-4o");
    s.wait_for("budget 128,000");
    s.writer.write_all(b"q").unwrap();
    s.writer.flush().unwrap();
    let status = s.wait_exit();
    assert!(status.success(), "{status:?}");
}

#[test]
fn no_arguments_in_an_empty_folder_prints_the_short_help() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Session::start_in(dir.path());
    let status = s.wait_exit();
    assert_eq!(status.exit_code(), 2, "{status:?}");
    let screen = s.screen();
    assert!(screen.contains("nothing to show here"), "{screen}");
    assert!(screen.contains("Usage: tokenscope"), "{screen}");
}

impl Session {
    fn run_in(cwd: &std::path::Path, args: &[&str]) -> Session {
        let mut s = Session::start_with(cwd, args);
        s.wait_exit();
        s
    }
}

#[test]
fn count_on_a_big_folder_shows_progress_on_a_terminal_only_while_counting() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..400 {
        std::fs::write(
            dir.path().join(format!("f{i:03}.txt")),
            "word ".repeat(2000),
        )
        .unwrap();
    }
    let s = Session::run_in(dir.path(), &["count", ".", "--top", "1"]);
    let raw = String::from_utf8_lossy(&s.raw).to_string();
    assert!(raw.contains("counting"), "no progress bar drawn: {raw}");
    let screen = s.screen();
    assert!(screen.contains("total (400 files)"), "{screen}");
    // Cleared when done: the bar is not left on the screen.
    assert!(!screen.contains("counting"), "{screen}");
}
