//! A deterministic ~20 MB mixed corpus for counting benchmarks: Rust sources
//! and Markdown docs from the local cargo registry, Python from the local
//! Python standard library (more Rust and docs when Python is missing).

use std::path::{Path, PathBuf};
use std::process::Command;

fn files_under(root: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files_under(&p, ext, out);
        } else if p.extension().is_some_and(|e| e == ext) {
            out.push(p);
        }
    }
}

fn take(files: &[PathBuf], budget: usize, out: &mut String) {
    let start = out.len();
    for f in files {
        if out.len() - start >= budget {
            break;
        }
        if let Ok(t) = std::fs::read_to_string(f) {
            out.push_str(&t);
            out.push('\n');
        }
    }
}

/// Builds the corpus: ~8 MB Rust, ~6 MB Python, ~6 MB Markdown.
pub fn corpus() -> String {
    let home = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cargo")
        });
    let registry = home.join("registry").join("src");
    let (mut rust, mut md, mut py) = (Vec::new(), Vec::new(), Vec::new());
    files_under(&registry, "rs", &mut rust);
    files_under(&registry, "md", &mut md);
    if let Ok(o) = Command::new("python3")
        .args([
            "-c",
            "import sysconfig;print(sysconfig.get_paths()['stdlib'])",
        ])
        .output()
    {
        let dir = String::from_utf8_lossy(&o.stdout).trim().to_string();
        if !dir.is_empty() {
            files_under(Path::new(&dir), "py", &mut py);
        }
    }
    let mut text = String::new();
    take(&rust, 8 << 20, &mut text);
    take(&py, 6 << 20, &mut text);
    take(&md, 6 << 20, &mut text);
    if text.len() < 20 << 20 {
        take(&rust[rust.len() / 2..], (20 << 20) - text.len(), &mut text);
    }
    assert!(
        text.len() > 1 << 20,
        "no corpus found under {}",
        registry.display()
    );
    text
}
