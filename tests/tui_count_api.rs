//! The inspector with `--count-api anthropic` in a pseudo-terminal, against
//! a fake count_tokens API on the loopback address: the first load measures
//! the items (off the UI thread) and the header shows the API as the count
//! source. Nothing here reaches the internet.
#![cfg(unix)]

mod loopback;

use std::io::{Read, Write};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use loopback::{Reply, Server};
use portable_pty::{CommandBuilder, PtySize, native_pty_system};

#[test]
fn the_inspector_counts_through_the_api_when_asked() {
    let server = Server::start(|req| {
        let content = req.json()["messages"][0]["content"]
            .as_str()
            .unwrap_or("")
            .to_string();
        // 5 framing tokens, then one per word.
        let n = 5 + content.split_whitespace().count().max(1);
        Reply::new(200, format!("{{\"input_tokens\": {n}}}"))
    });
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("set.toml"),
        "[budget]\ntotal = 1000\n\n[[items]]\nid = \"alpha\"\ntext = \"one two three four five six seven\"\n",
    )
    .unwrap();
    let pty = native_pty_system();
    let pair = pty
        .openpty(PtySize {
            rows: 30,
            cols: 140,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_tokenscope"));
    cmd.args([
        "--model",
        "claude-sonnet-4-5",
        "--count-api",
        "anthropic",
        "set.toml",
    ]);
    cmd.cwd(dir.path());
    cmd.env("TERM", "xterm-256color");
    cmd.env("XDG_CONFIG_HOME", dir.path());
    cmd.env("XDG_CACHE_HOME", dir.path().join("cache"));
    cmd.env("HOME", dir.path());
    cmd.env("ANTHROPIC_BASE_URL", &server.url);
    cmd.env("ANTHROPIC_API_KEY", "sk-test");
    cmd.env("NO_PROXY", "*");
    for v in [
        "ALL_PROXY",
        "HTTPS_PROXY",
        "HTTP_PROXY",
        "all_proxy",
        "https_proxy",
        "http_proxy",
    ] {
        cmd.env_remove(v);
    }
    let mut child = pair.slave.spawn_command(cmd).unwrap();
    drop(pair.slave);
    let mut reader = pair.master.try_clone_reader().unwrap();
    let mut writer = pair.master.take_writer().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut parser = vt100::Parser::new(
        std::num::NonZeroU16::new(30).unwrap(),
        std::num::NonZeroU16::new(140).unwrap(),
        0,
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(chunk) = rx.recv_timeout(Duration::from_millis(50)) {
            parser.process(&chunk);
        }
        let screen = parser.screen().contents();
        if screen.contains("anthropic count_tokens") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the API count did not appear; the screen shows:\n{screen}"
        );
    }
    let sent: Vec<String> = server
        .requests()
        .iter()
        .map(|r| {
            r.json()["messages"][0]["content"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    assert!(
        sent.contains(&"one two three four five six seven".to_string()),
        "{sent:?}"
    );
    writer.write_all(b"q").unwrap();
    writer.flush().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        while rx.try_recv().is_ok() {}
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{status:?}");
            break;
        }
        assert!(Instant::now() < deadline, "the inspector did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}
