//! The environment the launcher was started with, captured once and never changed in-process: the plan
//! records changes separately and the child gets them applied (`Plan::final_env`).

use std::ffi::{OsStr, OsString};

#[derive(Debug, Default, Clone)]
pub struct Environment {
    vars: Vec<(OsString, OsString)>,
}

impl Environment {
    pub fn capture() -> Environment {
        Environment {
            vars: std::env::vars_os().collect(),
        }
    }

    pub fn from_vars(vars: Vec<(OsString, OsString)>) -> Environment {
        Environment { vars }
    }

    /// The first value of `name` (a duplicated variable keeps its first value, as `getenv` does).
    pub fn get(&self, name: &str) -> Option<&OsStr> {
        self.vars
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_os_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&OsStr, &OsStr)> {
        self.vars
            .iter()
            .map(|(k, v)| (k.as_os_str(), v.as_os_str()))
    }
}

/// Bytes from an OS string, re-wrapped after byte-level processing.
#[cfg(unix)]
pub fn os_from_bytes(bytes: Vec<u8>) -> OsString {
    std::os::unix::ffi::OsStringExt::from_vec(bytes)
}

#[cfg(not(unix))]
pub fn os_from_bytes(bytes: Vec<u8>) -> OsString {
    OsString::from(String::from_utf8_lossy(&bytes).into_owned())
}
