//! Writes: regular files atomically (through symbolic links), special files
//! in place, and locked read-edit-write updates.

use std::fs::{self, File, Metadata, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// How many symbolic links [`resolve_links`] follows before giving up (as
/// the kernel does, `ELOOP`).
const MAX_LINKS: usize = 40;

/// Writes `bytes` to `path`:
///
/// - a regular file (or a new one) is replaced atomically: the bytes go to a
///   temporary file in the same folder, which then replaces the file by a
///   rename, so readers see the old file or the new one, never a partial
///   one. An existing file keeps its permissions (and, when allowed, its
///   owner); a new file gets `0666` minus the umask. A file that exists but
///   is not writable is an error, as a plain write would be;
/// - a symbolic link is written through: the file it points to (following
///   every link) is replaced as above, and the link stays a link;
/// - the process's own standard output or error (`/dev/stdout`,
///   `/dev/fd/1`, `/proc/self/fd/2`, ...) is written to the stream;
/// - any other special file (`/dev/null`, a FIFO, a terminal) is opened for
///   writing and written in place, never replaced.
pub fn write_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    match fs::metadata(path) {
        Ok(meta) if meta.is_dir() => Err(io::Error::new(
            io::ErrorKind::IsADirectory,
            "is a directory; expected a file name",
        )),
        Ok(meta) => {
            if let Some(stream) = std_stream(&meta) {
                return write_stream(stream, bytes);
            }
            if meta.is_file() {
                replace_atomically(&resolve_links(path)?, bytes, Some(&meta))
            } else {
                let mut file = OpenOptions::new().write(true).open(path)?;
                file.write_all(bytes)?;
                file.flush()
            }
        }
        // A new file, possibly behind a dangling link: create the target.
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            replace_atomically(&resolve_links(path)?, bytes, None)
        }
        Err(e) => Err(e),
    }
}

/// The file a path names once every symbolic link is followed (a link's
/// relative target is taken from the link's folder). The result may not
/// exist (a new file, or a dangling link's target). Folders in the path are
/// left as they are: the system follows their links when the path is used.
pub fn resolve_links(path: &Path) -> io::Result<PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = fs::read_link(&p)?;
                p = if target.is_absolute() {
                    target
                } else {
                    p.parent().unwrap_or(Path::new("")).join(target)
                };
            }
            Ok(_) => return Ok(p),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(p),
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other(format!(
        "more than {MAX_LINKS} levels of symbolic links"
    )))
}

/// Replaces (or creates) the regular file `target` through a temporary file
/// in its folder and a rename.
fn replace_atomically(target: &Path, bytes: &[u8], existing: Option<&Metadata>) -> io::Result<()> {
    let name = target
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "expected a file name"))?;
    if existing.is_some() {
        // Refuse what a plain write would refuse: renaming over a read-only
        // file only needs the folder to be writable.
        OpenOptions::new().write(true).open(target)?;
    }
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let prefix = format!(".{}.", name.to_string_lossy());
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // The system takes the umask off a new file's mode.
        builder.permissions(fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder.tempfile_in(dir)?;
    if let Some(meta) = existing {
        tmp.as_file().set_permissions(meta.permissions())?;
        keep_owner(tmp.as_file(), meta);
    }
    tmp.write_all(bytes)?;
    tmp.flush()?;
    tmp.as_file().sync_all()?;
    tmp.persist(target).map_err(|e| e.error)?;
    // Make the rename durable; not every system can sync a folder.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Gives the replacement the old file's owner and group where the process
/// may (as root, or its own group); otherwise they stay the process's.
#[cfg(unix)]
fn keep_owner(file: &File, meta: &Metadata) {
    use std::os::unix::fs::MetadataExt;
    if let Ok(new) = file.metadata()
        && (new.uid() != meta.uid() || new.gid() != meta.gid())
    {
        let _ = std::os::unix::fs::fchown(file, Some(meta.uid()), Some(meta.gid()));
    }
}

#[cfg(not(unix))]
fn keep_owner(_file: &File, _meta: &Metadata) {}

/// Standard output or error, when `meta` is the file one of them is open on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StdStream {
    Out,
    Err,
}

