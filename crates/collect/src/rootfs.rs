//! Read-only access to a root filesystem, resolving paths as if chrooted.
//!
//! Why it exists: the same collectors must read the live host (`/`), a mounted
//! disk, a container or an mmdebstrap tree. No collector opens `/etc/...`
//! directly; each asks [`RootFs`] for an absolute path *inside* the root.
//! Symlinks are followed inside the root (an absolute link target is taken
//! relative to the root, `..` never climbs above it), so an image's
//! `/etc/ssh/sshd_config -> /usr/share/...` reads the image's file, never the
//! assessing machine's. A symlink loop, a FIFO, a device or an oversized file
//! is refused with a [`Problem`] naming the path, never a hang or a panic.

use std::ffi::OsString;
use std::fs::{self, File, Metadata};
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf};

use warden_model::Problem;

/// Most symlinks followed while resolving one path (Linux's own limit).
pub const MAX_SYMLINKS: usize = 40;
/// Default size bound for one configuration file.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 16 * 1024 * 1024;

/// A root filesystem to read from.
#[derive(Clone, Debug)]
pub struct RootFs {
    root: PathBuf,
    live: bool,
    max_file_size: u64,
}

impl RootFs {
    /// Opens `root`, which must be an existing directory. The root counts as
    /// live (its /proc describes it) only when it is the machine's own `/`.
    pub fn open(root: &Path) -> Result<Self, Problem> {
        let shown = root.display().to_string();
        let meta =
            fs::metadata(root).map_err(|e| Problem::file(&shown, format!("cannot open root: {}", io_message(&e))))?;
        if !meta.is_dir() {
            return Err(Problem::file(shown, "root is not a directory"));
        }
        let canonical = fs::canonicalize(root)
            .map_err(|e| Problem::file(root.display().to_string(), format!("cannot open root: {}", io_message(&e))))?;
        let live = canonical == Path::new("/");
        Ok(RootFs { root: canonical, live, max_file_size: DEFAULT_MAX_FILE_SIZE })
    }

    /// Changes the per-file size bound (tests use small bounds).
    pub fn with_max_file_size(mut self, bytes: u64) -> Self {
        self.max_file_size = bytes;
        self
    }

    /// The root on the assessing machine.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether this is the running machine's own root, so /proc describes it.
    pub fn is_live(&self) -> bool {
        self.live
    }

    /// The per-file size bound.
    pub fn max_file_size(&self) -> u64 {
        self.max_file_size
    }

    /// Resolves an absolute in-root path, following every symlink inside the
    /// root. Returns the host path; a missing final (or intermediate)
    /// component is not an error here: the returned path simply does not exist.
    pub fn resolve(&self, path: &str) -> Result<PathBuf, Problem> {
        self.resolve_inner(path, true)
    }

    /// Like [`RootFs::resolve`] but does not follow a symlink in the last
    /// component (for `lstat`).
    pub fn resolve_parent(&self, path: &str) -> Result<PathBuf, Problem> {
        self.resolve_inner(path, false)
    }

