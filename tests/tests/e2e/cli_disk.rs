//! Disk trouble in the AWS files' directory: full (a 64 KiB tmpfs filled to the last
//! page) or read-only (a read-only bind mount of it). A start fails naming the path
//! and the OS error, leaves the user's files byte for byte and no stray file, no
//! session pending; once the disk is fixed the next start works and a stop gives the
//! files back exactly (so the ledger stayed true). Real mounts: the suite needs root
//! (or CAP_SYS_ADMIN), and fails saying so where mount(2) is not permitted: a suite
//! that cannot make its fault has not shown anything, so it must not pass.

use std::ffi::CString;
use std::fs;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::cli::{AwsFilesBytes, World, files_untouched, write_user_aws_files};

/// A mount on a test's directory, undone on drop (lazily, so a stray open file cannot
/// keep it).
struct Mount(PathBuf);

fn c_path(path: &Path) -> CString {
    CString::new(path.as_os_str().as_bytes()).unwrap()
}

fn mount(
    source: &str,
    target: &Path,
    fstype: &str,
    flags: libc::c_ulong,
    data: &str,
) -> std::io::Result<()> {
    let (source, target) = (CString::new(source).unwrap(), c_path(target));
    let (fstype, data) = (CString::new(fstype).unwrap(), CString::new(data).unwrap());
    // SAFETY: every pointer is a NUL-terminated string that outlives the call.
    let r = unsafe {
        libc::mount(
            source.as_ptr(),
            target.as_ptr(),
            fstype.as_ptr(),
            flags,
            data.as_ptr().cast(),
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

impl Mount {
    /// A `size`-byte tmpfs owned by this user, mode 0700 (a world-writable directory
    /// is refused by Rolehop, as it should be).
    fn tmpfs(dir: &Path, size: &str) -> std::io::Result<Self> {
        mount("tmpfs", dir, "tmpfs", 0, &format!("size={size},mode=0700"))?;
        Ok(Self(dir.to_owned()))
    }

    /// `dir` bound onto itself, then made read-only.
    fn read_only(dir: &Path) -> std::io::Result<Self> {
        mount(&dir.to_string_lossy(), dir, "", libc::MS_BIND, "")?;
        let this = Self(dir.to_owned());
        mount(
            "",
            dir,
            "",
            libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY,
            "",
        )?;
        Ok(this)
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        // SAFETY: a NUL-terminated path that outlives the call.
        unsafe { libc::umount2(c_path(&self.0).as_ptr(), libc::MNT_DETACH) };
    }
}

/// Fails the test, saying what it needs, unless this run may mount (root, or
/// CAP_SYS_ADMIN): checked on a scratch directory before anything else.
fn require_mount() {
    let scratch = tempfile::tempdir().unwrap();
    if let Err(e) = Mount::tmpfs(scratch.path(), "4k") {
        panic!(
            "mount(2) is not permitted here ({e}): the disk-trouble suite makes real \
             tmpfs and read-only bind mounts; run it as root or with CAP_SYS_ADMIN \
             (a container: --cap-add SYS_ADMIN)"
        );
    }
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A start in the broken directory: fails (exit 9) naming the path and `os_error`,
/// changes no byte, leaves no stray file and no session pending. Returns the figure.
fn assert_start_fails_cleanly(world: &World, aws_dir: &Path, os_error: &str, fault: &str) {
    let before = AwsFilesBytes::of(world);
    let listed = names_in(aws_dir);

    let asked = Instant::now();
    let run = world.rolehop(&["session", "start", "solo"]).fails_with(9);
    let elapsed = asked.elapsed();
    assert!(
        run.stderr.contains(&*aws_dir.to_string_lossy()),
        "names the path: {run:#?}"
    );
    assert!(
        run.stderr.contains(os_error),
        "gives the OS error: {run:#?}"
    );
    assert_eq!(world.state_of("solo"), "failed");
    assert_eq!(names_in(aws_dir), listed, "no stray file left behind");
    files_untouched(world, &before, &format!("{fault} -> exit 9"), elapsed);
    eprintln!("  its message: {}", run.stderr.trim());
}

/// After the fix: the next start works, and its stop gives the user's files back
/// byte for byte (the ledger says exactly what Rolehop wrote).
fn assert_recovers(world: &World, original: &AwsFilesBytes) {
    world.rolehop(&["session", "start", "solo"]).ok();
    assert_eq!(world.state_of("solo"), "active");
    assert_ne!(&AwsFilesBytes::of(world), original, "credentials delivered");
    world.rolehop(&["session", "stop", "solo"]).ok();
    assert_eq!(&AwsFilesBytes::of(world), original);
}

#[test]
fn a_full_aws_directory_fails_the_start_with_the_path_and_no_space_and_changes_nothing() {
    require_mount();
    let world = World::start();
    world.add_iam_user("solo", "solo");
    let aws_dir = world.peers.home().root().join("aws");
    let full = Mount::tmpfs(&aws_dir, "64k").expect("tmpfs on the AWS directory");
    write_user_aws_files(&world);
    let original = AwsFilesBytes::of(&world);

    // Fill the file system to its last page.
    let filler_path = aws_dir.join("filler");
    let mut filler = fs::File::create(&filler_path).unwrap();
    let chunk = [0u8; 1024];
    while filler.write_all(&chunk).is_ok() {}
    while filler.write_all(&[0]).is_ok() {}
    drop(filler);

    assert_start_fails_cleanly(
        &world,
        &aws_dir,
        "No space left on device",
        "full AWS directory",
    );
    fs::remove_file(&filler_path).unwrap();
    assert_recovers(&world, &original);
    drop(full);
}

#[test]
fn a_read_only_aws_directory_fails_the_start_with_the_path_and_the_os_error_and_changes_nothing() {
    require_mount();
    let world = World::start();
    world.add_iam_user("solo", "solo");
    write_user_aws_files(&world);
    let original = AwsFilesBytes::of(&world);
    let aws_dir = world.peers.home().root().join("aws");

    let read_only = Mount::read_only(&aws_dir).expect("read-only bind mount");
    assert_start_fails_cleanly(
        &world,
        &aws_dir,
        "Read-only file system",
        "read-only AWS directory",
    );
    drop(read_only);
    assert_recovers(&world, &original);
}
