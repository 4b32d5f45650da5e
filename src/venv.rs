//! The venv the program runs in: the build-time one from the runfiles when it is usable, else a
//! run-time one in a per-user cache.
//!
//! A run-time venv is named by a hash of everything that decides its content, so a warm launch finds it
//! with a few `stat`/`readlink` calls and never writes. It is built in a private temporary directory
//! and renamed into place, so a reader sees either nothing or a whole venv, 64 racing first launches
//! leave exactly one, and a launch killed half-way leaves only a temporary directory that the next cold
//! launch sweeps. The cache directory must be ours, not a symlink, and writable by nobody else; a venv
//! whose interpreter link or import file was changed or removed is rebuilt, never used.

use std::ffi::OsString;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::debug::Trace;
use crate::descriptor::{parse_python_version, version_in_site_packages, Descriptor};
use crate::error::{show_path, Error, Result};
pub use crate::hash::Fnv;
use crate::interpreter::{self, Interpreter, Kind};
use crate::limits::MAX_RECORD_LEN;
use crate::runfiles::{Mode, Runfiles};
use crate::sys;

pub const BUILD_INFO_MODULE: &str = include_str!("../templates/bazel_build_info.py");
pub const BINARY_INFO_MODULE: &str = include_str!("../templates/bazel_binary_info.py");
pub const PTH_NAME: &str = "_py_launcher.pth";
/// Bumped whenever the run-time venv's layout changes, so old entries are never reused.
const LAYOUT_VERSION: &str = "py-launcher run-time venv 1";
/// Run-time venvs not modified for this long are removed when another venv is created.
pub const STALE_AFTER: Duration = Duration::from_secs(14 * 24 * 3600);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum VenvKind {
    BuildTime,
    RunTime,
}

#[derive(Debug, Clone)]
pub struct Venv {
    pub kind: VenvKind,
    pub dir: PathBuf,
    /// The venv's python: what is executed, and the program's `sys.executable`.
    pub python: PathBuf,
    pub site_packages: PathBuf,
    pub created: bool,
    pub reason: String,
}

/// Where the cache may live, from the environment.
#[derive(Debug, Default, Clone)]
pub struct CacheEnv {
    pub xdg_cache_home: Option<OsString>,
    pub home: Option<OsString>,
    pub tmpdir: Option<OsString>,
}

pub struct Request<'a> {
    pub descriptor: &'a Descriptor,
    pub runfiles: &'a Runfiles,
    pub interpreter: &'a Interpreter,
    pub build_time_venv: Option<PathBuf>,
    /// The build-time venv's python when it is not `bin/python3` (`VenvPolicy::python`).
    pub build_time_python: Option<PathBuf>,
    pub cache: &'a CacheEnv,
}

pub fn prepare(request: &Request, trace: &mut Trace) -> Result<Venv> {
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
        (Some(_), Mode::Directory, Some(dir)) => match check_build_time(request, dir) {
            Ok(venv) => {
                trace.note(|| format!("venv: build-time {} (usable)", show_path(&venv.dir)));
                note_version_mismatch(request, trace);
                return Ok(venv);
            }
            Err(why) => format!("the build-time venv {} is unusable: {why}", show_path(dir)),
        },
    };
    trace.note(|| format!("venv: run-time, because {reason}"));
    let venv = run_time(request, reason, trace).map_err(|e| e.for_target(target))?;
    note_version_mismatch(request, trace);
    Ok(venv)
}

/// A site-packages path that names another Python version than the interpreter's is not refused:
/// `site` will not find it, and the program is expected to add it itself. The trace says so.
fn note_version_mismatch(request: &Request, trace: &mut Trace) {
    let Some(rel) = &request.descriptor.venv_policy.site_packages else {
        return;
    };
    if let (Some(named), Some(actual)) =
        (version_in_site_packages(rel), request.interpreter.version)
    {
        if named != actual {
            trace.note(|| {
                format!(
                    "venv: its site-packages {rel:?} names Python {}.{}, but the interpreter is Python {}.{}: \
                     running anyway; `site` will not find that directory, the program adds it itself",
                    named.0, named.1, actual.0, actual.1
                )
            });
        }
    }
}

fn expected_version(request: &Request) -> Option<(u32, u32)> {
    request
        .descriptor
        .python_version
        .as_deref()
        .and_then(parse_python_version)
        .or(request.interpreter.version)
}

