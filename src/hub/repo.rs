//! Validated hub names: repositories (`org/name`), revisions and file paths.
//! They come from the command line, a models.toml or a server's reply, and
//! become folder names in the cache: nothing in them may climb out of it.

use std::fmt;

/// A name that cannot be a hub repository, revision or file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} `{}`: {why}", crate::text::escape::line(value))]
pub struct InvalidName {
    /// What the name was for: `repository`, `revision` or `file name`.
    pub what: &'static str,
    /// The name as given.
    pub value: String,
    /// What is wrong and what was expected.
    pub why: String,
}

/// A model repository on the hub, `org/name` (e.g.
/// `meta-llama/Llama-3.1-8B-Instruct`).
///
/// ```
/// use tokenscope::hub::RepoId;
/// let repo: RepoId = "Qwen/Qwen3-32B".parse().unwrap();
/// assert_eq!(repo.cache_folder(), "models--Qwen--Qwen3-32B");
/// assert!("../etc".parse::<RepoId>().is_err());
/// assert!("a/b/c".parse::<RepoId>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RepoId {
    org: String,
    name: String,
}

impl RepoId {
    /// The organisation or user, e.g. `meta-llama`.
    pub fn org(&self) -> &str {
        &self.org
    }

    /// The repository name, e.g. `Llama-3.1-8B-Instruct`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The folder of this repository in a hub cache:
    /// `models--ORG--NAME`.
    pub fn cache_folder(&self) -> String {
        format!("models--{}--{}", self.org, self.name)
    }
}

impl fmt::Display for RepoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.org, self.name)
    }
}

impl std::str::FromStr for RepoId {
    type Err = InvalidName;

    /// `org/name`: two parts of ASCII letters, digits, `-`, `_` and `.`,
    /// neither starting or ending with `.` or `-`, no `..` or `--`, at most
    /// 96 characters each (the hub's own rules).
    fn from_str(s: &str) -> Result<RepoId, InvalidName> {
        let bad = |why: &str| InvalidName {
            what: "repository",
            value: s.to_string(),
            why: why.to_string(),
        };
        let (org, name) = s
            .split_once('/')
            .ok_or_else(|| bad("expected `org/name`, e.g. `Qwen/Qwen3-32B`"))?;
        for part in [org, name] {
            if part.is_empty() || part.len() > 96 {
                return Err(bad("each part of `org/name` has 1 to 96 characters"));
            }
            if !part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            {
                return Err(bad(
                    "expected `org/name` of ASCII letters, digits, `-`, `_` and `.`",
                ));
            }
            if part.starts_with(['.', '-']) || part.ends_with(['.', '-']) {
                return Err(bad("a part may not start or end with `.` or `-`"));
            }
            if part.contains("..") || part.contains("--") {
                return Err(bad("`..` and `--` are not allowed"));
            }
        }
        Ok(RepoId {
            org: org.to_string(),
            name: name.to_string(),
        })
    }
}

/// Checks a revision (a branch, tag or commit): ASCII letters, digits,
/// `-`, `_`, `.` and `/`, no `..`, no empty part, at most 200 characters.
pub fn validate_revision(rev: &str) -> Result<(), InvalidName> {
    path_like(rev, "revision", 200)
}

/// Checks a file path inside a repository (e.g. `tokenizer.json` or
/// `original/tokenizer.model`): relative, parts of ASCII letters, digits,
/// `-`, `_`, `.` and `/`-separated, no `..` part, at most 400 characters.
pub fn validate_file_name(file: &str) -> Result<(), InvalidName> {
    path_like(file, "file name", 400)
}

fn path_like(s: &str, what: &'static str, max: usize) -> Result<(), InvalidName> {
    let bad = |why: &str| InvalidName {
        what,
        value: s.to_string(),
        why: why.to_string(),
    };
    if s.is_empty() || s.len() > max {
        return Err(bad(&format!("expected 1 to {max} characters")));
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
    {
        return Err(bad("expected ASCII letters, digits, `-`, `_`, `.` and `/`"));
    }
    if s.split('/')
        .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Err(bad(
            "a relative path without empty, `.` or `..` parts was expected",
        ));
    }
    Ok(())
}

/// Whether `s` is a full commit hash (40 lowercase hex digits).
pub(crate) fn is_commit(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_ids_are_org_slash_name() {
        for ok in [
            "meta-llama/Llama-3.1-8B-Instruct",
            "Qwen/Qwen3-32B",
            "deepseek-ai/DeepSeek-V3",
            "openai/gpt-oss-20b",
            "a/b",
            "user_1/model.v2",
        ] {
            let r: RepoId = ok.parse().unwrap();
            assert_eq!(r.to_string(), ok);
        }
        for bad in [
            "",
            "a",
            "/a",
            "a/",
            "a/b/c",
            "../a",
            "a/..",
            "a/../b",
            "/etc/passwd",
            "a/.hidden",
            "a/b-",
            "a/b c",
            "a/b\x1b",
            "a\\b",
            "a/b--c",
            "ü/b",
        ] {
            assert!(bad.parse::<RepoId>().is_err(), "{bad:?} accepted");
        }
        let e = "a/b\x1b[2J".parse::<RepoId>().unwrap_err().to_string();
        assert!(!e.contains('\x1b'), "{e}");
    }

    #[test]
    fn revisions_and_file_names_stay_inside() {
        for ok in [
            "main",
            "v1.0",
            "refs/pr/1",
            "0123456789abcdef0123456789abcdef01234567",
        ] {
            validate_revision(ok).unwrap();
        }
        for ok in ["tokenizer.json", "original/tokenizer.model"] {
            validate_file_name(ok).unwrap();
        }
        for bad in [
            "", "..", "../x", "a/../b", "/abs", "a//b", "a/", "./a", "a b", "a\0b",
        ] {
            assert!(validate_file_name(bad).is_err(), "{bad:?}");
            assert!(validate_revision(bad).is_err(), "{bad:?}");
        }
        assert!(is_commit("0123456789abcdef0123456789abcdef01234567"));
        assert!(!is_commit("main"));
        assert!(!is_commit("0123456789ABCDEF0123456789abcdef01234567"));
    }
}
