//! The launch descriptor: the facts about one binary that the build embeds in its launcher.
//!
//! This module owns the JSON schema (documented field by field in `docs/descriptor.md`) and every check
//! on its values, so that the rest of the launcher works with values that are already known to be sane:
//! runfiles paths are normalised and relative, exactly one of `main`/`main_module` is set, and the
//! interpreter is classified into its three `py_runtime` forms. The drop-in stub translator (`stub.rs`)
//! produces the same struct (plus a [`VenvPolicy`]), so both routes share one launch path.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::json::{Reader, Writer};
use crate::python_version::PythonVersion;

pub(crate) const SCHEMA_VERSION: u32 = 1;

/// What a binary needs at launch, as finalize embeds it (JSON; the README lists the fields).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Descriptor {
    /// The schema version, 1.
    pub version: u32,
    /// The Bazel label, e.g. `//pkg:app`.
    pub target: String,
    /// The main repository's runfiles directory name, e.g. `_main`.
    pub workspace_name: String,
    /// Runfiles path of the main file (or else `main_module`).
    pub main: Option<String>,
    /// A module run like `python -m` (or else `main`).
    pub main_module: Option<String>,
    /// Absolute path, runfiles path containing `/`, or a bare word searched on `PATH`.
    pub interpreter: String,
    /// `"X.Y"` (or free-threaded `"X.Yt"`): names the venv's `lib/pythonX.Y`.
    pub python_version: Option<String>,
    /// Runfiles paths of import directories, in order.
    pub imports: Vec<String>,
    /// Also put every top-level runfiles directory on the path (Bazel's legacy behaviour).
    pub import_all: bool,
    /// Arguments before the main file.
    pub interpreter_args: Vec<String>,
    /// Variables exported to the program (overriding inherited ones).
    pub env: BTreeMap<String, String>,
    /// Runfiles path of a build-time venv (docs/layout.md).
    pub venv: Option<String>,
    /// Runfiles path of the build-configuration JSON.
    pub build_config: Option<String>,
    /// Keep the interpreter's own site-packages after the binary's imports.
    pub system_site_packages: bool,
    /// Runfiles path of the directory holding coverage.py's `coverage` package; set only in a build with
    /// coverage enabled, used only when the test runner asks for coverage (`src/coverage.rs`).
    pub coverage_tool: Option<String>,
    /// This executable is a build-time venv's `bin/python3`, not a binary: it only execs the absolute
    /// `interpreter` with its own path as `argv[0]` (see `launch::venv_python`). No main, no venv.
    pub venv_python: bool,
    /// How the venv is chosen and made when it differs from the default (build-time venv with
    /// `bin/python3`, else a run-time venv of the launcher's own). Not part of the JSON schema: only a
    /// stub translator (`stub.rs`) sets it.
    pub venv_policy: VenvPolicy,
}

/// Neutral facts about the venv that a descriptor's JSON cannot express. The default is the embedded
/// descriptor's behaviour; the venv code reads these and never where they came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VenvPolicy {
    /// Never use the build-time venv as it is; always make a run-time one.
    pub(crate) always_run_time: bool,
    /// Runfiles path of the build-time venv's python when it is not `<venv>/bin/python3`.
    pub python: Option<String>,
    /// Site-packages relative to the venv root when it is not `lib/pythonX.Y/site-packages`.
    pub site_packages: Option<String>,
    /// A run-time venv links `pyvenv.cfg` and `lib` to the build-time venv's (whose `lib` holds the
    /// site init that sets the import path) instead of holding the launcher's own content. In
    /// manifest-only runfiles the build-time venv's real directory is then found through its
    /// `pyvenv.cfg`.
    pub(crate) link_build_time: bool,
}

/// The three forms of a `py_runtime` interpreter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InterpreterForm {
    /// `interpreter_path`: an absolute path on the machine that runs the binary.
    Absolute,
    /// `interpreter`: a File in the build, found through the runfiles.
    Runfiles,
    /// A bare command name, looked up on `PATH` (e.g. `--python_path=python3`).
    PathSearch,
}

impl InterpreterForm {
    /// The form of a descriptor's `interpreter` value.
    pub(crate) fn of(interpreter: &str) -> InterpreterForm {
        if interpreter.starts_with('/') {
            InterpreterForm::Absolute
        } else if interpreter.contains('/') {
            InterpreterForm::Runfiles
        } else {
            InterpreterForm::PathSearch
        }
    }

