//! The launch plan: everything the launcher decided, in one value that is either executed or printed.
//!
//! Building the plan is the whole launch except the final `exec`: find the runfiles, resolve the
//! interpreter, choose or make the venv, then assemble argv (`[python] + interpreter args + debugger
//! args + program + user args`) and the environment changes. [`build`] only orchestrates these steps;
//! each has its own function. `PY_LAUNCHER_DEBUG=json` prints this same value (the report's shape and
//! the trace's wording belong to [`crate::debug`]), so an IDE or debugger starts exactly what a normal
//! launch would.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use crate::coverage;
use crate::debug::{self, Trace};
use crate::descriptor::{Descriptor, InterpreterForm};
use crate::environment::{os_from_bytes, Environment};
use crate::error::{show, Error, Result};
use crate::interpreter::{self, Interpreter};
use crate::runfiles::{Discovery, Mode, Runfiles};
use crate::sys::FileId;
use crate::venv::{self, CacheEnv, Venv, VenvKind};
use crate::words;

/// Environment variables that add interpreter arguments: ours, then rules_python's (same meaning).
pub(crate) const INTERPRETER_ARGS_VARS: [&str; 2] = [
    "PY_LAUNCHER_INTERPRETER_ARGS",
    "RULES_PYTHON_ADDITIONAL_INTERPRETER_ARGS",
];

/// `PY_LAUNCHER_DEBUGPY=[HOST:]PORT`: run the program under debugpy, listening there and waiting for a
/// client before the program starts (docs/debugging.md).
pub(crate) const DEBUGPY_VAR: &str = "PY_LAUNCHER_DEBUGPY";
/// The directory holding the `debugpy` package for [`DEBUGPY_VAR`]; unset, `-m debugpy` imports it
/// from the program's own import path.
pub(crate) const DEBUGPY_PATH_VAR: &str = "PY_LAUNCHER_DEBUGPY_PATH";

/// How the launcher was started, as far as planning needs to know.
pub(crate) struct Invocation<'a> {
    pub(crate) descriptor: &'a Descriptor,
    pub(crate) user_args: &'a [OsString],
    pub(crate) discovery: Discovery,
    /// Our own executable's identity: an interpreter that turns out to be us is refused.
    pub(crate) launcher_id: Option<FileId>,
    pub(crate) env: &'a Environment,
    /// Report only: where a stub translator found the facts (never read to decide anything).
    pub(crate) stub: Option<crate::stub::Origin>,
}

pub(crate) struct Plan {
    pub(crate) target: String,
    pub(crate) runfiles_mode: Mode,
    pub(crate) runfiles_root: PathBuf,
    pub(crate) manifest: Option<PathBuf>,
    pub(crate) interpreter: Interpreter,
    pub(crate) configured_interpreter: String,
    pub(crate) venv: Venv,
    pub(crate) executable: PathBuf,
    pub(crate) argv: Vec<OsString>,
    /// Where the debugger's arguments start in `argv` (they end where the program starts).
    pub(crate) debugger_args_index: usize,
    /// Where the program starts in `argv`: the main file, or `-m` and the module.
    pub(crate) program_index: usize,
    /// Where the user's arguments start in `argv` (they run to its end).
    pub(crate) user_args_index: usize,
    pub(crate) main: Option<PathBuf>,
    pub(crate) main_module: Option<String>,
    pub(crate) env_set: Vec<(OsString, OsString)>,
    pub(crate) env_unset: Vec<OsString>,
    pub(crate) build_config: Option<PathBuf>,
    /// Report only (`PY_LAUNCHER_DEBUG=json`): the stub the facts came from, if any.
    pub(crate) stub: Option<crate::stub::Origin>,
}

