//! What every Unix shares: file identity, permission bits, process checks and `exec`.

use std::ffi::{CString, OsString};
use std::fs::Metadata;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use crate::environment::ChildEnv;

/// A file's identity (device and inode): how the launcher notices that a path is itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileId {
    dev: u64,
    ino: u64,
}

pub(crate) fn file_id(path: &Path) -> io::Result<FileId> {
    let meta = std::fs::metadata(path)?;
    Ok(FileId {
        dev: meta.dev(),
        ino: meta.ino(),
    })
}

pub(crate) fn file_id_of(meta: &Metadata) -> FileId {
    FileId {
        dev: meta.dev(),
        ino: meta.ino(),
    }
}

/// What changes when a file is replaced, written or touched: device, inode, size, and the modification
/// and status-change times in nanoseconds. Nobody can set a status-change time back (short of root
/// setting the clock), so an equal stamp means the content seen before.
pub(crate) fn content_stamp(meta: &Metadata) -> [u64; 5] {
    [
        meta.dev(),
        meta.ino(),
        meta.size(),
        nanos(meta.mtime(), meta.mtime_nsec()),
        nanos(meta.ctime(), meta.ctime_nsec()),
    ]
}

/// A directory's modification time in nanoseconds: it changes whenever an entry is added, removed or
/// replaced in it.
pub(crate) fn modified_nanos(meta: &Metadata) -> u64 {
    nanos(meta.mtime(), meta.mtime_nsec())
}

