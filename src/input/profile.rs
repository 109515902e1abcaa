//! Profiles (`tokenscope.toml`).
