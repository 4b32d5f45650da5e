//! What every Unix shares: file identity, permission bits, process checks and `exec`.

use std::ffi::OsString;
use std::fs::Metadata;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

/// A file's identity (device and inode): how the launcher notices that a path is itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileId {
    dev: u64,
    ino: u64,
}

pub fn file_id(path: &Path) -> io::Result<FileId> {
    let meta = std::fs::metadata(path)?;
    Ok(FileId {
        dev: meta.dev(),
        ino: meta.ino(),
    })
}

pub fn file_id_of(meta: &Metadata) -> FileId {
    FileId {
        dev: meta.dev(),
        ino: meta.ino(),
    }
}

pub fn is_executable(meta: &Metadata) -> bool {
    meta.is_file() && meta.permissions().mode() & 0o111 != 0
}

pub fn effective_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

pub fn owner_and_mode(meta: &Metadata) -> (u32, u32) {
    (meta.uid(), meta.mode())
}

/// Whether a process with this PID exists (a process of another user counts as existing).
pub fn process_exists(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks for existence and permission; it sends nothing.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// Replaces this process with the interpreter. Returns only on failure. std's `exec` restores the
/// default SIGPIPE disposition that Rust's runtime set to ignored, so a wrapper-script interpreter and
/// its children see the signal dispositions they would have had without us.
pub fn exec(program: &Path, argv: &[OsString], env: &[(OsString, OsString)]) -> io::Error {
    let mut command = Command::new(program);
    if let Some((arg0, rest)) = argv.split_first() {
        command.arg0(arg0).args(rest);
    }
    command.env_clear().envs(env.iter().map(|(k, v)| (k, v)));
    command.exec()
}

pub const ENOEXEC: i32 = libc::ENOEXEC;