#[cfg(unix)]
fn std_stream(meta: &Metadata) -> Option<StdStream> {
    use std::os::fd::AsFd;
    use std::os::unix::fs::MetadataExt;
    let same = |fd: std::os::fd::BorrowedFd<'_>| {
        fd.try_clone_to_owned()
            .map(File::from)
            .and_then(|f| f.metadata())
            .is_ok_and(|m| m.dev() == meta.dev() && m.ino() == meta.ino())
    };
    if same(io::stdout().as_fd()) {
        Some(StdStream::Out)
    } else if same(io::stderr().as_fd()) {
        Some(StdStream::Err)
    } else {
        None
    }
}

#[cfg(not(unix))]
fn std_stream(_meta: &Metadata) -> Option<StdStream> {
    None
}

fn write_stream(stream: StdStream, bytes: &[u8]) -> io::Result<()> {
    match stream {
        StdStream::Out => {
            let mut out = io::stdout().lock();
            out.write_all(bytes)?;
            out.flush()
        }
        StdStream::Err => {
            let mut err = io::stderr().lock();
            err.write_all(bytes)?;
            err.flush()
        }
    }
}

/// An exclusive lock for a read-edit-write update of one file; released
/// when dropped. See [`lock_for_update`].
#[derive(Debug)]
pub struct UpdateLock {
    _handle: File,
}

/// Takes an exclusive lock for updating `path`, waiting for other holders:
/// read the file, edit it and write it with [`write_file`] while holding
/// it, and concurrent updaters (in this process or others) see each other's
/// changes. The lock is taken on the folder of the file `path` names (links
/// followed), so it survives the rename that replaces the file and needs no
/// lock file; on systems that cannot lock a folder, on a hidden
/// `.NAME.lock` file beside it (left in place).
pub fn lock_for_update(path: &Path) -> io::Result<UpdateLock> {
    let target = resolve_links(path)?;
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let handle = lock_handle(&dir, &target)?;
    handle.lock()?;
    Ok(UpdateLock { _handle: handle })
}

#[cfg(unix)]
fn lock_handle(dir: &Path, _target: &Path) -> io::Result<File> {
    File::open(dir)
}

#[cfg(not(unix))]
fn lock_handle(dir: &Path, target: &Path) -> io::Result<File> {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(format!(".{name}.lock")))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::{FileTypeExt, PermissionsExt, symlink};

    #[test]
    fn new_files_existing_modes_and_links() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.txt");
        write_file(&file, b"one").unwrap();
        assert_eq!(fs::read(&file).unwrap(), b"one");
        fs::set_permissions(&file, fs::Permissions::from_mode(0o640)).unwrap();
        write_file(&file, b"two").unwrap();
        assert_eq!(fs::read(&file).unwrap(), b"two");
        let mode = fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);

        let link = dir.path().join("link.txt");
        symlink("a.txt", &link).unwrap();
        write_file(&link, b"three").unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read(&file).unwrap(), b"three");

        let dangling = dir.path().join("dangling");
        symlink("made.txt", &dangling).unwrap();
        write_file(&dangling, b"four").unwrap();
        assert_eq!(fs::read(dir.path().join("made.txt")).unwrap(), b"four");
        assert!(
            fs::symlink_metadata(&dangling)
                .unwrap()
                .file_type()
                .is_symlink()
        );

        let leftovers: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
        assert!(write_file(dir.path(), b"x").is_err());
    }

    #[test]
    fn special_files_are_written_in_place() {
        // A FIFO with a reader: written in place, still a FIFO.
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("out.fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || fs::read(fifo).unwrap())
        };
        write_file(&fifo, b"through the pipe").unwrap();
        assert_eq!(reader.join().unwrap(), b"through the pipe");
        assert!(fs::metadata(&fifo).unwrap().file_type().is_fifo());
        // A character device: as root, a null device made here (so that a
        // regression cannot replace the real /dev/null); else /dev/null.
        // SAFETY: geteuid has no preconditions.
        let null = if unsafe { libc::geteuid() } == 0 {
            let node = dir.path().join("null");
            let c = std::ffi::CString::new(node.to_str().unwrap()).unwrap();
            // SAFETY: a valid NUL-terminated path; 1:3 is the null device.
            let made =
                unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 3)) };
            (made == 0).then_some(node)
        } else {
            Some(PathBuf::from("/dev/null"))
        };
        if let Some(null) = null {
            write_file(&null, b"gone").unwrap();
            assert!(fs::metadata(&null).unwrap().file_type().is_char_device());
        }
    }

    #[test]
    fn link_loops_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        symlink(&b, &a).unwrap();
        symlink(&a, &b).unwrap();
        assert!(resolve_links(&a).is_err());
        assert!(write_file(&a, b"x").is_err());
    }
}
