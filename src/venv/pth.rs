//! The one owner of the `.pth` format: which directories go on the import path, how each becomes a
//! line of `_py_launcher.pth`, and how the trace reads them back.
//!
//! `site` reads a `.pth` file as text in the locale's encoding (UTF-8), splits it at any line break
//! (universal newlines), strips trailing white space and joins a relative line to site-packages. A
//! directory that cannot survive that unchanged is an error naming it, never silently left off.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use super::Request;
use crate::environment::os_from_bytes;
use crate::error::{show_path, Error, Result};
use crate::limits::MAX_PTH_LEN;
use crate::runfiles::normalize_lexically;

pub use super::layout::PTH_NAME;

/// The import directories, in order, as absolute paths: `imports`, then the workspace root (or every
/// top-level directory with `import_all`). In manifest mode each runfiles directory becomes every real
/// directory that holds its files, since no tree joins them. Each appears once. Linear in the number
/// of imports (and manifest lines).
pub(crate) fn candidate_dirs(request: &Request) -> Vec<PathBuf> {
    let d = request.descriptor;
    let mut wanted: Vec<String> = d.imports.clone();
    wanted.push(d.workspace_name.clone());
    let runfiles = request.runfiles;
    if d.import_all {
        let mut tops: Vec<String> = match runfiles.manifest() {
            Some(manifest) => manifest
                .lines()
                .filter_map(|l| {
                    l.link
                        .split(|b| *b == b'/')
                        .next()
                        .map(|s| String::from_utf8_lossy(s).into_owned())
                })
                .collect(),
            None => fs::read_dir(&runfiles.root)
                .into_iter()
                .flatten()
                .flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir() || t.is_symlink()))
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect(),
        };
        tops.sort();
        tops.dedup();
        wanted.extend(tops);
    }
    let mut seen: HashSet<PathBuf> = HashSet::with_capacity(wanted.len());
    let mut dirs: Vec<PathBuf> = Vec::with_capacity(wanted.len());
    let mut push = |dir: PathBuf| {
        if seen.insert(dir.clone()) {
            dirs.push(dir)
        }
    };
    match runfiles.manifest() {
        Some(manifest) => {
            let keys: Vec<&str> = wanted.iter().map(String::as_str).collect();
            for real in manifest.real_dirs_under(&keys).into_iter().flatten() {
                push(real);
            }
        }
        None => wanted.iter().for_each(|w| push(runfiles.root.join(w))),
    }
    dirs
}

/// `candidate_dirs` that can be `.pth` lines (what the fuzz harness checks).
pub fn import_dirs(request: &Request) -> Vec<PathBuf> {
    candidate_dirs(request)
        .into_iter()
        .filter(|dir| line_problem(dir).is_none())
        .collect()
}

/// Why a directory cannot be one `.pth` line that `site` reads back unchanged, if it cannot.
pub(crate) fn line_problem(dir: &Path) -> Option<&'static str> {
    let bytes = dir.as_os_str().as_encoded_bytes();
    if !dir.is_absolute() {
        Some("it is not an absolute path (site would join it to site-packages)")
    } else if bytes.iter().any(|b| matches!(b, b'\n' | b'\r')) {
        Some("it holds a line break")
    } else if bytes.last().is_some_and(u8::is_ascii_whitespace) {
        Some("it ends in white space, which site strips")
    } else if std::str::from_utf8(bytes).is_err() {
        Some("it is not valid UTF-8, which site cannot read from a .pth file")
    } else {
        None
    }
}

/// The file's content: one absolute directory per line. An import directory that cannot be a line is
/// an error naming it.
pub(crate) fn content(request: &Request) -> Result<Vec<u8>> {
    let mut pth = Vec::new();
    for dir in candidate_dirs(request) {
        if let Some(why) = line_problem(&dir) {
            return Err(Error::runfiles(
                format!(
                    "the import directory {} cannot go on the import path: {why}",
                    show_path(&dir)
                ),
                "move the binary and its runfiles to a path without line breaks or non-UTF-8 bytes, and start it by an absolute path or from an existing directory",
            ));
        }
        pth.extend_from_slice(dir.as_os_str().as_encoded_bytes());
        pth.push(b'\n');
    }
    Ok(pth)
}

/// The import-path lines of the `.pth` file in `site_packages`, as `site` turns them into directories
/// (joined to site-packages, `..` folded without resolving links). Empty when there is none.
pub(crate) fn read(site_packages: &Path) -> Vec<PathBuf> {
    let Ok(text) = crate::sys::read_regular(&site_packages.join(PTH_NAME), MAX_PTH_LEN) else {
        return Vec::new();
    };
    text.split(|b| matches!(b, b'\n' | b'\r'))
        .filter(|l| !l.is_empty() && !l.starts_with(b"import") && !l.starts_with(b"#"))
        .map(|l| normalize_lexically(&site_packages.join(os_from_bytes(l.to_vec()))))
        .collect()
}
