//! The history file: where it lives, reading it, appending to it, and
//! importing records from other tools' JSONL.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::record::Record;

/// A history file that cannot be read, written or parsed.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// The file could not be read or written.
    #[error("{}: {action}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// `cannot read` or `cannot append`.
        action: &'static str,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A line is not a valid record.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column (1 when the problem is a field's value rather than
        /// the JSON syntax).
        column: usize,
        /// What is wrong and what was expected.
        message: String,
    },
    /// No history file was given and the platform has no data directory.
    #[error("no data directory on this platform; give the history file with --history FILE")]
    NoDataDir,
}

/// One bad line of an imported file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong and what was expected.
    pub message: String,
    /// The line is a valid record whose task is already recorded
    /// ([`parse_import`]).
    pub duplicate: bool,
}

/// The default history file: `dirs::data_dir()/tokenscope/history.jsonl`
/// (e.g. `~/.local/share/tokenscope/history.jsonl` on Linux).
pub fn default_path() -> Result<PathBuf, HistoryError> {
    dirs::data_dir()
        .map(|d| d.join("tokenscope").join("history.jsonl"))
        .ok_or(HistoryError::NoDataDir)
}

/// Reads every record of a history file. A missing file is an empty
/// history; blank lines are skipped; any other bad line is an error naming
/// the file, line and column (our own appends never write one).
pub fn load(path: &Path) -> Result<Vec<Record>, HistoryError> {
    // Bad lines (a NUL byte too) are reported by line and column below.
    let text = match crate::fsio::read_file(path, crate::fsio::Limit::Input).and_then(|bytes| {
        String::from_utf8(bytes)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.utf8_error()))
    }) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(HistoryError::Io {
                path: path.to_path_buf(),
                action: "cannot read",
                source,
            });
        }
    };
    let (records, errors) = parse_lines(&text, &Mapping::default());
    match errors.into_iter().next() {
        Some(e) => Err(HistoryError::Invalid {
            path: path.to_path_buf(),
            line: e.line,
            column: e.column,
            message: e.message,
        }),
        None => Ok(records),
    }
}

/// Appends records to the history file, creating it (and its directory).
///
/// The file is opened in append mode and each record is written as one line
/// with one `write_all`, so concurrent writers never interleave inside a
/// line.
pub fn append(path: &Path, records: &[Record]) -> Result<(), HistoryError> {
    let io_err = |source| HistoryError::Io {
        path: path.to_path_buf(),
        action: "cannot append",
        source,
    };
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(io_err)?;
    }
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io_err)?;
    for r in records {
        file.write_all(r.to_line().as_bytes()).map_err(io_err)?;
    }
    file.flush().map_err(io_err)
}

/// A field mapping for imports: source field name → our field name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mapping {
    renames: BTreeMap<String, String>,
}

/// The field names a record has (see [`Record`]).
pub const RECORD_FIELDS: &[&str] = &[
    "time",
    "task",
    "type",
    "complexity",
    "tags",
    "criticality",
    "story_points",
    "allocated",
    "used",
    "thinking",
    "outcome",
    "quality",
    "model",
    "agent",
];

impl Mapping {
    /// Parses `field=ourfield,...`, e.g. `tokens_used=used,kind=type`. The
    /// target must be one of [`RECORD_FIELDS`].
    pub fn parse(spec: &str) -> Result<Mapping, String> {
        let mut renames = BTreeMap::new();
        for pair in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((from, to)) = pair.split_once('=') else {
                return Err(format!(
                    "`{pair}` is not a mapping; expected FIELD=OURFIELD, e.g. tokens_used=used"
                ));
            };
            let (from, to) = (from.trim(), to.trim());
            if from.is_empty() {
                return Err(format!("`{pair}`: expected a source field name before `=`"));
            }
            if !RECORD_FIELDS.contains(&to) {
                return Err(format!(
                    "`{pair}`: `{to}` is not a record field; expected one of {}",
                    RECORD_FIELDS.join(", ")
                ));
            }
            renames.insert(from.to_string(), to.to_string());
        }
        Ok(Mapping { renames })
    }

    /// Renames the mapped keys of one object. Keys that are neither mapped
    /// nor record fields are dropped (imports carry extra data), and a
    /// mapped source field wins over a same-named field already present.
    fn apply(&self, object: serde_json::Map<String, Value>) -> serde_json::Map<String, Value> {
        let mut out = serde_json::Map::new();
        let mut mapped = Vec::new();
        for (key, value) in object {
            if let Some(to) = self.renames.get(&key) {
                mapped.push((to.clone(), value));
            } else if RECORD_FIELDS.contains(&key.as_str()) {
                out.insert(key, value);
            }
        }
        for (to, value) in mapped {
            out.insert(to, value);
        }
        out
    }
}

