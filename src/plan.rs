//! The launch plan: everything the launcher decided, in one value that is either executed or printed.
//!
//! Building the plan is the whole launch except the final `exec`: find the runfiles, resolve the
//! interpreter, choose or make the venv, then assemble argv and the environment. `PY_LAUNCHER_DEBUG=json`
//! prints this same value, so an IDE or debugger starts exactly what a normal launch would.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::debug::Trace;
use crate::descriptor::{Descriptor, InterpreterForm};
use crate::environment::{os_from_bytes, Environment};
use crate::error::{show, Error, Result};
use crate::interpreter::{self, Interpreter};
use crate::runfiles::{normalize_lexically, Discovery, Mode, Runfiles};
use crate::sys::FileId;
use crate::venv::{self, CacheEnv, Venv, VenvKind};
use crate::words;

/// Environment variables that add interpreter arguments: ours, then rules_python's (same meaning).
pub const INTERPRETER_ARGS_VARS: [&str; 2] = [
    "PY_LAUNCHER_INTERPRETER_ARGS",
    "RULES_PYTHON_ADDITIONAL_INTERPRETER_ARGS",
];

/// How the launcher was started, as far as planning needs to know.
pub struct Invocation<'a> {
    pub descriptor: &'a Descriptor,
    pub user_args: &'a [OsString],
    pub discovery: Discovery,
    /// Our own executable's identity: an interpreter that turns out to be us is refused.
    pub launcher_id: Option<FileId>,
    pub env: &'a Environment,
    /// Report only: where a stub translator found the facts (never read to decide anything).
    pub stub: Option<crate::stub::Origin>,
}

pub struct Plan {
    pub target: String,
    pub runfiles_mode: Mode,
    pub runfiles_root: PathBuf,
    pub manifest: Option<PathBuf>,
    pub interpreter: Interpreter,
    pub configured_interpreter: String,
    pub venv: Venv,
    pub executable: PathBuf,
    pub argv: Vec<OsString>,
    pub env_set: Vec<(OsString, OsString)>,
    pub env_unset: Vec<OsString>,
    pub build_config: Option<PathBuf>,
    /// Report only (`PY_LAUNCHER_DEBUG=json`): the stub the facts came from, if any.
    pub stub: Option<crate::stub::Origin>,
}

