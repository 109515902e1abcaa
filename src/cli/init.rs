//! `tokenscope init`: a commented `tokenscope.toml` for the current folder
//! (priority rules from the folders it holds, a `dev` and a `ci` profile),
//! and with `--item-set` a starter item set, `context.toml`. An existing
//! file is never replaced without `--force`.
//!
//! `tokenscope completions SHELL` and `tokenscope man [COMMAND]` print shell
//! completions and the roff manual page, generated from the command line's
//! own definitions (clap_complete, clap_mangen).

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, CommandFactory};

use super::{Cli, CliError};

/// `tokenscope init`.
#[derive(Debug, Clone, Args)]
pub struct InitArgs {
    /// Replace an existing tokenscope.toml (and context.toml with
    /// --item-set).
    #[arg(long)]
    pub force: bool,
    /// Also write a starter item set, context.toml: an instructions section
    /// and the Markdown files at the top of the folder.
    #[arg(long)]
    pub item_set: bool,
}

/// The item set `--item-set` writes.
pub const ITEM_SET_FILE: &str = "context.toml";

/// `tokenscope completions`.
#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// bash, zsh, fish, powershell or elvish.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `tokenscope man`.
#[derive(Debug, Clone, Args)]
pub struct ManArgs {
    /// A subcommand's page (`tokenscope man count`); default: the main page.
    pub command: Option<String>,
}

