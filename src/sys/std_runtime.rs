//! For an OS whose launcher starts through std's runtime (every one but Linux): nothing is left to do
//! at start-up, our own executable comes from `std::env::current_exe`, and the path as invoked is
//! `argv[0]`. The OS files that want these re-export them, so the names stay the same everywhere.

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::path::PathBuf;

/// std's runtime start-up already did what the Linux launcher does here.
pub fn start_up() {}

/// Opens the running executable itself (the path std finds for it).
pub(crate) fn open_own_executable() -> io::Result<File> {
    File::open(std::env::current_exe()?)
}

/// The path of the running executable, as std finds it.
pub(crate) fn own_executable_path() -> Option<PathBuf> {
    std::env::current_exe().ok()
}

/// The path we were started as: `argv[0]`, when it is not empty.
pub(crate) fn invoked_path(argv0: Option<&OsString>) -> Option<PathBuf> {
    argv0.filter(|a| !a.is_empty()).map(PathBuf::from)
}

/// The wall-clock time.
pub(crate) fn now() -> std::time::SystemTime {
    std::time::SystemTime::now()
}