pub fn build(inv: &Invocation, trace: &mut Trace) -> Result<Plan> {
    let d = inv.descriptor;
    let target = d.target.as_str();
    trace.note(|| format!("descriptor: {}", String::from_utf8_lossy(&d.to_json())));
    let runfiles = Runfiles::discover(&inv.discovery, d.root_marker(), trace)
        .map_err(|e| e.for_target(target))?;

    // Every runfiles path the launch needs, resolved in one pass (one manifest scan in manifest mode).
    // With manifest-only runfiles a build-time venv cannot run; only a run-time venv that links into it
    // still needs its real directory, found through the venv's own pyvenv.cfg.
    let policy = &d.venv_policy;
    let venv_key = d.venv.as_ref().and_then(|v| match runfiles.mode {
        Mode::Directory => Some(v.clone()),
        Mode::Manifest => policy.link_build_time.then(|| format!("{v}/pyvenv.cfg")),
    });
    let venv_python = policy.python.clone();
    let wanted: [Option<&str>; 5] = [
        d.main.as_deref(),
        (d.interpreter_form() == InterpreterForm::Runfiles).then_some(d.interpreter.as_str()),
        venv_key.as_deref(),
        venv_python.as_deref(),
        d.build_config.as_deref(),
    ];
    let keys: Vec<&str> = wanted.iter().flatten().copied().collect();
    let mut resolved = runfiles
        .resolve_all(&keys)
        .map_err(|e| e.for_target(target))?
        .into_iter();
    let [main, interp, venv_dir, venv_python, build_config] =
        wanted.map(|w| w.and_then(|_| resolved.next().flatten()));
    let venv_dir = match runfiles.mode {
        Mode::Directory => venv_dir,
        Mode::Manifest => venv_dir.and_then(|cfg| cfg.parent().map(Path::to_path_buf)),
    };

    let main = match (&d.main, main) {
        (Some(rel), None) => {
            return Err(Error::runfiles(
                format!(
                    "main file {rel:?} is not in the runfiles {}",
                    show(runfiles.manifest_path.as_deref().unwrap_or(&runfiles.root))
                ),
                "add it to the binary's srcs, or rebuild so that the runfiles are complete",
            )
            .for_target(target))
        }
        (_, main) => main,
    };

    let interpreter = interpreter::resolve(
        d,
        &runfiles,
        interp,
        inv.env.get("PATH"),
        inv.launcher_id,
        trace,
    )?;
    let cache = CacheEnv {
        xdg_cache_home: inv.env.get("XDG_CACHE_HOME").map(OsStr::to_owned),
        home: inv.env.get("HOME").map(OsStr::to_owned),
        tmpdir: inv.env.get("TMPDIR").map(OsStr::to_owned),
    };
    let request = venv::Request {
        descriptor: d,
        runfiles: &runfiles,
        interpreter: &interpreter,
        build_time_venv: venv_dir,
        build_time_python: venv_python,
        cache: &cache,
    };
    let venv = venv::prepare(&request, trace)?;
    if trace.enabled() {
        trace.note(|| format!("import path: site-packages {}", show(&venv.site_packages)));
        for (dir, exists) in import_path(&venv) {
            trace.note(|| {
                format!(
                    "import path: {} ({})",
                    show(&dir),
                    if exists {
                        "exists"
                    } else {
                        "MISSING: site will skip it"
                    }
                )
            });
        }
    }

    let mut argv: Vec<OsString> = vec![venv.python.clone().into_os_string()];
    argv.extend(d.interpreter_args.iter().map(OsString::from));
    for var in INTERPRETER_ARGS_VARS {
        if let Some(value) = inv.env.get(var).filter(|v| !v.is_empty()) {
            let extra = words::split(value.as_encoded_bytes()).map_err(|problem| {
                Error::usage(
                    format!("{var} has {problem}: {}", show(value)),
                    "quote it as for Python's shlex.split (a POSIX shell command line)",
                )
            })?;
            trace.note(|| format!("interpreter args from {var}: {extra:?}"));
            argv.extend(extra.into_iter().map(os_from_bytes));
        }
    }
    match (&main, &d.main_module) {
        (Some(main), _) => argv.push(main.clone().into_os_string()),
        (None, Some(module)) => argv.extend(["-m".into(), module.into()]),
        (None, None) => {}
    }
    argv.extend(inv.user_args.iter().cloned());

    let mut env_set: Vec<(OsString, OsString)> =
        d.env.iter().map(|(k, v)| (k.into(), v.into())).collect();
    let mut env_unset: Vec<OsString> = INTERPRETER_ARGS_VARS.iter().map(OsString::from).collect();
    env_unset.push("__PYVENV_LAUNCHER__".into());
    match runfiles.mode {
        Mode::Directory => {
            let root = runfiles.root.clone().into_os_string();
            env_set.push(("RUNFILES_DIR".into(), root.clone()));
            env_set.push(("JAVA_RUNFILES".into(), root));
            env_unset.push("RUNFILES_MANIFEST_FILE".into());
        }
        Mode::Manifest => {
            let manifest = runfiles
                .manifest_path
                .clone()
                .unwrap_or_default()
                .into_os_string();
            env_set.push(("RUNFILES_MANIFEST_FILE".into(), manifest));
            env_unset.extend(["RUNFILES_DIR".into(), "JAVA_RUNFILES".into()]);
        }
    }
    env_set.push(("PY_LAUNCHER_TARGET".into(), d.target.clone().into()));
    match &build_config {
        Some(path) => env_set.push((
            "PY_LAUNCHER_BUILD_CONFIG".into(),
            path.clone().into_os_string(),
        )),
        None => env_unset.push("PY_LAUNCHER_BUILD_CONFIG".into()),
    }
    if inv.env.get("PYTHONSAFEPATH").is_none() {
        env_set.push(("PYTHONSAFEPATH".into(), "1".into()));
    }
    env_unset.retain(|k| env_set.iter().all(|(s, _)| s != k));
    trace.note(|| {
        let config = build_config.as_deref().map_or("none".into(), show);
        let stamps = match runfiles.mode {
            Mode::Directory => show(runfiles.root.join("bazel_build_info")),
            Mode::Manifest => "bazel_build_info/*.txt through the manifest".into(),
        };
        format!("build info: PY_LAUNCHER_BUILD_CONFIG={config}; stamp files (present only when stamped) in {stamps}")
    });
    trace.note(|| format!("argv: {argv:?}"));
    trace.note(|| format!("environment: set {env_set:?}; unset {env_unset:?}"));

    // A build-time venv's bin/python3 need not be a link to the interpreter (a platform runtime's is a
    // copy of the launcher in its venv_python mode, docs/layout.md): exec the interpreter itself with
    // argv[0] = the venv's python, which is all CPython looks at to find the venv.
    let executable = match venv.kind {
        VenvKind::BuildTime => interpreter.path.clone(),
        VenvKind::RunTime => venv.python.clone(),
    };
    Ok(Plan {
        target: d.target.clone(),
        runfiles_mode: runfiles.mode,
        runfiles_root: runfiles.root.clone(),
        manifest: runfiles.manifest_path.clone(),
        configured_interpreter: d.interpreter.clone(),
        interpreter,
        executable,
        venv,
        argv,
        env_set,
        env_unset,
        build_config,
        stub: inv.stub.clone(),
    })
}

