//! Interpreter resolution in the three py_runtime forms, and the errors when it is unusable.

mod common;

use std::fs;
use std::os::unix::fs::symlink;

use common::*;
use serde_json::json;

#[test]
fn an_absolute_interpreter_path_is_the_python_that_runs() {
    let app = App::hello();
    app.finalize();
    let report = app.command().run().ok().report();
    assert_eq!(report["base_executable"], PYTHON);
    assert_eq!(report["version"], "3.11");
}

#[test]
fn an_in_build_interpreter_resolves_through_the_runfiles_tree_and_manifest() {
    let mut app = App::hello();
    // An in-build runtime: the interpreter is a file in the build, reached through the runfiles tree.
    let link = app.runfiles().join("python_3_11/bin/python3.11");
    fs::create_dir_all(link.parent().unwrap()).unwrap();
    symlink(PYTHON, &link).unwrap();
    app.set("interpreter", json!("python_3_11/bin/python3.11"));
    app.finalize();
    let report = app.command().run().ok().report();
    assert_eq!(
        report["base_executable"], PYTHON,
        "sys._base_executable is the real interpreter"
    );
    assert_eq!(report["greeting"], "hello from greet");
    let plan = app.command().plan();
    assert_eq!(plan["interpreter"]["path"], link.to_str().unwrap());
    assert_eq!(plan["interpreter"]["form"], "runfiles");

    // Manifest-only: the same interpreter resolves through the manifest.
    app.entries
        .insert("python_3_11/bin/python3.11".into(), PYTHON.into());
    app.make_manifest_only();
    let report = app.command().run().ok().report();
    assert_eq!(report["base_executable"], PYTHON);
}

#[test]
fn bare_word_is_searched_on_path() {
    let mut app = App::hello();
    let dir = app.sandbox.path("pybin");
    fs::create_dir_all(&dir).unwrap();
    symlink(PYTHON, dir.join("mypython3.11")).unwrap();
    app.set("interpreter", json!("mypython3.11"));
    app.finalize();
    let path = format!("/nonexistent:{}:/usr/bin", dir.display());
    let plan = app.command().env("PATH", &path).plan();
    assert_eq!(
        plan["interpreter"]["path"],
        dir.join("mypython3.11").to_str().unwrap()
    );
    assert_eq!(plan["interpreter"]["form"], "path-search");
    let report = app.command().env("PATH", &path).run().ok().report();
    assert_eq!(report["greeting"], "hello from greet");
    app.command().env("PATH", "/nonexistent").run().fails(
        67,
        "\"mypython3.11\" (bare name searched on PATH) was not found on PATH",
    );
}

#[test]
fn a_wrapper_script_interpreter_is_resolved_to_the_real_python_once() {
    let mut app = App::hello();
    // A pyenv-like shim: a #! script that execs the real interpreter. It cannot be the venv's python.
    let shim = app.sandbox.write_exe(
        "shims/python3",
        format!("#!/bin/sh\nexec {PYTHON} \"$@\"\n"),
    );
    app.set("interpreter", json!(shim.to_str().unwrap()));
    app.finalize();
    let report = app.command().run().ok().report();
    assert_ne!(report["prefix"], report["base_prefix"], "not inside a venv");
    assert_eq!(report["base_executable"], PYTHON);
    let debug = app.command().env("PY_LAUNCHER_DEBUG", "1").run().ok();
    assert!(
        debug
            .stderr()
            .contains("a #! wrapper script, Python unknown"),
        "{debug}"
    );
    assert!(debug.stderr().contains("venv: reusing"), "{debug}");
}

#[test]
fn missing_interpreter_names_path_form_and_target() {
    let mut app = App::hello();
    app.set("interpreter", json!("/opt/nowhere/bin/python3.11"));
    app.finalize();
    app.command()
        .run()
        .fails(67, "interpreter \"/opt/nowhere/bin/python3.11\" (platform runtime, absolute interpreter_path) does not exist [//pkg:app]");
}

#[test]
fn a_non_executable_or_directory_interpreter_is_refused() {
    let mut app = App::hello();
    let plain = app.sandbox.write("py/python3.11", "not executable");
    app.set("interpreter", json!(plain.to_str().unwrap()));
    app.finalize();
    app.command().run().fails(67, "is not executable");

    let mut app = App::hello();
    let dir = app.sandbox.path("py/python3.11");
    fs::create_dir_all(&dir).unwrap();
    app.set("interpreter", json!(dir.to_str().unwrap()));
    app.finalize();
    app.command().run().fails(67, "is a directory");
}