    pub(crate) fn describe(self) -> &'static str {
        match self {
            InterpreterForm::Absolute => "platform runtime, absolute interpreter_path",
            InterpreterForm::Runfiles => "in-build runtime, runfiles path",
            InterpreterForm::PathSearch => "bare name searched on PATH",
        }
    }
}

impl Descriptor {
    /// Parses and validates descriptor JSON.
    pub fn from_json(bytes: &[u8]) -> Result<Descriptor> {
        let descriptor = parse(bytes).map_err(|err| {
            Error::descriptor(
                format!("descriptor is not valid: {err}"),
                "rebuild the binary; if you wrote the descriptor by hand, compare it with docs/descriptor.md",
            )
        })?;
        descriptor.validate()?;
        Ok(descriptor)
    }

    /// The descriptor as canonical JSON bytes: fields in schema order, absent options and false flags
    /// left out.
    pub fn to_json(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.begin_object();
        w.key("version").number(self.version.into());
        w.key("target").string(&self.target);
        w.key("workspace_name").string(&self.workspace_name);
        let optional = |w: &mut Writer, key: &str, value: &Option<String>| {
            if let Some(value) = value {
                w.key(key).string(value);
            }
        };
        let flag = |w: &mut Writer, key: &str, value: bool| {
            if value {
                w.key(key).boolean(true);
            }
        };
        optional(&mut w, "main", &self.main);
        optional(&mut w, "main_module", &self.main_module);
        w.key("interpreter").string(&self.interpreter);
        optional(&mut w, "python_version", &self.python_version);
        w.key("imports")
            .strings(self.imports.iter().map(String::as_str));
        flag(&mut w, "import_all", self.import_all);
        w.key("interpreter_args")
            .strings(self.interpreter_args.iter().map(String::as_str));
        w.key("env").begin_object();
        for (key, value) in &self.env {
            w.key(key).string(value);
        }
        w.end_object();
        optional(&mut w, "venv", &self.venv);
        optional(&mut w, "build_config", &self.build_config);
        flag(&mut w, "system_site_packages", self.system_site_packages);
        optional(&mut w, "coverage_tool", &self.coverage_tool);
        flag(&mut w, "venv_python", self.venv_python);
        w.end_object();
        w.finish().into_bytes()
    }

