//! The environment the launcher was started with, and the one the program gets.
//!
//! It is captured once and never changed in-process; the plan records changes separately and
//! [`Environment::for_child`] applies them. On Unix nothing is copied: the inherited `NAME=value`
//! strings are the process's own `environ` entries, and the ones the program keeps are handed to
//! `execve` as the same pointers. (The launcher never calls `setenv`, so those strings stay valid and
//! unchanged for the life of the process.) A launch therefore costs the same whether the caller's
//! environment has ten variables or a thousand.

use std::ffi::{OsStr, OsString};

#[cfg(unix)]
use crate::sys::{os_str_bytes, os_str_from_bytes};
#[cfg(unix)]
use std::ffi::CString;

/// The environment the launcher was started with, captured once (see the module documentation).
pub(crate) struct Environment {
    /// `NAME=value` bytes; each is followed in memory by the NUL that ends its `environ` string.
    #[cfg(unix)]
    entries: Vec<&'static [u8]>,
    #[cfg(not(unix))]
    vars: Vec<(OsString, OsString)>,
}

/// The program's environment, ready for the OS seam.
pub(crate) struct ChildEnv {
    /// Inherited `environ` strings (NUL-terminated in memory, see [`Environment`]).
    #[cfg(unix)]
    pub(crate) inherited: Vec<&'static [u8]>,
    /// Variables the plan sets, as `NAME=value` C strings.
    #[cfg(unix)]
    pub(crate) added: Vec<CString>,
    #[cfg(not(unix))]
    pub(crate) vars: Vec<(OsString, OsString)>,
}

#[cfg(unix)]
fn split(entry: &[u8]) -> (&[u8], &[u8]) {
    match memchr::memchr(b'=', entry) {
        Some(eq) => (&entry[..eq], &entry[eq + 1..]),
        None => (entry, &entry[entry.len()..]),
    }
}

impl Environment {
    #[cfg(unix)]
    pub(crate) fn capture() -> Environment {
        Environment {
            entries: crate::sys::environ_entries(),
        }
    }

    #[cfg(not(unix))]
    pub(crate) fn capture() -> Environment {
        Environment {
            vars: std::env::vars_os().collect(),
        }
    }

    /// The first value of `name` (a duplicated variable keeps its first value, as `getenv` does).
    #[cfg(unix)]
    pub(crate) fn get(&self, name: &str) -> Option<&OsStr> {
        let name = name.as_bytes();
        self.entries
            .iter()
            .find(|e| e.len() > name.len() && e[name.len()] == b'=' && e.starts_with(name))
            .map(|e| os_str_from_bytes(&e[name.len() + 1..]))
    }

    /// The first value of `name`.
    #[cfg(not(unix))]
    pub(crate) fn get(&self, name: &str) -> Option<&OsStr> {
        self.vars
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_os_str())
    }

    /// The inherited environment without `unset` and without the names in `set`, then `set`.
    pub(crate) fn for_child(&self, set: &[(OsString, OsString)], unset: &[OsString]) -> ChildEnv {
        let replaced =
            |name: &OsStr| unset.iter().any(|u| u == name) || set.iter().any(|(k, _)| k == name);
        #[cfg(unix)]
        {
            let inherited = self
                .entries
                .iter()
                .copied()
                .filter(|e| !replaced(os_str_from_bytes(split(e).0)))
                .collect();
            let added = set
                .iter()
                .filter_map(|(k, v)| {
                    let mut entry = Vec::with_capacity(k.len() + v.len() + 1);
                    entry.extend_from_slice(os_str_bytes(k));
                    entry.push(b'=');
                    entry.extend_from_slice(os_str_bytes(v));
                    // The descriptor refuses NUL in names and values, and OS strings from the
                    // environment cannot hold one, so nothing is dropped here in practice.
                    CString::new(entry).ok()
                })
                .collect();
            ChildEnv { inherited, added }
        }
        #[cfg(not(unix))]
        {
            let mut vars: Vec<(OsString, OsString)> = self
                .vars
                .iter()
                .filter(|(k, _)| !replaced(k))
                .cloned()
                .collect();
            vars.extend(set.iter().cloned());
            ChildEnv { vars }
        }
    }
}

pub(crate) use crate::sys::os_from_bytes;
