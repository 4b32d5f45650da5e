//! Linux: our own executable is `/proc/self/exe`; the path we were started as is `AT_EXECFN`.

use std::ffi::{CStr, OsStr, OsString};
use std::fs::File;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// Opens the running executable itself, whatever path or name it was started under.
pub fn open_own_executable() -> io::Result<File> {
    File::open("/proc/self/exe")
}

/// The real path of the running executable.
pub fn own_executable_path() -> Option<PathBuf> {
    std::fs::read_link("/proc/self/exe").ok()
}

/// The path the kernel was asked to execute (`execve`'s filename), which, unlike `argv[0]`, a caller
/// cannot set to an arbitrary word. Falls back to `argv[0]`.
pub fn invoked_path(argv0: Option<&OsString>) -> Option<PathBuf> {
    // SAFETY: getauxval has no preconditions; it returns 0 when the entry is absent.
    let raw = unsafe { libc::getauxval(libc::AT_EXECFN) } as *const libc::c_char;
    if !raw.is_null() {
        // SAFETY: the kernel puts a NUL-terminated string on the initial stack; it lives as long as the process.
        let bytes = unsafe { CStr::from_ptr(raw) }.to_bytes();
        if !bytes.is_empty() {
            return Some(PathBuf::from(OsStr::from_bytes(bytes)));
        }
    }
    argv0.filter(|a| !a.is_empty()).map(PathBuf::from)
}
