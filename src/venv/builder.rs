//! Making a run-time venv: what it holds ([`Layout`], decided before any file is touched, running the
//! interpreter once when nothing cheaper can tell), and building it in a private temporary directory
//! that is renamed into place, so a reader sees either nothing or a whole venv, racing first launches
//! leave exactly one, and a launch killed half-way leaves only a temporary directory that a later
//! creating launch sweeps.

use std::ffi::OsString;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::cache::{self, RECORD_NAME};
use super::layout::{run_time_config, BIN_DIR, LIB_DIR, MODULES, PTH_NAME, VENV_CONFIG};
use super::pth;
use super::{note_wrapper_bypassed, Request, Venv, VenvKind};
use crate::debug::Trace;
use crate::error::Result;
use crate::interpreter::{self, Interpreter, Kind};
use crate::python_version::PythonVersion;
use crate::sys;

/// What a run-time venv holds. Written into its record by [`cache`], which a warm launch checks the
/// venv against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Layout {
    /// What `bin/<name>` links to.
    pub(crate) interpreter: PathBuf,
    pub(crate) bin_name: OsString,
    /// The interpreter's version: it names `lib/pythonX.Y`.
    pub(crate) version: PythonVersion,
    /// Length of the `.pth` file (its content is decided once, from the runfiles, when it is made).
    pub(crate) pth_len: u64,
    /// Link `pyvenv.cfg` and `lib` into this build-time venv (`VenvPolicy::link_build_time`).
    pub(crate) link_to: Option<PathBuf>,
    /// With `link_to`: the linked venv's site-packages when the policy names it.
    pub(crate) linked_site_packages: Option<String>,
    /// Whether `pyvenv.cfg` says `include-system-site-packages = true`.
    pub(crate) system_site_packages: bool,
}

impl Layout {
    pub(crate) fn site_packages_rel(&self) -> String {
        match &self.linked_site_packages {
            Some(rel) => rel.clone(),
            None => self.version.site_packages(),
        }
    }

    /// `pyvenv.cfg`: where the interpreter lives, whether the host's site-packages count, the version.
    pub(crate) fn pyvenv_cfg(&self) -> String {
        let home = self.interpreter.parent().unwrap_or(Path::new("/"));
        run_time_config(home, self.system_site_packages, self.version)
    }

    /// The venv this layout describes at `dir`.
    pub(crate) fn venv_at(&self, dir: &Path, created: bool, reason: String) -> Venv {
        Venv {
            kind: VenvKind::RunTime,
            dir: dir.to_path_buf(),
            python: dir.join(BIN_DIR).join(&self.bin_name),
            site_packages: dir.join(self.site_packages_rel()),
            created,
            reason,
        }
    }
}

pub(crate) fn link_target(request: &Request) -> Option<PathBuf> {
    if request.descriptor.venv_policy.link_build_time {
        request.build_time_venv.clone()
    } else {
        None
    }
}

pub(crate) fn linked_site_packages(request: &Request) -> Option<String> {
    link_target(request).and(request.descriptor.venv_policy.site_packages.clone())
}

/// Decides what a new venv holds, and its `.pth` content. Runs the interpreter once if its version or
/// real executable cannot be told otherwise (a wrapper script must not be the venv's python: it would
/// leave the venv).
pub(crate) fn layout(
    request: &Request,
    interp: &Interpreter,
    trace: &mut Trace,
) -> Result<(Layout, Vec<u8>)> {
    let target = request.descriptor.target.as_str();
    let (interpreter, version) = match (interp.kind, interp.version) {
        (Kind::Binary, Some(version)) => (interp.path.clone(), version),
        _ => {
            let probe = interpreter::probe(&interp.path, target)?;
            if interp.kind == Kind::Script {
                note_wrapper_bypassed(trace, &interp.path, &probe.executable);
            }
            (probe.executable, probe.version)
        }
    };
    if let Some(expected) = super::expected_version(request) {
        if expected != version {
            return Err(interpreter::version_mismatch(
                &interp.path,
                expected,
                version,
                target,
            ));
        }
    }
    let link_to = link_target(request);
    let pth = if link_to.is_some() {
        Vec::new()
    } else {
        pth::content(request).map_err(|e| e.for_target(target))?
    };
    let bin_name = interpreter
        .file_name()
        .map(OsString::from)
        .unwrap_or_else(|| "python3".into());
    let layout = Layout {
        interpreter,
        bin_name,
        version,
        pth_len: pth.len() as u64,
        link_to,
        linked_site_packages: linked_site_packages(request),
        system_site_packages: request.descriptor.system_site_packages,
    };
    Ok((layout, pth))
}