#[test]
fn an_executable_script_without_shebang_is_enoexec() {
    let mut app = App::hello();
    let script = app
        .sandbox
        .write_exe("py/python3.11", "print('no shebang')\n");
    app.set("interpreter", json!(script.to_str().unwrap()));
    app.finalize();
    app.command().run().fails(67, "ENOEXEC");
}

#[test]
fn the_launcher_itself_as_interpreter_is_refused() {
    let mut app = App::hello();
    let me = app.sandbox.path("py/python3.11");
    fs::create_dir_all(me.parent().unwrap()).unwrap();
    app.set("interpreter", json!(me.to_str().unwrap()));
    let bin = app.finalize();
    fs::hard_link(&bin, &me).unwrap();
    app.command().run().fails(67, "is py-launcher itself");
}

#[test]
fn a_version_mismatch_is_reported_before_python_starts() {
    let mut app = App::hello();
    app.set("python_version", json!("3.12"));
    app.finalize();
    app.command().run().fails(
        67,
        "is Python 3.11 but the binary was built for Python 3.12",
    );

    // Also when the version is only known by running the interpreter (a wrapper script).
    let mut app = App::hello();
    let shim = app.sandbox.write_exe(
        "shims/python3",
        format!("#!/bin/sh\nexec {PYTHON} \"$@\"\n"),
    );
    app.set("interpreter", json!(shim.to_str().unwrap()));
    app.set("python_version", json!("3.9"));
    app.finalize();
    app.command()
        .run()
        .fails(67, "is Python 3.11 but the binary was built for Python 3.9");
}

#[test]
fn a_script_named_like_python_is_identified_by_its_content() {
    // A pyenv/asdf shim named python3.11: by its name a real binary, by its content a #! script. Taken
    // for a binary it would become the venv's python and start the real one outside the venv.
    let mut app = App::hello();
    let log = app.sandbox.path("shim.log");
    let shim = app.sandbox.write_exe(
        "shims/python3.11",
        format!(
            "#!/bin/sh\necho started >> {}\nexec {PYTHON} \"$@\"\n",
            log.display()
        ),
    );
    app.set("interpreter", json!(shim.to_str().unwrap()));
    app.finalize();
    let run = app.command().env("PY_LAUNCHER_DEBUG", "1").run().ok();
    let report = run.report();
    assert_ne!(
        report["prefix"], report["base_prefix"],
        "outside its venv\n{run}"
    );
    assert_eq!(report["greeting"], "hello from greet");
    assert_eq!(report["base_executable"], PYTHON);
    let stderr = run.stderr();
    assert!(stderr.contains("a #! wrapper script"), "{run}");
    assert!(
        stderr.contains("wrapper script") && stderr.contains("is bypassed"),
        "the trace must say the wrapper is bypassed\n{run}"
    );
    // The warm launch says it too.
    let warm = app.command().env("PY_LAUNCHER_DEBUG", "1").run().ok();
    assert!(warm.stderr().contains("is bypassed"), "{warm}");
}

/// pyenv's real CPython 3.12, when this machine has it.
fn python312() -> Option<&'static str> {
    let path = "/root/.pyenv/versions/3.12.1/bin/python3.12";
    std::path::Path::new(path).exists().then_some(path)
}

#[test]
fn a_symlink_named_for_another_version_does_not_fool_the_version_check() {
    let Some(python312) = python312() else {
        eprintln!("skipped: no real Python 3.12 on this machine");
        return;
    };
    let mut app = App::hello();
    let link = app.sandbox.symlink(python312, "py/python3.11");
    app.set("interpreter", json!(link.to_str().unwrap()));
    app.finalize();
    app.command().run().fails(
        67,
        "is Python 3.12 but the binary was built for Python 3.11",
    );
}

#[test]
fn the_wrapper_probe_runs_with_default_signal_dispositions() {
    // The shim records which signals its shell started with ignored (SigIgn), then runs Python: once
    // for the probe, once as the program.
    let mut app = App::hello();
    let log = app.sandbox.path("sigign.log");
    let shim = app.sandbox.write_exe(
        "shims/python3",
        format!(
            "#!/bin/sh\ngrep SigIgn /proc/$$/status >> {}\nexec {PYTHON} \"$@\"\n",
            log.display()
        ),
    );
    app.set("interpreter", json!(shim.to_str().unwrap()));
    app.finalize();
    app.command().run().ok();
    let text = fs::read_to_string(&log).unwrap();
    assert!(!text.is_empty());
    for line in text.lines() {
        let mask = u64::from_str_radix(line.split_whitespace().nth(1).unwrap(), 16).unwrap();
        assert_eq!(
            mask & (1 << (libc::SIGPIPE - 1)),
            0,
            "SIGPIPE ignored in the probe: {line}"
        );
    }
}