fn nanos(secs: i64, nsec: i64) -> u64 {
    (secs as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(nsec as u64)
}

pub(crate) fn is_executable(meta: &Metadata) -> bool {
    meta.is_file() && meta.permissions().mode() & 0o111 != 0
}

/// On Linux the kernel hands it over at exec (`AT_EUID`, the launcher never changes it): no system call.
/// Where temporary files go when `TMPDIR` does not say.
pub(crate) fn default_temp_dir() -> std::path::PathBuf {
    std::path::PathBuf::from("/tmp")
}

pub(crate) fn effective_uid() -> u32 {
    #[cfg(target_os = "linux")]
    // SAFETY: getauxval has no preconditions; AT_EUID is always present on Linux.
    let uid = unsafe { libc::getauxval(libc::AT_EUID) as u32 };
    #[cfg(not(target_os = "linux"))]
    // SAFETY: geteuid has no preconditions and cannot fail.
    let uid = unsafe { libc::geteuid() };
    uid
}

pub(crate) fn owner_and_mode(meta: &Metadata) -> (u32, u32) {
    (meta.uid(), meta.mode())
}

/// Whether a process with this PID exists (a process of another user counts as existing).
pub(crate) fn process_exists(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks for existence and permission; it sends nothing.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// Replaces this process with the interpreter. Returns only on failure.
///
/// This is a bare `execve`: unlike `execvp` (which std's `Command::exec` uses), it never retries a file
/// the kernel refuses (ENOEXEC) through `/bin/sh`, so no shell can ever run in the launch path. Signal
/// state passes through as the caller set it, as with a direct `exec`: the Linux launcher never touches
/// it (no std runtime start-up). Where std's runtime did run (macOS), SIGPIPE goes back to its default
/// disposition first, since std ignores it and an ignored signal survives `exec`.
pub(crate) fn exec(program: &Path, argv: &[OsString], env: &ChildEnv) -> io::Error {
    let to_c = |bytes: &[u8]| {
        CString::new(bytes).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
    };
    let program = match to_c(program.as_os_str().as_bytes()) {
        Ok(program) => program,
        Err(err) => return err,
    };
    let argv = match argv
        .iter()
        .map(|a| to_c(a.as_bytes()))
        .collect::<io::Result<Vec<_>>>()
    {
        Ok(argv) => argv,
        Err(err) => return err,
    };
    let mut argv_ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    argv_ptrs.push(std::ptr::null());
    let mut envp: Vec<*const libc::c_char> =
        Vec::with_capacity(env.inherited.len() + env.added.len() + 1);
    // Each inherited entry is a slice of an `environ` string, whose NUL follows it in memory.
    envp.extend(
        env.inherited
            .iter()
            .map(|e| e.as_ptr().cast::<libc::c_char>()),
    );
    envp.extend(env.added.iter().map(|e| e.as_ptr()));
    envp.push(std::ptr::null());
    // SAFETY: plain libc calls; every pointer array is NULL-terminated and its strings outlive the call.
    unsafe {
        #[cfg(not(target_os = "linux"))]
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        libc::execve(program.as_ptr(), argv_ptrs.as_ptr(), envp.as_ptr());
    }
    io::Error::last_os_error()
}

/// Runs `program args...` with stdin from /dev/null, stderr inherited, this process's environment with
/// `env` replacing variables of the same names, and the default dispositions of the signals Rust's
/// runtime changed (SIGPIPE) and an empty signal mask, as `exec` gives the program. Returns its exit
/// status (`None` when it died by a signal) and stdout. Used once per run-time venv, to ask a
/// wrapper-script interpreter what it really is; a bare `posix_spawn` keeps std's general process
/// machinery out of the launcher.
pub(crate) fn run_capturing_stdout(
    program: &Path,
    args: &[&str],
    env: &[(&str, &std::ffi::OsStr)],
) -> io::Result<(Option<i32>, Vec<u8>)> {
    let to_c = |bytes: &[u8]| {
        CString::new(bytes).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
    };
    let program = to_c(program.as_os_str().as_bytes())?;
    let args = args
        .iter()
        .map(|a| to_c(a.as_bytes()))
        .collect::<io::Result<Vec<_>>>()?;
    let mut argv: Vec<*mut libc::c_char> = vec![program.as_ptr() as *mut _];
    argv.extend(args.iter().map(|a| a.as_ptr() as *mut libc::c_char));
    argv.push(std::ptr::null_mut());
    let added = env
        .iter()
        .map(|(k, v)| {
            let mut entry = k.as_bytes().to_vec();
            entry.push(b'=');
            entry.extend_from_slice(v.as_bytes());
            to_c(&entry)
        })
        .collect::<io::Result<Vec<_>>>()?;
    // Each inherited variable's NUL follows it in memory (see [`EnvVar`]).
    let mut envp: Vec<*mut libc::c_char> = environ_vars()
        .into_iter()
        .filter(|var| !env.iter().any(|(k, _)| env_value(var, k).is_some()))
        .map(|var| var.as_ptr() as *mut libc::c_char)
        .collect();
    envp.extend(added.iter().map(|e| e.as_ptr() as *mut libc::c_char));
    envp.push(std::ptr::null_mut());
    let dev_null = c"/dev/null";
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: plain libc calls on locals; the pipe ends are closed on every path below.
    unsafe {
        // pipe + FD_CLOEXEC rather than pipe2, which macOS lacks; the launcher is single-threaded, so no
        // other fork can see the descriptors in between.
        if libc::pipe(fds.as_mut_ptr()) != 0 {
            return Err(io::Error::last_os_error());
        }
        for fd in fds {
            libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
        }
        let (read_end, write_end) = (fds[0], fds[1]);
        let mut actions: libc::posix_spawn_file_actions_t = std::mem::zeroed();
        libc::posix_spawn_file_actions_init(&mut actions);
        libc::posix_spawn_file_actions_adddup2(&mut actions, write_end, 1);
        libc::posix_spawn_file_actions_addopen(
            &mut actions,
            0,
            dev_null.as_ptr(),
            libc::O_RDONLY,
            0,
        );
        let mut attr: libc::posix_spawnattr_t = std::mem::zeroed();
        libc::posix_spawnattr_init(&mut attr);
        let mut defaults: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut defaults);
        libc::sigaddset(&mut defaults, libc::SIGPIPE);
        libc::posix_spawnattr_setsigdefault(&mut attr, &defaults);
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        libc::posix_spawnattr_setsigmask(&mut attr, &empty);
        libc::posix_spawnattr_setflags(
            &mut attr,
            (libc::POSIX_SPAWN_SETSIGDEF | libc::POSIX_SPAWN_SETSIGMASK) as _,
        );
        let mut pid: libc::pid_t = 0;
        let rc = libc::posix_spawn(
            &mut pid,
            program.as_ptr(),
            &actions,
            &attr,
            argv.as_ptr(),
            envp.as_ptr(),
        );
        libc::posix_spawn_file_actions_destroy(&mut actions);
        libc::posix_spawnattr_destroy(&mut attr);
        libc::close(write_end);
        if rc != 0 {
            libc::close(read_end);
            return Err(io::Error::from_raw_os_error(rc));
        }
        let mut output = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = libc::read(read_end, buf.as_mut_ptr().cast(), buf.len());
            if n > 0 {
                output.extend_from_slice(&buf[..n as usize]);
            } else if n == 0 || io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
                break;
            }
        }
        libc::close(read_end);
        let mut status = 0;
        while libc::waitpid(pid, &mut status, 0) < 0 {
            if io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
                return Err(io::Error::last_os_error());
            }
        }
        let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
        Ok((code, output))
    }
}

