//! The launch flow: where the facts come from (embedded descriptor or drop-in stub), then plan, then
//! exec (or print the plan). `main.rs` calls [`run`] and turns an error into its exit code.

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::debug::{self, DebugMode, Trace};
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
    let inherited_depth = env.get(crate::depth::VAR);
    // The parent's PID matters only for an inherited depth: no system call when there is none.
    let parent = inherited_depth.map_or(0, |_| sys::parent_pid());
    crate::depth::enter(inherited_depth, pid, parent)?;
    let debug = env.get("PY_LAUNCHER_DEBUG");
    let (mode, unknown) = DebugMode::from_env(debug, env.get("RULES_PYTHON_BOOTSTRAP_VERBOSE"));
    if unknown {
        let warning = debug::unknown_mode_warning(debug.unwrap_or_default());
        let _ = std::io::stderr().lock().write_all(warning.as_bytes());
    }
    let mut trace = Trace::new(mode);
    trace.note(|| format!("py-launcher {}", crate::version::launcher_version()));

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
    // Not closed: O_CLOEXEC closes it at exec, one system call fewer.
    std::mem::forget(own);

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
            if let Some(text) = own_option(stub_path) {
                let mut out = std::io::stdout().lock();
                return out
                    .write_all(text.as_bytes())
                    .and_then(|()| out.flush())
                    .map_err(|e| {
                        Error::os(format!("cannot write to stdout: {e}"), "check stdout")
                    });
            }
            let stub_path = PathBuf::from(stub_path);
            let translated = stub::read_stub(&stub_path).map_err(not_a_stub)?;
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
    if descriptor.venv_python {
        return venv_python(&descriptor, &args, &env);
    }
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
        let mut json = debug::plan_json(&plan, std::env::current_dir().ok().as_deref());
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

/// `--version` and `--help` of a launcher with no descriptor (a finalized launcher passes every argument to
/// the Python program, so it never gets here).
fn own_option(arg: &OsStr) -> Option<String> {
    let version = crate::version::launcher_version();
    match arg.to_str()? {
        "--version" | "-V" => Some(format!("py-launcher {version}\n")),
        "--help" | "-h" => Some(format!(
            "py-launcher {version}: the executable of a Bazel py_binary/py_test.\n\n\
             A copy finalized by py-launcher-finalize carries a launch descriptor and passes every argument\n\
             to the Python program. Without one, py-launcher runs as the #! interpreter of a stub\n\
             (docs/dropin.md):\n\n\
             usage: py-launcher STUB [ARGS...]\n       \
             py-launcher --version | --help\n\n\
             PY_LAUNCHER_DEBUG=1 traces every decision on stderr; PY_LAUNCHER_DEBUG=json prints the launch\n\
             plan and runs nothing. Exit codes: 64 usage, 65 bad descriptor, 66 runfiles, 67 interpreter,\n\
             71 system, 73 venv; otherwise Python's own status.\n"
        )),
        _ => None,
    }
}

/// Without a descriptor the launcher's first argument must be a stub. When it is not one at all, the
/// launcher's state is the news, not the argument: say so and give the finalize hint. A file that is a
/// stub, but a broken or zipped one, keeps the stub's own error.
fn not_a_stub(err: Error) -> Error {
    if err.kind != crate::ErrorKind::Usage || err.message().contains("--build_python_zip") {
        return err;
    }
    Error::usage(
        format!(
            "this py-launcher has no embedded descriptor, so its first argument must be a drop-in stub, but {}",
            err.message()
        ),
        "finalize it with py-launcher-finalize (or build the binary with the Bazel rules), or use it as a stub's #! interpreter: py-launcher STUB [ARGS...]",
    )
}

/// The `venv_python` mode: this copy of the launcher is a build-time venv's `bin/python3` (docs/layout.md).
/// It execs the platform interpreter with `argv[0]` = its own path, so CPython finds `../pyvenv.cfg` from
/// `argv[0]` and the standard library from its `home`: a `sys.executable` subprocess runs in the same venv.
/// Nothing else happens here (no runfiles, no environment change): the binary's own launch never comes
/// this way, since it execs the interpreter directly with the same `argv[0]`.
fn venv_python(descriptor: &Descriptor, args: &[OsString], env: &Environment) -> Result<()> {
    let own = sys::invoked_path(args.first())
        .map(|p| absolute(&p))
        .unwrap_or_default();
    let mut argv: Vec<OsString> = vec![own.into_os_string()];
    argv.extend(args.iter().skip(1).cloned());
    let interpreter = Path::new(&descriptor.interpreter);
    let err = sys::exec(interpreter, &argv, &env.for_child(&[], &[]));
    Err(exec_error(interpreter, interpreter, &err).for_target(&descriptor.target))
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
        _ => return clean_absolute(path),
    };
    joined.components().collect()
}

/// An absolute path with its `.` segments and doubled slashes gone; as it is when it has none (the usual
/// `AT_EXECFN`), without taking it apart.
fn clean_absolute(path: &Path) -> PathBuf {
    let bytes = path.as_os_str().as_encoded_bytes();
    let untidy = bytes.windows(2).any(|w| w == b"//")
        || bytes.windows(3).any(|w| w == b"/./")
        || bytes.ends_with(b"/.")
        || (bytes.len() > 1 && bytes.ends_with(b"/"));
    if untidy {
        path.components().collect()
    } else {
        path.to_path_buf()
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tidy_absolute_path_is_kept_and_an_untidy_one_cleaned_as_components_would() {
        for path in [
            "/",
            "/a",
            "/a/b.runfiles/c",
            "//a",
            "/a//b",
            "/a/./b",
            "/a/.",
            "/a/b/",
            "/./a",
            "/a/../b",
            "/a/.b",
            "/a/b.",
            "/.a/",
            "/a/..",
            "///",
        ] {
            let path = Path::new(path);
            let by_components: PathBuf = path.components().collect();
            assert_eq!(clean_absolute(path), by_components, "{path:?}");
        }
    }
}
