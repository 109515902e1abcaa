//! Item sets: loaded from paths (as the command line loads its inputs), or
//! made from Python data (dicts, lists of records) and text, through the
//! same loaders.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};
use tokenscope::engine::ItemSet as EngineSet;
use tokenscope::input::detect::{load_text, sniff};
use tokenscope::input::{InputFormat, LoadOptions};
use tokenscope::session::{Settings, Setup};

use crate::{convert, errors};

/// The name in messages of an item set made from a dict.
pub const DICT_ORIGIN: &str = "<dict>";
/// The name in messages of an item set made from a list of records.
pub const RECORDS_ORIGIN: &str = "<records>";

/// A loaded item set: the items, sections and budget that `pack` packs.
///
/// Made by `tokenscope.load` (files, folders, Python data) or
/// `tokenscope.loads` (text). Packing it does not read its files again.
#[pyclass(module = "tokenscope", name = "ItemSet", frozen)]
pub struct ItemSet {
    /// The input paths; empty for an item set made from data or text.
    pub paths: Vec<PathBuf>,
    /// What it was made from, for messages and report titles.
    pub origin: String,
    /// How it was loaded.
    pub load: LoadOptions,
    /// The item set as loaded (no profile or flag applied yet).
    pub set: EngineSet,
}

#[pymethods]
impl ItemSet {
    fn __len__(&self) -> usize {
        self.set.items.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "<tokenscope.ItemSet {}: {} items in {} sections>",
            self.origin,
            self.set.items.len(),
            self.set.sections.len()
        )
    }

    /// The input paths (empty for data or text).
    #[getter]
    fn paths(&self) -> Vec<String> {
        self.paths.iter().map(|p| p.display().to_string()).collect()
    }

    /// What the item set was made from: its paths, `<dict>`, `<records>`
    /// or the name given to `loads`.
    #[getter]
    fn origin(&self) -> &str {
        &self.origin
    }

    /// The item ids, in input order.
    #[getter]
    fn ids(&self) -> Vec<String> {
        self.set.items.iter().map(|i| i.id.clone()).collect()
    }

    /// The section names, in render order.
    #[getter]
    fn sections(&self) -> Vec<String> {
        self.set.sections.iter().map(|s| s.name.clone()).collect()
    }

    /// The loaders' warnings.
    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.set.warnings.clone()
    }

    /// Whether it is an API request (chat completions, Responses,
    /// Anthropic, Gemini), whose packed form is the trimmed request.
    #[getter]
    fn is_request(&self) -> bool {
        self.set.chat.is_some()
    }
}

impl ItemSet {
    /// A copy (the class is immutable; packing takes its set by value).
    pub fn copy(&self) -> ItemSet {
        ItemSet {
            paths: self.paths.clone(),
            origin: self.origin.clone(),
            load: self.load.clone(),
            set: self.set.clone(),
        }
    }
}

/// What a `load`/`pack` source is.
pub enum Source {
    /// Files and folders, loaded as the command line loads them.
    Paths(Vec<PathBuf>),
    /// Text (JSON, JSONL, TOML, Markdown) that has no file, named `origin`.
    Text { text: String, origin: String },
}

/// A path given as `str` or `os.PathLike`.
fn as_path(obj: &Bound<'_, PyAny>) -> Option<PathBuf> {
    if obj.cast::<PyString>().is_ok() || obj.hasattr("__fspath__").unwrap_or(false) {
        return obj.extract::<PathBuf>().ok();
    }
    None
}

/// The source `obj` names: a path, a list of paths, a dict (a native item
/// set or a request, as the JSON loaders read it) or a list of dicts (JSONL
/// records).
pub fn source(obj: &Bound<'_, PyAny>) -> PyResult<Source> {
    if let Some(p) = as_path(obj) {
        return Ok(Source::Paths(vec![p]));
    }
    if obj.cast::<PyDict>().is_ok() {
        let value = convert::to_json(obj, DICT_ORIGIN)?;
        let text = serde_json::to_string_pretty(&value)
            .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
        return Ok(Source::Text {
            text,
            origin: DICT_ORIGIN.into(),
        });
    }
    // A list, a tuple, or any other iterable (a NumPy array of dicts in a
    // pandas cell, a generator), but not bytes.
    let iterable = obj.cast::<PyList>().is_ok()
        || obj.cast::<PyTuple>().is_ok()
        || (obj.cast::<PyBytes>().is_err() && obj.hasattr("__iter__").unwrap_or(false));
    if iterable {
        let elements: Vec<Bound<'_, PyAny>> = obj.try_iter()?.collect::<PyResult<_>>()?;
        if elements.is_empty() {
            return Err(pyo3::exceptions::PyValueError::new_err(
                "an empty list; expected paths or records (dicts with a `text`)",
            ));
        }
        if elements.iter().all(|e| as_path(e).is_some()) {
            return Ok(Source::Paths(elements.iter().filter_map(as_path).collect()));
        }
        if elements.iter().all(|e| e.cast::<PyDict>().is_ok()) {
            // JSONL: one record a line, so an error's line is the record's
            // position from 1.
            let mut text = String::new();
            for (i, e) in elements.iter().enumerate() {
                let value = convert::to_json(e, &format!("{RECORDS_ORIGIN}[{i}]"))?;
                text.push_str(&value.to_string());
                text.push('\n');
            }
            return Ok(Source::Text {
                text,
                origin: RECORDS_ORIGIN.into(),
            });
        }
        return Err(pyo3::exceptions::PyTypeError::new_err(
            "a list that mixes kinds; expected only paths (str or os.PathLike) or only records (dicts)",
        ));
    }
    Err(pyo3::exceptions::PyTypeError::new_err(format!(
        "got {}; expected a path (str or os.PathLike), a list of paths, a dict (an item set or a request) or a list of records (dicts)",
        convert::type_name(obj)
    )))
}

/// Loads `source` as the command line would, with `settings` (its paths
/// are set from the source). Runs without the GIL.
pub fn load_source(
    py: Python<'_>,
    source: Source,
    mut settings: Settings,
) -> PyResult<(Arc<Setup>, ItemSet)> {
    let (paths, text) = match source {
        Source::Paths(p) => (p, None),
        Source::Text { text, origin } => (Vec::new(), Some((text, origin))),
    };
    settings.paths = paths.clone();
    let done = py.detach(move || {
        let setup = Arc::new(Setup::new(&settings)?);
        let (set, origin) = match &text {
            None => (setup.load()?, settings.title()),
            Some((text, origin)) => {
                let format = setup.load.format.unwrap_or_else(|| sniff(text, false));
                if format == InputFormat::Directory {
                    return Err(tokenscope::session::SessionError::Usage(format!(
                        "{origin}: `input_format=\"directory\"` expects a folder path"
                    )));
                }
                let set = load_text(Path::new(origin), text, format, &setup.load)?;
                (set, origin.clone())
            }
        };
        Ok((setup, set, origin))
    });
    let (setup, set, origin) = done.map_err(|e| errors::session(py, e))?;
    let item_set = ItemSet {
        paths,
        origin,
        load: setup.settings.load.clone(),
        set,
    };
    Ok((setup, item_set))
}
