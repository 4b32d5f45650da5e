//! `py-launcher-finalize`: embed a validated descriptor into a copy of the launcher.
//!
//! Nothing is written unless the descriptor is valid. A launcher that already carries a descriptor has
//! it replaced, not stacked. The output is written to a temporary file beside it and renamed into place,
//! so a failed run never leaves a half-written executable that Bazel could mistake for an output.

use std::ffi::OsString;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::descriptor::Descriptor;
use crate::error::{show_path, Error, Result};
use crate::limits::MAX_DESCRIPTOR_LEN;
use crate::sys;
use crate::trailer::{self, Tail};

/// The three paths of a finalize run.
pub struct Args {
    /// The launcher executable (`--launcher`).
    pub(crate) launcher: PathBuf,
    /// The descriptor JSON (`--descriptor`).
    pub(crate) descriptor: PathBuf,
    /// Where the finalized executable goes (`--output`).
    pub(crate) output: PathBuf,
}

/// What the command line asks for.
pub enum Command {
    /// Stamp the descriptor onto a copy of the launcher.
    Finalize(Args),
    /// `--help` / `-h`: print [`help`] on stdout, exit 0.
    Help,
    /// `--version` / `-V`: print [`version_line`] on stdout, exit 0.
    Version,
}

pub(crate) const USAGE: &str =
    "usage: py-launcher-finalize --launcher PATH --descriptor FILE.json --output PATH";

/// `py-launcher-finalize 0.1.0 (abc123def456)`.
pub fn version_line() -> String {
    format!(
        "py-launcher-finalize {}",
        crate::version::launcher_version()
    )
}

/// The `--help` text.
pub fn help() -> String {
    format!(
        "{}: writes a copy of a py-launcher with a launch descriptor embedded.\n\n\
         {USAGE}\n       py-launcher-finalize --version | --help\n\n\
         The descriptor (JSON, see docs/descriptor.md) is validated first; nothing is written if it is\n\
         invalid. The output is the launcher's bytes (any descriptor it already carries is replaced), the\n\
         descriptor and a 24-byte trailer, mode 755. Exit codes: 0 done, 64 bad arguments or unreadable\n\
         input, 65 invalid descriptor, 71 the output cannot be written.\n",
        version_line()
    )
}

/// Reads the command line (without the program name).
pub fn parse_args(args: impl IntoIterator<Item = OsString>) -> Result<Command> {
    let (mut launcher, mut descriptor, mut output) = (None, None, None);
    let mut args = args.into_iter();
    while let Some(flag) = args.next() {
        let slot = match flag.to_str() {
            Some("--launcher") => &mut launcher,
            Some("--descriptor") => &mut descriptor,
            Some("--output") => &mut output,
            Some("-h" | "--help") => return Ok(Command::Help),
            Some("-V" | "--version") => return Ok(Command::Version),
            _ => {
                return Err(Error::usage(
                    format!("unknown argument {}", show_path(Path::new(&flag))),
                    USAGE,
                ))
            }
        };
        let value = args.next().ok_or_else(|| {
            Error::usage(format!("{} needs a value", flag.to_string_lossy()), USAGE)
        })?;
        *slot = Some(PathBuf::from(value));
    }
    match (launcher, descriptor, output) {
        (Some(launcher), Some(descriptor), Some(output)) => Ok(Command::Finalize(Args {
            launcher,
            descriptor,
            output,
        })),
        _ => Err(Error::usage(
            "--launcher, --descriptor and --output are all required",
            USAGE,
        )),
    }
}