/// The build-time venv's site-packages, relative to the venv.
fn site_packages_rel(request: &Request) -> Option<String> {
    match &request.descriptor.venv_policy.site_packages {
        Some(rel) => Some(rel.clone()),
        None => {
            expected_version(request).map(|v| format!("lib/python{}.{}/site-packages", v.0, v.1))
        }
    }
}

fn check_build_time(request: &Request, dir: &Path) -> std::result::Result<Venv, String> {
    if request.interpreter.kind == Kind::Script {
        return Err(
            "the interpreter is a wrapper script, which cannot serve as a venv's python".into(),
        );
    }
    if request.descriptor.venv_policy.always_run_time {
        return Err("this launch always makes its venv at run time".into());
    }
    let site_packages_rel = site_packages_rel(request).ok_or("the Python version is unknown")?;
    let python = request
        .build_time_python
        .clone()
        .unwrap_or_else(|| dir.join("bin/python3"));
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

/// What a run-time venv holds, computed before any file is touched.
struct Layout {
    /// What `bin/<name>` links to.
    interpreter: PathBuf,
    bin_name: OsString,
    version: (u32, u32),
    /// Link `pyvenv.cfg` and `lib` into this build-time venv (`VenvPolicy::link_build_time`).
    link_to: Option<PathBuf>,
    /// With `link_to`: the linked venv's site-packages when the policy names it.
    linked_site_packages: Option<String>,
    system_site_packages: bool,
}

fn run_time(request: &Request, reason: String, trace: &mut Trace) -> Result<Venv> {
    let key = cache_key(request);
    let name = format!("venv-{key:016x}");
    let bases = cache_bases(request.cache);
    let mut refusals: Vec<String> = Vec::new();

    for base in &bases {
        match check_private_dir(base) {
            Ok(true) => {}
            Ok(false) => continue,
            Err(unsafe_reason) => return Err(unsafe_cache(base, &unsafe_reason)),
        }
        let dir = base.join(&name);
        if let Some(venv) = find_valid(request, &dir, trace) {
            return Ok(Venv { reason, ..venv });
        }
    }

    let layout = layout(request, trace)?;
    for base in &bases {
        match ensure_private_dir(base) {
            Ok(()) => {}
            Err(DirProblem::Unsafe(why)) => return Err(unsafe_cache(base, &why)),
            Err(DirProblem::Unusable(why)) => {
                trace.note(|| {
                    format!(
                        "venv: cache {} unusable ({why}); trying the next",
                        show_path(base)
                    )
                });
                refusals.push(format!("{} ({why})", show_path(base)));
                continue;
            }
        }
        let dir = base.join(&name);
        match create(request, &layout, base, &name) {
            Ok(created_here) => {
                trace.note(|| {
                    let who = if created_here {
                        "created"
                    } else {
                        "another launch created it first; using"
                    };
                    format!("venv: {who} {}", show_path(&dir))
                });
                return Ok(venv_at(&dir, &layout, created_here, reason));
            }
            Err(err) => {
                trace.note(|| {
                    format!(
                        "venv: cannot create in {} ({err}); trying the next",
                        show_path(base)
                    )
                });
                refusals.push(format!("{} ({err})", show_path(base)));
            }
        }
    }
    Err(Error::venv(
        format!("no usable cache directory for the run-time venv; tried {}", refusals.join(", ")),
        "make $XDG_CACHE_HOME (or ~/.cache) or $TMPDIR writable, or set XDG_CACHE_HOME to a writable directory",
    ))
}

fn unsafe_cache(base: &Path, why: &str) -> Error {
    Error::venv(
        format!("refusing cache directory {}: {why}", show_path(base)),
        "remove it (it is only a cache) or make it a real directory owned by you with mode 700",
    )
}

fn venv_at(dir: &Path, layout: &Layout, created: bool, reason: String) -> Venv {
    let site_packages = match &layout.linked_site_packages {
        Some(rel) => dir.join(rel),
        None => dir.join(format!(
            "lib/python{}.{}/site-packages",
            layout.version.0, layout.version.1
        )),
    };
    Venv {
        kind: VenvKind::RunTime,
        dir: dir.to_path_buf(),
        python: dir.join("bin").join(&layout.bin_name),
        site_packages,
        created,
        reason,
    }
}

/// A warm hit: the venv exists, its interpreter link points where it must, and its import file is there.
fn find_valid(request: &Request, dir: &Path, trace: &mut Trace) -> Option<Venv> {
    // Reading the record is the existence check too; only when it fails is the directory itself looked at
    // (cold path), to tell "not made yet" from "damaged".
    let recorded = match sys::read_regular(&dir.join("py-launcher-venv.txt"), MAX_RECORD_LEN) {
        Ok(bytes) => String::from_utf8(bytes).ok(),
        Err(_) if fs::symlink_metadata(dir).is_err() => return None,
        Err(_) => None,
    };
    let layout = recorded
        .as_deref()
        .and_then(|text| Layout::parse(text, request));
    let problem = match &layout {
        None => Some("its record is missing or unreadable".to_string()),
        Some(layout)
            if request.interpreter.kind == Kind::Binary
                && layout.interpreter != request.interpreter.path =>
        {
            Some(format!(
                "its record names the interpreter {}",
                show_path(&layout.interpreter)
            ))
        }
        Some(layout) => layout.problem_in(dir, false),
    };
    match (problem, layout) {
        (None, Some(layout)) => {
            trace.note(|| format!("venv: reusing {}", show_path(dir)));
            if request.interpreter.kind == Kind::Script {
                trace.note(|| {
                    format!(
                        "interpreter: the wrapper script {} is bypassed: the venv's python links to the real interpreter it started, {}, so variables and arguments the wrapper sets do not reach the program (README: \"Wrapper scripts\")",
                        show_path(&request.interpreter.path),
                        show_path(&layout.interpreter)
                    )
                });
            }
            Some(venv_at(dir, &layout, false, String::new()))
        }
        (Some(problem), _) => {
            trace.note(|| {
                format!(
                    "venv: {} is damaged or was changed ({problem}); rebuilding it",
                    show_path(dir)
                )
            });
            None
        }
        (None, None) => None,
    }
}

impl Layout {
    /// The record written into each venv (`py-launcher-venv.txt`): the facts a warm launch needs that a
    /// slow probe may have found, so that the probe never runs twice.
    fn record(&self) -> String {
        format!(
            "interpreter={}\nbin={}\nversion={}.{}\n",
            self.interpreter.display(),
            PathBuf::from(&self.bin_name).display(),
            self.version.0,
            self.version.1
        )
    }

    fn parse(text: &str, request: &Request) -> Option<Layout> {
        let mut interpreter = None;
        let mut bin_name = None;
        let mut version = None;
        for line in text.lines() {
            match line.split_once('=')? {
                ("interpreter", v) => interpreter = Some(PathBuf::from(v)),
                ("bin", v) => bin_name = Some(OsString::from(v)),
                ("version", v) => version = parse_python_version(v),
                _ => {}
            }
        }
        Some(Layout {
            interpreter: interpreter?,
            bin_name: bin_name?,
            version: version?,
            link_to: link_target(request),
            linked_site_packages: linked_site_packages(request),
            system_site_packages: request.descriptor.system_site_packages,
        })
    }

    /// What is wrong with the venv at `dir` for this layout; `check_record`: also whether its record says
    /// so (a warm launch has just read it).
    fn problem_in(&self, dir: &Path, check_record: bool) -> Option<String> {
        if check_record {
            let record = sys::read_regular(&dir.join("py-launcher-venv.txt"), MAX_RECORD_LEN);
            if record.ok().as_deref() != Some(self.record().as_bytes()) {
                return Some("its record is missing, unreadable or different".into());
            }
        }
        let link = dir.join("bin").join(&self.bin_name);
        match fs::read_link(&link) {
            Ok(target) if target == self.interpreter => {}
            Ok(target) => {
                return Some(format!(
                    "{} points to {} instead of {}",
                    show_path(&link),
                    show_path(&target),
                    show_path(&self.interpreter)
                ))
            }
            Err(_) => return Some(format!("{} is missing", show_path(&link))),
        }
        let needed = if self.link_to.is_some() {
            dir.join("lib")
        } else {
            dir.join(format!(
                "lib/python{}.{}/site-packages/{PTH_NAME}",
                self.version.0, self.version.1
            ))
        };
        if fs::symlink_metadata(&needed).is_err() {
            return Some(format!("{} is missing", show_path(&needed)));
        }
        if fs::symlink_metadata(dir.join("pyvenv.cfg")).is_err() {
            return Some("pyvenv.cfg is missing".into());
        }
        None
    }
}

fn link_target(request: &Request) -> Option<PathBuf> {
    if request.descriptor.venv_policy.link_build_time {
        request.build_time_venv.clone()
    } else {
        None
    }
}

/// Decides what a new venv holds, running the interpreter once if its version or real executable cannot
/// be told otherwise (a wrapper script must not be the venv's python: it would leave the venv).
fn layout(request: &Request, trace: &mut Trace) -> Result<Layout> {
    let interp = request.interpreter;
    let target = request.descriptor.target.as_str();
    let (interpreter, version) = match (interp.kind, interp.version) {
        (Kind::Binary, Some(version)) => (interp.path.clone(), version),
        _ => {
            let probe = interpreter::probe(&interp.path, target)?;
            if interp.kind == Kind::Script {
                trace.note(|| {
                    format!(
                        "interpreter: the wrapper script {} is bypassed: the venv's python links to the real interpreter it started, {}, so variables and arguments the wrapper sets do not reach the program (README: \"Wrapper scripts\")",
                        show_path(&interp.path),
                        show_path(&probe.executable)
                    )
                });
            }
            (probe.executable, probe.version)
        }
    };
    if let Some(expected) = request
        .descriptor
        .python_version
        .as_deref()
        .and_then(parse_python_version)
    {
        if expected != version {
            return Err(interpreter::version_mismatch(
                &interp.path,
                expected,
                version,
                target,
            ));
        }
    }
    let bin_name = interpreter
        .file_name()
        .map(OsString::from)
        .unwrap_or_else(|| "python3".into());
    Ok(Layout {
        interpreter,
        bin_name,
        version,
        link_to: link_target(request),
        linked_site_packages: linked_site_packages(request),
        system_site_packages: request.descriptor.system_site_packages,
    })
}

fn linked_site_packages(request: &Request) -> Option<String> {
    link_target(request).and(request.descriptor.venv_policy.site_packages.clone())
}

/// FNV-1a over every input that decides the venv's content. Inputs that would need real work to expand
/// (the manifest's lines, a wrapper script's target) enter through their file identity instead.
fn cache_key(request: &Request) -> u64 {
    let d = request.descriptor;
    let mut h = Fnv::new();
    h.add(LAYOUT_VERSION.as_bytes());
    h.add(&TEMPLATES_HASH.to_le_bytes());
    h.add(request.interpreter.path.as_os_str().as_encoded_bytes());
    if request.interpreter.kind != Kind::Binary {
        h.add(identity(&request.interpreter.path).as_bytes());
    }
    h.add(d.python_version.as_deref().unwrap_or("").as_bytes());
    h.add(&[d.system_site_packages as u8, d.import_all as u8]);
    h.add(d.workspace_name.as_bytes());
    for import in &d.imports {
        h.add(import.as_bytes());
    }
    match (request.runfiles.mode, &request.runfiles.manifest_path) {
        (Mode::Manifest, Some(manifest)) => {
            h.add(manifest.as_os_str().as_encoded_bytes());
            h.add(identity(manifest).as_bytes());
        }
        _ => {
            h.add(request.runfiles.root.as_os_str().as_encoded_bytes());
            if d.import_all {
                h.add(identity(&request.runfiles.root).as_bytes());
            }
        }
    }
    if let Some(link) = link_target(request) {
        h.add(link.as_os_str().as_encoded_bytes());
    }
    h.finish()
}

fn identity(path: &Path) -> String {
    match fs::metadata(path) {
        Ok(meta) => {
            let modified = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
                .unwrap_or_default();
            format!(
                "{:?}:{}:{}",
                sys::file_id_of(&meta),
                meta.len(),
                modified.as_nanos()
            )
        }
        Err(_) => String::from("absent"),
    }
}

/// The module templates written into every run-time venv enter its key through this hash, computed at
/// compile time: hashing their 5 KB on every launch would be a third of the launcher's own work.
const TEMPLATES_HASH: u64 = {
    let mut h = Fnv::new();
    h = h.with(BUILD_INFO_MODULE.as_bytes());
    h = h.with(BINARY_INFO_MODULE.as_bytes());
    h.finish()
};

/// `$XDG_CACHE_HOME/py-launcher` (or `~/.cache/py-launcher`), then `$TMPDIR/py-launcher-<uid>`.
pub fn cache_bases(env: &CacheEnv) -> Vec<PathBuf> {
    let absolute = |v: &Option<OsString>| v.as_ref().map(PathBuf::from).filter(|p| p.is_absolute());
    let mut bases = Vec::with_capacity(2);
    if let Some(xdg) = absolute(&env.xdg_cache_home) {
        bases.push(xdg.join("py-launcher"));
    } else if let Some(home) = absolute(&env.home) {
        bases.push(home.join(".cache/py-launcher"));
    }
    let tmp = absolute(&env.tmpdir).unwrap_or_else(|| PathBuf::from("/tmp"));
    bases.push(tmp.join(format!("py-launcher-{}", sys::effective_uid())));
    bases
}

enum DirProblem {
    /// The directory exists but someone else could change what we run: never use it.
    Unsafe(String),
    /// It cannot be made or written: try the next location.
    Unusable(String),
}

/// `Ok(true)`: exists and is safe; `Ok(false)`: does not exist; `Err`: exists and is unsafe.
fn check_private_dir(dir: &Path) -> std::result::Result<bool, String> {
    let meta = match fs::symlink_metadata(dir) {
        Ok(meta) => meta,
        Err(_) => return Ok(false),
    };
    if meta.file_type().is_symlink() {
        return Err("it is a symlink".into());
    }
    if !meta.is_dir() {
        return Err("it is not a directory".into());
    }
    let (owner, mode) = sys::owner_and_mode(&meta);
    if owner != sys::effective_uid() {
        return Err(format!(
            "it is owned by uid {owner}, not by you (uid {})",
            sys::effective_uid()
        ));
    }
    if mode & 0o022 != 0 {
        return Err(format!(
            "it is writable by group or others (mode {:o})",
            mode & 0o777
        ));
    }
    Ok(true)
}

fn ensure_private_dir(dir: &Path) -> std::result::Result<(), DirProblem> {
    match check_private_dir(dir) {
        Ok(true) => return Ok(()),
        Ok(false) => {}
        Err(why) => return Err(DirProblem::Unsafe(why)),
    }
    if let Some(parent) = dir.parent() {
        sys::create_private_dir(parent, true).map_err(|e| DirProblem::Unusable(e.to_string()))?;
    }
    match sys::create_private_dir(dir, false) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(DirProblem::Unusable(e.to_string())),
    }
    match check_private_dir(dir) {
        Ok(true) => Ok(()),
        Ok(false) => Err(DirProblem::Unusable(
            "it vanished while being created".into(),
        )),
        Err(why) => Err(DirProblem::Unsafe(why)),
    }
}