/// The venv's import-path lines as directories. `site` drops directories that do not exist without a
/// word, so the trace and the JSON plan say for each whether it exists.
fn import_path(venv: &Venv) -> Vec<(PathBuf, bool)> {
    let Ok(text) = std::fs::read(venv.site_packages.join(venv::PTH_NAME)) else {
        return Vec::new();
    };
    text.split(|b| *b == b'\n')
        .filter(|l| !l.is_empty() && !l.starts_with(b"import") && !l.starts_with(b"#"))
        .map(|l| {
            // What `site` does to a line: join it to site-packages and fold `..` without resolving links.
            let dir = normalize_lexically(&venv.site_packages.join(os_from_bytes(l.to_vec())));
            let exists = dir.is_dir();
            (dir, exists)
        })
        .collect()
}

impl Plan {
    /// The plan as one JSON document (`PY_LAUNCHER_DEBUG=json`). Non-UTF-8 bytes are replaced by U+FFFD.
    pub fn to_json(&self, cwd: Option<&Path>) -> String {
        let stamp = |name: &str| match self.runfiles_mode {
            Mode::Directory => {
                Some(self.runfiles_root.join("bazel_build_info").join(name)).filter(|p| p.is_file())
            }
            Mode::Manifest => None,
        };
        let entries = import_path(&self.venv);
        let report = Report {
            version: 1,
            target: &self.target,
            stub: self.stub.as_ref().map(|stub| StubReport {
                path: Lossy::path(&stub.path),
                template: &stub.template,
                facts: stub
                    .facts
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect(),
            }),
            runfiles: RunfilesReport {
                mode: self.runfiles_mode,
                root: Lossy::path(&self.runfiles_root),
                manifest: self.manifest.as_deref().map(Lossy::path),
            },
            interpreter: InterpreterReport {
                configured: &self.configured_interpreter,
                form: match self.interpreter.form {
                    InterpreterForm::Absolute => "absolute",
                    InterpreterForm::Runfiles => "runfiles",
                    InterpreterForm::PathSearch => "path-search",
                },
                path: Lossy::path(&self.interpreter.path),
                kind: self.interpreter.kind,
                version: self.interpreter.version.map(|(a, b)| format!("{a}.{b}")),
            },
            venv: VenvReport {
                kind: self.venv.kind,
                dir: Lossy::path(&self.venv.dir),
                python: Lossy::path(&self.venv.python),
                site_packages: Lossy::path(&self.venv.site_packages),
                created: self.venv.created,
                reason: &self.venv.reason,
            },
            executable: Lossy::path(&self.executable),
            argv: self.argv.iter().map(|a| Lossy(a)).collect(),
            cwd: cwd.map(Lossy::path),
            env: EnvReport {
                set: EnvMap(&self.env_set),
                unset: self.env_unset.iter().map(|k| Lossy(k)).collect(),
            },
            build_info: BuildInfoReport {
                build_config: self.build_config.as_deref().map(Lossy::path),
                stable_status: stamp("stable.txt").map(|p| p.to_string_lossy().into_owned()),
                volatile_status: stamp("volatile.txt").map(|p| p.to_string_lossy().into_owned()),
            },
            import_path: entries
                .iter()
                .map(|(path, exists)| ImportEntry {
                    path: Lossy::path(path),
                    exists: *exists,
                })
                .collect(),
        };
        // Plain strings, booleans and maps: serialising them cannot fail.
        serde_json::to_string(&report).unwrap_or_default()
    }
}

