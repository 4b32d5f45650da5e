//! Finding this binary's runfiles and resolving runfiles paths in them.
//!
//! The order is the one Bazel's runfiles libraries follow: `RUNFILES_DIR`, `RUNFILES_MANIFEST_FILE`,
//! `<exe>.runfiles`, `<exe>.runfiles_manifest`, then an executable that itself sits inside some
//! `X.runfiles/` tree. `<exe>` is every path on the chain from the executable as invoked (absolutized
//! against the cwd, not resolved) through each symlink hop to the real file, because `bazel run` starts us
//! with a relative `argv[0]` and a cwd inside the tree, and `bazel-bin/x` is itself a symlink.
//!
//! Every candidate must prove it belongs to this binary by holding the binary's own marker (its main
//! file): a parent binary's inherited variables must not capture a child that is not its data
//! dependency. Once one source is chosen, every path resolves through it; the two sources are never mixed.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use crate::debug::Trace;
use crate::error::{show_path, Error, Result};
use crate::manifest::{Entry, LookupError, Manifest};

/// How the runfiles are present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// A runfiles directory tree.
    Directory,
    /// Only a runfiles manifest.
    Manifest,
}

/// The runfiles a launch found.
pub struct Runfiles {
    /// Tree or manifest.
    pub(crate) mode: Mode,
    /// The runfiles directory (directory mode), or the directory a manifest is named after (manifest
    /// mode, which may not exist).
    pub(crate) root: PathBuf,
    /// The manifest file in manifest mode.
    pub(crate) manifest_path: Option<PathBuf>,
    manifest: Option<Manifest>,
}

/// Where discovery looks. Built by the caller from the environment and the executable's path.
#[derive(Debug, Default, Clone)]
pub(crate) struct Discovery {
    pub(crate) runfiles_dir: Option<OsString>,
    pub(crate) manifest_file: Option<OsString>,
    /// The executable as invoked (or the stub file in the drop-in route), already made absolute.
    pub(crate) invoked: Option<PathBuf>,
    /// The real file behind it, found only if discovery gets that far.
    pub(crate) real: RealPath,
}

/// Where the real file behind the invoked path comes from. Resolving it costs `readlink`/`realpath`
/// calls, so it is done only when the candidates next to the invoked path have all failed.
#[derive(Debug, Default, Clone)]
pub(crate) enum RealPath {
    #[default]
    Unknown,
    /// The running executable (`/proc/self/exe` on Linux).
    OwnExecutable,
    /// This file with every symlink resolved (a drop-in stub).
    CanonicalOf(PathBuf),
}

impl RealPath {
    fn resolve(&self) -> Option<PathBuf> {
        match self {
            RealPath::Unknown => None,
            RealPath::OwnExecutable => crate::sys::own_executable_path(),
            RealPath::CanonicalOf(path) => fs::canonicalize(path).ok(),
        }
    }
}

const MAX_SYMLINK_HOPS: usize = 40;

impl Runfiles {
    /// Finds the runfiles; the root (and manifest) come back absolute: a relative root would put
    /// relative lines on the import path, which `site` joins to site-packages, silently dropping the
    /// imports. Joined to the working directory when it can be learnt, else an error.
    pub(crate) fn discover(
        where_: &Discovery,
        marker: Option<&str>,
        trace: &mut Trace,
    ) -> Result<Runfiles> {
        let mut runfiles = Self::discover_where(where_, marker, trace)?;
        let relative = !runfiles.root.is_absolute()
            || runfiles
                .manifest_path
                .as_ref()
                .is_some_and(|m| !m.is_absolute());
        if relative {
            let cwd = std::env::current_dir().map_err(|e| {
                Error::runfiles(
                    format!(
                        "the runfiles {} were found by a relative path, and the working directory cannot be learnt ({e})",
                        show_path(runfiles.manifest_path.as_deref().unwrap_or(&runfiles.root))
                    ),
                    "start the binary by an absolute path (or set RUNFILES_DIR to an absolute path) from a directory that exists",
                )
            })?;
            // `.` segments go; `..` stays, since only the file system knows what it means.
            runfiles.root = cwd.join(&runfiles.root).components().collect();
            runfiles.manifest_path = runfiles
                .manifest_path
                .map(|m| cwd.join(m).components().collect());
            trace.note(|| format!("runfiles: made absolute: {}", show_path(&runfiles.root)));
        }
        Ok(runfiles)
    }

