//! `load`, `loads` and `pack`: the session layer as the command line drives
//! it. The Python wrappers (`tokenscope/__init__.py`) name every option;
//! here they become session [`Settings`], so that a profile, a flag and the
//! fallbacks behave exactly as in `tokenscope pack`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyFloat, PyInt, PyString};
use tokenscope::engine::Plan as EnginePlan;
use tokenscope::input::profile::{Overrides, SettingsError, parse_split};
use tokenscope::input::{InputFormat, LoadOptions};
use tokenscope::report::{Format, ReportOptions, format_from_name, write_report};
use tokenscope::session::{Session, Settings};

use crate::errors;
use crate::items::{ItemSet, Source, load_source};

/// One engine run: the plan and what its reports are titled.
#[pyclass(module = "tokenscope", name = "Plan", frozen)]
pub struct Plan {
    plan: EnginePlan,
    title: String,
}

#[pymethods]
impl Plan {
    /// The plan in one of the report formats: `json` (the
    /// `tokenscope.report/1` document, as `pack --format json` writes it),
    /// `md`, `csv`, `context` (the packed context), `text`, `request` (the
    /// trimmed request; request inputs only).
    fn render(&self, py: Python<'_>, format: &str) -> PyResult<String> {
        let format = format_from_name(format).map_err(|e| errors::usage(py, e.to_string()))?;
        if format == Format::Request && !self.plan.chat_request {
            return Err(errors::usage(py, tokenscope::report::NOT_A_REQUEST));
        }
        let opts = ReportOptions {
            title: Some(self.title.clone()),
            ..ReportOptions::default()
        };
        let mut out = Vec::new();
        write_report(&self.plan, format, &mut out, &opts)
            .map_err(|e| errors::usage(py, e.to_string()))?;
        String::from_utf8(out).map_err(|e| errors::usage(py, e.to_string()))
    }

    /// Whether the packed input was a request (`render("request")` works).
    #[getter]
    fn is_request(&self) -> bool {
        self.plan.chat_request
    }
}

fn get<'py>(options: &Bound<'py, PyDict>, key: &str) -> PyResult<Option<Bound<'py, PyAny>>> {
    Ok(options.get_item(key)?.filter(|v| !v.is_none()))
}

fn get_str(options: &Bound<'_, PyDict>, key: &str) -> PyResult<Option<String>> {
    get(options, key)?
        .map(|v| {
            v.extract::<String>().map_err(|_| {
                pyo3::exceptions::PyTypeError::new_err(format!(
                    "{key}: got {}; expected a str",
                    crate::convert::type_name(&v)
                ))
            })
        })
        .transpose()
}

fn get_path(options: &Bound<'_, PyDict>, key: &str) -> PyResult<Option<PathBuf>> {
    get(options, key)?
        .map(|v| {
            v.extract::<PathBuf>().map_err(|_| {
                pyo3::exceptions::PyTypeError::new_err(format!(
                    "{key}: got {}; expected a path (str or os.PathLike)",
                    crate::convert::type_name(&v)
                ))
            })
        })
        .transpose()
}

fn get_strings(options: &Bound<'_, PyDict>, key: &str) -> PyResult<Vec<String>> {
    match get(options, key)? {
        None => Ok(Vec::new()),
        Some(v) if v.cast::<PyString>().is_ok() => Ok(vec![v.extract()?]),
        Some(v) => v.extract::<Vec<String>>().map_err(|_| {
            pyo3::exceptions::PyTypeError::new_err(format!(
                "{key}: got {}; expected a str or a list of str",
                crate::convert::type_name(&v)
            ))
        }),
    }
}

/// A count of tokens: an int of at least `min` (the command line's
/// wording for anything else).
fn get_tokens(
    py: Python<'_>,
    options: &Bound<'_, PyDict>,
    key: &str,
    min: usize,
) -> PyResult<Option<usize>> {
    let Some(v) = get(options, key)? else {
        return Ok(None);
    };
    let expected = if min > 0 {
        format!(
            "{key} must be a positive number of tokens, got {}",
            v.repr()?
        )
    } else {
        format!(
            "{key} must be a number of tokens (0 or more), got {}",
            v.repr()?
        )
    };
    if v.cast::<PyInt>().is_err() || v.is_instance_of::<pyo3::types::PyBool>() {
        return Err(errors::usage(py, expected));
    }
    match v.extract::<i128>() {
        Ok(n) if n >= min as i128 => usize::try_from(n)
            .map(Some)
            .map_err(|_| errors::usage(py, format!("{key} {n} is too large"))),
        _ => Err(errors::usage(py, expected)),
    }
}

