//! The operating-system seam. Policy lives in the OS-neutral modules; this module and the one file per
//! OS below it own only what differs: how to find our own executable, how to identify a file, and how
//! to hand over to the interpreter (`execve` on Unix, spawn-and-wait on Windows). Every OS file offers
//! the same function names.

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub use unix::*;

#[cfg(target_os = "linux")]
#[path = "linux.rs"]
mod os;
#[cfg(target_os = "macos")]
#[path = "macos.rs"]
mod os;
#[cfg(windows)]
#[path = "windows.rs"]
mod os;

pub use os::*;
