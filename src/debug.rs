//! The debugging mode: a trace of every decision on stderr, or the whole launch plan as JSON.
//!
//! `PY_LAUNCHER_DEBUG=1` (or rules_python's `RULES_PYTHON_BOOTSTRAP_VERBOSE` set to anything non-empty)
//! prints each decision as it is made, as `py-launcher: debug: …` lines on stderr, then runs the program.
//! `PY_LAUNCHER_DEBUG=json` prints the launch plan as one JSON object on stdout instead of running
//! anything; the plan carries its own reasons (the venv's, the import path and whether each entry exists),
//! so no trace lines are built for it. When the text trace is off, [`Trace::note`] never builds its
//! message, so tracing costs nothing on the normal path. The wording of the trace lines about the
//! launch as a whole and the JSON report types live here; the other modules note their own decisions.

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::descriptor::InterpreterForm;
use crate::environment::Environment;
use crate::error::show;
use crate::json::Writer;
use crate::plan::Plan;
use crate::runfiles::{Mode, Runfiles};
use crate::venv::{self, Venv, VenvKind};

/// What `PY_LAUNCHER_DEBUG` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DebugMode {
    /// No trace.
    Off,
    /// A readable trace on stderr.
    Text,
    /// The launch plan as JSON on stdout, instead of launching.
    Json,
}

impl DebugMode {
    /// The mode, and whether `PY_LAUNCHER_DEBUG` held a value this launcher does not know (it then
    /// shows the text trace: the caller asked for debugging, just not in a known word).
    ///
    /// Values are case-insensitive: `json`; `1`, `true`, `yes`, `on`, `text` (the trace); empty, `0`,
    /// `false`, `no`, `off` (nothing, unless `RULES_PYTHON_BOOTSTRAP_VERBOSE` is non-empty).
    pub(crate) fn from_env(
        debug: Option<&OsStr>,
        rules_python_verbose: Option<&OsStr>,
    ) -> (DebugMode, bool) {
        let verbose = || rules_python_verbose.is_some_and(|v| !v.is_empty());
        let Some(value) = debug.map(OsStr::as_encoded_bytes) else {
            return (
                if verbose() {
                    DebugMode::Text
                } else {
                    DebugMode::Off
                },
                false,
            );
        };
        let is = |word: &str| value.eq_ignore_ascii_case(word.as_bytes());
        if is("json") {
            (DebugMode::Json, false)
        } else if ["", "0", "false", "no", "off"].into_iter().any(is) {
            (
                if verbose() {
                    DebugMode::Text
                } else {
                    DebugMode::Off
                },
                false,
            )
        } else {
            let known = ["1", "true", "yes", "on", "text"].into_iter().any(is);
            (DebugMode::Text, !known)
        }
    }
}

/// The one-line warning for a `PY_LAUNCHER_DEBUG` value that is not one of the known words.
pub(crate) fn unknown_mode_warning(value: &OsStr) -> String {
    format!(
        "py-launcher: warning: PY_LAUNCHER_DEBUG={} is not a known value (1 for the trace, json for the \
         launch plan, 0 for off; any case); showing the trace\n",
        crate::error::show(value)
    )
}

/// Where the steps of a launch report what they decided (a no-op when debugging is off).
pub(crate) struct Trace {
    mode: DebugMode,
}

impl Trace {
    /// A trace in `mode`.
    pub(crate) fn new(mode: DebugMode) -> Trace {
        Trace { mode }
    }

    /// The mode it was made with.
    pub(crate) fn mode(&self) -> DebugMode {
        self.mode
    }

    /// Whether the text trace is on (work done only to be traced checks this first).
    pub(crate) fn enabled(&self) -> bool {
        self.mode == DebugMode::Text
    }

    /// One trace line. The message is built only when the trace is on; a newline inside it is shown as
    /// `\n`, and the line, newline included, goes out in one write, so nothing the program prints later
    /// can continue it.
    pub(crate) fn note(&mut self, message: impl FnOnce() -> String) {
        if self.mode == DebugMode::Text {
            let mut line = String::from("py-launcher: debug: ");
            line.push_str(&message().replace('\n', "\\n"));
            line.push('\n');
            let _ = std::io::stderr().lock().write_all(line.as_bytes());
        }
    }
}

/// Traces the venv's import path, each entry with whether it exists.
pub(crate) fn trace_import_path(venv: &Venv, trace: &mut Trace) {
    if !trace.enabled() {
        return;
    }
    trace.note(|| format!("import path: site-packages {}", show(&venv.site_packages)));
    for (dir, exists) in import_path(venv) {
        trace.note(|| {
            let state = if exists {
                "exists"
            } else {
                "MISSING: site will skip it"
            };
            format!("import path: {} ({state})", show(&dir))
        });
    }
}

