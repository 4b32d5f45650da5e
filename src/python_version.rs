//! The one Python-version type: a `major.minor` pair, as the descriptor states it, as an interpreter's
//! name or probe reports it, and as a venv's `lib/pythonX.Y` directories spell it.

use std::ffi::OsStr;
use std::fmt;

/// A Python `major.minor` version; a free-threaded build's `t` is not part of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PythonVersion {
    pub(crate) major: u32,
    pub(crate) minor: u32,
}

impl PythonVersion {
    /// `major.minor`.
    pub const fn new(major: u32, minor: u32) -> PythonVersion {
        PythonVersion { major, minor }
    }

    /// `"3.11"` → 3.11; `"3.13t"` (free-threaded) keeps the suffix out of the numbers.
    pub fn parse(text: &str) -> Option<PythonVersion> {
        let text = text.strip_suffix('t').unwrap_or(text);
        let (major, minor) = text.split_once('.')?;
        let all_digits =
            |s: &str| !s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(major) || !all_digits(minor) {
            return None;
        }
        Some(PythonVersion::new(major.parse().ok()?, minor.parse().ok()?))
    }

    /// An interpreter file name: `python3.11` → 3.11; also `python3.13t`, `python3.11d`.
    pub(crate) fn from_interpreter_name(name: &OsStr) -> Option<PythonVersion> {
        let name = name.to_str()?.strip_prefix("python")?;
        PythonVersion::parse(name.trim_end_matches(['t', 'd', 'm']))
    }

    /// The version a venv-relative site-packages path names: `lib/python3.11/site-packages` → 3.11
    /// (`python3.13t` counts too); `Lib/site-packages` → none.
    pub(crate) fn in_site_packages(rel: &str) -> Option<PythonVersion> {
        rel.split('/')
            .filter_map(|segment| segment.strip_prefix("python"))
            .find_map(PythonVersion::parse)
    }

    /// `lib/pythonX.Y`, relative to a prefix or venv: the standard library of an installation.
    pub(crate) fn lib_dir(self) -> String {
        format!("lib/python{self}")
    }

    /// `lib/pythonX.Y/site-packages`, relative to a venv.
    pub fn site_packages(self) -> String {
        format!("lib/python{self}/site-packages")
    }
}

impl fmt::Display for PythonVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_from_text_names_and_paths() {
        let v = PythonVersion::new;
        assert_eq!(PythonVersion::parse("3.11"), Some(v(3, 11)));
        assert_eq!(PythonVersion::parse("3.13t"), Some(v(3, 13)));
        assert_eq!(PythonVersion::parse("3"), None);
        let name = |n: &str| PythonVersion::from_interpreter_name(OsStr::new(n));
        assert_eq!(name("python3.11"), Some(v(3, 11)));
        assert_eq!(name("python3.13t"), Some(v(3, 13)));
        assert_eq!(name("python3"), None);
        assert_eq!(name("python"), None);
        assert_eq!(name("python3.11-config"), None);
        let site = PythonVersion::in_site_packages;
        assert_eq!(site("lib/python3.11/site-packages"), Some(v(3, 11)));
        assert_eq!(site("lib/python3.13t/site-packages"), Some(v(3, 13)));
        assert_eq!(site("Lib/site-packages"), None);
        assert_eq!(v(3, 11).site_packages(), "lib/python3.11/site-packages");
        assert_eq!(v(3, 11).to_string(), "3.11");
    }
}
