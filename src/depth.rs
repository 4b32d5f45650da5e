//! The guard against launchers that start one another without end (a finalized launcher named as
//! another's interpreter, directly or through a wrapper).
//!
//! Each launch passes `PY_LAUNCHER_EXEC_DEPTH=<pid>:<depth>` on. A launcher counts the inherited depth
//! only when it runs in that same process (it was `exec`ed by a launcher), or when it is marked as the
//! launcher's own interpreter probe (`<pid>:<depth>:probe`, spawned by that pid). Anything else (the
//! variable as the Python program's children inherit it) counts from zero, so nested `py_binary`
//! subprocesses are never limited; only a chain of launchers inside one process or one probe is.

use std::ffi::{OsStr, OsString};
use std::sync::atomic::{AtomicU32, Ordering};

use crate::error::{Error, Result};
use crate::limits::MAX_EXEC_DEPTH;

pub(crate) const VAR: &str = "PY_LAUNCHER_EXEC_DEPTH";

/// This launch's depth (0 for the first launcher in a process), for the probe it may spawn.
static CURRENT: AtomicU32 = AtomicU32::new(0);

/// Reads the inherited value and refuses a launch that is too deep. `pid`/`parent` are this process's.
pub(crate) fn enter(inherited: Option<&OsStr>, pid: u32, parent: u32) -> Result<u32> {
    let depth = inherited.and_then(|v| counted(v, pid, parent)).unwrap_or(0);
    if depth >= MAX_EXEC_DEPTH {
        return Err(Error::usage(
            format!(
                "{depth} launchers have started one another in a row ({VAR}); a py-launcher binary is named as an interpreter, in a loop"
            ),
            "point the py_runtime at a real Python interpreter, not at another launcher",
        ));
    }
    CURRENT.store(depth, Ordering::Relaxed);
    Ok(depth)
}

fn counted(value: &OsStr, pid: u32, parent: u32) -> Option<u32> {
    let text = value.to_str()?;
    let mut parts = text.split(':');
    let from: u32 = parts.next()?.parse().ok()?;
    let depth: u32 = parts.next()?.parse().ok()?;
    let counts = match parts.next() {
        None => from == pid,
        Some("probe") => from == parent,
        Some(_) => false,
    };
    counts.then_some(depth)
}

/// The value handed to the program this process becomes.
pub(crate) fn for_exec(pid: u32) -> OsString {
    format!("{pid}:{}", CURRENT.load(Ordering::Relaxed) + 1).into()
}

/// The value handed to an interpreter probe this process spawns.
pub(crate) fn for_probe(pid: u32) -> OsString {
    format!("{pid}:{}:probe", CURRENT.load(Ordering::Relaxed) + 1).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_same_process_or_its_probe_counts() {
        assert_eq!(counted(OsStr::new("10:3"), 10, 1), Some(3));
        assert_eq!(counted(OsStr::new("10:3"), 11, 10), None);
        assert_eq!(counted(OsStr::new("10:3:probe"), 11, 10), Some(3));
        assert_eq!(counted(OsStr::new("10:3:probe"), 10, 1), None);
        assert_eq!(counted(OsStr::new("junk"), 10, 1), None);
        assert!(enter(Some(OsStr::new("10:8")), 10, 1).is_err());
        assert_eq!(enter(Some(OsStr::new("10:7")), 10, 1).unwrap(), 7);
    }
}
