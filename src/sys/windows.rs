//! Windows: no `exec`, so the launcher starts the interpreter as a child, waits, and exits with its code.
//! Compile-checked by scripts/test (`cargo check --target x86_64-pc-windows-gnu`), not run here; it keeps
//! the same function names as the Unix modules so that a port changes nothing outside `sys/`.

use std::ffi::{OsStr, OsString};
use std::fs::{File, Metadata};
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A file's identity, approximated by size and modification time (no inode here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileId {
    len: u64,
    modified: Option<std::time::SystemTime>,
}

pub(crate) fn file_id(path: &Path) -> io::Result<FileId> {
    Ok(file_id_of(&std::fs::metadata(path)?))
}

pub(crate) fn file_id_of(meta: &Metadata) -> FileId {
    FileId {
        len: meta.len(),
        modified: meta.modified().ok(),
    }
}

/// What changes when a file is replaced or written: size, last write and creation times.
pub(crate) fn content_stamp(meta: &Metadata) -> [u64; 5] {
    use std::os::windows::fs::MetadataExt;
    [
        0,
        0,
        meta.file_size(),
        meta.last_write_time(),
        meta.creation_time(),
    ]
}

/// A directory's last write time (100 ns units): it changes when an entry is added or removed.
pub(crate) fn modified_nanos(meta: &Metadata) -> u64 {
    use std::os::windows::fs::MetadataExt;
    meta.last_write_time()
}

pub(crate) fn is_executable(meta: &Metadata) -> bool {
    meta.is_file()
}

/// Where temporary files go when `TMPDIR` does not say: the system's (`%TEMP%`, `%TMP%`, ...).
pub(crate) fn default_temp_dir() -> PathBuf {
    std::env::temp_dir()
}

pub(crate) fn effective_uid() -> u32 {
    0
}

pub(crate) fn owner_and_mode(_meta: &Metadata) -> (u32, u32) {
    (0, 0o700)
}

pub(crate) fn process_exists(_pid: u32) -> bool {
    true
}

pub use super::std_runtime::start_up;
pub(crate) use super::std_runtime::{invoked_path, now, open_own_executable, own_executable_path};

/// Runs the interpreter as a child and exits with its status; returns only if it could not start.
pub(crate) fn exec(
    program: &Path,
    argv: &[OsString],
    env: &crate::environment::ChildEnv,
) -> io::Error {
    let mut command = Command::new(program);
    command
        .args(argv.iter().skip(1))
        .env_clear()
        .envs(env.inherited.iter().chain(&env.added).map(|(k, v)| (k, v)));
    match command.status() {
        Ok(status) => std::process::exit(status.code().unwrap_or(1)),
        Err(err) => err,
    }
}

pub(crate) fn run_capturing_stdout(
    program: &Path,
    args: &[&str],
    env: &[(&str, &std::ffi::OsStr)],
) -> io::Result<(Option<i32>, Vec<u8>)> {
    let output = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .output()?;
    Ok((output.status.code(), output.stdout))
}

/// Windows has no mode bits; a directory under the user's profile is private through its ACL.
pub(crate) fn create_private_dir(path: &Path, recursive: bool) -> io::Result<()> {
    std::fs::DirBuilder::new().recursive(recursive).create(path)
}

pub(crate) fn create_private_file(path: &Path) -> io::Result<File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

/// Needs the "create symbolic links" privilege (Developer Mode); a port would copy the interpreter's
/// directory layout instead, as Python's own `venv` does on Windows.
pub(crate) fn symlink(target: &Path, link: &Path) -> io::Result<()> {
    if target.is_dir() {
        std::os::windows::fs::symlink_dir(target, link)
    } else {
        std::os::windows::fs::symlink_file(target, link)
    }
}

/// The error starting a file that is not an executable reports (ERROR_BAD_EXE_FORMAT).
pub(crate) const ENOEXEC: i32 = 193;

/// Opens a file for reading only if it is a regular file of at most `max` bytes.
pub(crate) fn open_regular(path: &Path, max: u64) -> io::Result<(File, Metadata)> {
    let file = File::open(path)?;
    let meta = file.metadata()?;
    crate::sys::check_regular(&meta, max)?;
    Ok((file, meta))
}

/// Windows has no setuid executables.
pub(crate) fn is_secure_exec() -> bool {
    false
}

pub(crate) fn parent_pid() -> u32 {
    0
}

pub(crate) fn write_stdout(bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()
}

// ---------------------------------------------------------------------------------------------------------
// Memory, positioned reads, file modes, the environment and OS strings as bytes.

/// No file mapping here: [`Mapping::new`] always says no and the caller reads the file.
pub(crate) struct Mapping {
    never: std::convert::Infallible,
}

impl Mapping {
    /// Always `None`: the caller reads the file.
    pub(crate) fn new(_file: &File, _len: usize) -> Option<Mapping> {
        None
    }

    /// Never called: no `Mapping` exists.
    pub(crate) fn bytes(&self) -> &[u8] {
        match self.never {}
    }
}

/// Reads exactly `buf.len()` bytes at `offset`.
pub(crate) fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        let n = file.seek_read(buf, offset)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf = &mut buf[n..];
        offset += n as u64;
    }
    Ok(())
}

/// Windows has no executable bit: nothing to set.
pub(crate) fn create_executable(_options: &mut std::fs::OpenOptions) {}

/// An inherited variable as (name, value), copied from the process's environment.
pub(crate) type EnvVar = (OsString, OsString);

/// A variable the launcher sets, as (name, value).
pub(crate) type NewEnvVar = (OsString, OsString);

/// The process's environment as it received it, in order.
pub(crate) fn environ_vars() -> Vec<EnvVar> {
    std::env::vars_os().collect()
}

/// The value of `var` if its name is `name`.
#[inline]
pub(crate) fn env_value<'a>(var: &'a EnvVar, name: &str) -> Option<&'a OsStr> {
    (var.0 == name).then_some(var.1.as_os_str())
}

/// The first byte of `var`'s name (`=` for an empty name, which no lookup matches).
#[inline]
pub(crate) fn env_first_byte(var: &EnvVar) -> u8 {
    var.0.as_encoded_bytes().first().copied().unwrap_or(b'=')
}

/// The name of `var`.
#[inline]
pub(crate) fn env_name(var: &EnvVar) -> &OsStr {
    &var.0
}

/// `name=value` for [`exec`].
pub(crate) fn new_env_var(name: &OsStr, value: &OsStr) -> Option<NewEnvVar> {
    Some((name.to_owned(), value.to_owned()))
}

/// Bytes back into an OS string (lossy: the launcher's byte-level processing is of UTF-8 text here).
pub(crate) fn os_from_bytes(bytes: Vec<u8>) -> OsString {
    OsString::from(String::from_utf8_lossy(&bytes).into_owned())
}

/// A path from bytes read from a file (a manifest target), read as UTF-8.
pub(crate) fn path_from_bytes(bytes: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
}

pub(crate) fn open_nonblocking(path: &Path) -> io::Result<File> {
    File::open(path)
}

/// Test-only fault injection: ends the process at once (no clean-up runs).
#[cfg(feature = "fault-injection")]
pub(crate) fn kill_self() {
    std::process::abort();
}
