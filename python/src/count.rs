//! `count` and `count_chat`: what `tokenscope count` and `count --chat` do.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};
use rayon::prelude::*;
use tokenscope::tokens::{
    ChatCounter, ChatFraming, Encoding, ModelRegistry, ModelSpec, Tokenizer, chat_framing,
    resolve_encoding,
};

use crate::{convert, errors};

/// The model registry (built in, then the user's models.toml), loaded once.
pub fn registry(py: Python<'_>) -> PyResult<Arc<ModelRegistry>> {
    static REGISTRY: Mutex<Option<Arc<ModelRegistry>>> = Mutex::new(None);
    let mut slot = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(r) = slot.as_ref() {
        return Ok(r.clone());
    }
    let r = Arc::new(ModelRegistry::load(None).map_err(|e| errors::lib(py, e))?);
    *slot = Some(r.clone());
    Ok(r)
}

/// A tokenizer with the chat framing and model that go with it.
#[derive(Clone)]
struct Counter {
    tokenizer: Tokenizer,
    framing: Option<ChatFraming>,
    model: Option<ModelSpec>,
}

/// The counter of a model or an encoding, made once per name (a model's
/// tokenizer file is read once).
fn counter(py: Python<'_>, model: Option<&str>, encoding: Option<&str>) -> PyResult<Counter> {
    static COUNTERS: OnceLock<Mutex<HashMap<String, Counter>>> = OnceLock::new();
    let key = match (encoding, model) {
        (Some(e), _) => format!("encoding:{e}"),
        (None, Some(m)) => format!("model:{m}"),
        (None, None) => "encoding:o200k_base".to_string(),
    };
    let counters = COUNTERS.get_or_init(Mutex::default);
    if let Some(c) = counters.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return Ok(c.clone());
    }
    let made = match (encoding, model) {
        (Some(e), _) => {
            let tokenizer = resolve_encoding(e).map_err(|e| errors::lib(py, e))?;
            Counter {
                framing: chat_framing(None, &tokenizer),
                tokenizer,
                model: None,
            }
        }
        (None, Some(m)) => {
            let registry = registry(py)?;
            let spec = registry.get(m).map_err(|e| errors::lib(py, e))?.clone();
            let tokenizer = py
                .detach(|| spec.tokenizer())
                .map_err(|e| errors::lib(py, e))?;
            Counter {
                framing: spec.chat,
                tokenizer,
                model: Some(spec),
            }
        }
        (None, None) => {
            let tokenizer = Tokenizer::Exact(Encoding::O200kBase);
            Counter {
                framing: chat_framing(None, &tokenizer),
                tokenizer,
                model: None,
            }
        }
    };
    counters
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, made.clone());
    Ok(made)
}

fn count_one(tokenizer: &Tokenizer, text: &str, allow_special: bool) -> usize {
    if allow_special {
        tokenizer.count_with_special(text)
    } else {
        tokenizer.count(text)
    }
}

