//! The one Python-version type: a `major.minor` pair (with a free-threaded build's `t`), as the descriptor
//! states it, as an interpreter's name or probe reports it, and as a venv's `lib/pythonX.Y[t]` directories
//! spell it.

use std::ffi::OsStr;
use std::fmt;

/// A Python `major.minor` version, and whether the build is free-threaded (`3.13t`): a free-threaded
/// CPython has another ABI and its own `lib/python3.13t`, so `3.13t` and `3.13` are different versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PythonVersion {
    pub(crate) major: u32,
    pub(crate) minor: u32,
    pub(crate) free_threaded: bool,
}

impl PythonVersion {
    /// `major.minor` of a build with the GIL (the unit tests' shorthand).
    #[cfg(test)]
    pub(crate) const fn new(major: u32, minor: u32) -> PythonVersion {
        PythonVersion {
            major,
            minor,
            free_threaded: false,
        }
    }

    /// `"3.11"` → 3.11; `"3.13t"` → free-threaded 3.13.
    pub fn parse(text: &str) -> Option<PythonVersion> {
        let (text, free_threaded) = match text.strip_suffix('t') {
            Some(core) => (core, true),
            None => (text, false),
        };
        let (major, minor) = text.split_once('.')?;
        let all_digits =
            |s: &str| !s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(major) || !all_digits(minor) {
            return None;
        }
        Some(PythonVersion {
            major: major.parse().ok()?,
            minor: minor.parse().ok()?,
            free_threaded,
        })
    }

    /// An interpreter file name: `python3.11` → 3.11; `python3.13t` and `python3.13td` → 3.13t; the
    /// debug (`d`) and old pymalloc (`m`) flags are not part of the version.
    pub(crate) fn from_interpreter_name(name: &OsStr) -> Option<PythonVersion> {
        let name = name.to_str()?.strip_prefix("python")?;
        PythonVersion::parse(name.trim_end_matches(['d', 'm']))
    }

    /// The version a venv-relative site-packages path names: `lib/python3.11/site-packages` → 3.11
    /// (`python3.13t` → 3.13t); `Lib/site-packages` → none.
    pub(crate) fn in_site_packages(rel: &str) -> Option<PythonVersion> {
        rel.split('/')
            .filter_map(|segment| segment.strip_prefix("python"))
            .find_map(PythonVersion::parse)
    }

    /// `lib/pythonX.Y[t]`, relative to a prefix or venv: the standard library of an installation.
    pub(crate) fn lib_dir(self) -> String {
        format!("lib/python{self}")
    }

    /// `lib/pythonX.Y[t]/site-packages`, relative to a venv (where CPython's `site` looks).
    pub fn site_packages(self) -> String {
        let mut out = self.lib_dir();
        out.push_str("/site-packages");
        out
    }
}

impl fmt::Display for PythonVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = if self.free_threaded { "t" } else { "" };
        write!(f, "{}.{}{t}", self.major, self.minor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_from_text_names_and_paths() {
        let v = PythonVersion::new;
        let t = |major, minor| PythonVersion {
            free_threaded: true,
            ..v(major, minor)
        };
        assert_eq!(PythonVersion::parse("3.11"), Some(v(3, 11)));
        assert_eq!(PythonVersion::parse("3.13t"), Some(t(3, 13)));
        assert_ne!(t(3, 13), v(3, 13));
        assert_eq!(PythonVersion::parse("3"), None);
        let name = |n: &str| PythonVersion::from_interpreter_name(OsStr::new(n));
        assert_eq!(name("python3.11"), Some(v(3, 11)));
        assert_eq!(name("python3.13t"), Some(t(3, 13)));
        assert_eq!(name("python3.13td"), Some(t(3, 13)));
        assert_eq!(name("python3.11d"), Some(v(3, 11)));
        assert_eq!(name("python3"), None);
        assert_eq!(name("python"), None);
        assert_eq!(name("python3.11-config"), None);
        let site = PythonVersion::in_site_packages;
        assert_eq!(site("lib/python3.11/site-packages"), Some(v(3, 11)));
        assert_eq!(site("lib/python3.13t/site-packages"), Some(t(3, 13)));
        assert_eq!(site("Lib/site-packages"), None);
        assert_eq!(v(3, 11).site_packages(), "lib/python3.11/site-packages");
        assert_eq!(v(3, 11).to_string(), "3.11");
        assert_eq!(t(3, 13).site_packages(), "lib/python3.13t/site-packages");
        assert_eq!(t(3, 13).lib_dir(), "lib/python3.13t");
        assert_eq!(t(3, 13).to_string(), "3.13t");
    }
}
