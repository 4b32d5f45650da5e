//! macOS: `_NSGetExecutablePath` (through std) gives our own executable; argv[0] is the path as invoked.
//! Compile-checked by scripts/test (`cargo check --target x86_64-apple-darwin`), not run here; kept one
//! module away so that a port needs no change to the policy modules.

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::path::PathBuf;

/// std's runtime start-up already did what the Linux launcher does here.
pub fn start_up() {}

/// std's runtime start-up reopened any closed standard descriptor without saying which: unknown.
pub(crate) fn closed_at_start(_fd: i32) -> Option<bool> {
    None
}

pub(crate) fn open_own_executable() -> io::Result<File> {
    File::open(std::env::current_exe()?)
}

pub(crate) fn own_executable_path() -> Option<PathBuf> {
    std::env::current_exe().ok()
}

pub(crate) fn invoked_path(argv0: Option<&OsString>) -> Option<PathBuf> {
    argv0.filter(|a| !a.is_empty()).map(PathBuf::from)
}

/// Whether we run setuid or setgid (`issetugid`), where the caller's environment must not be trusted.
pub(crate) fn is_secure_exec() -> bool {
    // SAFETY: issetugid has no preconditions.
    unsafe { libc::issetugid() != 0 }
}