    fn discover_where(
        where_: &Discovery,
        marker: Option<&str>,
        trace: &mut Trace,
    ) -> Result<Runfiles> {
        let mut tried: Vec<String> = Vec::new();
        // A candidate that exists but lacks the marker: the runfiles were found, they are incomplete.
        // The executable's own candidates name it before inherited variables (a parent's runfiles).
        let mut incomplete_own: Option<(PathBuf, &'static str)> = None;
        let mut incomplete_env: Option<(PathBuf, &'static str)> = None;
        let mut reject = |trace: &mut Trace, what: String, why: &str| {
            trace.note(|| format!("runfiles candidate {what}: rejected, {why}"));
            tried.push(format!("{what} ({why})"));
        };
        let mut lacks = |path: &Path, source: &'static str, why: &str, from_env: bool| {
            let slot = if from_env {
                &mut incomplete_env
            } else {
                &mut incomplete_own
            };
            if why.starts_with("does not") && slot.is_none() {
                *slot = Some((path.to_path_buf(), source));
            }
        };

        if let Some(dir) = non_empty(&where_.runfiles_dir) {
            let dir = PathBuf::from(dir);
            match Self::check_dir(&dir, marker) {
                Ok(()) => return Ok(Self::chosen_dir(dir, "RUNFILES_DIR", trace)),
                Err(why) => {
                    lacks(&dir, "RUNFILES_DIR", why, true);
                    reject(trace, format!("RUNFILES_DIR={}", show_path(&dir)), why)
                }
            }
        }
        if let Some(file) = non_empty(&where_.manifest_file) {
            let file = PathBuf::from(file);
            if let Some(dir) = dir_beside_manifest(&file) {
                if Self::check_dir(&dir, marker).is_ok() {
                    return Ok(Self::chosen_dir(
                        dir,
                        "the directory beside RUNFILES_MANIFEST_FILE",
                        trace,
                    ));
                }
            }
            match Self::check_manifest(&file, marker) {
                Ok(runfiles) => {
                    return Ok(Self::chosen_manifest(
                        runfiles,
                        "RUNFILES_MANIFEST_FILE",
                        trace,
                    ))
                }
                Err(why) => {
                    lacks(&file, "RUNFILES_MANIFEST_FILE", &why, true);
                    reject(
                        trace,
                        format!("RUNFILES_MANIFEST_FILE={}", show_path(&file)),
                        &why,
                    )
                }
            }
        }

        // The usual winner, `<invoked>.runfiles`, is tried before the rest of the chain is worked out.
        if let Some(invoked) = &where_.invoked {
            let dir = with_suffix(invoked, ".runfiles");
            match Self::check_dir(&dir, marker) {
                Ok(()) => return Ok(Self::chosen_dir(dir, "<executable>.runfiles", trace)),
                Err(why) => {
                    lacks(&dir, "<executable>.runfiles", why, false);
                    reject(trace, show_path(&dir), why)
                }
            }
        }
        let chain = executable_chain(where_);
        for exe in chain.iter().skip(usize::from(where_.invoked.is_some())) {
            let dir = with_suffix(exe, ".runfiles");
            match Self::check_dir(&dir, marker) {
                Ok(()) => return Ok(Self::chosen_dir(dir, "<executable>.runfiles", trace)),
                Err(why) => {
                    lacks(&dir, "<executable>.runfiles", why, false);
                    reject(trace, show_path(&dir), why)
                }
            }
        }
        for exe in &chain {
            let file = with_suffix(exe, ".runfiles_manifest");
            match Self::check_manifest(&file, marker) {
                Ok(runfiles) => {
                    return Ok(Self::chosen_manifest(
                        runfiles,
                        "<executable>.runfiles_manifest",
                        trace,
                    ))
                }
                Err(why) => {
                    lacks(&file, "<executable>.runfiles_manifest", &why, false);
                    reject(trace, show_path(&file), &why)
                }
            }
        }
        for exe in &chain {
            if let Some(dir) = enclosing_runfiles_dir(exe) {
                match Self::check_dir(&dir, marker) {
                    Ok(()) => {
                        return Ok(Self::chosen_dir(
                            dir,
                            "the runfiles tree holding the executable",
                            trace,
                        ))
                    }
                    Err(why) => {
                        lacks(&dir, "the runfiles tree holding the executable", why, false);
                        reject(trace, show_path(&dir), why)
                    }
                }
            }
        }

        if let (Some((root, source)), Some(marker)) = (incomplete_own.or(incomplete_env), marker) {
            return Err(incomplete_runfiles(&root, source, marker));
        }
        let looking_for = marker.map_or(String::new(), |m| format!(" holding {m:?}"));
        Err(Error::runfiles(
            format!("no runfiles found{looking_for}; tried: {}", if tried.is_empty() { "nothing".into() } else { tried.join(", ") }),
            "start the binary with `bazel run`/`bazel test` or from bazel-bin, or set RUNFILES_DIR to its runfiles directory",
        ))
    }

    fn check_dir(dir: &Path, marker: Option<&str>) -> std::result::Result<(), &'static str> {
        // One stat in the usual case: a marker found under `dir` proves `dir` is a directory too.
        if let Some(marker) = marker {
            if fs::metadata(dir.join(marker)).is_ok() {
                return Ok(());
            }
        }
        match fs::metadata(dir) {
            Err(_) => Err("missing"),
            Ok(meta) if !meta.is_dir() => Err("not a directory"),
            Ok(_) if marker.is_some() => Err("does not hold this binary's main"),
            Ok(_) => Ok(()),
        }
    }

