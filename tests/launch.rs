//! What the program receives: argv byte for byte, interpreter arguments, environment, PYTHONSAFEPATH,
//! and exec semantics (same PID, signals, exit status).

mod common;

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::process::ExitStatusExt;

use common::*;
use serde_json::json;

#[test]
fn user_arguments_arrive_byte_exact() {
    let app = App::hello();
    app.finalize();
    let odd: Vec<OsString> = vec![
        os(""),
        os("two words"),
        os("line\nbreak"),
        os("--flag=\"quoted\""),
        OsString::from_vec(vec![0xff, 0xfe, b'x']),
        os("$HOME `id` ; | *"),
    ];
    let report = app.command().args(&odd).run().ok().report();
    let got: Vec<Vec<u8>> = report["argv_bytes"].as_array().unwrap()[1..]
        .iter()
        .map(|a| {
            a.as_array()
                .unwrap()
                .iter()
                .map(|b| b.as_u64().unwrap() as u8)
                .collect()
        })
        .collect();
    let want: Vec<Vec<u8>> = odd.into_iter().map(OsString::into_vec).collect();
    assert_eq!(got, want);
    assert_eq!(
        report["argv"][0],
        app.runfiles().join("_main/pkg/main.py").to_str().unwrap()
    );
}

#[test]
fn interpreter_args_come_before_main_then_environment_args() {
    let mut app = App::hello();
    // Python writes bytecode there: inside the sandbox, never into the checkout or the file system root.
    let pycache = app.sandbox.path("pyc");
    app.set(
        "interpreter_args",
        json!(["-X", format!("pycache_prefix={}", pycache.display())]),
    );
    app.add_file(
        "_main/pkg/main.py",
        "import sys, json, os\nprint(json.dumps({'x': sys._xoptions, 'warn': sys.warnoptions, 'env': dict(os.environ)}))\n",
    );
    app.finalize();
    let run = app
        .command()
        .env(
            "PY_LAUNCHER_INTERPRETER_ARGS",
            "-X dev -W 'error::DeprecationWarning'",
        )
        .env(
            "RULES_PYTHON_ADDITIONAL_INTERPRETER_ARGS",
            "-X frozen_modules=off",
        )
        .env("PY_LAUNCHER_DEBUG", "1")
        .run()
        .ok();
    let report = run.report();
    assert_eq!(report["x"]["pycache_prefix"], pycache.to_str().unwrap());
    assert_eq!(report["x"]["dev"], true);
    assert_eq!(report["x"]["frozen_modules"], "off");
    assert!(
        strs(&report["warn"]).contains(&"error::DeprecationWarning".to_owned()),
        "{report}"
    );
    assert!(report["env"].get("PY_LAUNCHER_INTERPRETER_ARGS").is_none());
    assert!(report["env"]
        .get("RULES_PYTHON_ADDITIONAL_INTERPRETER_ARGS")
        .is_none());
    // The order on the command line: descriptor args, our variable, rules_python's, then main.
    let argv_line = run
        .stderr()
        .lines()
        .find(|l| l.contains("debug: argv:"))
        .unwrap()
        .to_owned();
    let pos = |s: &str| {
        argv_line
            .find(s)
            .unwrap_or_else(|| panic!("{s} missing in {argv_line}"))
    };
    assert!(
        pos("pycache_prefix") < pos("\"dev\"")
            && pos("\"dev\"") < pos("frozen_modules")
            && pos("frozen_modules") < pos("main.py")
    );
}

#[test]
fn unterminated_quote_in_interpreter_args_is_a_usage_error() {
    let app = App::hello();
    app.finalize();
    app.command()
        .env("PY_LAUNCHER_INTERPRETER_ARGS", "-X 'dev")
        .run()
        .fails(
            64,
            "PY_LAUNCHER_INTERPRETER_ARGS has an unterminated single quote",
        );
}

#[test]
fn descriptor_env_target_and_build_config_are_exported() {
    let mut app = App::hello();
    app.set("env", json!({"GREETING": "hi there", "EMPTY": ""}));
    app.add_file(
        "_main/pkg/_app_build_config.json",
        "{\"target\": \"//pkg:app\"}",
    );
    app.set("build_config", json!("_main/pkg/_app_build_config.json"));
    app.finalize();
    let env = app
        .command()
        .env("PY_LAUNCHER_BUILD_CONFIG", "/stale")
        .run()
        .ok()
        .report()["env"]
        .clone();
    assert_eq!(env["GREETING"], "hi there");
    assert_eq!(env["EMPTY"], "");
    assert_eq!(env["PY_LAUNCHER_TARGET"], "//pkg:app");
    assert_eq!(
        env["PY_LAUNCHER_BUILD_CONFIG"],
        app.runfiles()
            .join("_main/pkg/_app_build_config.json")
            .to_str()
            .unwrap()
    );
}

