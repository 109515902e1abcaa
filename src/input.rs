//! Loaders: one per input format, all producing an [`crate::engine::ItemSet`].
