//! The real binary in a pseudo-terminal: open a sample, press a key that
//! changes the strategy, see it in the header, quit with `q`; and leave on
//! SIGTERM. Each time the terminal must be restored: the alternate screen
//! left, the cursor shown, mouse capture off, raw mode off.
#![cfg(unix)]

use std::io::{Read, Write};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use nix::sys::termios::LocalFlags;
use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

const ROWS: u16 = 30;
const COLS: u16 = 100;

struct Session {
    master: Box<dyn MasterPty + Send>,
    child: Box<dyn Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    output: Receiver<Vec<u8>>,
    parser: vt100::Parser,
    raw: Vec<u8>,
    _config: tempfile::TempDir,
}

impl Session {
    fn start(args: &[&str]) -> Session {
        Session::start_in(args, env!("CARGO_MANIFEST_DIR"))
    }

    /// Starts the binary with `args` in the folder `cwd`.
    fn start_in(args: &[&str], cwd: &str) -> Session {
        let pty = native_pty_system();
        let pair = pty
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let config = tempfile::tempdir().unwrap();
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_tokenscope"));
        cmd.args(args);
        cmd.cwd(cwd);
        cmd.env("TERM", "xterm-256color");
        // No user keys.toml or theme.toml from the machine running the test.
        cmd.env("XDG_CONFIG_HOME", config.path());
        cmd.env("HOME", config.path());
        cmd.env_remove("NO_COLOR");
        let child = pair.slave.spawn_command(cmd).unwrap();
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().unwrap();
        let writer = pair.master.take_writer().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if tx.send(buf[..n].to_vec()).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        Session {
            master: pair.master,
            child,
            writer,
            output: rx,
            parser: vt100::Parser::new(
                std::num::NonZeroU16::new(ROWS).unwrap(),
                std::num::NonZeroU16::new(COLS).unwrap(),
                0,
            ),
            raw: Vec::new(),
            _config: config,
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

    fn press(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).unwrap();
        self.writer.flush().unwrap();
    }

    fn wait_exit(&mut self) -> portable_pty::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            self.pump(Duration::from_millis(20));
            if let Some(status) = self.child.try_wait().unwrap() {
                // Collect what was written last.
                self.pump(Duration::from_millis(200));
                return status;
            }
            assert!(Instant::now() < deadline, "the inspector did not exit");
        }
    }

    fn assert_restored(&self) {
        let raw = String::from_utf8_lossy(&self.raw);
        let entered = raw
            .find("\x1b[?1049h")
            .expect("entered the alternate screen");
        let left = raw.rfind("\x1b[?1049l").expect("left the alternate screen");
        assert!(left > entered);
        assert_eq!(
            raw.matches("\x1b[?1049l").count(),
            1,
            "restored exactly once"
        );
        assert!(
            raw[left..].contains("\x1b[?25h") || raw[entered..].contains("\x1b[?25h"),
            "cursor shown"
        );
        assert!(raw.contains("\x1b[?1000l"), "mouse capture off");
        assert!(!self.parser.screen().alternate_screen());
        let termios = self.master.get_termios().expect("pty modes");
        assert!(
            termios
                .local_flags
                .contains(LocalFlags::ICANON | LocalFlags::ECHO),
            "raw mode is off again: {:?}",
            termios.local_flags
        );
    }
}

#[test]
fn strategy_key_changes_the_header_and_q_quits() {
    let mut s = Session::start(&["samples/docs/docs.toml"]);
    s.wait_for("strategy greedy");
    s.wait_for("sections (5)");
    // While it runs, the terminal is in raw mode.
    let termios = s.master.get_termios().expect("pty modes");
    assert!(!termios.local_flags.contains(LocalFlags::ICANON));
    s.press("s");
    s.wait_for("strategy strict");
    s.press("?");
    s.wait_for("Show or hide this help");
    s.press("q"); // closes the help
    s.wait_for("strategy strict");
    s.press("q");
    let status = s.wait_exit();
    assert!(status.success(), "exit status {status:?}");
    s.assert_restored();
}

#[test]
fn sigterm_restores_the_terminal() {
    let mut s = Session::start(&["samples/docs/docs.toml"]);
    s.wait_for("strategy greedy");
    let pid = s.child.process_id().expect("pid");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = s.wait_exit();
    assert_eq!(status.exit_code(), 143, "{status:?}");
    s.assert_restored();
}

impl Session {
    fn wait_until_gone(&mut self, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.screen().contains(what) {
            assert!(
                Instant::now() < deadline,
                "`{what}` did not go away; the screen shows:\n{}",
                self.screen()
            );
            self.pump(Duration::from_millis(50));
        }
    }
}

