//! `tokenscope._native`: the tokenscope library for Python. The public
//! names, their signatures and docstrings are in `pysrc/tokenscope`; this
//! module is what they call.
//!
//! Everything goes through the library's own layers: counting through
//! `tokens` (exact BPE, the model registry), loading through `input`,
//! packing through `session` (`Setup`, `Session::from_setup`), so that a
//! profile, a flag or a fallback behaves exactly as in `tokenscope pack`.
//! Work that takes time runs with the GIL released.

mod convert;
mod count;
mod errors;
mod items;
mod pack;

use pyo3::prelude::*;

/// The tokenscope engine: exact token counts, item sets, packing into a
/// budget and the `tokenscope.report/1` report.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(count::count, m)?)?;
    m.add_function(wrap_pyfunction!(count::count_chat, m)?)?;
    m.add_function(wrap_pyfunction!(pack::_load, m)?)?;
    m.add_function(wrap_pyfunction!(pack::_loads, m)?)?;
    m.add_function(wrap_pyfunction!(pack::_pack, m)?)?;
    m.add_function(wrap_pyfunction!(request_text, m)?)?;
    m.add_class::<items::ItemSet>()?;
    m.add_class::<pack::Plan>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}

/// A request (dict or JSON text) as JSON text, key order kept.
#[pyfunction]
fn request_text(request: &Bound<'_, PyAny>) -> PyResult<String> {
    count::request_text(request, "request")
}
