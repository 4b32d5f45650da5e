//! Resolving the `py_runtime`'s interpreter and learning, cheaply, what it is.
//!
//! The three forms (absolute `interpreter_path`, runfiles path of an in-build `interpreter`, bare word on
//! `PATH`) resolve to one absolute path that is never canonicalized: a platform runtime's symlink is
//! what the user configured, and following it would break upgrades in place. What kind of file it is
//! (a real CPython of a known version, or a wrapper script such as a pyenv shim) is learnt from names and
//! one small read, never by starting Python on the warm path; starting it once is reserved for building
//! a run-time venv when nothing cheaper can tell.

use std::ffi::OsStr;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::debug::Trace;
use crate::descriptor::{Descriptor, InterpreterForm};
use crate::error::{show_path, Error, Result};
use crate::python_version::PythonVersion;
use crate::runfiles::Runfiles;
use crate::sys::{self, FileId};

/// What kind of file the interpreter is, as far as names and one small read tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A real interpreter binary whose major.minor is known from its name or its stdlib directory.
    Binary,
    /// A `#!` script that starts the real interpreter (pyenv shim, wrapper): it cannot be a venv's python.
    Script,
    /// A binary whose version could not be told without running it.
    Unknown,
}

impl Kind {
    /// Every kind.
    pub(crate) const ALL: [Kind; 3] = [Kind::Binary, Kind::Script, Kind::Unknown];

    /// Its name in the JSON plan and in a run-time venv's record.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Binary => "binary",
            Kind::Script => "script",
            Kind::Unknown => "unknown",
        }
    }
}

/// The resolved interpreter.
#[derive(Debug, Clone)]
pub(crate) struct Interpreter {
    /// How the descriptor named it.
    pub(crate) form: InterpreterForm,
    /// The absolute path it resolved to (not canonicalized).
    pub(crate) path: PathBuf,
    /// What kind of file it is ([`Kind::Unknown`] until identified).
    pub(crate) kind: Kind,
    /// Its major.minor, when known without running it.
    pub(crate) version: Option<PythonVersion>,
    /// The file's [`sys::content_stamp`] (through symlinks): a run-time venv is keyed by it, so a venv
    /// found in the cache was made for this very file and its record says what the file is.
    pub(crate) stamp: [u64; 5],
    /// Whether `kind` and `version` are known: by [`Interpreter::identify`], or from a run-time venv's
    /// record ([`Interpreter::recorded`]).
    identified: bool,
    is_symlink: bool,
}

/// Resolves the descriptor's interpreter in its form (absolute, the runfiles path the caller already
/// resolved, or a bare word searched on `path_var`, skipping the launcher itself): one `lstat`. What the
/// file is, the venv decision learns when it needs to ([`Interpreter::identify`]): a warm run-time venv
/// already knows, from its record.
pub(crate) fn resolve(
    descriptor: &Descriptor,
    runfiles: &Runfiles,
    resolved_in_runfiles: Option<PathBuf>,
    path_var: Option<&OsStr>,
    launcher: Option<FileId>,
) -> Result<Interpreter> {
    let configured = descriptor.interpreter.as_str();
    let form = descriptor.interpreter_form();
    let target = descriptor.target.as_str();
    let path = match form {
        InterpreterForm::Absolute => PathBuf::from(configured),
        InterpreterForm::Runfiles => resolved_in_runfiles.ok_or_else(|| {
            Error::interpreter(
                format!("interpreter {configured:?} ({}) is not listed in the runfiles manifest {}", form.describe(),
                    runfiles.manifest_path.as_deref().map(show_path).unwrap_or_default()),
                "add the py_runtime's interpreter and files to the binary's runfiles",
            )
            .for_target(target)
        })?,
        InterpreterForm::PathSearch => search_path(configured, path_var, launcher).ok_or_else(|| {
            Error::interpreter(
                format!("interpreter {configured:?} ({}) was not found on PATH", form.describe()),
                "install it, put its directory on PATH, or give the py_runtime an absolute interpreter_path",
            )
            .for_target(target)
        })?,
    };
    let (meta, is_symlink) = check_executable(&path, form, target)?;
    if let Some(launcher) = launcher {
        if sys::file_id_of(&meta) == launcher {
            return Err(Error::interpreter(
                format!(
                    "interpreter {} ({}) is py-launcher itself",
                    show_path(&path),
                    form.describe()
                ),
                "point the py_runtime at a real Python interpreter, not at the launcher",
            )
            .for_target(target));
        }
    }
    Ok(Interpreter {
        form,
        path,
        kind: Kind::Unknown,
        version: None,
        stamp: sys::content_stamp(&meta),
        identified: false,
        is_symlink,
    })
}