pub(crate) fn build(inv: &Invocation, trace: &mut Trace) -> Result<Plan> {
    let d = inv.descriptor;
    let target = d.target.as_str();
    trace.note(|| format!("descriptor: {}", String::from_utf8_lossy(&d.to_json())));
    let runfiles = Runfiles::discover(&inv.discovery, d.root_marker(), trace)
        .map_err(|e| e.for_target(target))?;
    let files = resolve_files(d, &runfiles, inv.env)?;
    coverage::trace(files.coverage_tool.as_deref(), trace);
    let mut interpreter = interpreter::resolve(
        d,
        &runfiles,
        files.interpreter,
        inv.env.get("PATH"),
        inv.launcher_id,
    )?;
    let cache = CacheEnv {
        xdg_cache_home: inv.env.get("XDG_CACHE_HOME").map(OsStr::to_owned),
        home: inv.env.get("HOME").map(OsStr::to_owned),
        tmpdir: inv.env.get("TMPDIR").map(OsStr::to_owned),
        test_tmpdir: inv.env.get("TEST_TMPDIR").map(OsStr::to_owned),
    };
    let request = venv::Request {
        descriptor: d,
        runfiles: &runfiles,
        build_time_venv: files.venv_dir,
        build_time_python: files.venv_python,
        cache: &cache,
    };
    let venv = venv::prepare(&request, &mut interpreter, trace)?;
    debug::trace_import_path(&venv, trace);

    let args = assemble_argv(
        inv,
        &venv.python,
        files.main.as_deref(),
        files.coverage_tool.as_deref(),
        trace,
    )?;
    let (env_set, env_unset) = assemble_env(
        d,
        inv.env,
        &runfiles,
        files.build_config.as_deref(),
        args.debugpy,
    );
    debug::trace_launch(
        trace,
        &runfiles,
        files.build_config.as_deref(),
        &args.argv,
        &env_set,
        &env_unset,
        inv.env,
    );

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
        argv: args.argv,
        debugger_args_index: args.debugger_args_index,
        program_index: args.program_index,
        user_args_index: args.user_args_index,
        main: files.main,
        main_module: d.main_module.clone(),
        env_set,
        env_unset,
        build_config: files.build_config,
        stub: inv.stub.clone(),
    })
}

/// The runfiles paths a launch needs, resolved.
struct Files {
    main: Option<PathBuf>,
    interpreter: Option<PathBuf>,
    venv_dir: Option<PathBuf>,
    venv_python: Option<PathBuf>,
    build_config: Option<PathBuf>,
    /// The directory holding coverage.py, when the coverage mode is on (`coverage.rs`).
    coverage_tool: Option<PathBuf>,
}

/// Resolves every runfiles path the launch needs in one pass (one manifest scan in manifest mode), and
/// checks the main file is really there.
fn resolve_files(d: &Descriptor, runfiles: &Runfiles, env: &Environment) -> Result<Files> {
    let target = d.target.as_str();
    // With manifest-only runfiles a build-time venv cannot run; only a run-time venv that links into it
    // still needs its real directory, found through the venv's own pyvenv.cfg.
    let policy = &d.venv_policy;
    let venv_key = d.venv.as_ref().and_then(|v| match runfiles.mode {
        Mode::Directory => Some(v.clone()),
        Mode::Manifest => policy
            .link_build_time
            .then(|| format!("{v}/{}", venv::VENV_CONFIG)),
    });
    let coverage_key = coverage::wanted(d, env);
    let wanted: [Option<&str>; 6] = [
        d.main.as_deref(),
        (d.interpreter_form() == InterpreterForm::Runfiles).then_some(d.interpreter.as_str()),
        venv_key.as_deref(),
        policy.python.as_deref(),
        d.build_config.as_deref(),
        coverage_key.as_deref(),
    ];
    let keys: Vec<&str> = wanted.iter().flatten().copied().collect();
    let mut resolved = runfiles
        .resolve_all(&keys)
        .map_err(|e| e.for_target(target))?
        .into_iter();
    let [main, interpreter, venv_dir, venv_python, build_config, coverage_init] =
        wanted.map(|w| w.and_then(|_| resolved.next().flatten()));
    let venv_dir = match runfiles.mode {
        Mode::Directory => venv_dir,
        Mode::Manifest => venv_dir.and_then(|cfg| cfg.parent().map(Path::to_path_buf)),
    };
    let shown_root = || show(runfiles.manifest_path.as_deref().unwrap_or(&runfiles.root));
    let main = match (&d.main, main) {
        (Some(rel), None) => {
            return Err(Error::runfiles(
                format!("main file {rel:?} is not in the runfiles {}", shown_root()),
                "add it to the binary's srcs, or rebuild so that the runfiles are complete",
            )
            .for_target(target))
        }
        // A directory tree proved the main file exists when it was chosen; a manifest only lists it.
        // One stat here, so that a stale manifest is named instead of Python's "can't open file".
        (Some(rel), Some(path))
            if runfiles.mode == Mode::Manifest && std::fs::metadata(&path).is_err() =>
        {
            return Err(Error::runfiles(
                format!(
                    "the manifest {} lists the main file {rel:?} at {}, which no longer exists",
                    shown_root(),
                    show(&path)
                ),
                "the manifest is stale (a file moved or was deleted after the build): rebuild the binary",
            )
            .for_target(target));
        }
        (_, main) => main,
    };
    let coverage_tool = coverage::tool(d, env, coverage_key.as_deref(), coverage_init)?;
    Ok(Files {
        main,
        interpreter,
        venv_dir,
        venv_python,
        build_config,
        coverage_tool,
    })
}