    /// Checks every field's rules (runfiles paths, version, names); the first violation is the error.
    pub fn validate(&self) -> Result<()> {
        let target = self.target.as_str();
        let bad =
            |message: String, hint: &str| Err(Error::descriptor(message, hint).for_target(target));
        if self.version != SCHEMA_VERSION {
            return bad(
                format!("unsupported descriptor version {} (this launcher reads version {SCHEMA_VERSION})", self.version),
                "build the binary with a py-launcher-finalize of the same release as the launcher",
            );
        }
        if self.target.is_empty() {
            return bad(
                "field `target` is empty".into(),
                "set it to the Bazel label, e.g. //pkg:app",
            );
        }
        if self.workspace_name.is_empty()
            || self.workspace_name.contains(['/', '\\', '\0', '\n', '\r'])
            || self
                .workspace_name
                .ends_with(|c: char| c.is_ascii_whitespace())
            || matches!(self.workspace_name.as_str(), "." | "..")
        {
            return bad(
                format!(
                    "field `workspace_name` is not a directory name: {:?}",
                    self.workspace_name
                ),
                "set it to the main repository's runfiles name, e.g. _main",
            );
        }
        if self.venv_python {
            if self.interpreter_form() != InterpreterForm::Absolute
                || self.interpreter.contains(['\0', '\n'])
                || self.main.is_some()
                || self.main_module.is_some()
            {
                return bad(
                    format!("a `venv_python` descriptor needs an absolute `interpreter` and no main: {:?}", self.interpreter),
                    "only the Bazel rules write this form, for a platform runtime's build-time venv",
                );
            }
            return Ok(());
        }
        match (&self.main, &self.main_module) {
            (Some(_), Some(_)) => {
                return bad(
                    "both `main` and `main_module` are set".into(),
                    "keep exactly one of them",
                );
            }
            (None, None) => {
                return bad(
                    "neither `main` nor `main_module` is set".into(),
                    "set `main` to the main file's runfiles path",
                );
            }
            (Some(main), None) => {
                check_runfiles_path("main", main).map_err(|e| e.for_target(target))?
            }
            (None, Some(module)) => {
                let valid = !module.is_empty()
                    && module.split('.').all(|part| {
                        !part.is_empty()
                            && !part.starts_with(|c: char| c.is_ascii_digit())
                            && part.chars().all(|c| c == '_' || c.is_alphanumeric())
                    });
                if !valid {
                    return bad(
                        format!("field `main_module` is not a module name: {module:?}"),
                        "use a dotted name such as pkg.cli",
                    );
                }
            }
        }
        if self.interpreter.is_empty() || self.interpreter.contains(['\0', '\n', '\r']) {
            return bad(
                format!("field `interpreter` is not usable: {:?}", self.interpreter),
                "set the py_runtime's interpreter or interpreter_path",
            );
        }
        if InterpreterForm::of(&self.interpreter) == InterpreterForm::Runfiles {
            check_runfiles_path("interpreter", &self.interpreter)
                .map_err(|e| e.for_target(target))?;
        }
        if let Some(version) = &self.python_version {
            if PythonVersion::parse(version).is_none() {
                return bad(
                    format!("field `python_version` is not X.Y: {version:?}"),
                    "use the major.minor form, e.g. 3.11",
                );
            }
        }
        for import in &self.imports {
            check_runfiles_path("imports", import).map_err(|e| e.for_target(target))?;
            // Import directories become `.pth` lines, which `site` strips of trailing white space.
            if import.ends_with(|c: char| c.is_ascii_whitespace()) {
                return bad(
                    format!("an `imports` entry ends in white space: {import:?}"),
                    "remove the trailing white space",
                );
            }
        }
        for (field, value) in [
            ("venv", &self.venv),
            ("build_config", &self.build_config),
            ("coverage_tool", &self.coverage_tool),
        ] {
            if let Some(value) = value {
                check_runfiles_path(field, value).map_err(|e| e.for_target(target))?;
            }
        }
        for arg in &self.interpreter_args {
            if arg.contains('\0') {
                return bad(
                    format!("an `interpreter_args` entry contains a NUL byte: {arg:?}"),
                    "remove it",
                );
            }
        }
        for (key, value) in &self.env {
            if key.is_empty() || key.contains(['=', '\0']) || value.contains('\0') {
                return bad(
                    format!("`env` entry {key:?} cannot be an environment variable"),
                    "use NAME: value with no '=' or NUL in NAME",
                );
            }
        }
        Ok(())
    }

    pub(crate) fn interpreter_form(&self) -> InterpreterForm {
        InterpreterForm::of(&self.interpreter)
    }

    /// The runfiles path whose presence proves that a candidate runfiles root belongs to this binary.
    pub fn root_marker(&self) -> Option<&str> {
        self.main
            .as_deref()
            .or(self.venv.as_deref())
            .or(self.build_config.as_deref())
    }
}

/// The JSON schema's fields, in order (`to_json` writes them in this order too; `parse` matches them
/// by these indexes).
const FIELDS: [&str; 16] = [
    "version",
    "target",
    "workspace_name",
    "main",
    "main_module",
    "interpreter",
    "python_version",
    "imports",
    "import_all",
    "interpreter_args",
    "env",
    "venv",
    "build_config",
    "system_site_packages",
    "coverage_tool",
    "venv_python",
];

/// The fields without a default, in the order their absence is reported.
const REQUIRED: [usize; 4] = [0, 1, 2, 5];

