//! Python objects to JSON and back: dicts, lists, strings, numbers, booleans
//! and `None`, nothing else. Key order is kept both ways (a trimmed request
//! keeps the caller's key order).

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::{Map, Number, Value};

/// Nesting deeper than this is refused (a cycle would never end).
const MAX_DEPTH: usize = 256;

/// `obj` as a JSON value; `what` names it in errors (`request`,
/// `items[3].meta`).
pub fn to_json(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Value> {
    let mut at = what.to_string();
    value(obj, &mut at, 0)
}

fn value(obj: &Bound<'_, PyAny>, at: &mut String, depth: usize) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(pyo3::exceptions::PyValueError::new_err(format!(
            "{at}: nested more than {MAX_DEPTH} levels deep (a cycle?); expected JSON-like data"
        )));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::String(s.to_cow()?.into_owned()));
    }
    if obj.cast::<PyInt>().is_ok() {
        if let Ok(n) = obj.extract::<i64>() {
            return Ok(Value::Number(n.into()));
        }
        if let Ok(n) = obj.extract::<u64>() {
            return Ok(Value::Number(n.into()));
        }
        return Err(pyo3::exceptions::PyValueError::new_err(format!(
            "{at}: the integer {} is too large for JSON",
            obj.str()?
        )));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        let x = f.value();
        return Number::from_f64(x).map(Value::Number).ok_or_else(|| {
            pyo3::exceptions::PyValueError::new_err(format!(
                "{at}: {x} is not a finite number; JSON has no NaN or infinity"
            ))
        });
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut map = Map::with_capacity(d.len());
        for (k, v) in d.iter() {
            let key = k.cast::<PyString>().map_err(|_| {
                pyo3::exceptions::PyTypeError::new_err(format!(
                    "{at}: a key of type {} ({}); expected string keys",
                    type_name(&k),
                    k.repr().map(|r| r.to_string()).unwrap_or_default()
                ))
            })?;
            let key = key.to_cow()?.into_owned();
            let len = at.len();
            at.push('.');
            at.push_str(&key);
            let v = value(&v, at, depth + 1)?;
            at.truncate(len);
            map.insert(key, v);
        }
        return Ok(Value::Object(map));
    }
    if obj.cast::<PyList>().is_ok() || obj.cast::<PyTuple>().is_ok() {
        let mut out = Vec::new();
        for (i, v) in obj.try_iter()?.enumerate() {
            let len = at.len();
            at.push_str(&format!("[{i}]"));
            out.push(value(&v?, at, depth + 1)?);
            at.truncate(len);
        }
        return Ok(Value::Array(out));
    }
    Err(pyo3::exceptions::PyTypeError::new_err(format!(
        "{at}: a value of type {}; expected JSON-like data (dict, list, str, int, float, bool, None)",
        type_name(obj)
    )))
}

/// The Python type name of `obj`.
pub fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}