#[test]
fn launchers_naming_each_other_as_interpreter_stop_with_a_clear_error() {
    // Two finalized launchers, each the other's interpreter: once exec'ed under versioned names (no
    // probe), once under unversioned names (each asks the other for its version, a spawned probe).
    for names in [["x/python3.11", "y/python3.11"], ["x/py", "y/py"]] {
        let mut app = App::hello();
        let [a, b] = names.map(|n| app.sandbox.path(n));
        for (me, other) in [(&a, &b), (&b, &a)] {
            fs::create_dir_all(me.parent().unwrap()).unwrap();
            app.set("interpreter", json!(other.to_str().unwrap()));
            let json = app
                .sandbox
                .write("loop.json", serde_json::to_vec(&app.descriptor).unwrap());
            finalize(&json, me).ok();
        }
        let started = std::time::Instant::now();
        let run = app
            .sandbox
            .command(&a)
            .env("RUNFILES_DIR", app.runfiles())
            .run();
        assert!(started.elapsed() < std::time::Duration::from_secs(60));
        assert_ne!(run.code(), Some(0), "{run}");
        assert!(
            run.stderr()
                .contains("launchers have started one another in a row"),
            "{names:?}\n{run}"
        );
    }
}

/// The strace log of one launch of `app`, up to its `execve` of Python: what it opened and examined.
fn paths_touched_before_exec(app: &App, env: &[(&str, &str)]) -> String {
    let log = app.sandbox.path("strace.log");
    let mut cmd = app.sandbox.command("strace").arg("-f").arg("-o").arg(&log);
    for (k, v) in env {
        cmd = cmd.env(k, v);
    }
    cmd.arg(app.bin()).run().ok();
    let log = fs::read_to_string(&log).unwrap();
    let mut execs = 0;
    log.lines()
        .take_while(|l| {
            execs += l.contains("execve(") as u32;
            execs < 2
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_warm_run_time_venv_knows_its_interpreter_until_the_file_changes() {
    let mut app = App::hello();
    let interpreter = app.sandbox.path("py/python3.11");
    fs::create_dir_all(interpreter.parent().unwrap()).unwrap();
    symlink(PYTHON, &interpreter).unwrap();
    app.set("interpreter", json!(interpreter.to_str().unwrap()));
    app.finalize();
    let cold = app.command().env("PY_LAUNCHER_DEBUG", "1").run().ok();
    assert!(
        cold.stderr()
            .contains("an interpreter binary, Python 3.11\n"),
        "{cold}"
    );
    assert!(cold.stderr().contains("venv: created"), "{cold}");

    // Warm: what the file is comes from the venv's record; the interpreter file is not opened.
    let warm = app.command().env("PY_LAUNCHER_DEBUG", "1").run().ok();
    assert!(warm.stderr().contains("venv: reusing"), "{warm}");
    assert!(
        warm.stderr()
            .contains("known from the run-time venv's record"),
        "{warm}"
    );
    assert_eq!(warm.report()["base_executable"], PYTHON);
    let touched = paths_touched_before_exec(&app, &[]);
    let opened = format!("openat(AT_FDCWD, \"{}\"", interpreter.display());
    assert!(
        !touched.contains(&opened),
        "a warm launch read the interpreter:\n{touched}"
    );
    assert!(
        touched.contains("venv-"),
        "not a warm run-time launch:\n{touched}"
    );

    // The same path now holds a wrapper script: another file, so the record is not believed; the
    // script is read, identified and bypassed, in a venv of its own.
    fs::remove_file(&interpreter).unwrap();
    fs::write(&interpreter, format!("#!/bin/sh\nexec {PYTHON} \"$@\"\n")).unwrap();
    fs::set_permissions(
        &interpreter,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let changed = app.command().env("PY_LAUNCHER_DEBUG", "1").run().ok();
    assert!(
        changed.stderr().contains("a #! wrapper script"),
        "{changed}"
    );
    assert!(changed.stderr().contains("is bypassed"), "{changed}");
    assert!(changed.stderr().contains("venv: created"), "{changed}");
    assert_eq!(changed.report()["base_executable"], PYTHON);
}
