//! Reading a whole file that must be a regular file of bounded size.
//!
//! Rolehop reads its files whole, under a lock other processes wait on. A FIFO would
//! block that read (and the lock) until someone writes to it, `/dev/zero` would never
//! end, and a huge file would take the memory with it; so the file is opened without
//! blocking and without following a link, checked on the open descriptor (no window in
//! which it could be swapped), and read no further than `limit` bytes.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::path::Path;

use zeroize::Zeroizing;

/// The bytes of `path` (wiped on drop: the file may hold secrets) and its metadata, or
/// `None` when it does not exist. Refuses a symbolic link (resolve links first), anything
/// but a regular file, and a file larger than `limit` bytes, each with a message naming
/// `path`.
pub fn read_regular(
    path: &Path,
    limit: u64,
) -> io::Result<Option<(Zeroizing<Vec<u8>>, fs::Metadata)>> {
    let file = match open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) if super::is_symlink_refusal(&e) => {
            return Err(invalid(format!(
                "{} is a symbolic link where Rolehop expects a plain file",
                path.display()
            )));
        }
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(invalid(format!(
            "{} is {}, not a regular file; Rolehop reads and writes only regular files",
            path.display(),
            describe(&meta)
        )));
    }
    let too_big = || {
        invalid(format!(
            "{} is larger than {} MiB; Rolehop does not read files that large",
            path.display(),
            limit / (1024 * 1024)
        ))
    };
    if meta.len() > limit {
        return Err(too_big());
    }
    // Sized up front so that the buffer is not reallocated (which would leave an unwiped
    // copy behind) unless the file grows while being read; `take` bounds that growth.
    let mut bytes = Zeroizing::new(Vec::with_capacity(meta.len() as usize + 1));
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_big());
    }
    Ok(Some((bytes, meta)))
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

fn open(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use rustix::fs::OFlags;
        use std::os::unix::fs::OpenOptionsExt;
        // Non-blocking, so that opening a FIFO returns at once (to be refused below);
        // it changes nothing for a regular file.
        options.custom_flags((OFlags::NOFOLLOW | OFlags::NONBLOCK).bits() as i32);
    }
    options.open(path)
}

fn describe(meta: &fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let kind = meta.file_type();
        if kind.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    if meta.is_dir() {
        "a directory"
    } else {
        "not a plain file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1024 * 1024;

    #[test]
    fn a_missing_file_reads_as_none_and_a_file_as_its_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        assert!(read_regular(&path, MIB).unwrap().is_none());
        fs::write(&path, b"[a]\n").unwrap();
        let (bytes, meta) = read_regular(&path, MIB).unwrap().unwrap();
        assert_eq!(bytes.as_slice(), b"[a]\n");
        assert_eq!(meta.len(), 4);
    }

    #[test]
    fn a_file_over_the_limit_is_refused_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big");
        fs::write(&path, vec![b'#'; (MIB + 1) as usize]).unwrap();
        let err = read_regular(&path, MIB).unwrap_err().to_string();
        assert!(
            err.contains(&path.display().to_string()) && err.contains("larger than 1 MiB"),
            "{err}"
        );
        fs::write(&path, vec![b'#'; MIB as usize]).unwrap();
        assert!(read_regular(&path, MIB).is_ok(), "the limit itself is fine");
    }

    #[test]
    #[cfg(unix)]
    fn a_device_and_a_directory_are_refused() {
        let err = read_regular(Path::new("/dev/zero"), MIB)
            .unwrap_err()
            .to_string();
        assert!(err.contains("/dev/zero is a device"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let err = read_regular(dir.path(), MIB).unwrap_err().to_string();
        assert!(err.contains("is a directory"), "{err}");
    }

    #[test]
    #[cfg(unix)]
    fn a_fifo_is_refused_without_waiting_for_a_writer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials");
        crate::durable::test_files::make_fifo(&path);
        let err = crate::durable::test_files::without_hanging(move || {
            read_regular(&path, MIB).map(|_| ())
        })
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("is a named pipe (FIFO), not a regular file"),
            "{err}"
        );
    }

    #[test]
    #[cfg(unix)]
    fn a_symbolic_link_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("real"), b"x").unwrap();
        std::os::unix::fs::symlink("real", dir.path().join("link")).unwrap();
        assert!(read_regular(&dir.path().join("link"), MIB).is_err());
    }
}