/// Validates the descriptor and writes launcher + descriptor + trailer to the output, atomically.
pub fn finalize(args: &Args) -> Result<()> {
    // The launcher refuses a descriptor over MAX_DESCRIPTOR_LEN, so finalize never writes one.
    let json = sys::read_regular(&args.descriptor, MAX_DESCRIPTOR_LEN).map_err(|e| {
        Error::usage(
            format!(
                "cannot read descriptor {}: {e}",
                show_path(&args.descriptor)
            ),
            if e.kind() == std::io::ErrorKind::FileTooLarge {
                "the launcher reads descriptors of at most 16 MiB; move large data into the runfiles"
            } else {
                "check the --descriptor path"
            },
        )
    })?;
    let descriptor =
        Descriptor::from_json(&json).map_err(|e| e.in_file("descriptor", &args.descriptor))?;
    for warning in prefix_warnings(&descriptor) {
        let line = format!(
            "py-launcher-finalize: warning: descriptor {}: {warning}\n",
            show_path(&args.descriptor)
        );
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
    let launcher = sys::read_regular(&args.launcher, u64::MAX).map_err(|e| {
        Error::usage(
            format!("cannot read launcher {}: {e}", show_path(&args.launcher)),
            "check the --launcher path",
        )
    })?;
    let body = launcher_body(&args.launcher, &launcher)?;
    if same_file(&args.launcher, &args.output) {
        return Err(Error::usage(
            "--output is the --launcher itself",
            "write the finalized launcher to a new path",
        ));
    }
    let mut bytes = Vec::with_capacity(body.len() + json.len() + 24);
    bytes.extend_from_slice(body);
    bytes.extend_from_slice(&trailer::encode(&json));
    write_executable(&args.output, &bytes)
}

/// Runfiles paths start with a repository name (`_main/pkg/main.py`), and forgetting it is the usual
/// mistake in a hand-written descriptor: the launch then fails to find the runfiles. A `main` outside the
/// workspace is warned about; an import outside it only when it names the main file's own top-level
/// directory (`pkg/lib` beside `_main/pkg/main.py`), since imports of other repositories are normal.
pub(crate) fn prefix_warnings(d: &Descriptor) -> Vec<String> {
    let ws = d.workspace_name.as_str();
    let first = |path: &str| path.split('/').next().unwrap_or("").to_owned();
    let mut warnings = Vec::new();
    let mut own_dirs: Vec<String> = Vec::new();
    if let Some(main) = &d.main {
        let parts: Vec<&str> = main.split('/').collect();
        if parts[0] != ws {
            warnings.push(format!(
                "main {main:?} does not start with the workspace name {ws:?}; runfiles paths start with a repository name, so it is probably \"{ws}/{main}\""
            ));
            own_dirs.push(first(main));
        } else if parts.len() > 2 {
            own_dirs.push(parts[1].to_owned());
        }
    }
    for import in &d.imports {
        let top = first(import);
        if top != ws && own_dirs.contains(&top) {
            warnings.push(format!(
                "import {import:?} does not start with the workspace name {ws:?} but names the main file's directory {top:?}; it is probably \"{ws}/{import}\""
            ));
        }
    }
    warnings
}

/// The launcher's bytes without any descriptor it already carries.
fn launcher_body<'a>(path: &Path, launcher: &'a [u8]) -> Result<&'a [u8]> {
    match trailer::read_bytes(launcher) {
        Tail::Present(found, _) => Ok(&launcher[..found.start as usize]),
        Tail::Absent => Ok(launcher),
        Tail::Corrupt(reason) => Err(Error::descriptor(
            format!(
                "the launcher {} carries a damaged descriptor: {reason}",
                show_path(path)
            ),
            "finalize from the plain py-launcher binary",
        )),
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn write_executable(output: &Path, bytes: &[u8]) -> Result<()> {
    let fail = |e: std::io::Error| {
        Error::os(
            format!("cannot write {}: {e}", show_path(output)),
            "check that its directory exists and is writable",
        )
    };
    let mut temp_name = output.as_os_str().to_owned();
    temp_name.push(format!(".tmp-{}", std::process::id()));
    let temp = PathBuf::from(temp_name);
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    sys::create_executable(&mut options);
    let written = options.open(&temp).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    if let Err(e) = written.and_then(|()| fs::rename(&temp, output)) {
        let _ = fs::remove_file(&temp);
        return Err(fail(e));
    }
    Ok(())
}