    fn check_manifest(file: &Path, marker: Option<&str>) -> std::result::Result<Runfiles, String> {
        let manifest = match Manifest::open(file) {
            Ok(manifest) => manifest,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Err("missing".into()),
            Err(err) => return Err(format!("unreadable: {err}")),
        };
        if let Some(marker) = marker {
            match manifest.lookup(marker) {
                Ok(Some(_)) => {}
                Ok(None) => return Err("does not list this binary's main".into()),
                Err(err) => return Err(lookup_reason(&err)),
            }
        }
        let root = dir_beside_manifest(file).unwrap_or_else(|| with_suffix(file, ".d"));
        Ok(Runfiles {
            mode: Mode::Manifest,
            root,
            manifest_path: Some(file.to_path_buf()),
            manifest: Some(manifest),
        })
    }

    fn chosen_dir(root: PathBuf, source: &str, trace: &mut Trace) -> Runfiles {
        trace.note(|| format!("runfiles: directory {} (from {source})", show_path(&root)));
        Runfiles {
            mode: Mode::Directory,
            root,
            manifest_path: None,
            manifest: None,
        }
    }

    fn chosen_manifest(runfiles: Runfiles, source: &str, trace: &mut Trace) -> Runfiles {
        trace.note(|| {
            let path = runfiles
                .manifest_path
                .as_deref()
                .map(show_path)
                .unwrap_or_default();
            format!("runfiles: manifest {path} (from {source}); every path resolves through it")
        });
        runfiles
    }

    /// Resolves runfiles paths. Directory mode joins them to the root without touching the disk;
    /// manifest mode answers them all in one pass over the manifest. `None`: not listed.
    pub(crate) fn resolve_all(&self, keys: &[&str]) -> Result<Vec<Option<PathBuf>>> {
        let Some(manifest) = &self.manifest else {
            return Ok(keys.iter().map(|key| Some(self.root.join(key))).collect());
        };
        let manifest_path = self.manifest_path.as_deref().unwrap_or(Path::new(""));
        manifest
            .lookup_all(keys)
            .into_iter()
            .zip(keys)
            .map(|(found, key)| match found {
                Ok(Some(Entry::Path(path))) => Ok(Some(path)),
                Ok(Some(Entry::Empty)) => Err(Error::runfiles(
                    format!(
                        "{key:?} is listed as an empty file in the manifest {}",
                        show_path(manifest_path)
                    ),
                    "a file the launcher runs must have content; check the rule that produces it",
                )),
                Ok(None) => Ok(None),
                Err(err) => Err(Error::runfiles(
                    format!(
                        "cannot resolve {key:?} in the manifest {}: {}",
                        show_path(manifest_path),
                        lookup_reason(&err)
                    ),
                    "regenerate the runfiles manifest (rebuild the binary)",
                )),
            })
            .collect()
    }

    /// A directory-mode instance for a known root (tests, fuzzing, tools).
    pub fn directory(root: PathBuf) -> Runfiles {
        Runfiles {
            mode: Mode::Directory,
            root,
            manifest_path: None,
            manifest: None,
        }
    }

    /// A manifest-mode instance over manifest bytes already read.
    pub fn from_manifest(path: PathBuf, data: Vec<u8>) -> Runfiles {
        let root = dir_beside_manifest(&path).unwrap_or_else(|| with_suffix(&path, ".d"));
        Runfiles {
            mode: Mode::Manifest,
            root,
            manifest_path: Some(path),
            manifest: Some(Manifest::new(data)),
        }
    }

    /// The manifest, when one was read.
    pub(crate) fn manifest(&self) -> Option<&Manifest> {
        self.manifest.as_ref()
    }
}