/// Parses JSONL text into records with a mapping, collecting the bad lines.
///
/// With an empty mapping the lines must be records exactly (unknown fields
/// are errors); with a mapping given ([`Mapping::parse`]), fields that are
/// neither mapped nor record fields are ignored.
pub fn parse_lines(text: &str, mapping: &Mapping) -> (Vec<Record>, Vec<LineError>) {
    let mut records = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match parse_line(line, mapping) {
            Ok(r) => records.push(r),
            Err((column, message)) => errors.push(LineError {
                line: i + 1,
                column,
                message,
                duplicate: false,
            }),
        }
    }
    (records, errors)
}

/// What `history import` reads: [`parse_lines`], accepting what
/// `history record` accepts as well: a record without `time` gets `now` (as
/// `record` does), and `tags` may be one comma-separated string (`"a, b"`).
/// A task id that `known` holds (the history's own) or that an earlier line
/// of `text` gave is a bad line: a task is recorded once.
pub fn parse_import(
    text: &str,
    mapping: &Mapping,
    now: time::OffsetDateTime,
    known: &std::collections::HashSet<String>,
) -> (Vec<Record>, Vec<LineError>) {
    let mut records: Vec<Record> = Vec::new();
    let mut errors = Vec::new();
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let parsed = match like_record(line, mapping, now) {
            Some(object) => parse_line(&object, &Mapping::default()).map_err(|(_, m)| (1, m)),
            None => parse_line(line, mapping),
        };
        let fail = |column, message, duplicate| LineError {
            line: i + 1,
            column,
            message,
            duplicate,
        };
        match parsed {
            Ok(r) => {
                if known.contains(&r.task) {
                    errors.push(fail(
                        1,
                        format!(
                            "task `{}` is already in the history; a task is recorded once",
                            r.task
                        ),
                        true,
                    ));
                } else if let Some(first) = seen.get(&r.task) {
                    errors.push(fail(
                        1,
                        format!(
                            "task `{}` is also on line {first}; a task is recorded once",
                            r.task
                        ),
                        true,
                    ));
                } else {
                    seen.insert(r.task.clone(), i + 1);
                    records.push(r);
                }
            }
            Err((column, message)) => errors.push(fail(column, message, false)),
        }
    }
    (records, errors)
}

/// The line as an exact record (mapping applied, `time` and `tags`
/// completed as `history record` would), when it needs completing; `None`
/// when the line is not a JSON object or needs nothing.
fn like_record(line: &str, mapping: &Mapping, now: time::OffsetDateTime) -> Option<String> {
    let Ok(Value::Object(object)) = serde_json::from_str::<Value>(line) else {
        return None;
    };
    let mut object = if mapping.renames.is_empty() {
        object
    } else {
        mapping.apply(object)
    };
    let mut changed = !mapping.renames.is_empty();
    if object.get("time").is_none_or(Value::is_null) {
        object.insert("time".into(), Value::String(super::format_time(now)));
        changed = true;
    }
    if let Some(Value::String(tags)) = object.get("tags") {
        let list: Vec<Value> = tags
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| Value::String(t.to_string()))
            .collect();
        object.insert("tags".into(), Value::Array(list));
        changed = true;
    }
    for key in ["task", "type"] {
        if let Some(Value::String(v)) = object.get(key)
            && v.trim() != v
        {
            let trimmed = v.trim().to_string();
            object.insert(key.into(), Value::String(trimmed));
            changed = true;
        }
    }
    changed.then(|| Value::Object(object).to_string())
}