fn stdout_was_closed() -> bool {
    // The Linux launcher's own start-up knows (a `/dev/null` opened read-write by a caller, as Python's
    // `subprocess.DEVNULL` does, is not a closed descriptor); the guess below is for std's start-up.
    if let Some(closed) = super::closed_at_start(1) {
        return closed;
    }
    // SAFETY: fcntl and fstat on a descriptor number, into a local buffer.
    unsafe {
        let flags = libc::fcntl(1, libc::F_GETFL);
        if flags < 0 {
            return true;
        }
        if flags & libc::O_ACCMODE != libc::O_RDWR {
            return false;
        }
        let mut st: libc::stat = std::mem::zeroed();
        if libc::fstat(1, &mut st) != 0 || st.st_mode & libc::S_IFMT != libc::S_IFCHR {
            return false;
        }
        std::fs::metadata("/dev/null")
            .is_ok_and(|null| std::os::unix::fs::MetadataExt::rdev(&null) == st.st_rdev as u64)
    }
}

/// The parent's process ID.
pub(crate) fn parent_pid() -> u32 {
    std::os::unix::process::parent_id()
}

/// Writes all of `bytes` to file descriptor 1. Unlike `std::io::stdout`, a closed descriptor (EBADF) is
/// an error here, not silently treated as success.
///
/// A descriptor 1 that was closed when we started is also an error. The start-up reopens a closed
/// standard descriptor on `/dev/null` (so that no file the launcher opens takes its number): the Linux
/// launcher's own start-up records which ones it reopened (`closed_at_start`); where std's runtime did it,
/// `/dev/null` open read-write on descriptor 1 is taken to mean "closed", as a shell's `>/dev/null`
/// (write-only) never gives that.
pub(crate) fn write_stdout(mut bytes: &[u8]) -> io::Result<()> {
    if stdout_was_closed() {
        return Err(io::Error::new(
            io::ErrorKind::BrokenPipe,
            "it was closed when the launcher started",
        ));
    }
    while !bytes.is_empty() {
        // SAFETY: writing from a live slice to a file descriptor.
        let n = unsafe { libc::write(1, bytes.as_ptr().cast(), bytes.len()) };
        if n < 0 {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(err);
        }
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        bytes = &bytes[n as usize..];
    }
    Ok(())
}