    fn resolve_inner(&self, path: &str, follow_last: bool) -> Result<PathBuf, Problem> {
        if !path.starts_with('/') {
            return Err(Problem::file(path, "internal error: in-root paths must be absolute"));
        }
        let mut done: Vec<OsString> = Vec::new();
        // Components still to walk, last first (so pop() yields the next one).
        let mut todo: Vec<OsString> = components_rev(Path::new(path));
        let mut links = 0usize;
        while let Some(name) = todo.pop() {
            if name == "." || name.is_empty() {
                continue;
            }
            if name == ".." {
                done.pop();
                continue;
            }
            let is_last = todo.is_empty();
            let mut candidate = self.root.clone();
            candidate.extend(done.iter());
            candidate.push(&name);
            if is_last && !follow_last {
                done.push(name);
                break;
            }
            match fs::symlink_metadata(&candidate) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    links += 1;
                    if links > MAX_SYMLINKS {
                        return Err(Problem::file(
                            path,
                            format!("too many levels of symbolic links (more than {MAX_SYMLINKS}): a symlink loop"),
                        ));
                    }
                    let target = fs::read_link(&candidate)
                        .map_err(|e| Problem::file(path, format!("cannot read symlink: {}", io_message(&e))))?;
                    if target.is_absolute() {
                        done.clear();
                    }
                    todo.extend(components_rev(&target));
                }
                Ok(_) => done.push(name),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    // The rest cannot exist; keep the literal remainder.
                    done.push(name);
                    while let Some(rest) = todo.pop() {
                        done.push(rest);
                    }
                    break;
                }
                Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => {
                    return Err(Problem::file(path, "a path component is not a directory"));
                }
                Err(e) => return Err(Problem::file(path, io_message(&e))),
            }
        }
        let mut out = self.root.clone();
        out.extend(done.iter());
        Ok(out)
    }

    /// `stat` of an in-root path (following symlinks inside the root);
    /// `Ok(None)` when it does not exist.
    pub fn stat(&self, path: &str) -> Result<Option<Metadata>, Problem> {
        let host = self.resolve(path)?;
        meta_or_none(path, fs::symlink_metadata(host))
    }

    /// `lstat` of an in-root path; `Ok(None)` when it does not exist.
    pub fn lstat(&self, path: &str) -> Result<Option<Metadata>, Problem> {
        let host = self.resolve_parent(path)?;
        meta_or_none(path, fs::symlink_metadata(host))
    }

    /// Whether the path exists (following symlinks). Unreadable counts as absent.
    pub fn exists(&self, path: &str) -> bool {
        matches!(self.stat(path), Ok(Some(_)))
    }

    /// Reads a regular text file. `Ok(None)` when it does not exist. Invalid
    /// UTF-8 is replaced (config files sometimes carry Latin-1 comments).
    /// Refuses non-regular files (a FIFO would block) and files over the bound.
    pub fn read_text(&self, path: &str) -> Result<Option<String>, Problem> {
        Ok(self.read_bytes(path)?.map(|b| match String::from_utf8(b) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }))
    }

    /// Reads a regular file's bytes, with the same rules as [`RootFs::read_text`].
    pub fn read_bytes(&self, path: &str) -> Result<Option<Vec<u8>>, Problem> {
        let host = self.resolve(path)?;
        let Some(meta) = meta_or_none(path, fs::symlink_metadata(&host))? else {
            return Ok(None);
        };
        if !meta.is_file() {
            return Err(Problem::file(path, describe_non_regular(&meta)));
        }
        if meta.len() > self.max_file_size {
            return Err(Problem::file(
                path,
                format!("file is {} bytes, over the {} byte limit; not read", meta.len(), self.max_file_size),
            ));
        }
        let file = fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&host)
            .map_err(|e| Problem::file(path, io_message(&e)))?;
        read_bounded(file, self.max_file_size).map(Some).map_err(|e| Problem::file(path, e))
    }

    /// Names in a directory, sorted bytewise. `Ok(None)` when it does not exist.
    pub fn read_dir(&self, path: &str) -> Result<Option<Vec<String>>, Problem> {
        let host = self.resolve(path)?;
        match fs::read_dir(&host) {
            Ok(rd) => {
                let mut names = Vec::new();
                for entry in rd {
                    let entry = entry.map_err(|e| Problem::file(path, io_message(&e)))?;
                    names.push(String::from_utf8_lossy(entry.file_name().as_bytes()).into_owned());
                }
                names.sort();
                Ok(Some(names))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => Err(Problem::file(path, "not a directory")),
            Err(e) => Err(Problem::file(path, io_message(&e))),
        }
    }
}

/// Reads a file of the running machine directly, bounded (for /proc and
/// /sys, whose files report size 0). Only meaningful on a live root.
pub fn read_host_file(path: &str, limit: u64) -> Result<String, Problem> {
    let file = File::open(path).map_err(|e| Problem::file(path, io_message(&e)))?;
    let bytes = read_bounded(file, limit).map_err(|e| Problem::file(path, e))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Calls `each` with every line of a file of the running machine (without
/// its newline; invalid UTF-8 replaced), reading at most `limit` bytes.
///
/// Why beside [`read_host_file`]: the agent scans files of several MB (a
/// dpkg file list of a large package, a process's memory map) on every
/// sample; reading them whole made a 4 MB file cost 8 MB of heap at once,
/// which the allocator then kept. One reused line buffer keeps the cost at
/// the longest line.
pub fn for_each_host_line(path: &str, limit: u64, mut each: impl FnMut(&str)) -> Result<(), Problem> {
    use std::io::BufRead;
    let file = File::open(path).map_err(|e| Problem::file(path, io_message(&e)))?;
    let mut reader = std::io::BufReader::with_capacity(16 * 1024, file.take(limit));
    let mut line = Vec::with_capacity(256);
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line).map_err(|e| Problem::file(path, io_message(&e)))?;
        if n == 0 {
            return Ok(());
        }
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        each(&String::from_utf8_lossy(text));
    }
}

/// Joins an in-root directory and an entry name.
pub fn join(dir: &str, name: &str) -> String {
    if dir.ends_with('/') { format!("{dir}{name}") } else { format!("{dir}/{name}") }
}

fn read_bounded(file: File, limit: u64) -> Result<Vec<u8>, String> {
    let mut buf = Vec::new();
    file.take(limit + 1).read_to_end(&mut buf).map_err(|e| io_message(&e))?;
    if buf.len() as u64 > limit {
        return Err(format!("file grew past the {limit} byte limit while being read; not read"));
    }
    Ok(buf)
}

