//! Security guarantees not covered elsewhere: the environment cannot switch the interpreter, every exit
//! status reaches the parent, and what the launcher creates is private.

mod common;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use common::*;

#[test]
fn no_environment_variable_changes_which_interpreter_runs() {
    let app = App::hello();
    app.finalize();
    // A decoy interpreter on PATH and every variable a Python tool might consult to pick one.
    let decoy_dir = app.sandbox.path("decoy");
    let decoy = app
        .sandbox
        .write_exe("decoy/python3.11", "#!/bin/sh\necho decoy; exit 99\n");
    fs::copy(&decoy, decoy_dir.join("python3")).unwrap();
    fs::copy(&decoy, decoy_dir.join("python")).unwrap();
    let decoy = decoy.to_str().unwrap();
    let path = format!("{}:/usr/bin:/bin", decoy_dir.display());
    let run = app
        .command()
        .env("PATH", &path)
        .env("PYTHON", decoy)
        .env("PYTHONEXECUTABLE", decoy)
        .env("PY_LAUNCHER_INTERPRETER", decoy)
        .env("PY_LAUNCHER_PYTHON", decoy)
        .env("RULES_PYTHON_PYTHON", decoy)
        .env("VIRTUAL_ENV", decoy_dir.to_str().unwrap())
        .env("PYENV_VERSION", "decoy")
        .env("CONDA_PREFIX", decoy_dir.to_str().unwrap())
        .env("PY_LAUNCHER_DEBUG", "json")
        .run()
        .ok();
    let plan = run.json();
    assert_eq!(plan["interpreter"]["path"], PYTHON);
    let venv_python = plan["venv"]["python"].as_str().unwrap();
    assert_eq!(fs::read_link(venv_python).unwrap(), Path::new(PYTHON));
    let report = app
        .command()
        .env("PATH", &path)
        .env("PYTHON", decoy)
        .run()
        .ok()
        .report();
    assert_eq!(report["base_executable"], PYTHON);
}

#[test]
fn every_exit_status_reaches_the_parent() {
    let mut app = App::hello();
    app.add_file(
        "_main/pkg/main.py",
        "import os, sys\nos._exit(int(sys.argv[1]))\n",
    );
    app.finalize();
    for code in 0..=255 {
        let run = app.command().arg(code.to_string()).run();
        assert_eq!(run.code(), Some(code), "{run}");
    }
}

#[test]
fn the_run_time_venv_is_private() {
    let app = App::hello();
    app.finalize();
    app.command().run().ok();
    let base = app.sandbox.cache().join("py-launcher");
    let venv = fs::read_dir(&base)
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    fn check(path: &Path) {
        let meta = fs::symlink_metadata(path).unwrap();
        if meta.file_type().is_symlink() {
            return;
        }
        let mode = meta.permissions().mode() & 0o777;
        let allowed = if meta.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode, allowed, "{} has mode {mode:o}", path.display());
        assert_eq!(meta.uid(), unsafe { libc::geteuid() });
        if meta.is_dir() {
            for entry in fs::read_dir(path).unwrap().flatten() {
                check(&entry.path());
            }
        }
    }
    check(&base);
    check(&venv);
}

#[test]
fn a_planted_temp_directory_is_not_trusted() {
    // Someone pre-creates the temp directory a launch would build in, with content of their own.
    let app = App::hello();
    app.finalize();
    let plan = app.command().plan();
    let venv = std::path::PathBuf::from(plan["venv"]["dir"].as_str().unwrap());
    fs::remove_dir_all(&venv).unwrap();
    let name = venv.file_name().unwrap().to_str().unwrap().to_owned();
    // A planted directory for a PID that is not running is swept; the launch builds its own.
    let planted = venv.with_file_name(format!(".tmp-{name}-999999999"));
    fs::create_dir_all(planted.join("bin")).unwrap();
    fs::write(planted.join("bin/python3.11"), "#!/bin/sh\necho planted\n").unwrap();
    let report = app.command().run().ok().report();
    assert_eq!(report["base_executable"], PYTHON);
    assert!(!planted.exists());
}