/// `optimal_deadline`: `None` keeps the command line's default (2 s), a
/// number is seconds (infinity: no deadline), a str is as
/// `--optimal-deadline` (`500`, `250ms`, `2s`, `none`).
fn get_deadline(py: Python<'_>, options: &Bound<'_, PyDict>) -> PyResult<Option<Option<Duration>>> {
    let Some(v) = get(options, "optimal_deadline")? else {
        return Ok(None);
    };
    if let Ok(s) = v.extract::<String>() {
        if s.trim().starts_with('-') {
            return Err(errors::usage(
                py,
                format!(
                    "optimal_deadline must be a positive duration (500, 250ms, 2s) or none, got {}",
                    s.trim()
                ),
            ));
        }
        return tokenscope::engine::parse_deadline(&s)
            .map(Some)
            .map_err(|e| errors::usage(py, format!("optimal_deadline: {e}")));
    }
    if v.cast::<PyFloat>().is_ok() || v.cast::<PyInt>().is_ok() {
        let secs: f64 = v.extract()?;
        if secs.is_infinite() && secs > 0.0 {
            return Ok(Some(None));
        }
        if !(secs.is_finite() && secs > 0.0) {
            return Err(errors::usage(
                py,
                format!(
                    "optimal_deadline must be a positive number of seconds (or inf for none), got {secs}"
                ),
            ));
        }
        return Ok(Some(Some(Duration::from_secs_f64(secs))));
    }
    Err(pyo3::exceptions::PyTypeError::new_err(format!(
        "optimal_deadline: got {}; expected seconds (a number) or a duration such as \"250ms\"",
        crate::convert::type_name(&v)
    )))
}

/// `split`: a dict `{section: percent}` or the command line's
/// `"header=10,pages=40"`.
fn get_split(py: Python<'_>, options: &Bound<'_, PyDict>) -> PyResult<Vec<(String, f64)>> {
    let Some(v) = get(options, "split")? else {
        return Ok(Vec::new());
    };
    let text = if let Ok(s) = v.extract::<String>() {
        s
    } else if let Ok(d) = v.cast::<PyDict>() {
        let mut pairs = Vec::new();
        for (k, pct) in d.iter() {
            let name: String = k.extract().map_err(|_| {
                pyo3::exceptions::PyTypeError::new_err("split: section names must be str")
            })?;
            let pct: f64 = pct.extract().map_err(|_| {
                pyo3::exceptions::PyTypeError::new_err(format!(
                    "split: the share of `{name}` must be a number (a percent)"
                ))
            })?;
            if name.contains([',', '=']) {
                return Err(errors::usage(
                    py,
                    format!("split: a section name with `,` or `=` (`{name}`)"),
                ));
            }
            pairs.push(format!("{name}={pct}"));
        }
        pairs.join(",")
    } else {
        return Err(pyo3::exceptions::PyTypeError::new_err(format!(
            "split: got {}; expected a dict {{section: percent}} or \"name=pct,...\"",
            crate::convert::type_name(&v)
        )));
    };
    parse_split(&text).map_err(|e| errors::lib(py, e))
}

/// The loading options (`input_format`, `heading_level`, `include`,
/// `exclude`, `hidden`, `jsonl_fields`, `image_size`).
pub fn load_options(py: Python<'_>, options: &Bound<'_, PyDict>) -> PyResult<LoadOptions> {
    let mut o = LoadOptions::default();
    if let Some(f) = get_str(options, "input_format")? {
        o.format = Some(f.parse::<InputFormat>().map_err(|e| errors::lib(py, e))?);
    }
    if let Some(v) = get(options, "heading_level")? {
        match v.extract::<u8>() {
            Ok(n) if (1..=6).contains(&n) => o.heading_level = Some(n),
            _ => {
                return Err(errors::usage(
                    py,
                    format!("heading_level must be 1 to 6, got {}", v.repr()?),
                ));
            }
        }
    }
    o.include = get_strings(options, "include")?;
    o.exclude = get_strings(options, "exclude")?;
    if let Some(v) = get(options, "hidden")? {
        o.hidden = v.is_truthy()?;
    }
    if let Some(v) = get(options, "jsonl_fields")? {
        let d = v.cast::<PyDict>().map_err(|_| {
            pyo3::exceptions::PyTypeError::new_err(
                "jsonl_fields: expected a dict such as {\"text\": \"content\", \"score\": \"similarity\"}",
            )
        })?;
        for (k, name) in d.iter() {
            let field: String = k.extract()?;
            let name: String = name.extract().map_err(|_| {
                pyo3::exceptions::PyTypeError::new_err(format!(
                    "jsonl_fields[{field:?}]: expected a field name (str)"
                ))
            })?;
            match field.as_str() {
                "id" => o.jsonl_fields.id = name,
                "text" => o.jsonl_fields.text = name,
                "score" => o.jsonl_fields.score = name,
                other => {
                    return Err(errors::usage(
                        py,
                        format!(
                            "jsonl_fields: unknown field `{other}`; expected id, text or score"
                        ),
                    ));
                }
            }
        }
    }
    if let Some(v) = get(options, "image_size")? {
        let (w, h): (u32, u32) = v.extract().map_err(|_| {
            errors::usage(
                py,
                format!(
                    "image_size must be (width, height) in pixels, got {}",
                    v.repr().map(|r| r.to_string()).unwrap_or_default()
                ),
            )
        })?;
        if w == 0 || h == 0 {
            return Err(errors::usage(
                py,
                format!("image_size must be at least 1x1 pixels, got {w}x{h}"),
            ));
        }
        o.image_size = Some((w, h));
    }
    Ok(o)
}