fn item_set(alpha: &str) -> String {
    format!(
        "[budget]\nmodel = \"gpt-4o\"\ntotal = 1000\n\n[[sections]]\nname = \"main\"\nshare = 100\n\n\
         [[items]]\nid = \"alpha\"\nsection = \"main\"\ntext = \"{alpha}\"\n\n\
         [[items]]\nid = \"beta\"\nsection = \"main\"\ntext = \"Beta stays the same.\"\n"
    )
}

#[test]
fn saved_files_are_picked_up_and_invalid_ones_keep_the_last_plan() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("set.toml");
    std::fs::write(&file, item_set("Alpha is short.")).unwrap();
    let path = file.display().to_string();
    let mut s = Session::start(&[&path]);
    s.wait_for("items 2 in / 0 out");
    // An atomic save (write elsewhere, rename over), as editors do.
    let tmp = dir.path().join(".set.toml.tmp");
    std::fs::write(&tmp, item_set(&"Alpha grew much longer. ".repeat(250))).unwrap();
    std::fs::rename(&tmp, &file).unwrap();
    s.wait_for("1 item changed");
    s.wait_for("items 1 in / 1 out");
    // Invalid mid-edit: the last good plan stays, the error is shown.
    std::fs::write(&file, "[[items]\nid = ").unwrap();
    s.wait_for("input error (showing the last good plan)");
    assert!(s.screen().contains("items 1 in / 1 out"));
    // Fixed: recovers.
    std::fs::write(&file, item_set("Alpha is short again.")).unwrap();
    s.wait_until_gone("input error");
    s.wait_for("items 2 in / 0 out");
    s.press("q");
    assert!(s.wait_exit().success());
    s.assert_restored();
}

/// The sample item set, by absolute path (for sessions run elsewhere).
fn docs_sample() -> String {
    format!("{}/samples/docs/docs.toml", env!("CARGO_MANIFEST_DIR"))
}

impl Session {
    fn pid(&self) -> nix::unistd::Pid {
        nix::unistd::Pid::from_raw(self.child.process_id().expect("pid") as i32)
    }

    fn signal(&self, signal: nix::sys::signal::Signal) {
        nix::sys::signal::kill(self.pid(), signal).unwrap();
    }

    /// The process state letter from /proc (`T` when stopped).
    #[cfg(target_os = "linux")]
    fn state(&self) -> char {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap();
        stat.rsplit_once(')')
            .unwrap()
            .1
            .trim_start()
            .chars()
            .next()
            .unwrap()
    }

    fn raw_mode(&self) -> bool {
        let termios = self.master.get_termios().expect("pty modes");
        !termios.local_flags.contains(LocalFlags::ICANON)
    }

    fn wait_until(&mut self, what: &str, mut done: impl FnMut(&Session) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !done(self) {
            assert!(
                Instant::now() < deadline,
                "{what}; the screen shows:\n{}",
                self.screen()
            );
            self.pump(Duration::from_millis(20));
        }
    }
}

#[test]
fn every_signal_that_ends_the_inspector_restores_the_terminal() {
    use nix::sys::signal::Signal::*;
    // Run elsewhere than the repository: SIGQUIT may dump core.
    let dir = tempfile::tempdir().unwrap();
    let sample = docs_sample();
    for signal in [
        SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGXCPU, SIGXFSZ, SIGIO, SIGPWR,
    ] {
        let mut s = Session::start_in(&[&sample], dir.path().to_str().unwrap());
        s.wait_for("strategy greedy");
        assert!(s.raw_mode());
        s.signal(signal);
        let status = s.wait_exit();
        assert!(!status.success(), "{signal}: {status:?}");
        s.assert_restored();
    }
}

#[cfg(target_os = "linux")]
#[test]
fn sigtstp_suspends_cleanly_and_sigcont_redraws() {
    use nix::sys::signal::Signal::{SIGCONT, SIGTSTP};
    let mut s = Session::start(&["samples/docs/docs.toml"]);
    s.wait_for("strategy greedy");
    s.signal(SIGTSTP);
    // The terminal is given back, then the process stops.
    s.wait_until("the inspector did not stop", |s| s.state() == 'T');
    s.pump(Duration::from_millis(100));
    assert!(!s.raw_mode(), "raw mode is off while stopped");
    assert!(
        !s.parser.screen().alternate_screen(),
        "the alternate screen is left while stopped"
    );
    let raw = String::from_utf8_lossy(&s.raw).to_string();
    assert!(
        raw.contains("\x1b[?1000l"),
        "mouse capture off while stopped"
    );
    let before = s.raw.len();

    s.signal(SIGCONT);
    s.wait_until("raw mode did not come back", |s| s.raw_mode());
    s.wait_until("the alternate screen did not come back", |s| {
        s.parser.screen().alternate_screen()
    });
    // Everything is drawn again, from a cleared screen.
    s.wait_for("strategy greedy");
    s.wait_for("sections (5)");
    let after = String::from_utf8_lossy(&s.raw[before..]).to_string();
    assert!(after.contains("\x1b[2J"), "the screen is cleared on resume");
    // Keys work.
    s.press("s");
    s.wait_for("strategy strict");
    s.press("q");
    assert!(s.wait_exit().success());
    let raw = String::from_utf8_lossy(&s.raw).to_string();
    assert_eq!(
        raw.matches("\x1b[?1049l").count(),
        2,
        "left on suspend and on quit"
    );
    assert!(!s.parser.screen().alternate_screen());
    assert!(!s.raw_mode());
}