#[test]
fn a_stale_build_config_variable_is_removed_when_the_binary_has_none() {
    let app = App::hello();
    app.finalize();
    let env = app
        .command()
        .env("PY_LAUNCHER_BUILD_CONFIG", "/stale")
        .run()
        .ok()
        .report()["env"]
        .clone();
    assert!(env.get("PY_LAUNCHER_BUILD_CONFIG").is_none());
}

#[test]
fn pythonsafepath_is_set_unless_the_caller_chose() {
    let app = App::hello();
    app.finalize();
    let unset = app.command().run().ok().report();
    assert_eq!(unset["env"]["PYTHONSAFEPATH"], "1");
    assert_eq!(unset["flags_safe_path"], true);
    let main_dir = app.runfiles().join("_main/pkg");
    assert!(!strs(&unset["path"]).contains(&main_dir.to_str().unwrap().to_owned()));

    // An empty value is the documented opt-out: passed through, and Python puts the main file's
    // directory first, symlinks resolved, exactly as `python main.py` would.
    let empty = app.command().env("PYTHONSAFEPATH", "").run().ok().report();
    assert_eq!(empty["env"]["PYTHONSAFEPATH"], "");
    assert_eq!(empty["flags_safe_path"], false);
    assert_eq!(
        empty["path"][0],
        app.sandbox.path("src/_main/pkg").to_str().unwrap()
    );

    let custom = app
        .command()
        .env("PYTHONSAFEPATH", "yes")
        .run()
        .ok()
        .report();
    assert_eq!(custom["env"]["PYTHONSAFEPATH"], "yes");
}

#[test]
fn main_module_runs_like_python_dash_m() {
    let mut app = App::hello();
    app.remove("main");
    app.set("main_module", json!("greet.cli"));
    app.add_file(
        "_main/pkg/lib/greet/cli.py",
        "import sys\nprint('cli', __name__, sys.argv[1:])\n",
    );
    app.finalize();
    let run = app.command().arg("x y").run().ok();
    assert_eq!(run.stdout().trim(), "cli __main__ ['x y']");
}

#[test]
fn the_launcher_execs_python_in_its_own_process() {
    let mut app = App::hello();
    app.add_file(
        "_main/pkg/main.py",
        "import os\nprint(os.getpid(), os.readlink('/proc/self/exe'))\n",
    );
    app.finalize();
    let child = app.command().spawn();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut fields = stdout.split_whitespace();
    assert_eq!(
        fields.next().unwrap(),
        pid.to_string(),
        "python ran in another process"
    );
    assert_eq!(
        fields.next().unwrap(),
        std::fs::canonicalize(PYTHON).unwrap().to_str().unwrap(),
        "not exec'd straight into CPython"
    );
}

#[test]
fn death_by_signal_passes_through() {
    let mut app = App::hello();
    app.add_file(
        "_main/pkg/main.py",
        "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n",
    );
    app.finalize();
    let run = app.command().run();
    assert_eq!(run.output.status.signal(), Some(libc::SIGSEGV), "{run}");
}

#[test]
fn signals_sent_to_the_launcher_pid_reach_python() {
    let mut app = App::hello();
    app.add_file(
        "_main/pkg/main.py",
        "import os, signal, sys, time\n\
         def on(sig, _):\n    os.write(1, ('got ' + signal.Signals(sig).name + '\\n').encode())\n    os._exit(7)\n\
         signal.signal(signal.SIGTERM, on)\nsignal.signal(signal.SIGINT, on)\n\
         print('ready', flush=True)\ntime.sleep(30)\n",
    );
    app.finalize();
    for (sig, name) in [(libc::SIGTERM, "SIGTERM"), (libc::SIGINT, "SIGINT")] {
        let mut child = app.command().spawn();
        let mut stdout = child.stdout.take().unwrap();
        let mut first = [0u8; 6];
        std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
        assert_eq!(&first, b"ready\n");
        // SAFETY: kill has no memory preconditions; the pid is our own unreaped child.
        unsafe { libc::kill(child.id() as i32, sig) };
        let status = child.wait().unwrap();
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
        let mut err = String::new();
        std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
        assert_eq!(
            rest.trim(),
            format!("got {name}"),
            "status {status:?}, stderr {err}"
        );
        assert_eq!(status.code(), Some(7));
    }
}