fn parse_line(line: &str, mapping: &Mapping) -> Result<Record, (usize, String)> {
    let record: Record = if mapping.renames.is_empty() {
        serde_json::from_str(line).map_err(|e| {
            let field = serde_json::from_str::<Value>(line)
                .ok()
                .and_then(|v| v.as_object().and_then(field_error));
            (
                e.column().max(1),
                field.unwrap_or_else(|| strip_position(&e)),
            )
        })?
    } else {
        let value: Value =
            serde_json::from_str(line).map_err(|e| (e.column().max(1), strip_position(&e)))?;
        let Value::Object(object) = value else {
            return Err((1, "expected a JSON object".into()));
        };
        let object = mapping.apply(object);
        if let Some(message) = field_error(&object) {
            return Err((1, message));
        }
        serde_json::from_value(Value::Object(object)).map_err(|e| (1, strip_position(&e)))?
    };
    record.validate().map_err(|m| (1, m))?;
    Ok(record)
}

/// The first field of an object whose value has the wrong type or range,
/// as `field `name`: ... expected ...`.
fn field_error(object: &serde_json::Map<String, Value>) -> Option<String> {
    use super::record::{Criticality, Outcome, parse_time};
    const REQUIRED: &[&str] = &["time", "task", "type", "complexity", "allocated", "used"];
    for (key, value) in object {
        if value.is_null() && !REQUIRED.contains(&key.as_str()) {
            continue;
        }
        let expected = match key.as_str() {
            "time" => match value.as_str().map(parse_time) {
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Some(format!("field `time`: {e}")),
                None => "an RFC 3339 time string",
            },
            "task" | "type" | "model" | "agent" if value.is_string() => continue,
            "task" | "type" | "model" | "agent" => "a string",
            "complexity" | "quality" if value.as_u64().is_some_and(|n| n <= 100) => continue,
            "complexity" | "quality" => "an integer from 0 to 100",
            "allocated" | "used" | "thinking" if value.is_u64() => continue,
            "allocated" | "used" | "thinking" => "a non-negative integer",
            "story_points" if value.as_f64().is_some_and(|n| n >= 0.0) => continue,
            "story_points" => "a non-negative number",
            "tags"
                if value
                    .as_array()
                    .is_some_and(|a| a.iter().all(Value::is_string)) =>
            {
                continue;
            }
            "tags" => "an array of strings",
            "criticality" => match value.as_str().map(str::parse::<Criticality>) {
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Some(format!("field `criticality`: {e}")),
                None => "one of low, medium, high, critical",
            },
            "outcome" => match value.as_str().map(str::parse::<Outcome>) {
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Some(format!("field `outcome`: {e}")),
                None => "one of success, failure, partial",
            },
            _ => continue,
        };
        return Some(format!(
            "field `{key}`: {value} is invalid; expected {expected}"
        ));
    }
    None
}

/// serde_json's message without its trailing ` at line L column C` (the
/// caller reports the position itself).
fn strip_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) if e.line() > 0 => text[..i].to_string(),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapping_renames_and_drops_extras() {
        let m = Mapping::parse("tokens=used, budget=allocated,kind=type").unwrap();
        let text = r#"{"time":"2025-06-01T00:00:00Z","task":"a","kind":"qa","complexity":3,"budget":100,"tokens":90,"extra":1}
not json
{"time":"2025-06-01T00:00:00Z","task":"b","kind":"qa","complexity":300,"budget":100,"tokens":90}"#;
        let (records, errors) = parse_lines(text, &m);
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].used, 90);
        assert_eq!(errors.len(), 2);
        assert_eq!((errors[0].line, errors[0].column), (2, 2));
        assert_eq!(errors[1].line, 3);
    }

    #[test]
    fn mapping_rejects_unknown_targets() {
        assert!(
            Mapping::parse("a=b")
                .unwrap_err()
                .contains("not a record field")
        );
        assert!(Mapping::parse("ab").unwrap_err().contains("FIELD=OURFIELD"));
    }
}
