//! The environment the launcher was started with, and the one the program gets.
//!
//! It is captured once and never changed in-process; the plan records changes separately and
//! [`Environment::for_child`] applies them. The policy is here and OS-neutral (the first of duplicated
//! names wins, as `getenv` does; the program gets the inherited variables minus those the plan unsets
//! or sets, then the plan's); how a variable is held is the OS seam's (`sys::EnvVar`).
//!
//! On Unix nothing is copied: the inherited `NAME=value` strings are the process's own `environ`
//! entries, and the ones the program keeps are handed to `execve` as the same pointers. (The launcher
//! never calls `setenv`, so those strings stay valid and unchanged for the life of the process.) A
//! launch therefore costs the same whether the caller's environment has ten variables or a thousand.

use std::ffi::{OsStr, OsString};

use crate::sys;

/// The environment the launcher was started with, captured once (see the module documentation).
pub(crate) struct Environment {
    /// In the order the process received them.
    vars: Vec<sys::EnvVar>,
    /// The first byte of each variable's name, in the same order: a lookup finds its candidates with one
    /// `memchr` over these instead of comparing every name (a launch makes about 16 lookups, and a CI
    /// job's environment holds a hundred variables).
    firsts: Vec<u8>,
}

/// The program's environment, ready for [`sys::exec`].
pub(crate) struct ChildEnv {
    /// Inherited variables the program keeps, as the OS held them (on Unix, `environ`'s own strings).
    pub(crate) inherited: Vec<sys::EnvVar>,
    /// Variables the plan sets, in the form `exec` takes.
    pub(crate) added: Vec<sys::NewEnvVar>,
}

impl Environment {
    pub(crate) fn capture() -> Environment {
        let vars = sys::environ_vars();
        let firsts = vars.iter().map(sys::env_first_byte).collect();
        Environment { vars, firsts }
    }

    /// The first value of `name` (a duplicated variable keeps its first value, as `getenv` does).
    pub(crate) fn get(&self, name: &str) -> Option<&OsStr> {
        let first = name.as_bytes().first().copied()?;
        memchr::memchr_iter(first, &self.firsts).find_map(|i| sys::env_value(&self.vars[i], name))
    }

    /// The inherited environment without `unset` and without the names in `set`, then `set`.
    pub(crate) fn for_child(&self, set: &[(OsString, OsString)], unset: &[OsString]) -> ChildEnv {
        // Most inherited names start with a letter none of the replaced ones starts with (HOME, LANG,
        // USER...): one bit test rules them out before any comparison. A large environment costs little.
        let mut first = [0u64; 4];
        for name in unset.iter().chain(set.iter().map(|(k, _)| k)) {
            let b = name.as_encoded_bytes().first().copied().unwrap_or(0);
            first[usize::from(b >> 6)] |= 1 << (b & 63);
        }
        let replaced = |var: &sys::EnvVar, b: u8| {
            first[usize::from(b >> 6)] & (1 << (b & 63)) != 0 && {
                let name = sys::env_name(var);
                unset.iter().any(|u| u == name) || set.iter().any(|(k, _)| k == name)
            }
        };
        let inherited = self
            .vars
            .iter()
            .zip(&self.firsts)
            .filter(|&(var, &b)| !replaced(var, b))
            .map(|(var, _)| sys::EnvVar::clone(var))
            .collect();
        let added = set
            .iter()
            .filter_map(|(name, value)| sys::new_env_var(name, value))
            .collect();
        ChildEnv { inherited, added }
    }
}

pub(crate) use crate::sys::os_from_bytes;
