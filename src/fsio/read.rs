//! Capped reads: no reader takes more than its limit plus one byte.

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// The default limit for one input file, `tokenscope.toml`, a models file,
/// a history file or standard input: 256 MiB.
pub const INPUT_LIMIT: u64 = 256 * 1024 * 1024;

/// The default limit for one tokenizer file (`tokenizer.json` or a tiktoken
/// rank file): 1 GiB.
pub const TOKENIZER_LIMIT: u64 = 1024 * 1024 * 1024;

/// How many leading bytes [`first_nul`] looks at.
const BINARY_PROBE: usize = 8192;

/// The override of every limit (`--max-file-size`); 0 when not set.
static OVERRIDE: AtomicU64 = AtomicU64::new(0);

/// What kind of file is read, which decides its size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Limit {
    /// Inputs and settings: [`INPUT_LIMIT`].
    Input,
    /// Tokenizer files: [`TOKENIZER_LIMIT`].
    Tokenizer,
}

/// Replaces every limit with `bytes` for the rest of the process (the
/// `--max-file-size` option); `None` (or 0) restores the defaults.
pub fn set_max_file_size(bytes: Option<u64>) {
    OVERRIDE.store(bytes.unwrap_or(0), Ordering::Relaxed);
}

/// The limit in bytes for one file of this kind.
pub fn limit(kind: Limit) -> u64 {
    match OVERRIDE.load(Ordering::Relaxed) {
        0 => match kind {
            Limit::Input => INPUT_LIMIT,
            Limit::Tokenizer => TOKENIZER_LIMIT,
        },
        n => n,
    }
}

/// A read that went past its limit. It travels inside an [`io::Error`] of
/// kind [`io::ErrorKind::FileTooLarge`], so every reader's error names the
/// file as it does for other read errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub struct TooLarge {
    /// The limit in bytes.
    pub limit: u64,
}

impl fmt::Display for TooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "it is larger than the {} limit; pass --max-file-size to raise it",
            format_size(self.limit)
        )
    }
}

fn too_large(limit: u64) -> io::Error {
    io::Error::new(io::ErrorKind::FileTooLarge, TooLarge { limit })
}

/// Reads everything `reader` gives, up to `limit` bytes: a stream longer
/// than that is an error of kind [`io::ErrorKind::FileTooLarge`] after at
/// most `limit + 1` bytes were read (for standard input, pipes, devices).
pub fn read_capped(reader: impl Read, limit: u64) -> io::Result<Vec<u8>> {
    read_capped_into(reader, limit, Vec::new())
}

fn read_capped_into(reader: impl Read, limit: u64, mut buf: Vec<u8>) -> io::Result<Vec<u8>> {
    reader.take(limit.saturating_add(1)).read_to_end(&mut buf)?;
    if buf.len() as u64 > limit {
        return Err(too_large(limit));
    }
    Ok(buf)
}

/// Reads the file at `path`, up to the limit for `kind` ([`limit`]). A
/// regular file over the limit is refused before reading; anything else
/// (a device, a FIFO, a file that grows) is read until the limit is passed.
/// A directory is an error of kind [`io::ErrorKind::IsADirectory`].
pub fn read_file(path: &Path, kind: Limit) -> io::Result<Vec<u8>> {
    read_file_limited(path, limit(kind))
}

/// [`read_file`] with an explicit limit.
pub(crate) fn read_file_limited(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let file = File::open(path)?;
    let meta = file.metadata()?;
    if meta.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::IsADirectory,
            "is a directory; expected a file",
        ));
    }
    let mut capacity = 0;
    if meta.is_file() {
        if meta.len() > limit {
            return Err(too_large(limit));
        }
        capacity = usize::try_from(meta.len()).unwrap_or(0).saturating_add(1);
    }
    read_capped_into(file, limit, Vec::with_capacity(capacity))
}

/// Reads the regular file at `path`, up to the limit for `kind`: for a path
/// that an untrusted file names (an item's `path`), where a FIFO would block
/// the run forever and a device is never meant. The file is opened without
/// blocking and checked on the open handle (no race with a rename): a FIFO,
/// device or socket is an error of kind [`io::ErrorKind::InvalidInput`], a
/// directory one of kind [`io::ErrorKind::IsADirectory`].
pub fn read_regular_file(path: &Path, kind: Limit) -> io::Result<Vec<u8>> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Opening a FIFO for reading blocks until a writer comes; a regular
        // file ignores the flag.
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    let meta = file.metadata()?;
    if meta.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::IsADirectory,
            "is a directory; expected a file",
        ));
    }
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "it is not a regular file (a FIFO, device or socket)",
        ));
    }
    let limit = limit(kind);
    if meta.len() > limit {
        return Err(too_large(limit));
    }
    let capacity = usize::try_from(meta.len()).unwrap_or(0).saturating_add(1);
    read_capped_into(file, limit, Vec::with_capacity(capacity))
}

/// Reads the file at `path` as UTF-8 text, up to the limit for `kind`: a
/// NUL byte in the first 8 KiB (binary content) and bytes that are not
/// UTF-8 are errors of kind [`io::ErrorKind::InvalidData`] naming the byte
/// offset. A leading byte-order mark is dropped.
pub fn read_text_file(path: &Path, kind: Limit) -> io::Result<String> {
    let bytes = read_file(path, kind)?;
    if let Some(at) = first_nul(&bytes) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("expected a text file, found binary content (a NUL byte at offset {at})"),
        ));
    }
    let mut text = String::from_utf8(bytes).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "expected UTF-8 text, found a byte that is not UTF-8 at offset {}",
                e.utf8_error().valid_up_to()
            ),
        )
    })?;
    if text.starts_with('\u{feff}') {
        text.drain(..'\u{feff}'.len_utf8());
    }
    Ok(text)
}

