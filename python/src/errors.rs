//! The library's errors as the Python exceptions of `tokenscope._errors`:
//! `InputError` (a file or data that cannot be loaded, with `path`, `line`
//! and `column`), `UsageError` (a setting that cannot be used) and their
//! base `TokenscopeError`, each with the command line's `exit_code`.

use pyo3::prelude::*;
use pyo3::types::PyDict;
use tokenscope::input::{InputError, LoadError};
use tokenscope::session::{SessionError, exit};

/// Where a problem is, for `InputError`.
#[derive(Debug, Default)]
pub struct Place {
    pub path: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub snippet: Option<String>,
}

/// An exception of class `kind` (a name in `tokenscope._errors`).
pub fn raise(py: Python<'_>, kind: &str, message: String, place: Place, exit_code: u8) -> PyErr {
    let made = (|| -> PyResult<PyErr> {
        let class = py.import("tokenscope._errors")?.getattr(kind)?;
        let kwargs = PyDict::new(py);
        kwargs.set_item("exit_code", exit_code)?;
        if kind == "InputError" {
            kwargs.set_item("path", place.path)?;
            kwargs.set_item("line", place.line)?;
            kwargs.set_item("column", place.column)?;
            kwargs.set_item("snippet", place.snippet)?;
        }
        let value = class.call((message,), Some(&kwargs))?;
        Ok(PyErr::from_value(value))
    })();
    made.unwrap_or_else(|e| e)
}

/// A setting that cannot be used (`UsageError`, exit status 2).
pub fn usage(py: Python<'_>, message: impl Into<String>) -> PyErr {
    raise(
        py,
        "UsageError",
        message.into(),
        Place::default(),
        exit::INPUT,
    )
}

/// A loader's error as `InputError`.
pub fn input(py: Python<'_>, e: &InputError) -> PyErr {
    if let InputError::ItemSet(load) = e {
        return load_error(py, load);
    }
    let place = Place {
        path: e.path().map(|p| p.display().to_string()),
        line: e.line(),
        column: e.column(),
        snippet: None,
    };
    raise(py, "InputError", e.to_string(), place, exit::INPUT)
}

/// An item-set or settings file's error as `InputError`.
pub fn load_error(py: Python<'_>, e: &LoadError) -> PyErr {
    let place = Place {
        path: Some(e.file.display().to_string()),
        line: e.position.map(|p| p.line),
        column: e.position.map(|p| p.column),
        snippet: e.snippet(),
    };
    raise(py, "InputError", e.to_string(), place, exit::INPUT)
}

/// A session's error: inputs as `InputError`, system I/O as
/// `TokenscopeError` (exit status 3), the rest as `UsageError`.
pub fn session(py: Python<'_>, e: SessionError) -> PyErr {
    match &e {
        SessionError::Input(i) => input(py, i),
        SessionError::Load(l) => load_error(py, l),
        SessionError::Io(_) | SessionError::CountApi(_) | SessionError::CountStore(_) => raise(
            py,
            "TokenscopeError",
            e.to_string(),
            Place::default(),
            e.exit_code(),
        ),
        _ => raise(
            py,
            "UsageError",
            e.to_string(),
            Place::default(),
            e.exit_code(),
        ),
    }
}

/// Any library error that converts into a [`SessionError`].
pub fn lib(py: Python<'_>, e: impl Into<SessionError>) -> PyErr {
    session(py, e.into())
}
