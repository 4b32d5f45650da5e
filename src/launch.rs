//! The launch flow: where the facts come from (embedded descriptor or drop-in stub), then plan, then
//! exec (or print the plan). `main.rs` calls [`run`] and turns an error into its exit code.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::debug::{DebugMode, Trace};
use crate::descriptor::Descriptor;
use crate::environment::Environment;
use crate::error::{show, show_path, Error, Result};
use crate::plan::{self, Invocation};
use crate::runfiles::{Discovery, RealPath};
use crate::{stub, sys, trailer};

/// Runs the launcher. Returns only when nothing was executed: `Ok(())` after printing a JSON plan,
/// `Err` when something failed (the caller prints it and exits with its code).
pub fn run(args: Vec<OsString>) -> Result<()> {
    if sys::is_secure_exec() {
        // setuid/setgid: the caller chose the environment, the runfiles and the arguments, and the
        // program would run with our privileges. No Python launcher can make that safe.
        return Err(Error::usage(
            "refusing to run setuid or setgid (the kernel set AT_SECURE): the caller's environment and runfiles would choose the code that runs with the file owner's privileges",
            "remove the setuid/setgid bit (chmod u-s,g-s) from the binary",
        ));
    }
    let env = Environment::capture();
    let pid = std::process::id();
    crate::depth::enter(env.get(crate::depth::VAR), pid, sys::parent_pid())?;
    let mut trace = Trace::new(DebugMode::from_env(
        env.get("PY_LAUNCHER_DEBUG"),
        env.get("RULES_PYTHON_BOOTSTRAP_VERBOSE"),
    ));

    let own = sys::open_own_executable().map_err(|e| {
        Error::os(
            format!("cannot open the launcher's own executable: {e}"),
            "on Linux, /proc must be mounted",
        )
    })?;
    let meta = own.metadata().map_err(|e| {
        Error::os(
            format!("cannot stat the launcher's own executable: {e}"),
            "on Linux, /proc must be mounted",
        )
    })?;
    let launcher_id = Some(sys::file_id_of(&meta));
    let embedded = trailer::embedded_descriptor(&own, meta.len())?;
    drop(own);

    let (descriptor, origin, user_args, discovery) = match embedded {
        Some(bytes) => {
            trace.note(|| "descriptor: embedded in the executable".into());
            let descriptor = Descriptor::from_json(&bytes)?;
            let invoked = sys::invoked_path(args.first()).map(|p| absolute(&p));
            let discovery = discovery(&env, invoked, RealPath::OwnExecutable);
            (
                descriptor,
                None,
                args.get(1..).unwrap_or_default(),
                discovery,
            )
        }
        None => {
            let Some(stub_path) = args.get(1) else {
                return Err(Error::usage(
                    "this py-launcher has no embedded descriptor and was given no stub file",
                    "finalize it with py-launcher-finalize, or use it as a stub's #! interpreter: py-launcher STUB [ARGS...]",
                ));
            };
            let stub_path = PathBuf::from(stub_path);
            let translated = stub::read_stub(&stub_path)?;
            trace.note(|| format!("descriptor: read from the stub {}", show_path(&stub_path)));
            stub::trace_facts(&translated, &mut trace);
            let (descriptor, origin) = translated;
            let invoked = absolute(&stub_path);
            let real = RealPath::CanonicalOf(invoked.clone());
            (
                descriptor,
                Some(origin),
                args.get(2..).unwrap_or_default(),
                discovery(&env, Some(invoked), real),
            )
        }
    };
    let invocation = Invocation {
        descriptor: &descriptor,
        user_args,
        discovery,
        launcher_id,
        env: &env,
        stub: origin,
    };
    let mut plan = plan::build(&invocation, &mut trace)?;
    plan.env_set
        .push((crate::depth::VAR.into(), crate::depth::for_exec(pid)));

    if trace.mode() == DebugMode::Json {
        let mut json = plan.to_json(std::env::current_dir().ok().as_deref());
        json.push('\n');
        // Not std's stdout: it reports success on a closed descriptor, and the plan would be lost unseen.
        return sys::write_stdout(json.as_bytes()).map_err(|e| {
            Error::os(
                format!("cannot write the launch plan to stdout: {e}"),
                "PY_LAUNCHER_DEBUG=json prints the plan on stdout: run it with stdout open (a file or a pipe)",
            )
        });
    }

    let err = sys::exec(
        &plan.executable,
        &plan.argv,
        &env.for_child(&plan.env_set, &plan.env_unset),
    );
    Err(exec_error(&plan.executable, &plan.interpreter.path, &err).for_target(&plan.target))
}

fn discovery(env: &Environment, invoked: Option<PathBuf>, real: RealPath) -> Discovery {
    Discovery {
        runfiles_dir: env.get("RUNFILES_DIR").map(Into::into),
        manifest_file: env.get("RUNFILES_MANIFEST_FILE").map(Into::into),
        invoked,
        real,
    }
}

/// Joins a relative path to the cwd without resolving symlinks (the runfiles tree is made of them);
/// the cwd is asked for only then, as `AT_EXECFN` is usually absolute already.
/// `.` segments go (always safe); `..` stays, since only the file system knows what it means.
fn absolute(path: &Path) -> PathBuf {
    let joined = match path.is_relative().then(std::env::current_dir) {
        Some(Ok(cwd)) => cwd.join(path),
        _ => path.to_path_buf(),
    };
    joined.components().collect()
}

fn exec_error(program: &Path, interpreter: &Path, err: &std::io::Error) -> Error {
    match err.raw_os_error() {
        Some(code) if code == sys::ENOEXEC => Error::interpreter(
            format!(
                "the kernel cannot execute the interpreter {} (ENOEXEC, via {}): it is neither a binary for this machine nor a script with a #! line",
                show(interpreter),
                show(program)
            ),
            "point the py_runtime at a real Python interpreter",
        ),
        _ if err.kind() == std::io::ErrorKind::PermissionDenied => Error::interpreter(
            format!("permission denied executing {}: {err}", show(program)),
            "make the interpreter executable, or check the file system is not mounted noexec",
        ),
        _ => Error::os(format!("cannot execute {}: {err}", show(program)), "check the interpreter and the venv"),
    }
}
