//! Reading and writing files safely, for inputs that may come from anyone.
//!
//! Every file tokenscope reads and writes goes through this module:
//!
//! - **Capped reads** ([`read_file`], [`read_capped`]): a reader never takes
//!   more than its limit plus one byte, so `/dev/zero`, `/dev/urandom`, a FIFO
//!   or a huge file ends with a clear error instead of filling the memory.
//!   The limits are [`INPUT_LIMIT`] (256 MiB) for inputs, `tokenscope.toml`,
//!   models files, history files and standard input, and [`TOKENIZER_LIMIT`]
//!   (1 GiB) for tokenizer files; [`set_max_file_size`] (the
//!   `--max-file-size` option) replaces both. [`first_nul`] finds binary
//!   content where text is expected.
//! - **Writes** ([`write_file`]): a regular file is replaced atomically (a
//!   temporary file in the same folder, then a rename), keeping an existing
//!   file's permissions; a new file gets `0666` minus the umask. A symbolic
//!   link is written through: its target is replaced and the link stays.
//!   Special files (`/dev/null`, FIFOs, terminals, `/dev/stdout`) are opened
//!   and written in place, never replaced.
//! - **Locked updates** ([`lock_for_update`]): read, edit and write a file
//!   under an exclusive lock, so that concurrent writers (two inspectors
//!   saving profiles) never lose each other's changes.
//! - **Inputs are never written** ([`Inputs`]): an output that is one of the
//!   files read (by path, through links, or as a hard link: same device and
//!   inode) or that lies inside an input folder is refused.

mod guard;
mod read;
mod write;

pub use guard::{Inputs, OverwriteError};
pub use read::{
    INPUT_LIMIT, Limit, TOKENIZER_LIMIT, TooLarge, first_nul, format_size, limit, parse_size,
    read_capped, read_file, read_regular_file, read_text_file, set_max_file_size,
};
pub use write::{UpdateLock, lock_for_update, resolve_links, write_file};