/// Creates a directory only its owner can enter (0700), and with `recursive` its missing parents (0700
/// too; existing ones are left as they are), whatever the umask: a umask that strips owner bits is
/// undone with a `chmod` of what was just made.
pub(crate) fn create_private_dir(path: &Path, recursive: bool) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if recursive {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            if std::fs::symlink_metadata(parent).is_err() {
                create_private_dir(parent, true)?;
            }
        }
    }
    match std::fs::DirBuilder::new().mode(0o700).create(path) {
        Ok(()) => {}
        Err(err) if recursive && err.kind() == io::ErrorKind::AlreadyExists && path.is_dir() => {
            return Ok(())
        }
        Err(err) => return Err(err),
    }
    let meta = std::fs::symlink_metadata(path)?;
    if meta.is_dir() && meta.mode() & 0o777 != 0o700 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Creates a new file only its owner can read (0600, whatever the umask); fails if anything exists at
/// `path` (`O_EXCL`).
pub(crate) fn create_private_file(path: &Path) -> io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    Ok(file)
}

/// Creates `link` as a symbolic link to `target`.
pub(crate) fn symlink(target: &Path, link: &Path) -> io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

/// The error `exec` reports for a file the kernel cannot execute (no `#!`, not a binary format).
pub(crate) const ENOEXEC: i32 = libc::ENOEXEC;

/// Opens a file for reading only if it is a regular file of at most `max` bytes. The open itself never
/// blocks (`O_NONBLOCK`: a FIFO without a writer would otherwise hang it) and never takes a controlling
/// terminal; the type and size come from `fstat` on the opened file, so a path swapped in between
/// cannot slip past the check.
pub(crate) fn open_regular(path: &Path, max: u64) -> io::Result<(std::fs::File, Metadata)> {
    let file = open_nonblocking(path)?;
    let meta = file.metadata()?;
    super::check_regular(&meta, max)?;
    Ok((file, meta))
}

// ---------------------------------------------------------------------------------------------------------
// Memory, positioned reads, file modes, the environment and OS strings as bytes.

/// A private read-only mapping of the first `len` bytes of a file, unmapped when dropped.
pub(crate) struct Mapping {
    ptr: *mut libc::c_void,
    len: usize,
}

impl Mapping {
    /// Maps `len` (> 0) bytes of `file`; `None` when the kernel refuses (the caller then reads the file).
    pub(crate) fn new(file: &std::fs::File, len: usize) -> Option<Mapping> {
        use std::os::fd::AsRawFd;
        if len == 0 {
            return None;
        }
        // SAFETY: a private read-only mapping of a file we opened; the kernel validates the arguments.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                file.as_raw_fd(),
                0,
            )
        };
        (ptr != libc::MAP_FAILED).then_some(Mapping { ptr, len })
    }

    /// The mapped bytes. A file truncated by someone else while mapped would raise SIGBUS on access: map
    /// only files that are replaced by rename, never rewritten in place (Bazel's manifests are).
    pub(crate) fn bytes(&self) -> &[u8] {
        // SAFETY: the mapping is PROT_READ, `len` bytes long and lives as long as `self`.
        unsafe { std::slice::from_raw_parts(self.ptr as *const u8, self.len) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: ptr/len are exactly what mmap returned; nothing borrows the mapping past `self`.
        unsafe { libc::munmap(self.ptr, self.len) };
    }
}

/// Reads exactly `buf.len()` bytes at `offset`, without moving the file position.
pub(crate) fn read_exact_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

/// Makes `options` create an executable file (mode 0755 before the umask).
pub(crate) fn create_executable(options: &mut std::fs::OpenOptions) {
    std::os::unix::fs::OpenOptionsExt::mode(options, 0o755);
}

extern "C" {
    static environ: *const *const libc::c_char;
}

/// An inherited variable as Unix holds it: the `NAME=value` bytes of one of the process's own `environ`
/// strings, not copied. The NUL that ends the string follows the slice in memory, so [`exec`] passes the
/// same pointer on. Valid for the life of the process because the launcher never calls `setenv`.
pub(crate) type EnvVar = &'static [u8];

/// A variable the launcher sets, in the form `execve` takes: `NAME=value` as a C string.
pub(crate) type NewEnvVar = CString;