/// Runs `tokenscope init` in the working folder.
pub fn run(args: &InitArgs) -> Result<ExitCode, CliError> {
    let dir = std::env::current_dir()?;
    let config = dir.join(crate::input::profile::CONFIG_FILE);
    let item_set = dir.join(ITEM_SET_FILE);
    let mut planned = vec![(config, config_text(&dir))];
    if args.item_set {
        planned.push((item_set, item_set_text(&dir)));
    }
    if !args.force {
        for (path, _) in &planned {
            // A link (even a dangling one) counts as a file that is there.
            if std::fs::symlink_metadata(path).is_ok() {
                return Err(CliError::Input(format!(
                    "{} already exists; nothing was written (pass --force to replace it)",
                    path.display()
                )));
            }
        }
    }
    let mut out = io::stdout().lock();
    for (path, text) in &planned {
        crate::fsio::write_file(path, text.as_bytes()).map_err(|e| CliError::write(path, e))?;
        writeln!(out, "wrote {}", path.display())?;
    }
    writeln!(
        out,
        "next: `tokenscope pack . --profile dev` packs this folder; `tokenscope check . --profile ci` is the CI gate{}",
        if args.item_set {
            format!("; `tokenscope {ITEM_SET_FILE}` opens the item set")
        } else {
            String::new()
        }
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Prints the completion script for a shell.
pub fn completions(args: &CompletionsArgs) -> Result<ExitCode, CliError> {
    let mut cmd = Cli::command();
    // Generated in memory: the generator panics on a write error (a closed
    // pipe), and a write to stdout may fail.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "tokenscope", &mut script);
    let mut out = io::stdout().lock();
    out.write_all(&script)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Prints the roff manual page of the program or of one subcommand.
pub fn man(args: &ManArgs) -> Result<ExitCode, CliError> {
    let root = Cli::command();
    let cmd = match &args.command {
        None => root,
        Some(name) => {
            let names: Vec<String> = root
                .get_subcommands()
                .map(|c| c.get_name().to_string())
                .collect();
            let Some(sub) = root.find_subcommand(name).cloned() else {
                let hint = crate::input::error::closest(name, names.iter().map(String::as_str))
                    .map(|g| format!("did you mean `{g}`? "))
                    .unwrap_or_default();
                return Err(CliError::Input(format!(
                    "man: no command `{name}`; {hint}commands: {}",
                    names.join(", ")
                )));
            };
            // The page is named after the full command: tokenscope-count.
            sub.display_name(format!("tokenscope-{name}"))
                .bin_name(format!("tokenscope {name}"))
                .version(env!("CARGO_PKG_VERSION"))
        }
    };
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd).render(&mut page)?;
    let mut out = io::stdout().lock();
    out.write_all(&page)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The folders at the top of `dir` that the folder loader would read
/// (ignore files respected, hidden ones skipped), sorted.
fn top_level(dir: &Path) -> (Vec<String>, Vec<PathBuf>) {
    let mut folders = Vec::new();
    let mut files = Vec::new();
    for entry in crate::input::directory::walker(dir, false)
        .max_depth(Some(1))
        .build()
        .flatten()
    {
        if entry.depth() != 1 {
            continue;
        }
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        match entry.file_type() {
            Some(t) if t.is_dir() => folders.push(name),
            Some(t) if t.is_file() => files.push(entry.into_path()),
            _ => {}
        }
    }
    folders.sort();
    files.sort();
    (folders, files)
}

/// Priority rules for the usual folder names found at the top of a project.
fn rules_for(folders: &[String]) -> Vec<(String, &'static str, &'static str)> {
    const KNOWN: &[(&str, &str, &str)] = &[
        ("docs", "1.5", "documentation first"),
        ("doc", "1.5", "documentation first"),
        ("src", "1.0", "the source"),
        ("lib", "1.0", "the source"),
        ("examples", "0.8", "examples after the source"),
        ("tests", "0.5", "tests when there is room"),
        ("test", "0.5", "tests when there is room"),
        ("spec", "0.5", "tests when there is room"),
        ("benches", "0.3", "benchmarks last"),
        ("vendor", "0.1", "vendored code almost never"),
        ("third_party", "0.1", "vendored code almost never"),
    ];
    KNOWN
        .iter()
        .filter(|(name, _, _)| folders.iter().any(|f| f == name))
        .map(|(name, p, why)| (format!("{name}/**"), *p, *why))
        .collect()
}

/// The text of a commented `tokenscope.toml` for `dir`.
pub fn config_text(dir: &Path) -> String {
    let (folders, _) = top_level(dir);
    let mut t = String::from(
        "# tokenscope.toml: project settings for tokenscope. Every tokenscope command\n\
         # run in this folder (or below it) finds this file; inputs elsewhere find the\n\
         # tokenscope.toml next to them. Flags on the command line win over a profile.\n\
         # Reference: docs/inputs.md and docs/concepts.md in the tokenscope repository.\n\
         \n\
         # Priorities for files when a folder is an input (`tokenscope pack .`): the\n\
         # first glob that matches a file's path (relative to the folder) gives its\n\
         # priority; other files get 1.0. Higher priorities are packed first.\n\
         [rules]\n\
         \"README*\" = 2.0                   # the overview first\n",
    );
    for (glob, priority, why) in rules_for(&folders) {
        let line = format!("\"{glob}\" = {priority}");
        t.push_str(&format!("{line:<33} # {why}\n"));
    }
    t.push_str(
        "# \"**/*.lock\" = 0.0               # priority 0: packed only when room is left\n\
         \n\
         # A profile is a named set of settings: `tokenscope pack . --profile dev`.\n\
         [profiles.dev]\n\
         model = \"gpt-4o\"                  # `tokenscope models` lists the others\n\
         # budget = 64000                  # default: the context window minus reserve_output\n\
         reserve_output = 4096             # tokens kept free for the model's answer\n\
         strategy = \"greedy\"               # greedy, strict, density, optimal or balanced\n\
         overflow = \"drop\"                 # drop, truncate, degrade, summarize or priority-cut\n\
         \n\
         # The CI gate: `tokenscope check . --profile ci` exits 1 when a rule is broken.\n\
         [profiles.ci]\n\
         model = \"gpt-4o\"\n\
         budget = 100000\n\
         strategy = \"greedy\"\n\
         overflow = \"drop\"\n\
         max_utilization = 1.0             # the rendered context must fit the budget\n\
         # must_include = [\"README.md\"]    # item ids that must always be in\n",
    );
    t
}

/// The text of a starter item set for `dir`: a pinned instructions item,
/// and the Markdown files at the top of the folder (at most 20).
pub fn item_set_text(dir: &Path) -> String {
    let (_, files) = top_level(dir);
    let markdown: Vec<String> = files
        .iter()
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| e.eq_ignore_ascii_case("md"))
        })
        .filter_map(|p| p.file_name()?.to_str().map(str::to_string))
        .filter(|name| !name.contains(['"', '\\']) && !name.chars().any(char::is_control))
        .take(20)
        .collect();
    let mut t = String::from(
        "# context.toml: an item set, the prompt pieces tokenscope packs into a budget.\n\
         #   tokenscope context.toml                # the inspector\n\
         #   tokenscope pack context.toml | llm     # the packed context\n\
         # Reference: docs/inputs.md in the tokenscope repository.\n\
         \n\
         [budget]\n\
         model = \"gpt-4o\"\n\
         # total = 16000             # default: the model's context window minus reserve_output\n\
         reserve_output = 4096\n\
         strategy = \"greedy\"\n\
         overflow = \"drop\"\n\
         \n\
         [[sections]]\n\
         name = \"instructions\"\n\
         share = 10                  # percent of the budget\n\
         \n\
         [[sections]]\n\
         name = \"docs\"\n\
         share = 90\n\
         \n\
         # Pinned items are always included.\n\
         [[items]]\n\
         id = \"instructions\"\n\
         section = \"instructions\"\n\
         pinned = true\n\
         text = \"\"\"\n\
         Answer from the documents below. When they do not cover a question, say so.\n\
         \"\"\"\n",
    );
    let mut ids: Vec<String> = vec!["instructions".to_string()];
    for name in &markdown {
        let id = name[..name.len() - 3].to_string();
        if ids.iter().any(|i| i.eq_ignore_ascii_case(&id)) {
            continue;
        }
        ids.push(id.clone());
        t.push_str(&format!(
            "\n[[items]]\nid = \"{id}\"\nsection = \"docs\"\npath = \"{name}\"      # read from the file on every run\npriority = 1.0\n"
        ));
    }
    if markdown.is_empty() {
        t.push_str(
            "\n# [[items]]\n# id = \"guide\"\n# section = \"docs\"\n# path = \"guide.md\"          # read from the file on every run\n# priority = 1.0\n",
        );
    }
    t
}
