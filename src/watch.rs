//! File watching shared by the inspector and `tokenscope watch`.
//!
//! A [`Watcher`] reports coalesced batches of changed paths
//! ([`WatchEvent`]); a [`Reloader`] turns a batch into a new item set and
//! keeps the last good one while an input is invalid (`tokenscope watch` in
//! the README).
//!
//! ```no_run
//! use std::path::PathBuf;
//! use tokenscope::input::LoadOptions;
//! use tokenscope::watch::{DEFAULT_DEBOUNCE, ReloadOutcome, Reloader, WatchEvent, Watcher};
//!
//! let paths = vec![PathBuf::from("prompt.md")];
//! let options = LoadOptions::default();
//! let mut reloader = Reloader::new(paths.clone(), options.clone());
//! reloader.load();
//! let (_watcher, events) = Watcher::with_channel(&paths, &options, DEFAULT_DEBOUNCE)?;
//! for event in events {
//!     if let WatchEvent::Changed(changed) = event {
//!         match reloader.reload(&changed) {
//!             ReloadOutcome::Reloaded => println!("{} items", reloader.current().unwrap().items.len()),
//!             ReloadOutcome::Failed => eprintln!("{}", reloader.error().unwrap()),
//!             ReloadOutcome::Unaffected => {}
//!         }
//!     }
//! }
//! # Ok::<(), tokenscope::watch::WatchError>(())
//! ```

mod anchor;
mod filter;
mod reloader;
mod watcher;

pub(crate) use filter::normalize_file;
pub use reloader::{ReloadOutcome, Reloader};
pub use watcher::{DEFAULT_DEBOUNCE, WatchError, WatchEvent, Watcher};