/// Builds the venv in a temporary directory and renames it into place. `Ok(false)` when another launch
/// won the race and its venv is valid.
fn create(request: &Request, layout: &Layout, base: &Path, name: &str) -> io::Result<bool> {
    sweep(base);
    let final_dir = base.join(name);
    let temp = base.join(format!(".tmp-{name}-{}", std::process::id()));
    if fs::symlink_metadata(&temp).is_ok() {
        fs::remove_dir_all(&temp)?;
    }
    sys::create_private_dir(&temp, false)?;
    checkpoint("tempdir");
    let result = fill(request, layout, &temp).and_then(|()| {
        checkpoint("filled");
        publish(&temp, &final_dir, layout)
    });
    if result.is_err() || matches!(result, Ok(false)) {
        let _ = fs::remove_dir_all(&temp);
    }
    result
}

fn publish(temp: &Path, final_dir: &Path, layout: &Layout) -> io::Result<bool> {
    match fs::rename(temp, final_dir) {
        Ok(()) => {
            checkpoint("renamed");
            Ok(true)
        }
        Err(_) if fs::symlink_metadata(final_dir).is_ok() => {
            if layout.problem_in(final_dir, true).is_none() {
                return Ok(false);
            }
            // A damaged venv is in the way: move it aside (atomic), then put ours in its place.
            let trash =
                final_dir.with_file_name(format!(".trash-{}-{}", std::process::id(), unique()));
            match fs::rename(final_dir, &trash) {
                Ok(()) => {
                    let _ = fs::remove_dir_all(&trash);
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
            match fs::rename(temp, final_dir) {
                Ok(()) => Ok(true),
                Err(_) if layout.problem_in(final_dir, true).is_none() => Ok(false),
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e),
    }
}

fn unique() -> u128 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

fn fill(request: &Request, layout: &Layout, dir: &Path) -> io::Result<()> {
    let bin = dir.join("bin");
    sys::create_private_dir(&bin, false)?;
    sys::symlink(&layout.interpreter, &bin.join(&layout.bin_name))?;
    for alias in ["python3", "python"] {
        if layout.bin_name != alias {
            sys::symlink(Path::new(&layout.bin_name), &bin.join(alias))?;
        }
    }
    checkpoint("bin");
    if let Some(runfiles_venv) = &layout.link_to {
        sys::symlink(&runfiles_venv.join("pyvenv.cfg"), &dir.join("pyvenv.cfg"))?;
        sys::symlink(&runfiles_venv.join("lib"), &dir.join("lib"))?;
    } else {
        let home = layout.interpreter.parent().unwrap_or(Path::new("/"));
        let cfg = format!(
            "home = {}\ninclude-system-site-packages = {}\nversion = {}.{}\n",
            home.display(),
            layout.system_site_packages,
            layout.version.0,
            layout.version.1
        );
        write_new(&dir.join("pyvenv.cfg"), cfg.as_bytes())?;
        let site = dir.join(format!(
            "lib/python{}.{}/site-packages",
            layout.version.0, layout.version.1
        ));
        sys::create_private_dir(&site, true)?;
        write_new(
            &site.join("bazel_build_info.py"),
            BUILD_INFO_MODULE.as_bytes(),
        )?;
        write_new(
            &site.join("bazel_binary_info.py"),
            BINARY_INFO_MODULE.as_bytes(),
        )?;
        checkpoint("modules");
        let mut pth = Vec::new();
        for line in import_dirs(request) {
            pth.extend_from_slice(line.as_os_str().as_encoded_bytes());
            pth.push(b'\n');
        }
        write_new(&site.join(PTH_NAME), &pth)?;
    }
    checkpoint("site-packages");
    write_new(
        &dir.join("py-launcher-venv.txt"),
        layout.record().as_bytes(),
    )
}

/// The import directories, in order, as absolute paths: `imports`, then the workspace root (or every
/// top-level directory with `import_all`). In manifest mode each runfiles directory becomes every real
/// directory that holds its files, since no tree joins them.
pub fn import_dirs(request: &Request) -> Vec<PathBuf> {
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
    let mut dirs: Vec<PathBuf> = Vec::new();
    let mut push = |dir: PathBuf| {
        if fits_pth_line(&dir) && !dirs.contains(&dir) {
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

/// Whether a directory can be written as one `.pth` line that `site` reads back unchanged: absolute
/// (a relative line would be joined to site-packages), no line break (`site` reads with universal
/// newlines) and no trailing white space (`site` strips it). Anything else is left off the import path;
/// no runfiles path the descriptor accepts produces one.
pub fn fits_pth_line(dir: &Path) -> bool {
    let bytes = dir.as_os_str().as_encoded_bytes();
    dir.is_absolute()
        && !bytes.iter().any(|b| matches!(b, b'\n' | b'\r'))
        && !bytes.last().is_some_and(u8::is_ascii_whitespace)
}

fn write_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = sys::create_private_file(path)?;
    file.write_all(bytes)
}

/// Removes what dead launches left (`.tmp-*` of processes that no longer exist, `.trash-*`) and
/// run-time venvs untouched for [`STALE_AFTER`]. Runs only when a venv is being created, never on a
/// warm launch.
fn sweep(base: &Path) {
    let Ok(entries) = fs::read_dir(base) else {
        return;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let path = entry.path();
        let remove = if let Some(rest) = name.strip_prefix(".tmp-") {
            let pid = rest.rsplit('-').next().and_then(|p| p.parse::<u32>().ok());
            pid.is_some_and(|pid| pid != std::process::id() && !sys::process_exists(pid))
        } else if name.starts_with(".trash-") {
            true
        } else if name.starts_with("venv-") {
            entry
                .metadata()
                .ok()
                .and_then(|m| m.modified().ok())
                .and_then(|modified| now.duration_since(modified).ok())
                .is_some_and(|age| age > STALE_AFTER)
        } else {
            false
        };
        if remove {
            let trash = base.join(format!(".trash-{}-{}", std::process::id(), unique()));
            if fs::rename(&path, &trash).is_ok() {
                let _ = fs::remove_dir_all(&trash);
            }
        }
    }
}

/// Test-only fault injection: with the `fault-injection` feature, `PY_LAUNCHER_FAULT=<step>` makes the
/// launcher kill itself with SIGKILL right after that step of venv creation.
#[cfg(feature = "fault-injection")]
fn checkpoint(step: &str) {
    if std::env::var_os("PY_LAUNCHER_FAULT").is_some_and(|s| s == step) {
        // SAFETY: raising a signal on ourselves has no memory-safety preconditions.
        unsafe {
            libc::raise(libc::SIGKILL);
        }
    }
}

#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
fn checkpoint(_step: &str) {}
