//! The models the inspector offers (the registry's [`ModelSpec`]s, the same
//! the command line resolves), and how the active one is found.

use crate::tokens::ModelSpec;

pub(crate) use crate::session::default_tokenizer;

/// The model with this name or alias in `models`.
pub(crate) fn find<'a>(models: &'a [ModelSpec], name: &str) -> Option<&'a ModelSpec> {
    models.iter().find(|m| m.answers_to(name))
}