/// count(text, model="gpt-4o", *, encoding=None, allow_special=False)
/// --
///
/// Exact token count of `text` for `model`'s tokenizer (an estimate, with
/// its error band, for models without a public one, as `tokenscope
/// count`). `text` is a string (returns an int) or any iterable of strings
/// (a list, a tuple, a pandas Series: returns a list of ints, in order).
/// A list is counted on every core with the GIL released; so is one long
/// text (cut at safe points). `encoding` (`o200k_base`, `cl100k_base`,
/// `p50k_base`, `r50k_base`) counts with that encoding instead of the
/// model's. `allow_special` counts special-token literals such as
/// `<|endoftext|>` as one token each (`--allow-special`); by default they
/// are plain text, as tiktoken's `encode_ordinary`.
#[pyfunction]
#[pyo3(signature = (text, model = "gpt-4o", *, encoding = None, allow_special = false))]
pub fn count(
    py: Python<'_>,
    text: &Bound<'_, PyAny>,
    model: &str,
    encoding: Option<&str>,
    allow_special: bool,
) -> PyResult<Py<PyAny>> {
    let counter = counter(py, Some(model), encoding)?;
    let tokenizer = &counter.tokenizer;
    if let Ok(s) = text.cast::<PyString>() {
        let s = s.to_cow()?;
        let s: &str = &s;
        let n = py.detach(|| count_one(tokenizer, s, allow_special));
        return Ok(n.into_pyobject(py)?.into_any().unbind());
    }
    if text.cast::<PyBytes>().is_ok() {
        return Err(pyo3::exceptions::PyTypeError::new_err(
            "count: got bytes; expected a str or an iterable of str (decode the bytes first)",
        ));
    }
    let iter = text.try_iter().map_err(|_| {
        pyo3::exceptions::PyTypeError::new_err(format!(
            "count: got {}; expected a str or an iterable of str",
            convert::type_name(text)
        ))
    })?;
    let mut held: Vec<Bound<'_, PyString>> = Vec::new();
    for (i, item) in iter.enumerate() {
        let item = item?;
        match item.cast_into::<PyString>() {
            Ok(s) => held.push(s),
            Err(e) => {
                return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                    "count: item {i} is {}; expected str",
                    convert::type_name(&e.into_inner())
                )));
            }
        }
    }
    let texts: Vec<Cow<'_, str>> = held.iter().map(|s| s.to_cow()).collect::<PyResult<_>>()?;
    let counts: Vec<usize> = py.detach(|| {
        texts
            .par_iter()
            .map(|t| count_one(tokenizer, t, allow_special))
            .collect()
    });
    Ok(counts.into_pyobject(py)?.into_any().unbind())
}

/// A request given as a dict (or list) or as JSON text, as JSON text.
pub fn request_text(request: &Bound<'_, PyAny>, what: &str) -> PyResult<String> {
    if let Ok(s) = request.cast::<PyString>() {
        return Ok(s.to_cow()?.into_owned());
    }
    if request.cast::<PyDict>().is_ok() {
        let value = convert::to_json(request, what)?;
        return serde_json::to_string_pretty(&value)
            .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("{what}: {e}")));
    }
    Err(pyo3::exceptions::PyTypeError::new_err(format!(
        "{what}: got {}; expected a dict or the request's JSON text",
        convert::type_name(request)
    )))
}

/// count_chat(request, model=None, *, allow_special=False)
/// --
///
/// The prompt tokens the provider bills for a request (`usage.prompt_tokens`
/// for OpenAI), as `tokenscope count --chat`: an OpenAI chat-completions,
/// OpenAI Responses, Anthropic Messages or Gemini request, given as a dict
/// or as its JSON text. Per-message framing, names, tool calls, tool
/// definitions, images and reply priming are counted. The request is
/// counted for `model` when given, else for the model its `model` field
/// names, else with `o200k_base` and gpt-4o's framing.
#[pyfunction]
#[pyo3(signature = (request, model = None, *, allow_special = false))]
pub fn count_chat(
    py: Python<'_>,
    request: &Bound<'_, PyAny>,
    model: Option<&str>,
    allow_special: bool,
) -> PyResult<usize> {
    let text = request_text(request, "request")?;
    let (parsed, format) = tokenscope::input::chat::read_request(Path::new("<request>"), &text)
        .map_err(|e| errors::input(py, &e))?;
    let counter = match model.or(parsed.model.as_deref()) {
        Some(m) => counter(py, Some(m), None)?,
        None => counter(py, None, None)?,
    };
    let image_model = counter
        .model
        .as_ref()
        .map(|m| m.name.clone())
        .or_else(|| parsed.model.clone());
    let total = py.detach(|| {
        ChatCounter::new(&counter.tokenizer, counter.framing)
            .allow_special(allow_special)
            .with_images(format.image_rule(image_model.as_deref()))
            .count(&parsed)
            .total
    });
    Ok(total)
}
