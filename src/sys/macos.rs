//! macOS: `_NSGetExecutablePath` (through std, `std_runtime.rs`) gives our own executable; `argv[0]` is the
//! path as invoked.
//! Compile-checked by scripts/test (`cargo check --target x86_64-apple-darwin`), not run here; kept one
//! module away so that a port needs no change to the policy modules.

pub use super::std_runtime::start_up;
pub(crate) use super::std_runtime::{invoked_path, now, open_own_executable, own_executable_path};

/// std's runtime start-up reopened any closed standard descriptor without saying which: unknown.
pub(crate) fn closed_at_start(_fd: i32) -> Option<bool> {
    None
}

/// Whether we run setuid or setgid (`issetugid`), where the caller's environment must not be trusted.
pub(crate) fn is_secure_exec() -> bool {
    // SAFETY: issetugid has no preconditions.
    unsafe { libc::issetugid() != 0 }
}