/// argv and where its parts start: `[python] + interpreter args + debugger args + program + user args`.
struct Argv<'a> {
    argv: Vec<OsString>,
    debugger_args_index: usize,
    program_index: usize,
    user_args_index: usize,
    /// `PY_LAUNCHER_DEBUGPY`'s value, when set.
    debugpy: Option<&'a OsStr>,
}

fn assemble_argv<'a>(
    inv: &Invocation<'a>,
    python: &Path,
    main: Option<&Path>,
    coverage_tool: Option<&Path>,
    trace: &mut Trace,
) -> Result<Argv<'a>> {
    let d = inv.descriptor;
    let mut argv: Vec<OsString> = vec![python.as_os_str().to_owned()];
    argv.extend(d.interpreter_args.iter().map(OsString::from));
    for var in INTERPRETER_ARGS_VARS {
        if let Some(value) = inv.env.get(var).filter(|v| !v.is_empty()) {
            let extra = words::split(value.as_encoded_bytes()).map_err(|problem| {
                Error::usage(
                    format!("{var} has {problem}: {}", show(value)),
                    "quote it as for Python's shlex.split (a POSIX shell command line)",
                )
            })?;
            let start = argv.len();
            argv.extend(extra.into_iter().map(os_from_bytes));
            trace.note(|| {
                format!(
                    "interpreter args from {var}: {}",
                    debug::shown(&argv[start..])
                )
            });
        }
    }
    let debugger_args_index = argv.len();
    let debugpy = inv.env.get(DEBUGPY_VAR).filter(|v| !v.is_empty());
    if let Some(listen) = debugpy {
        argv.extend(debugpy_args(listen, inv.env.get(DEBUGPY_PATH_VAR))?);
        trace.note(|| {
            format!(
                "debugger: debugpy listening on {} and waiting for a client: {}",
                show(listen),
                debug::shown(&argv[debugger_args_index..])
            )
        });
    }
    let program_index = argv.len();
    match (coverage_tool, main, &d.main_module) {
        (Some(tool), main, module) => argv.extend(coverage::argv(
            tool,
            &d.workspace_name,
            main,
            module.as_deref(),
        )),
        (None, Some(main), _) => argv.push(main.as_os_str().to_owned()),
        (None, None, Some(module)) => argv.extend(["-m".into(), module.into()]),
        (None, None, None) => {}
    }
    let user_args_index = argv.len();
    argv.extend(inv.user_args.iter().cloned());
    Ok(Argv {
        argv,
        debugger_args_index,
        program_index,
        user_args_index,
        debugpy,
    })
}

/// Inherited variables that would take the program out of its venv, so never passed on:
/// `PYTHONEXECUTABLE` sets `sys.executable`, `PYTHONHOME` replaces the prefix the venv's `pyvenv.cfg`
/// leads to (a stale one kills Python before `site` runs). The trace names them when they were set.
pub(crate) const LEAVES_THE_VENV: [&str; 2] = ["PYTHONEXECUTABLE", "PYTHONHOME"];