/// The session settings of `options` (paths are set by the source).
fn settings(py: Python<'_>, options: &Bound<'_, PyDict>) -> PyResult<Settings> {
    let choice = |key: &str| -> PyResult<Option<String>> { get_str(options, key) };
    let strategy = choice("strategy")?
        .map(|s| s.parse())
        .transpose()
        .map_err(|e| errors::lib(py, SettingsError::from(e)))?;
    let overflow = choice("overflow")?
        .map(|s| s.parse())
        .transpose()
        .map_err(|e| errors::lib(py, SettingsError::from(e)))?;
    Ok(Settings {
        paths: Vec::new(),
        models_file: get_path(options, "models_file")?,
        profile: get_str(options, "profile")?,
        overrides: Overrides {
            model: get_str(options, "model")?,
            encoding: get_str(options, "encoding")?,
            budget: get_tokens(py, options, "budget", 1)?,
            reserve_output: get_tokens(py, options, "reserve_output", 0)?,
            strategy,
            overflow,
            split: get_split(py, options)?,
        },
        load: load_options(py, options)?,
        summarizer: get_str(options, "summarizer")?,
        optimal_deadline: get_deadline(py, options)?,
        tokenizer_file: get_path(options, "tokenizer_file")?,
        count_api: None,
        count_progress: None,
    })
}

/// Whether any loading option is given.
fn any_load_option(options: &Bound<'_, PyDict>) -> PyResult<Option<&'static str>> {
    for key in [
        "input_format",
        "heading_level",
        "include",
        "exclude",
        "jsonl_fields",
        "image_size",
    ] {
        if get(options, key)?.is_some() {
            return Ok(Some(key));
        }
    }
    if let Some(v) = get(options, "hidden")?
        && v.is_truthy()?
    {
        return Ok(Some("hidden"));
    }
    Ok(None)
}

/// `tokenscope.load(source, **load options)`.
#[pyfunction]
pub fn _load(
    py: Python<'_>,
    source: &Bound<'_, PyAny>,
    options: &Bound<'_, PyDict>,
) -> PyResult<ItemSet> {
    if let Ok(set) = source.cast::<ItemSet>() {
        if let Some(key) = any_load_option(options)? {
            return Err(errors::usage(
                py,
                format!(
                    "{key}: the item set is loaded already; loading options apply to paths and data"
                ),
            ));
        }
        return Ok(set.get().copy());
    }
    let settings = Settings {
        load: load_options(py, options)?,
        ..Settings::default()
    };
    let (_, set) = load_source(py, crate::items::source(source)?, settings)?;
    Ok(set)
}

/// `tokenscope.loads(text, name=..., **load options)`.
#[pyfunction]
pub fn _loads(
    py: Python<'_>,
    text: String,
    name: String,
    options: &Bound<'_, PyDict>,
) -> PyResult<ItemSet> {
    let settings = Settings {
        load: load_options(py, options)?,
        ..Settings::default()
    };
    let (_, set) = load_source(py, Source::Text { text, origin: name }, settings)?;
    Ok(set)
}

/// `tokenscope.pack(source, **options)`: one engine run, as `tokenscope
/// pack` with the same flags.
#[pyfunction]
pub fn _pack(
    py: Python<'_>,
    source: &Bound<'_, PyAny>,
    options: &Bound<'_, PyDict>,
) -> PyResult<Plan> {
    let mut settings = settings(py, options)?;
    let (setup, set, title) = if let Ok(given) = source.cast::<ItemSet>() {
        if let Some(key) = any_load_option(options)? {
            return Err(errors::usage(
                py,
                format!(
                    "{key}: the item set is loaded already; give loading options to tokenscope.load()"
                ),
            ));
        }
        let given = given.get();
        settings.paths = given.paths.clone();
        settings.load = given.load.clone();
        let set = given.set.clone();
        let done = py
            .detach(move || tokenscope::session::Setup::new(&settings).map(|s| (Arc::new(s), set)));
        let (setup, set) = done.map_err(|e| errors::session(py, e))?;
        (setup, set, given.origin.clone())
    } else {
        let (setup, item_set) = load_source(py, crate::items::source(source)?, settings)?;
        (setup, item_set.set, item_set.origin)
    };
    let plan = py
        .detach(move || Session::from_setup(setup, set)?.pack())
        .map_err(|e| errors::session(py, e))?;
    Ok(Plan { plan, title })
}