/// Builds the venv in a temporary directory and renames it into place. `Ok(false)` when another launch
/// won the race and its venv is valid. `identified`: what the interpreter file is, for the record.
pub(crate) fn create(
    layout: &Layout,
    identified: (Kind, Option<PythonVersion>),
    pth: &[u8],
    base: &Path,
    name: &str,
) -> io::Result<bool> {
    cache::sweep(base);
    let final_dir = base.join(name);
    let temp = base.join(format!(".tmp-{name}-{}", std::process::id()));
    if fs::symlink_metadata(&temp).is_ok() {
        fs::remove_dir_all(&temp)?;
    }
    sys::create_private_dir(&temp, false)?;
    checkpoint("tempdir");
    let result = fill(layout, identified, pth, &temp).and_then(|()| {
        checkpoint("filled");
        publish(&temp, &final_dir, layout)
    });
    if result.is_err() || matches!(result, Ok(false)) {
        let _ = fs::remove_dir_all(&temp);
    }
    result
}

fn publish(temp: &Path, final_dir: &Path, layout: &Layout) -> io::Result<bool> {
    let theirs_is_valid = || cache::damage_with_record(final_dir, layout).is_none();
    match fs::rename(temp, final_dir) {
        Ok(()) => {
            checkpoint("renamed");
            Ok(true)
        }
        Err(_) if fs::symlink_metadata(final_dir).is_ok() => {
            if theirs_is_valid() {
                return Ok(false);
            }
            // A damaged venv is in the way: move it aside (atomic), then put ours in its place.
            let trash = final_dir.with_file_name(unique_trash_name());
            match fs::rename(final_dir, &trash) {
                Ok(()) => {
                    let _ = fs::remove_dir_all(&trash);
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
            match fs::rename(temp, final_dir) {
                Ok(()) => Ok(true),
                Err(_) if theirs_is_valid() => Ok(false),
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e),
    }
}

/// `.trash-<pid>-<nanoseconds>`: where a directory goes to be removed.
pub(crate) fn unique_trash_name() -> String {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(".trash-{}-{nanos}", std::process::id())
}

fn fill(
    layout: &Layout,
    identified: (Kind, Option<PythonVersion>),
    pth: &[u8],
    dir: &Path,
) -> io::Result<()> {
    let bin = dir.join(BIN_DIR);
    sys::create_private_dir(&bin, false)?;
    sys::symlink(&layout.interpreter, &bin.join(&layout.bin_name))?;
    for alias in cache::ALIASES {
        if layout.bin_name != alias {
            sys::symlink(Path::new(&layout.bin_name), &bin.join(alias))?;
        }
    }
    checkpoint("bin");
    if let Some(runfiles_venv) = &layout.link_to {
        sys::symlink(&runfiles_venv.join(VENV_CONFIG), &dir.join(VENV_CONFIG))?;
        sys::symlink(&runfiles_venv.join(LIB_DIR), &dir.join(LIB_DIR))?;
    } else {
        write_new(&dir.join(VENV_CONFIG), layout.pyvenv_cfg().as_bytes())?;
        let site = dir.join(layout.site_packages_rel());
        sys::create_private_dir(&site, true)?;
        for (name, content) in MODULES {
            write_new(&site.join(name), content.as_bytes())?;
        }
        checkpoint("modules");
        write_new(&site.join(PTH_NAME), pth)?;
    }
    checkpoint("site-packages");
    // Last: a venv without its record is never used. `bin/` is complete: its time is final.
    let bin_modified = sys::modified_nanos(&fs::symlink_metadata(&bin)?);
    write_new(
        &dir.join(RECORD_NAME),
        &cache::record(layout, identified, bin_modified),
    )
}

fn write_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = sys::create_private_file(path)?;
    file.write_all(bytes)
}

/// Test-only fault injection: with the `fault-injection` feature, `PY_LAUNCHER_FAULT=<step>` makes the
/// launcher kill itself with SIGKILL right after that step of venv creation.
#[cfg(feature = "fault-injection")]
fn checkpoint(step: &str) {
    if std::env::var_os("PY_LAUNCHER_FAULT").is_some_and(|s| s == step) {
        sys::kill_self();
    }
}

#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
fn checkpoint(_step: &str) {}