fn components_rev(p: &Path) -> Vec<OsString> {
    let mut v: Vec<OsString> = p
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            _ => None,
        })
        .collect();
    v.reverse();
    v
}

fn meta_or_none(path: &str, r: io::Result<Metadata>) -> Result<Option<Metadata>, Problem> {
    match r {
        Ok(m) => Ok(Some(m)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => Ok(None),
        Err(e) => Err(Problem::file(path, io_message(&e))),
    }
}

fn describe_non_regular(meta: &Metadata) -> String {
    use std::os::unix::fs::FileTypeExt;
    let ft = meta.file_type();
    let what = if ft.is_dir() {
        "a directory"
    } else if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_socket() {
        "a socket"
    } else if ft.is_block_device() || ft.is_char_device() {
        "a device"
    } else {
        "not a regular file"
    };
    format!("expected a regular file, found {what}; not read")
}

/// An I/O error in words, without Rust's debug noise.
pub fn io_message(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        io::ErrorKind::NotFound => "no such file or directory".to_string(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn tree() -> (tempfile::TempDir, RootFs) {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("etc/ssh")).unwrap();
        fs::create_dir_all(dir.path().join("usr/share")).unwrap();
        fs::write(dir.path().join("usr/share/real.conf"), "hello\n").unwrap();
        let fs_ = RootFs::open(dir.path()).unwrap();
        (dir, fs_)
    }

    /// Lines as `str::lines` gives them (CRLF too, a last line without a
    /// newline, invalid UTF-8 replaced), cut at the byte limit, and a
    /// missing file is an error naming it.
    #[test]
    fn host_lines_stream_like_str_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("list");
        fs::write(&path, b"/usr\r\n/usr/bin/a\n\n/bad\xff\n/last").unwrap();
        let p = path.to_string_lossy();
        let mut lines = Vec::new();
        for_each_host_line(&p, 1 << 20, |l| lines.push(l.to_string())).unwrap();
        assert_eq!(lines, ["/usr", "/usr/bin/a", "", "/bad\u{fffd}", "/last"]);
        let mut cut = Vec::new();
        for_each_host_line(&p, 8, |l| cut.push(l.to_string())).unwrap();
        assert_eq!(cut, ["/usr", "/u"], "at most `limit` bytes are read");
        let missing = dir.path().join("missing").to_string_lossy().into_owned();
        let err = for_each_host_line(&missing, 10, |_| {}).unwrap_err();
        assert!(err.to_string().contains(&missing), "{err}");
    }

    #[test]
    fn absolute_symlinks_stay_inside_the_root() {
        let (dir, root) = tree();
        symlink("/usr/share/real.conf", dir.path().join("etc/ssh/sshd_config")).unwrap();
        assert_eq!(root.read_text("/etc/ssh/sshd_config").unwrap().as_deref(), Some("hello\n"));
        // A link that climbs above the root is clamped to the root.
        symlink("../../../../../usr/share/real.conf", dir.path().join("etc/up")).unwrap();
        assert_eq!(root.read_text("/etc/up").unwrap().as_deref(), Some("hello\n"));
        assert!(!root.is_live());
    }

    #[test]
    fn symlink_loops_are_reported_not_followed_forever() {
        let (dir, root) = tree();
        symlink("/etc/b", dir.path().join("etc/a")).unwrap();
        symlink("/etc/a", dir.path().join("etc/b")).unwrap();
        let err = root.read_text("/etc/a").unwrap_err();
        assert_eq!(err.path, "/etc/a");
        assert!(err.message.contains("symlink loop"), "{err}");
    }

    #[test]
    fn missing_files_are_none_and_fifos_are_refused() {
        let (dir, root) = tree();
        assert_eq!(root.read_text("/etc/nothing").unwrap(), None);
        assert_eq!(root.read_text("/nonexistent/deeper/file").unwrap(), None);
        let fifo = dir.path().join("etc/fifo");
        let c = std::ffi::CString::new(fifo.as_os_str().as_bytes()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        let err = root.read_text("/etc/fifo").unwrap_err();
        assert!(err.message.contains("FIFO"), "{err}");
        let err = root.read_text("/etc").unwrap_err();
        assert!(err.message.contains("directory"), "{err}");
    }

    #[test]
    fn oversized_files_are_refused_with_their_size() {
        let (dir, root) = tree();
        fs::write(dir.path().join("etc/big"), vec![b'x'; 4096]).unwrap();
        let root = root.with_max_file_size(1024);
        let err = root.read_text("/etc/big").unwrap_err();
        assert!(err.message.contains("4096 bytes"), "{err}");
    }

    #[test]
    fn missing_root_is_a_clear_error() {
        let err = RootFs::open(Path::new("/definitely/not/here")).unwrap_err();
        assert_eq!(err.path, "/definitely/not/here");
        assert!(err.message.contains("cannot open root"));
    }
}
