//! The venv the program runs in: the decision between the build-time one from the runfiles and a
//! run-time one, which `cache` finds or has `builder` make.
//!
//! - this module decides: the build-time venv when it is usable, else a run-time venv, and why;
//! - `cache` owns where run-time venvs live and whether that place can be trusted, the cache key, the
//!   record a warm launch verifies, the last-use stamp and the sweep;
//! - `builder` decides what a new venv holds (probing a wrapper script once) and builds it atomically;
//! - `layout` names a venv's files, as `bazel/private/venv_layout.bzl` describes them for the rules too;
//! - `pth` owns the `.pth` format.

pub(crate) mod builder;
pub(crate) mod cache;
pub(crate) mod layout;
pub(crate) mod pth;

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use crate::debug::Trace;
use crate::descriptor::Descriptor;
use crate::error::{show_path, Result};
use crate::interpreter::{Interpreter, Kind};
use crate::python_version::PythonVersion;
use crate::runfiles::{Mode, Runfiles};
use crate::sys;

pub use cache::cache_bases;
pub(crate) use layout::{BINARY_INFO_MODULE, BUILD_INFO_MODULE};
pub use layout::{VENV_CONFIG, VENV_PYTHON};
pub use pth::{import_dirs, PTH_NAME};

/// Which venv the program runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VenvKind {
    /// The one the rules made at build time, from the runfiles.
    BuildTime,
    /// One the launcher made (or found) in its cache.
    RunTime,
}

/// The venv chosen for a launch.
#[derive(Debug, Clone)]
pub(crate) struct Venv {
    /// Build-time or run-time.
    pub(crate) kind: VenvKind,
    /// Its root directory.
    pub(crate) dir: PathBuf,
    /// The venv's python: what is executed, and the program's `sys.executable`.
    pub(crate) python: PathBuf,
    /// Its site-packages directory.
    pub(crate) site_packages: PathBuf,
    /// Whether this launch made it (a run-time venv not found in the cache).
    pub(crate) created: bool,
    /// Why this venv: the trace's and the JSON plan's explanation.
    pub(crate) reason: String,
}

/// Where the cache may live, from the environment.
#[derive(Debug, Default, Clone)]
pub struct CacheEnv {
    /// `XDG_CACHE_HOME`.
    pub xdg_cache_home: Option<OsString>,
    /// `HOME`.
    pub home: Option<OsString>,
    /// `TMPDIR`.
    pub tmpdir: Option<OsString>,
    /// Set by `bazel test`: a test's run-time venv lives in its own temporary directory.
    pub test_tmpdir: Option<OsString>,
}

/// Everything the venv decision needs.
pub struct Request<'a> {
    /// The binary's descriptor.
    pub descriptor: &'a Descriptor,
    /// The runfiles found.
    pub runfiles: &'a Runfiles,
    /// The build-time venv's directory, when the runfiles hold it.
    pub build_time_venv: Option<PathBuf>,
    /// The build-time venv's python when it is not `bin/python3` (`VenvPolicy::python`).
    pub build_time_python: Option<PathBuf>,
    /// Where the run-time venv cache may live.
    pub cache: &'a CacheEnv,
}

/// Chooses the venv. What the interpreter is ([`Interpreter::identify`]) is learnt here only when needed:
/// a build-time venv needs it; a warm run-time venv's record already says it.
pub(crate) fn prepare(
    request: &Request,
    interpreter: &mut Interpreter,
    trace: &mut Trace,
) -> Result<Venv> {
    let target = request.descriptor.target.as_str();
    let reason = match (
        &request.descriptor.venv,
        request.runfiles.mode,
        &request.build_time_venv,
    ) {
        (None, _, _) => "the descriptor names no build-time venv".to_string(),
        (Some(_), Mode::Manifest, _) => {
            "the runfiles are manifest-only, so the build-time venv's links do not exist"
                .to_string()
        }
        (Some(rel), Mode::Directory, None) => {
            format!("the build-time venv {rel:?} is not in the runfiles")
        }
        (Some(_), Mode::Directory, Some(dir)) => {
            interpreter.identify(request.descriptor, trace)?;
            match check_build_time(request, interpreter, dir) {
                Ok(venv) => {
                    trace.note(|| format!("venv: build-time {} (usable)", show_path(&venv.dir)));
                    note_version_mismatch(request, interpreter, trace);
                    return Ok(venv);
                }
                Err(why) => format!("the build-time venv {} is unusable: {why}", show_path(dir)),
            }
        }
    };
    trace.note(|| format!("venv: run-time, because {reason}"));
    let venv =
        cache::run_time(request, interpreter, reason, trace).map_err(|e| e.for_target(target))?;
    note_version_mismatch(request, interpreter, trace);
    Ok(venv)
}