impl Interpreter {
    /// Learns what the file is (see [`identify`]) unless that is known already, and refuses a version
    /// other than the descriptor's `python_version`.
    pub(crate) fn identify(&mut self, descriptor: &Descriptor, trace: &mut Trace) -> Result<()> {
        if self.identified {
            return Ok(());
        }
        let expected = descriptor
            .python_version
            .as_deref()
            .and_then(PythonVersion::parse);
        (self.kind, self.version) = identify(&self.path, self.is_symlink, expected);
        self.identified = true;
        self.note(descriptor, trace);
        if let (Some(expected), Some(actual)) = (expected, self.version) {
            if expected != actual {
                return Err(version_mismatch(
                    &self.path,
                    expected,
                    actual,
                    &descriptor.target,
                ));
            }
        }
        Ok(())
    }

    /// Takes what the file is from a run-time venv's record, made for this same file ([`Self::stamp`] is
    /// in the venv's key), so it is not read again. The version check passed when the venv was made.
    pub(crate) fn recorded(
        &mut self,
        descriptor: &Descriptor,
        kind: Kind,
        version: Option<PythonVersion>,
        trace: &mut Trace,
    ) {
        if self.identified {
            return;
        }
        (self.kind, self.version) = (kind, version);
        self.identified = true;
        self.note(descriptor, trace);
        trace.note(|| {
            "interpreter: known from the run-time venv's record, made for this same file (not read again)"
                .into()
        });
    }

    fn note(&self, descriptor: &Descriptor, trace: &mut Trace) {
        trace.note(|| {
            let what = match self.kind {
                Kind::Binary => "an interpreter binary",
                Kind::Script => "a #! wrapper script",
                Kind::Unknown => "a binary of unknown version",
            };
            let version = self.version.map_or("unknown".into(), |v| v.to_string());
            format!(
                "interpreter: {:?} ({}) is {}, {what}, Python {version}",
                descriptor.interpreter,
                self.form.describe(),
                show_path(&self.path)
            )
        });
    }
}

pub(crate) fn version_mismatch(
    path: &Path,
    expected: PythonVersion,
    actual: PythonVersion,
    target: &str,
) -> Error {
    Error::interpreter(
        format!(
            "interpreter {} is Python {actual} but the binary was built for Python {expected}",
            show_path(path),
        ),
        "use a py_runtime/toolchain of the version the binary was built for, or rebuild it for this interpreter",
    )
    .for_target(target)
}

/// The interpreter's metadata (symlinks followed) and whether `path` itself is a symlink: one `lstat`
/// for a real file, the usual case.
fn check_executable(
    path: &Path,
    form: InterpreterForm,
    target: &str,
) -> Result<(fs::Metadata, bool)> {
    let stat = fs::symlink_metadata(path).and_then(|meta| {
        if meta.file_type().is_symlink() {
            fs::metadata(path).map(|m| (m, true))
        } else {
            Ok((meta, false))
        }
    });
    let problem = match stat {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => "does not exist".to_string(),
        Err(err) => format!("cannot be read ({err})"),
        Ok((meta, _)) if meta.is_dir() => "is a directory".to_string(),
        Ok((meta, _)) if !sys::is_executable(&meta) => "is not executable".to_string(),
        Ok(found) => return Ok(found),
    };
    Err(Error::interpreter(
        format!("interpreter {} ({}) {problem}", show_path(path), form.describe()),
        match form {
            InterpreterForm::Absolute => "install Python at that path on this machine, or fix the py_runtime's interpreter_path",
            InterpreterForm::Runfiles => "check the py_runtime's interpreter file and that it is in the binary's runfiles",
            InterpreterForm::PathSearch => "fix PATH or the interpreter name",
        },
    )
    .for_target(target))
}

