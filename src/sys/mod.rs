//! The operating-system seam. Policy lives in the OS-neutral modules; this module and the one file per
//! OS below it own only what differs: how to find our own executable, how to identify a file, how to
//! hand over to the interpreter (`execve` on Unix, spawn-and-wait on Windows), how an inherited
//! environment variable is held (`EnvVar`: on Unix the process's own `environ` string, not copied),
//! memory-mapped and positioned reads, file modes and OS strings as bytes. `unix.rs` is what every Unix
//! shares; `std_runtime.rs` is what an OS started through std's runtime (all but Linux) shares. Every
//! OS file offers the same names, so a port touches only this directory.

#[cfg(not(target_os = "linux"))]
mod std_runtime;
#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub(crate) use unix::*;

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

/// The type and size rule of [`open_regular`], for a file already opened.
pub(crate) fn check_regular(meta: &std::fs::Metadata, max: u64) -> std::io::Result<()> {
    if !meta.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "it is not a regular file (a FIFO, device or directory)",
        ));
    }
    if meta.len() > max {
        return Err(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!("it is larger than {max} bytes"),
        ));
    }
    Ok(())
}

/// Reads a whole regular file of at most `max` bytes (see [`open_regular`]); memory stays bounded even
/// if the file grows while it is read.
pub(crate) fn read_regular(path: &std::path::Path, max: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let (mut file, meta) = open_regular(path, max)?;
    // One byte more than `fstat` said (within `max`), so that a file that grew is still read to its end
    // or to `max`; a short read of a regular file is its end, so the usual case is one `read`, with no
    // second one to see end-of-file.
    let mut bytes = vec![0; (meta.len().saturating_add(1)).min(max) as usize];
    let mut filled = 0;
    while filled < bytes.len() || (bytes.len() as u64) < max {
        if filled == bytes.len() {
            let grown = (bytes.len() as u64 * 2).max(1).min(max);
            bytes.resize(grown as usize, 0);
        }
        match file.read(&mut bytes[filled..]) {
            Ok(0) => break,
            Ok(n) => {
                filled += n;
                if filled < bytes.len() {
                    break;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    bytes.truncate(filled);
    Ok(bytes)
}