/// Reads the JSON into a descriptor: one object, each field at most once, unknown fields refused,
/// `null` allowed for the optional strings only. Values are checked later, by `validate`.
fn parse(bytes: &[u8]) -> std::result::Result<Descriptor, String> {
    let mut d = Descriptor::default();
    let mut seen = [false; FIELDS.len()];
    let mut r = Reader::new(bytes);
    r.object("struct Descriptor", |r, key| {
        // A `match` on the name compiles to a switch on its length, then one comparison.
        let field = match &*key {
            "version" => Some(0),
            "target" => Some(1),
            "workspace_name" => Some(2),
            "main" => Some(3),
            "main_module" => Some(4),
            "interpreter" => Some(5),
            "python_version" => Some(6),
            "imports" => Some(7),
            "import_all" => Some(8),
            "interpreter_args" => Some(9),
            "env" => Some(10),
            "venv" => Some(11),
            "build_config" => Some(12),
            "system_site_packages" => Some(13),
            "coverage_tool" => Some(14),
            "venv_python" => Some(15),
            _ => None,
        };
        let Some(field) = field else {
            let expected = FIELDS.map(|f| format!("`{f}`")).join(", ");
            return Err(r.error(&format!(
                "unknown field `{key}`, expected one of {expected}"
            )));
        };
        if std::mem::replace(&mut seen[field], true) {
            return Err(r.error(&format!("duplicate field `{key}`")));
        }
        let optional = |r: &mut Reader| -> std::result::Result<Option<String>, String> {
            if r.null()? {
                Ok(None)
            } else {
                r.string().map(Some)
            }
        };
        let strings = |r: &mut Reader, list: &mut Vec<String>| {
            r.array("a sequence", |r| {
                list.push(r.string()?);
                Ok(())
            })
        };
        match field {
            0 => d.version = r.u32()?,
            1 => d.target = r.string()?,
            2 => d.workspace_name = r.string()?,
            3 => d.main = optional(r)?,
            4 => d.main_module = optional(r)?,
            5 => d.interpreter = r.string()?,
            6 => d.python_version = optional(r)?,
            7 => strings(r, &mut d.imports)?,
            8 => d.import_all = r.boolean()?,
            9 => strings(r, &mut d.interpreter_args)?,
            10 => r.object("a map", |r, name| {
                let value = r.string()?;
                d.env.insert(name.into_owned(), value);
                Ok(())
            })?,
            11 => d.venv = optional(r)?,
            12 => d.build_config = optional(r)?,
            13 => d.system_site_packages = r.boolean()?,
            14 => d.coverage_tool = optional(r)?,
            _ => d.venv_python = r.boolean()?,
        }
        Ok(())
    })?;
    if let Some(&missing) = REQUIRED.iter().find(|&&i| !seen[i]) {
        return Err(r.error(&format!("missing field `{}`", FIELDS[missing])));
    }
    r.end()?;
    Ok(d)
}

/// Lexically joins a relative runfiles path to a runfiles directory (`""` for the root), folding `.` and
/// `..` segments: `("_main", "../repo/x")` → `repo/x`, the runfiles path of a file whose Bazel
/// `short_path` is `../repo/x`. `None` if it climbs above the runfiles root. The one normaliser of
/// runfiles paths: manifest symlink targets and drop-in stub values go through it, and
/// `runfiles_path` in `bazel/private/shared.bzl` is its Starlark mirror for `short_path`s
/// (`tests/bazel_mirror.rs` feeds both the same table). Operating-system paths are another matter
/// (`runfiles::normalize_lexically`).
pub fn join_runfiles_path(base: &str, relative: &str) -> Option<String> {
    let mut parts: Vec<&str> = base.split('/').filter(|p| !p.is_empty()).collect();
    for part in relative.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    Some(parts.join("/"))
}

/// Refuses anything that is not a normalised, relative, `/`-separated runfiles path: such a value
/// would escape the runfiles root or name the same file two ways.
pub fn check_runfiles_path(field: &str, path: &str) -> Result<()> {
    match runfiles_path_problem(path.as_bytes()) {
        None => Ok(()),
        Some(reason) => Err(Error::descriptor(
            format!("field `{field}` is not a runfiles path ({reason}): {path:?}"),
            "runfiles paths are relative to the runfiles root, e.g. _main/pkg/main.py",
        )),
    }
}

/// One pass over the bytes: this runs for every import directory on every launch.
fn runfiles_path_problem(path: &[u8]) -> Option<&'static str> {
    match path.first() {
        None => return Some("it is empty"),
        Some(b'/') => return Some("it is absolute"),
        Some(_) => {}
    }
    let mut segment_start = 0;
    for (i, &b) in path.iter().enumerate() {
        match b {
            b'\\' | b'\0' | b'\n' | b'\r' => {
                return Some("it contains a backslash or a control character")
            }
            b'/' => {
                if matches!(&path[segment_start..i], b"" | b"." | b"..") {
                    return Some("it has an empty, '.' or '..' segment");
                }
                segment_start = i + 1;
            }
            _ => {}
        }
    }
    if matches!(&path[segment_start..], b"" | b"." | b"..") {
        return Some("it has an empty, '.' or '..' segment");
    }
    None
}