/// Traces what the program gets: build information, argv, one line per environment change, and the
/// inherited variables that change what Python does.
pub(crate) fn trace_launch(
    trace: &mut Trace,
    runfiles: &Runfiles,
    build_config: Option<&Path>,
    argv: &[OsString],
    env_set: &[(OsString, OsString)],
    env_unset: &[OsString],
    env: &Environment,
) {
    if !trace.enabled() {
        return;
    }
    trace.note(|| {
        let config = build_config.map_or("none".into(), show);
        let stamps = match runfiles.mode {
            Mode::Directory => show(runfiles.root.join("bazel_build_info")),
            Mode::Manifest => "bazel_build_info/*.txt through the manifest".into(),
        };
        format!("build info: PY_LAUNCHER_BUILD_CONFIG={config}; stamp files (present only when stamped) in {stamps}")
    });
    trace.note(|| format!("argv: {}", shown(argv)));
    for (name, value) in env_set {
        trace.note(|| {
            format!(
                "environment: set {}={}",
                name.to_string_lossy(),
                show(value)
            )
        });
    }
    for name in env_unset {
        trace.note(|| format!("environment: unset {}", name.to_string_lossy()));
    }
    for (name, set, unset) in INHERITED_SHOWN {
        trace.note(|| match env.get(name) {
            Some(value) => format!("environment: inherited {name}={} ({set})", show(value)),
            None => format!("environment: {name} is {unset}"),
        });
    }
    for name in crate::plan::LEAVES_THE_VENV {
        trace.note(|| match env.get(name) {
            Some(value) => format!(
                "environment: removing the inherited {name}={} (it would take the program out of its venv)",
                show(value)
            ),
            None => format!("environment: {name} is not set"),
        });
    }
}

/// Inherited variables that change what Python does and that the launcher passes through untouched,
/// shown in the trace with what they do (when set) or what happens without them.
const INHERITED_SHOWN: [(&str, &str, &str); 2] = [
    (
        "PYTHONPATH",
        "passed through: Python puts it before the standard library and the binary's imports",
        "not set",
    ),
    (
        "PYTHONSAFEPATH",
        "the caller's choice, kept",
        "not set by the caller, so the launcher sets it to 1",
    ),
];

/// Arguments for a trace line: each shown quoted, separated by spaces.
pub(crate) fn shown(args: &[OsString]) -> String {
    args.iter().map(show).collect::<Vec<_>>().join(" ")
}

/// The venv's import-path lines as directories. `site` drops directories that do not exist without a
/// word, so the trace and the JSON plan say for each whether it exists.
pub(crate) fn import_path(venv: &Venv) -> Vec<(PathBuf, bool)> {
    venv::pth::read(&venv.site_packages)
        .into_iter()
        .map(|dir| {
            let exists = dir.is_dir();
            (dir, exists)
        })
        .collect()
}

