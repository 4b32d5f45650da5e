//! Linux: our own executable is `/proc/self/exe`; the path we were started as is `AT_EXECFN`. The launcher
//! binary starts without std's runtime set-up (see `src/bin/py-launcher.rs`), so the little of it that it
//! needs is here: [`start_up`] and [`args_from_c`].

use std::ffi::{CStr, OsStr, OsString};
use std::fs::File;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU8, Ordering};

/// What std's runtime start-up did that the launcher still needs: file descriptors 0, 1 and 2 open, so
/// that no file the launcher opens takes one of their numbers (a venv file written as if it were stderr,
/// or the interpreter's stdout). One `poll` asks for all three; a closed one gets `/dev/null`, as std did.
pub fn start_up() {
    let mut closed = STARTED;
    let mut fds = [0, 1, 2].map(|fd| libc::pollfd {
        fd,
        events: 0,
        revents: 0,
    });
    // SAFETY: plain libc calls on a local array.
    unsafe {
        if libc::poll(fds.as_mut_ptr(), 3, 0) < 0 {
            // poll can fail only for lack of memory or a signal; check the descriptors one by one then.
            for pfd in &mut fds {
                if libc::fcntl(pfd.fd, libc::F_GETFD) < 0 {
                    pfd.revents = libc::POLLNVAL;
                }
            }
        }
        for pfd in fds {
            if pfd.revents & libc::POLLNVAL != 0 {
                if libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) != pfd.fd {
                    libc::abort();
                }
                closed |= 1 << pfd.fd;
            }
        }
    }
    CLOSED_AT_START.store(closed, Ordering::Relaxed);
}

/// Bit `fd` set: that standard descriptor was closed when the launcher started (and is `/dev/null` now);
/// [`STARTED`] set: [`start_up`] ran, so the other bits are known.
static CLOSED_AT_START: AtomicU8 = AtomicU8::new(0);
const STARTED: u8 = 0x80;

/// Whether standard descriptor `fd` was closed when the launcher started: known exactly when
/// [`start_up`] ran (the launcher binary), `None` otherwise.
pub(crate) fn closed_at_start(fd: i32) -> Option<bool> {
    let bits = CLOSED_AT_START.load(Ordering::Relaxed);
    (bits & STARTED != 0).then(|| bits & (1 << fd) != 0)
}

/// `main`'s arguments as OS strings.
///
/// # Safety
/// `argv` must hold `argc` pointers to NUL-terminated strings, as the C runtime passes them to `main`.
pub unsafe fn args_from_c(argc: libc::c_int, argv: *const *const libc::c_char) -> Vec<OsString> {
    (0..usize::try_from(argc).unwrap_or(0))
        // SAFETY: the caller guarantees `argc` valid pointers in `argv`.
        .map(|i| unsafe { *argv.add(i) })
        .take_while(|arg| !arg.is_null())
        // SAFETY: each non-null pointer is a NUL-terminated string (the caller's guarantee).
        .map(|arg| OsStr::from_bytes(unsafe { CStr::from_ptr(arg) }.to_bytes()).to_owned())
        .collect()
}

/// Opens the running executable itself, whatever path or name it was started under. `openat` rather
/// than `open`: musl's `open` follows an `O_CLOEXEC` open with a redundant `fcntl`.
pub(crate) fn open_own_executable() -> io::Result<File> {
    // SAFETY: a constant NUL-terminated path; the descriptor returned is owned by the File.
    let fd = unsafe {
        libc::openat(
            libc::AT_FDCWD,
            c"/proc/self/exe".as_ptr(),
            libc::O_RDONLY | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just opened and is owned by nobody else.
    Ok(unsafe { std::os::fd::FromRawFd::from_raw_fd(fd) })
}

/// The real path of the running executable.
pub(crate) fn own_executable_path() -> Option<PathBuf> {
    std::fs::read_link("/proc/self/exe").ok()
}

/// The path the kernel was asked to execute (`execve`'s filename), which, unlike `argv[0]`, a caller
/// cannot set to an arbitrary word. Falls back to `argv[0]`.
pub(crate) fn invoked_path(argv0: Option<&OsString>) -> Option<PathBuf> {
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

/// The wall-clock time, asked of the kernel directly. Through the vDSO (what `SystemTime::now` does) the
/// first call looks the function up in the vDSO image and reads the kernel's time page: two page faults,
/// dearer than one system call in a process that asks once and then execs.
pub(crate) fn now() -> std::time::SystemTime {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into the valid local it is given.
    let rc = unsafe { libc::syscall(libc::SYS_clock_gettime, libc::CLOCK_REALTIME, &mut ts) };
    match (rc, u64::try_from(ts.tv_sec), u32::try_from(ts.tv_nsec)) {
        (0, Ok(secs), Ok(nanos)) => std::time::UNIX_EPOCH + std::time::Duration::new(secs, nanos),
        _ => std::time::SystemTime::now(),
    }
}

/// Whether the kernel started us in secure-execution mode (`AT_SECURE`: setuid, setgid or file
/// capabilities), where the caller's environment must not be trusted.
pub(crate) fn is_secure_exec() -> bool {
    // SAFETY: getauxval has no preconditions; it returns 0 when the entry is absent.
    unsafe { libc::getauxval(libc::AT_SECURE) != 0 }
}