#[test]
fn a_watched_folder_deleted_recreated_and_renamed_is_followed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("d4");
    let away = dir.path().join("d4r");
    std::fs::create_dir(&d).unwrap();
    std::fs::write(d.join("a.md"), "Alpha.\n").unwrap();
    let path = d.display().to_string();
    let mut s = Session::start(&[&path, "--budget", "1000"]);
    s.wait_for("items 1 in / 0 out");
    // Deleted and re-created: followed.
    std::fs::remove_dir_all(&d).unwrap();
    s.wait_for("input error (showing the last good plan)");
    std::fs::create_dir(&d).unwrap();
    std::fs::write(d.join("a.md"), "Alpha.\n").unwrap();
    std::fs::write(d.join("b.md"), "Beta.\n").unwrap();
    s.wait_until_gone("input error");
    s.wait_for("items 2 in / 0 out");
    // Renamed away: an error; a file added there is not the input.
    std::fs::rename(&d, &away).unwrap();
    s.wait_for("input error (showing the last good plan)");
    std::fs::write(away.join("c.md"), "Gamma.\n").unwrap();
    s.pump(Duration::from_millis(500));
    assert!(s.screen().contains("items 2 in / 0 out"));
    // Renamed back: followed, with what it holds now.
    std::fs::rename(&away, &d).unwrap();
    s.wait_until_gone("input error");
    s.wait_for("items 3 in / 0 out");
    std::fs::remove_file(d.join("c.md")).unwrap();
    s.wait_for("items 2 in / 0 out");
    s.press("q");
    assert!(s.wait_exit().success());
    s.assert_restored();
}

#[test]
fn the_inspector_never_runs_an_item_sets_summarizer() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("pwned");
    let text = "This long paragraph will not fit into the tiny budget it was given, because it \
                goes on and on about nothing in particular for many words.";
    std::fs::write(
        dir.path().join("set.toml"),
        format!(
            "[budget]\ntotal = 24\noverflow = \"summarize\"\nsummarizer = \"touch {}\"\n\
             [[sections]]\nname = \"main\"\nshare = 100\n\
             [[items]]\nid = \"long\"\nsection = \"main\"\ntext = \"{text}\"\n",
            marker.display()
        ),
    )
    .unwrap();
    let mut s = Session::start_in(&["set.toml"], dir.path().to_str().unwrap());
    s.wait_for("items 1 in / 0 out");
    s.wait_for("set.toml:4:1 was ignored");
    assert!(!marker.exists(), "the inspector ran the item set's command");
    s.press("q");
    assert!(s.wait_exit().success());
}

#[test]
fn a_failed_first_load_says_so_and_the_log_has_it_in_full() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("set.toml");
    std::fs::write(&file, "[[items]\nid = ").unwrap();
    let path = file.display().to_string();
    let mut s = Session::start(&[&path]);
    s.wait_for("loading the inputs failed (nothing to show)");
    s.wait_for("The inputs could not be loaded:");
    assert!(!s.screen().contains("last good plan"));
    // The log has the whole error, with its source.
    s.press("L");
    s.wait_for("messages (");
    s.wait_for(" load ");
    s.press("L");
    s.wait_until_gone("messages (");
    // Fixed: the plan comes; `#` shows the counts in full.
    std::fs::write(&file, item_set("Alpha is short.")).unwrap();
    s.wait_for("items 2 in / 0 out");
    s.press("#");
    s.wait_for("counts in full (1,234)");
    s.press("q");
    assert!(s.wait_exit().success());
    s.assert_restored();
}

/// An export confirmed just before quitting is written before the
/// inspector exits: the write runs in the background, and quitting waits
/// for it.
#[test]
fn an_export_confirmed_right_before_quitting_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("last-report.csv");
    let mut s = Session::start(&["samples/docs/docs.toml"]);
    s.wait_for("sections (5)");
    s.press("e");
    s.wait_for("export report");
    // ctrl-u clears the proposed path; csv is two tabs away.
    s.press("\u{15}\t\t");
    s.press(&out.display().to_string());
    // Enter queues the write; `q` right behind it quits.
    s.press("\rq");
    let status = s.wait_exit();
    assert!(status.success(), "exit status {status:?}");
    s.assert_restored();
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.starts_with("id,section,status"), "{text}");
}