/// The runfiles were found, but without this binary's main file: name what was found, and a dangling
/// link if that is what the main file is (only worked out on this failure path).
fn incomplete_runfiles(root: &Path, source: &str, marker: &str) -> Error {
    let what = if root.is_dir() {
        let path = root.join(marker);
        match fs::read_link(&path) {
            Ok(target) => format!(
                "is a dangling link to {} in the runfiles {}",
                show_path(&target),
                show_path(root)
            ),
            Err(_) => format!("is missing from the runfiles {}", show_path(root)),
        }
    } else {
        format!("is not listed in the runfiles manifest {}", show_path(root))
    };
    Error::runfiles(
        format!("the main file {marker:?} {what} (found from {source})"),
        "the runfiles are incomplete or stale: rebuild the binary, and check that the main file is in its srcs (PY_LAUNCHER_DEBUG=1 shows every candidate)",
    )
}

fn lookup_reason(err: &LookupError) -> String {
    match err {
        LookupError::Escapes { key } => {
            format!("the entry for {key:?} links outside the runfiles root or loops")
        }
        LookupError::Conflict { key } => format!("{key:?} is listed twice with different targets"),
    }
}

fn non_empty(value: &Option<OsString>) -> Option<&OsString> {
    value.as_ref().filter(|v| !v.is_empty())
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut text = path.as_os_str().to_owned();
    text.push(suffix);
    PathBuf::from(text)
}

/// `X.runfiles_manifest` → `X.runfiles`; `X.runfiles/MANIFEST` → `X.runfiles`.
fn dir_beside_manifest(manifest: &Path) -> Option<PathBuf> {
    let text = manifest.to_str()?;
    if let Some(stem) = text.strip_suffix(".runfiles_manifest") {
        return Some(PathBuf::from(format!("{stem}.runfiles")));
    }
    if manifest.file_name()? == "MANIFEST" {
        let dir = manifest.parent()?;
        if dir.to_str()?.ends_with(".runfiles") {
            return Some(dir.to_path_buf());
        }
    }
    None
}

/// The executable as invoked, then each symlink hop (a relative link target is joined to the link's
/// own directory, unlike rules_python's bash stage 1), then the real file.
fn executable_chain(where_: &Discovery) -> Vec<PathBuf> {
    let mut chain: Vec<PathBuf> = Vec::new();
    if let Some(invoked) = &where_.invoked {
        let mut current = invoked.clone();
        chain.push(current.clone());
        for _ in 0..MAX_SYMLINK_HOPS {
            let Ok(target) = fs::read_link(&current) else {
                break;
            };
            current = match current.parent() {
                // `..` in the target is relative to the link's physical directory.
                Some(dir) if target.is_relative() => normalize_lexically(
                    &fs::canonicalize(dir)
                        .unwrap_or_else(|_| dir.to_path_buf())
                        .join(target),
                ),
                _ => target,
            };
            if chain.contains(&current) {
                break;
            }
            chain.push(current.clone());
        }
    }
    if let Some(real) = where_.real.resolve() {
        if !chain.contains(&real) {
            chain.push(real);
        }
    }
    chain
}

/// Removes `.` and `..` segments lexically from an operating-system path, as `site` does with `.pth`
/// lines; for a symlink hop it is only used on paths whose directory part is already physical. Runfiles
/// paths (`/`-separated, relative to the runfiles root) have their own normaliser,
/// [`join_runfiles_path`](crate::descriptor::join_runfiles_path).
pub(crate) fn normalize_lexically(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// `/a/b.runfiles/_main/pkg/tool` → `/a/b.runfiles`.
fn enclosing_runfiles_dir(exe: &Path) -> Option<PathBuf> {
    exe.ancestors()
        .skip(1)
        .find(|dir| {
            dir.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(".runfiles"))
        })
        .map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_names_map_to_their_directory() {
        assert_eq!(
            dir_beside_manifest(Path::new("/b/app.runfiles_manifest")),
            Some("/b/app.runfiles".into())
        );
        assert_eq!(
            dir_beside_manifest(Path::new("/b/app.runfiles/MANIFEST")),
            Some("/b/app.runfiles".into())
        );
        assert_eq!(dir_beside_manifest(Path::new("/b/other")), None);
    }

    #[test]
    fn the_nearest_runfiles_dir_encloses_an_executable() {
        assert_eq!(
            enclosing_runfiles_dir(Path::new("/o/a.runfiles/_main/t")),
            Some("/o/a.runfiles".into())
        );
        assert_eq!(enclosing_runfiles_dir(Path::new("/o/a/_main/t")), None);
    }
}