/// The environment changes: the descriptor's `env`, the runfiles variables, the target and build
/// configuration, `PYTHONSAFEPATH` unless the caller chose, and the launcher's own knobs and
/// [`LEAVES_THE_VENV`] removed.
fn assemble_env(
    d: &Descriptor,
    env: &Environment,
    runfiles: &Runfiles,
    build_config: Option<&Path>,
    debugpy: Option<&OsStr>,
) -> (Vec<(OsString, OsString)>, Vec<OsString>) {
    let mut set: Vec<(OsString, OsString)> =
        d.env.iter().map(|(k, v)| (k.into(), v.into())).collect();
    let mut unset: Vec<OsString> = INTERPRETER_ARGS_VARS.iter().map(OsString::from).collect();
    unset.push("__PYVENV_LAUNCHER__".into());
    unset.extend(LEAVES_THE_VENV.map(OsString::from));
    match runfiles.mode {
        Mode::Directory => {
            let root = runfiles.root.clone().into_os_string();
            set.push(("RUNFILES_DIR".into(), root.clone()));
            set.push(("JAVA_RUNFILES".into(), root));
            unset.push("RUNFILES_MANIFEST_FILE".into());
        }
        Mode::Manifest => {
            let manifest = runfiles
                .manifest_path
                .clone()
                .unwrap_or_default()
                .into_os_string();
            set.push(("RUNFILES_MANIFEST_FILE".into(), manifest));
            unset.extend(["RUNFILES_DIR".into(), "JAVA_RUNFILES".into()]);
        }
    }
    set.push(("PY_LAUNCHER_TARGET".into(), d.target.clone().into()));
    match build_config {
        Some(path) => set.push(("PY_LAUNCHER_BUILD_CONFIG".into(), path.into())),
        None => unset.push("PY_LAUNCHER_BUILD_CONFIG".into()),
    }
    if env.get("PYTHONSAFEPATH").is_none() {
        set.push(("PYTHONSAFEPATH".into(), "1".into()));
    }
    if debugpy.is_some() {
        // A py-launcher binary the program starts must not try to listen on the same port.
        unset.extend([DEBUGPY_VAR.into(), DEBUGPY_PATH_VAR.into()]);
    }
    unset.retain(|k| set.iter().all(|(s, _)| s != k));
    (set, unset)
}

/// The arguments that start the program under debugpy: `-X frozen_modules=off` (else debugpy warns
/// that breakpoints may be missed), debugpy itself (the package directory from [`DEBUGPY_PATH_VAR`],
/// which debugpy takes out of `sys.path` again, or `-m debugpy` from the program's import path), then
/// `--listen [HOST:]PORT --wait-for-client`. debugpy honours `PYTHONSAFEPATH`, so the program gets the
/// same `sys.path` as without a debugger.
fn debugpy_args(listen: &OsStr, path: Option<&OsStr>) -> Result<Vec<OsString>> {
    let text = listen.to_str().unwrap_or("");
    let (host, port) = text.rsplit_once(':').unwrap_or(("", text));
    if port.parse::<u16>().is_err() || (text.contains(':') && host.is_empty()) {
        return Err(Error::usage(
            format!("{DEBUGPY_VAR} must be [HOST:]PORT, not {}", show(listen)),
            format!("for example {DEBUGPY_VAR}=127.0.0.1:5678 (or 5678, which is the same)"),
        ));
    }
    let mut args: Vec<OsString> = vec!["-X".into(), "frozen_modules=off".into()];
    match path.filter(|p| !p.is_empty()) {
        Some(dir) => {
            let package = Path::new(dir).join("debugpy");
            if !package.join("__main__.py").is_file() {
                return Err(Error::usage(
                    format!(
                        "{DEBUGPY_PATH_VAR}={} holds no debugpy package ({} is missing)",
                        show(dir),
                        show(package.join("__main__.py"))
                    ),
                    "point it at the directory that holds debugpy/, e.g. one made by `pip install --target DIR debugpy`",
                ));
            }
            args.push(package.into_os_string());
        }
        None => args.extend(["-m".into(), "debugpy".into()]),
    }
    args.extend([
        "--listen".into(),
        listen.to_owned(),
        "--wait-for-client".into(),
    ]);
    Ok(args)
}