/// The process's environment as it received it, in order (see [`EnvVar`]).
pub(crate) fn environ_vars() -> Vec<EnvVar> {
    // SAFETY: `environ` is a NULL-terminated array of NUL-terminated strings set up by the C runtime;
    // nothing in this process modifies the environment, so the strings live until exit.
    unsafe {
        let mut len = 0;
        while !environ.is_null() && !(*environ.add(len)).is_null() {
            len += 1;
        }
        // One allocation of the right size: no reallocation as the vector grows.
        let mut vars = Vec::with_capacity(len);
        for i in 0..len {
            vars.push(std::ffi::CStr::from_ptr(*environ.add(i)).to_bytes());
        }
        vars
    }
}

/// The value of `var` if its name is `name`.
#[inline]
pub(crate) fn env_value<'a>(var: &'a EnvVar, name: &str) -> Option<&'a std::ffi::OsStr> {
    let name = name.as_bytes();
    (var.len() > name.len() && var[name.len()] == b'=' && var.starts_with(name))
        .then(|| os_str_from_bytes(&var[name.len() + 1..]))
}

/// The first byte of `var`'s name (`=` for an entry with an empty name, which no lookup matches).
#[inline]
pub(crate) fn env_first_byte(var: &EnvVar) -> u8 {
    var.first().copied().unwrap_or(b'=')
}

/// The name of `var` (all of it if it holds no `=`).
#[inline]
pub(crate) fn env_name(var: &EnvVar) -> &std::ffi::OsStr {
    let end = memchr::memchr(b'=', var).unwrap_or(var.len());
    os_str_from_bytes(&var[..end])
}

/// `name=value` for `exec`; `None` if it cannot be one. (The descriptor refuses NUL in names and values,
/// and OS strings from the environment cannot hold one, so nothing is dropped here in practice.)
pub(crate) fn new_env_var(name: &std::ffi::OsStr, value: &std::ffi::OsStr) -> Option<NewEnvVar> {
    let mut var = Vec::with_capacity(name.len() + value.len() + 1);
    var.extend_from_slice(name.as_bytes());
    var.push(b'=');
    var.extend_from_slice(value.as_bytes());
    CString::new(var).ok()
}

/// Bytes as an OS string, as they are.
pub(crate) fn os_str_from_bytes(bytes: &[u8]) -> &std::ffi::OsStr {
    std::ffi::OsStr::from_bytes(bytes)
}

/// Bytes back into an OS string, after byte-level processing.
pub(crate) fn os_from_bytes(bytes: Vec<u8>) -> OsString {
    std::os::unix::ffi::OsStringExt::from_vec(bytes)
}

/// A path from bytes read from a file (a manifest target).
pub(crate) fn path_from_bytes(bytes: &[u8]) -> std::path::PathBuf {
    std::path::PathBuf::from(os_str_from_bytes(bytes))
}

/// Opens a file for reading without blocking (a FIFO without a writer reads as empty) and without taking
/// a controlling terminal.
///
/// `openat` rather than std's `open`: on musl, `open` follows an `O_CLOEXEC` open with a redundant
/// `fcntl`, one system call per file on the warm path.
pub(crate) fn open_nonblocking(path: &Path) -> io::Result<std::fs::File> {
    let c_path = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: a NUL-terminated path; the descriptor returned is owned by the File below.
    let fd = unsafe {
        libc::openat(
            libc::AT_FDCWD,
            c_path.as_ptr(),
            libc::O_RDONLY | libc::O_CLOEXEC | libc::O_NONBLOCK | libc::O_NOCTTY,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just opened and is owned by nobody else.
    Ok(unsafe { std::os::fd::FromRawFd::from_raw_fd(fd) })
}

/// Test-only fault injection: ends the process at once, as a `kill -9` would (no clean-up runs).
#[cfg(feature = "fault-injection")]
pub(crate) fn kill_self() {
    // SAFETY: raising a signal on ourselves has no memory-safety preconditions.
    unsafe {
        libc::raise(libc::SIGKILL);
    }
}