fn search_path(name: &str, path_var: Option<&OsStr>, launcher: Option<FileId>) -> Option<PathBuf> {
    // An empty PATH entry would mean the current directory: never search it implicitly.
    std::env::split_paths(path_var?)
        .filter(|dir| dir.is_absolute())
        .map(|dir| dir.join(name))
        .find(|candidate| {
            fs::metadata(candidate).is_ok_and(|m| m.is_file() && sys::is_executable(&m))
                && launcher.is_none_or(|me| sys::file_id(candidate).map_or(true, |id| id != me))
        })
}

/// Learns what the interpreter is without running it, content before names: a `#!` script is a script
/// whatever it is called (a pyenv shim named `python3.11`); a name is believed only on the real file
/// (a symlink `python3.11 -> python3.12` is Python 3.12); an unversioned real file counts as the expected
/// version only when that version's stdlib directory sits beside it. What none of this settles is left
/// `Unknown`, and the interpreter is asked once when a run-time venv is made.
fn identify(
    path: &Path,
    is_symlink: bool,
    expected: Option<PythonVersion>,
) -> (Kind, Option<PythonVersion>) {
    if starts_with_shebang(path) {
        return (Kind::Script, None);
    }
    let real = if is_symlink {
        fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
    } else {
        path.to_path_buf()
    };
    if let Some(version) = real
        .file_name()
        .and_then(PythonVersion::from_interpreter_name)
    {
        return (Kind::Binary, Some(version));
    }
    if let (Some(expected), Some(bin)) = (expected, real.parent()) {
        let stdlib = bin.join("..").join(expected.lib_dir());
        if stdlib.is_dir() {
            return (Kind::Binary, Some(expected));
        }
    }
    (Kind::Unknown, None)
}

/// Whether the file starts with `#!`. Opened without blocking, so a FIFO cannot hang the launch (it
/// reads as nothing; the caller has already checked for a regular executable file).
fn starts_with_shebang(path: &Path) -> bool {
    let mut head = [0u8; 2];
    sys::open_nonblocking(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && &head == b"#!"
}

/// What a started interpreter says about itself: used once per run-time venv, for interpreters that
/// `identify` could not place (wrapper scripts, unversioned names).
pub(crate) struct Probe {
    /// `sys.executable` as the interpreter reports it.
    pub(crate) executable: PathBuf,
    /// `sys.version_info[:2]`, with `t` for a free-threaded build.
    pub(crate) version: PythonVersion,
}

/// Starts the interpreter once (`-I -c`) and reads what it says about itself.
pub(crate) fn probe(path: &Path, target: &str) -> Result<Probe> {
    const SCRIPT: &str = "import sys, sysconfig; print(sys.executable); print('%d.%d%s' % \
        (*sys.version_info[:2], 't' if sysconfig.get_config_var('Py_GIL_DISABLED') else ''))";
    let depth = crate::depth::for_probe(std::process::id());
    let env = [(crate::depth::VAR, depth.as_os_str())];
    let (code, stdout) =
        sys::run_capturing_stdout(path, &["-I", "-c", SCRIPT], &env).map_err(|err| {
            Error::interpreter(
                format!(
                    "cannot start interpreter {} to ask its version: {err}",
                    show_path(path)
                ),
                "check that it is a working Python",
            )
            .for_target(target)
        })?;
    let text = String::from_utf8_lossy(&stdout);
    let mut lines = text.lines();
    let executable = lines
        .next()
        .filter(|l| l.starts_with('/'))
        .map(PathBuf::from);
    let version = lines.next().and_then(PythonVersion::parse);
    match (code, executable, version) {
        (Some(0), Some(executable), Some(version)) => Ok(Probe { executable, version }),
        _ => Err(Error::interpreter(
            format!("interpreter {} did not report its version (exit status {code:?}; its stderr is above)", show_path(path)),
            "check that the py_runtime points at a working Python 3",
        )
        .for_target(target)),
    }
}