/// The plan as one JSON document (`PY_LAUNCHER_DEBUG=json`, described by docs/plan.schema.json).
/// Non-UTF-8 bytes are replaced by U+FFFD.
pub(crate) fn plan_json(plan: &Plan, cwd: Option<&Path>) -> String {
    let stamp = |name: &str| match plan.runfiles_mode {
        Mode::Directory => {
            Some(plan.runfiles_root.join("bazel_build_info").join(name)).filter(|p| p.is_file())
        }
        Mode::Manifest => None,
    };
    let entries = import_path(&plan.venv);
    let lossy = |w: &mut Writer, value: &OsStr| {
        w.string(&value.to_string_lossy());
    };
    let opt_path = |w: &mut Writer, value: Option<&Path>| match value {
        Some(path) => lossy(w, path.as_os_str()),
        None => {
            w.null();
        }
    };
    let args = |w: &mut Writer, args: &[OsString]| {
        w.begin_array();
        for arg in args {
            lossy(w, arg);
        }
        w.end_array();
    };
    let mut w = Writer::new();
    w.begin_object();
    w.key("version").number(1);
    w.key("launcher_version")
        .string(&crate::version::launcher_version());
    w.key("target").string(&plan.target);
    w.key("stub");
    match &plan.stub {
        Some(stub) => {
            w.begin_object().key("path");
            lossy(&mut w, stub.path.as_os_str());
            w.key("template").string(&stub.template);
            w.key("facts").begin_object();
            // Sorted and without repeated keys, as a JSON object should be.
            let facts: std::collections::BTreeMap<&str, &str> = stub
                .facts
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            for (key, value) in facts {
                w.key(key).string(value);
            }
            w.end_object().end_object();
        }
        None => {
            w.null();
        }
    }
    w.key("runfiles")
        .begin_object()
        .key("mode")
        .string(match plan.runfiles_mode {
            Mode::Directory => "directory",
            Mode::Manifest => "manifest",
        });
    w.key("root");
    lossy(&mut w, plan.runfiles_root.as_os_str());
    w.key("manifest");
    opt_path(&mut w, plan.manifest.as_deref());
    w.end_object();
    w.key("interpreter").begin_object();
    w.key("configured").string(&plan.configured_interpreter);
    w.key("form").string(match plan.interpreter.form {
        InterpreterForm::Absolute => "absolute",
        InterpreterForm::Runfiles => "runfiles",
        InterpreterForm::PathSearch => "path-search",
    });
    w.key("path");
    lossy(&mut w, plan.interpreter.path.as_os_str());
    w.key("kind").string(plan.interpreter.kind.name());
    w.key("version")
        .opt_string(plan.interpreter.version.map(|v| v.to_string()).as_deref());
    w.end_object();
    let venv = &plan.venv;
    w.key("venv")
        .begin_object()
        .key("kind")
        .string(match venv.kind {
            VenvKind::BuildTime => "build-time",
            VenvKind::RunTime => "run-time",
        });
    for (key, path) in [
        ("dir", &venv.dir),
        ("python", &venv.python),
        ("site_packages", &venv.site_packages),
    ] {
        w.key(key);
        lossy(&mut w, path.as_os_str());
    }
    w.key("created").boolean(venv.created);
    w.key("reason").string(&venv.reason);
    w.end_object();
    w.key("executable");
    lossy(&mut w, plan.executable.as_os_str());
    w.key("argv");
    args(&mut w, &plan.argv);
    w.key("main");
    opt_path(&mut w, plan.main.as_deref());
    w.key("main_module").opt_string(plan.main_module.as_deref());
    w.key("interpreter_args");
    args(&mut w, &plan.argv[1..plan.debugger_args_index]);
    w.key("debugger_args");
    args(
        &mut w,
        &plan.argv[plan.debugger_args_index..plan.program_index],
    );
    w.key("user_args");
    args(&mut w, &plan.argv[plan.user_args_index..]);
    w.key("user_args_index").number(plan.user_args_index as u64);
    w.key("cwd");
    opt_path(&mut w, cwd);
    w.key("env").begin_object().key("set").begin_object();
    for (name, value) in &plan.env_set {
        w.key(&name.to_string_lossy());
        lossy(&mut w, value);
    }
    w.end_object().key("unset");
    args(&mut w, &plan.env_unset);
    w.end_object();
    w.key("build_info").begin_object().key("build_config");
    opt_path(&mut w, plan.build_config.as_deref());
    for (key, name) in [
        ("stable_status", "stable.txt"),
        ("volatile_status", "volatile.txt"),
    ] {
        w.key(key);
        opt_path(&mut w, stamp(name).as_deref());
    }
    w.end_object();
    w.key("import_path").begin_array();
    for (path, exists) in &entries {
        w.begin_object().key("path");
        lossy(&mut w, path.as_os_str());
        w.key("exists").boolean(*exists).end_object();
    }
    w.end_array();
    w.end_object();
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::DebugMode::{self, *};
    use std::ffi::OsStr;

    fn mode(debug: Option<&str>, verbose: Option<&str>) -> (DebugMode, bool) {
        DebugMode::from_env(debug.map(OsStr::new), verbose.map(OsStr::new))
    }

    #[test]
    fn values_are_case_insensitive_and_unknown_ones_flagged() {
        for json in ["json", "JSON", "Json"] {
            assert_eq!(mode(Some(json), None), (Json, false));
        }
        for text in ["1", "true", "TRUE", "yes", "On", "text"] {
            assert_eq!(mode(Some(text), None), (Text, false));
        }
        for off in ["", "0", "false", "No", "OFF"] {
            assert_eq!(mode(Some(off), None), (Off, false));
        }
        assert_eq!(mode(Some("jsno"), None), (Text, true));
        assert_eq!(mode(None, None), (Off, false));
        assert_eq!(mode(None, Some("1")), (Text, false));
        assert_eq!(mode(Some("0"), Some("1")), (Text, false));
        assert_eq!(mode(None, Some("")), (Off, false));
    }
}