#[derive(Serialize)]
struct Report<'a> {
    version: u32,
    target: &'a str,
    stub: Option<StubReport<'a>>,
    runfiles: RunfilesReport<'a>,
    interpreter: InterpreterReport<'a>,
    venv: VenvReport<'a>,
    executable: Lossy<'a>,
    argv: Vec<Lossy<'a>>,
    cwd: Option<Lossy<'a>>,
    env: EnvReport<'a>,
    build_info: BuildInfoReport<'a>,
    import_path: Vec<ImportEntry<'a>>,
}

#[derive(Serialize)]
struct ImportEntry<'a> {
    path: Lossy<'a>,
    exists: bool,
}

#[derive(Serialize)]
struct StubReport<'a> {
    path: Lossy<'a>,
    template: &'a str,
    facts: std::collections::BTreeMap<&'a str, &'a str>,
}

#[derive(Serialize)]
struct RunfilesReport<'a> {
    mode: Mode,
    root: Lossy<'a>,
    manifest: Option<Lossy<'a>>,
}

#[derive(Serialize)]
struct InterpreterReport<'a> {
    configured: &'a str,
    form: &'static str,
    path: Lossy<'a>,
    kind: crate::interpreter::Kind,
    version: Option<String>,
}

#[derive(Serialize)]
struct VenvReport<'a> {
    kind: VenvKind,
    dir: Lossy<'a>,
    python: Lossy<'a>,
    site_packages: Lossy<'a>,
    created: bool,
    reason: &'a str,
}

#[derive(Serialize)]
struct EnvReport<'a> {
    set: EnvMap<'a>,
    unset: Vec<Lossy<'a>>,
}

#[derive(Serialize)]
struct BuildInfoReport<'a> {
    build_config: Option<Lossy<'a>>,
    stable_status: Option<String>,
    volatile_status: Option<String>,
}

/// An OS string shown as JSON text, non-UTF-8 bytes replaced by U+FFFD.
struct Lossy<'a>(&'a OsStr);

impl<'a> Lossy<'a> {
    fn path(path: &'a Path) -> Lossy<'a> {
        Lossy(path.as_os_str())
    }
}

impl Serialize for Lossy<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0.to_string_lossy())
    }
}

struct EnvMap<'a>(&'a [(OsString, OsString)]);

impl Serialize for EnvMap<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            map.serialize_entry(&k.to_string_lossy(), &v.to_string_lossy())?;
        }
        map.end()
    }
}