/// A site-packages path that names another Python version than the interpreter's is not refused:
/// `site` will not find it, and the program is expected to add it itself. The trace says so.
fn note_version_mismatch(request: &Request, interpreter: &Interpreter, trace: &mut Trace) {
    let Some(rel) = &request.descriptor.venv_policy.site_packages else {
        return;
    };
    if let (Some(named), Some(actual)) = (PythonVersion::in_site_packages(rel), interpreter.version)
    {
        if named != actual {
            trace.note(|| {
                format!(
                    "venv: its site-packages {rel:?} names Python {named}, but the interpreter is Python {actual}: \
                     running anyway; `site` will not find that directory, the program adds it itself"
                )
            });
        }
    }
}

/// The descriptor's `python_version`.
fn expected_version(request: &Request) -> Option<PythonVersion> {
    request
        .descriptor
        .python_version
        .as_deref()
        .and_then(PythonVersion::parse)
}

/// The build-time venv's site-packages, relative to the venv.
fn site_packages_rel(request: &Request, interpreter: &Interpreter) -> Option<String> {
    match &request.descriptor.venv_policy.site_packages {
        Some(rel) => Some(rel.clone()),
        None => expected_version(request)
            .or(interpreter.version)
            .map(PythonVersion::site_packages),
    }
}

fn check_build_time(
    request: &Request,
    interpreter: &Interpreter,
    dir: &Path,
) -> std::result::Result<Venv, String> {
    if interpreter.kind == Kind::Script {
        return Err(
            "the interpreter is a wrapper script, which cannot serve as a venv's python".into(),
        );
    }
    if request.descriptor.venv_policy.always_run_time {
        return Err("this launch always makes its venv at run time".into());
    }
    let site_packages_rel =
        site_packages_rel(request, interpreter).ok_or("the Python version is unknown")?;
    let python = request
        .build_time_python
        .clone()
        .unwrap_or_else(|| dir.join(VENV_PYTHON));
    match fs::metadata(&python) {
        Ok(meta) if sys::is_executable(&meta) => {}
        Ok(_) => return Err(format!("{} is not an executable file", show_path(&python))),
        Err(err) => {
            return Err(format!(
                "{} does not resolve ({err}); was the interpreter moved?",
                show_path(&python)
            ))
        }
    }
    let site_packages = dir.join(site_packages_rel);
    if !site_packages.is_dir() {
        return Err(format!(
            "{} is missing (built for another Python version?)",
            show_path(&site_packages)
        ));
    }
    Ok(Venv {
        kind: VenvKind::BuildTime,
        dir: dir.to_path_buf(),
        python,
        site_packages,
        created: false,
        reason: "the build-time venv is usable".into(),
    })
}

/// The trace line for a wrapper-script interpreter, which the run-time venv bypasses.
fn note_wrapper_bypassed(trace: &mut Trace, wrapper: &Path, real: &Path) {
    trace.note(|| {
        format!(
            "interpreter: the wrapper script {} is bypassed: the venv's python links to the real interpreter it started, {}, so variables and arguments the wrapper sets do not reach the program (README: \"Wrapper-script interpreters\")",
            show_path(wrapper),
            show_path(real)
        )
    });
}
