//! The coverage mode: under `bazel coverage`, run the program through coverage.py.
//!
//! It is on only when both hold: a coverage tool is named (the descriptor's `coverage_tool`, written only
//! by a build with coverage enabled and a toolchain `coverage_tool` or taken from a drop-in stub; else
//! `PYTHON_COVERAGE`) and the test runner asked for coverage (`COVERAGE_DIR` in the environment already
//! captured). Off, it costs a field check and a lookup in the captured environment: no system call. On, the main file (or module) is replaced in argv by
//! `-c <driver> TOOL_DIR WORKSPACE (file|module) MAIN`; the driver (`templates/coverage_driver.py`)
//! imports coverage.py from TOOL_DIR, measures only the files Bazel lists in `COVERAGE_MANIFEST`, runs the
//! program with `runpy` and writes lcov into `COVERAGE_DIR` (docs/coverage.md).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::debug::Trace;
use crate::descriptor::Descriptor;
use crate::environment::Environment;
use crate::error::{show, Error, Result};

/// The driver's source, run with `python -c` so that no file of ours is ever measured or imported.
pub(crate) const DRIVER: &str = include_str!("../templates/coverage_driver.py");

/// The runfiles path whose resolution locates the tool (its package's `__init__.py`), when coverage is on.
pub(crate) fn wanted(descriptor: &Descriptor, env: &Environment) -> Option<String> {
    let tool = descriptor.coverage_tool.as_deref()?;
    env.get("COVERAGE_DIR")?;
    Some(format!("{tool}/coverage/__init__.py"))
}

/// A drop-in stub's `%coverage_tool%` (a runfiles path of a file of coverage.py, such as
/// `pypi_coverage/coverage/__main__.py`) -> the directory holding the `coverage` package.
pub(crate) fn dir_of_entry_point(path: &str) -> Option<String> {
    let (dir, _file) = path.rsplit_once('/')?;
    Some(dir.strip_suffix("/coverage").unwrap_or(dir).to_owned())
}

/// The directory to put on `sys.path` (the package's parent), from the resolution of [`wanted`]'s path
/// or, when the descriptor names no tool, from `PYTHON_COVERAGE` (see `from_env`). Directory-mode
/// runfiles join paths without looking, so the coverage mode (only) checks the file is there: a missing
/// tool is a runfiles error, not a Python traceback.
pub(crate) fn tool(
    d: &Descriptor,
    env: &Environment,
    key: Option<&str>,
    init: Option<PathBuf>,
) -> Result<Option<PathBuf>> {
    let (what, init) = match key {
        Some(key) => (format!("{key:?}"), init),
        None if d.coverage_tool.is_none() => match from_env(env) {
            Some(path) => (
                format!("{} (from PYTHON_COVERAGE)", show(&path)),
                Some(path),
            ),
            None => return Ok(None),
        },
        None => return Ok(None),
    };
    match init.filter(|init| init.is_file()) {
        Some(init) => Ok(init.parent().and_then(Path::parent).map(Path::to_path_buf)),
        None => Err(Error::runfiles(
            format!("COVERAGE_DIR is set but the coverage tool's {what} is not there"),
            "check the py_launcher_toolchain's coverage_tool (a target providing coverage.py) or PYTHON_COVERAGE, or rebuild with `bazel coverage`",
        )
        .for_target(&d.target)),
    }
}

/// `PYTHON_COVERAGE`, the variable Bazel's own Python stub and rules_python read: a file of coverage.py
/// (`…/coverage/__main__.py`), absolute or relative to the cwd. Used only with `COVERAGE_DIR` set and no
/// tool in the descriptor (e.g. a drop-in stub of Bazel 4, which has no `%coverage_tool%`). Returns the
/// package's `__init__.py`.
fn from_env(env: &Environment) -> Option<PathBuf> {
    env.get("COVERAGE_DIR")?;
    let value = Path::new(env.get("PYTHON_COVERAGE").filter(|v| !v.is_empty())?);
    let path = match value.is_absolute() {
        true => value.to_path_buf(),
        false => std::env::current_dir().ok()?.join(value),
    };
    let dir = path.parent()?;
    let dir = match dir.file_name() {
        Some(name) if name == "coverage" => dir.parent()?,
        _ => dir,
    };
    Some(dir.join("coverage/__init__.py"))
}

pub(crate) fn trace(tool: Option<&Path>, trace: &mut Trace) {
    if let Some(tool) = tool {
        trace.note(|| {
            format!(
                "coverage: COVERAGE_DIR is set; running under coverage.py from {}",
                show(tool)
            )
        });
    }
}

/// The arguments that replace the main file (or `-m MODULE`) in argv.
pub(crate) fn argv(
    tool_dir: &Path,
    workspace: &str,
    main: Option<&Path>,
    module: Option<&str>,
) -> Vec<OsString> {
    let (kind, target): (&str, OsString) = match (main, module) {
        (Some(main), _) => ("file", main.as_os_str().to_owned()),
        (None, module) => ("module", module.unwrap_or_default().into()),
    };
    vec![
        "-c".into(),
        DRIVER.into(),
        tool_dir.as_os_str().to_owned(),
        workspace.into(),
        kind.into(),
        target,
    ]
}