/// The offset of the first NUL byte in the first 8 KiB of `bytes`: text
/// never has one, so its presence means binary content.
pub fn first_nul(bytes: &[u8]) -> Option<usize> {
    bytes[..bytes.len().min(BINARY_PROBE)]
        .iter()
        .position(|&b| b == 0)
}

/// Parses a size such as `512M`, `2G`, `64KiB` or `1048576` (bytes). Units
/// are binary (K = 1024) and case-insensitive; `B`, `iB` may follow.
///
/// ```
/// use tokenscope::fsio::parse_size;
/// assert_eq!(parse_size("512M").unwrap(), 512 << 20);
/// assert_eq!(parse_size("2g").unwrap(), 2 << 30);
/// assert!(parse_size("lots").is_err());
/// ```
pub fn parse_size(text: &str) -> Result<u64, String> {
    let bad = || {
        format!(
            "invalid size `{text}`: expected a number of bytes above 0, with an optional unit K, M, G or T (e.g. 512M, 2G)"
        )
    };
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let unit = unit.trim().to_ascii_lowercase();
    let unit = unit
        .strip_suffix("ib")
        .or_else(|| unit.strip_suffix('b'))
        .unwrap_or(&unit);
    let shift = match unit {
        "" => 0,
        "k" => 10,
        "m" => 20,
        "g" => 30,
        "t" => 40,
        _ => return Err(bad()),
    };
    match n.checked_mul(1u64 << shift) {
        Some(bytes) if bytes > 0 => Ok(bytes),
        _ => Err(bad()),
    }
}

/// A size for messages: `256 MiB`, `1 GiB`, `1500 bytes`.
pub fn format_size(bytes: u64) -> String {
    for (shift, unit) in [(40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")] {
        let size = 1u64 << shift;
        if bytes >= size && bytes.is_multiple_of(size) {
            return format!("{} {unit}", bytes / size);
        }
    }
    format!("{bytes} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_and_print() {
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert_eq!(parse_size("64KiB"), Ok(64 << 10));
        assert_eq!(parse_size(" 3 mb "), Ok(3 << 20));
        assert_eq!(parse_size("1T"), Ok(1 << 40));
        for bad in [
            "",
            "0",
            "0M",
            "M",
            "1.5G",
            "12X",
            "-1",
            "99999999999999999999T",
        ] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
        assert_eq!(format_size(INPUT_LIMIT), "256 MiB");
        assert_eq!(format_size(TOKENIZER_LIMIT), "1 GiB");
        assert_eq!(format_size(1500), "1500 bytes");
    }

    #[test]
    fn reads_stop_one_byte_past_the_limit() {
        let endless = io::repeat(b'x');
        let e = read_capped(endless, 1000).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::FileTooLarge);
        assert!(
            e.to_string().contains("larger than the 1000 bytes limit"),
            "{e}"
        );
        assert!(e.to_string().contains("--max-file-size"), "{e}");
        assert_eq!(read_capped(&b"12345"[..], 5).unwrap(), b"12345");
        assert!(read_capped(&b"123456"[..], 5).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn devices_and_large_files_are_refused() {
        let e = read_file_limited(Path::new("/dev/zero"), 4096).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::FileTooLarge);
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.txt");
        std::fs::write(&big, vec![b'a'; 2000]).unwrap();
        assert_eq!(
            read_file_limited(&big, 1999).unwrap_err().kind(),
            io::ErrorKind::FileTooLarge
        );
        assert_eq!(read_file_limited(&big, 2000).unwrap().len(), 2000);
        assert_eq!(
            read_file_limited(dir.path(), 10).unwrap_err().kind(),
            io::ErrorKind::IsADirectory
        );
    }

    #[cfg(unix)]
    #[test]
    fn regular_reads_refuse_fifos_and_devices_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("f");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        // No writer: a blocking open would never return.
        let e = read_regular_file(&fifo, Limit::Input).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{e}");
        assert!(e.to_string().contains("not a regular file"), "{e}");
        let e = read_regular_file(Path::new("/dev/zero"), Limit::Input).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{e}");
        assert_eq!(
            read_regular_file(dir.path(), Limit::Input)
                .unwrap_err()
                .kind(),
            io::ErrorKind::IsADirectory
        );
        let text = dir.path().join("t.txt");
        std::fs::write(&text, "abc").unwrap();
        assert_eq!(read_regular_file(&text, Limit::Input).unwrap(), b"abc");
    }

    #[test]
    fn text_reads_refuse_binary_content() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("x.bin");
        std::fs::write(&bin, b"ab\0cd").unwrap();
        let e = read_text_file(&bin, Limit::Input).unwrap_err();
        assert!(e.to_string().contains("NUL byte at offset 2"), "{e}");
        let text = dir.path().join("x.txt");
        std::fs::write(&text, "\u{feff}hé").unwrap();
        assert_eq!(read_text_file(&text, Limit::Input).unwrap(), "hé");
        assert_eq!(first_nul(&[1; 9000]), None);
        let mut late = vec![1u8; 9000];
        late[8500] = 0;
        assert_eq!(first_nul(&late), None);
    }
}
