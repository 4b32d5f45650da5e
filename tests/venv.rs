//! The program's venv: build-time venv when usable, run-time venv in a checked cache otherwise; the
//! import path order; `sys.executable` subprocesses; races, damage, unsafe caches and the sweep.

mod common;

use std::fs;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use common::*;
use serde_json::{json, Value};

/// A main that reports, and also starts `sys.executable` the way tools do and reports what it sees.
const SUBPROCESS_MAIN: &str = r#"
import json, subprocess, sys
child = subprocess.run([sys.executable, "-c", "import json, sys, greet; print(json.dumps([sys.path, greet.hello(), sys.prefix != sys.base_prefix]))"],
                       capture_output=True, text=True, check=True)
print(json.dumps({"path": sys.path, "executable": sys.executable, "base_executable": sys._base_executable,
                  "prefix": sys.prefix, "base_prefix": sys.base_prefix, "child": json.loads(child.stdout)}))
"#;

fn venvs(cache: &Path) -> Vec<PathBuf> {
    let base = cache.join("py-launcher");
    let mut found: Vec<PathBuf> = fs::read_dir(&base)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    found.sort();
    found
}

fn assert_import_order(path: &[String], app: &App, site_packages: &str) {
    let position = |entry: &str| {
        path.iter()
            .position(|p| p == entry)
            .unwrap_or_else(|| panic!("{entry} not on sys.path {path:?}"))
    };
    let stdlib = position("/usr/lib/python3.11");
    let site = position(site_packages);
    let lib = position(app.runfiles().join("_main/pkg/lib").to_str().unwrap());
    let workspace = position(app.runfiles().join("_main").to_str().unwrap());
    assert!(
        stdlib < site && site < lib && lib < workspace,
        "order wrong: {path:?}"
    );
    assert!(
        !path.iter().any(|p| p.contains("dist-packages")),
        "host site-packages leaked: {path:?}"
    );
}

#[test]
fn build_time_venv_is_used_when_usable() {
    let mut app = App::hello();
    let venv = app.add_build_time_venv();
    app.add_file("_main/pkg/main.py", SUBPROCESS_MAIN);
    app.finalize();
    let report = app.command().run().ok().report();
    assert_eq!(
        report["executable"],
        venv.join("bin/python3").to_str().unwrap()
    );
    assert_eq!(report["prefix"], venv.to_str().unwrap());
    assert_eq!(report["base_prefix"], "/usr");
    assert_eq!(report["base_executable"], PYTHON);
    let site = venv.join("lib/python3.11/site-packages");
    assert_import_order(&strs(&report["path"]), &app, site.to_str().unwrap());
    // A sys.executable subprocess sees the same import path and imports the binary's library.
    assert_eq!(report["child"][0], report["path"]);
    assert_eq!(report["child"][1], "hello from greet");
    assert_eq!(report["child"][2], true);
    assert!(
        !app.sandbox.cache().join("py-launcher").exists(),
        "a usable build-time venv must not touch the cache"
    );
}

#[test]
fn build_time_venv_without_home_fixes_base_executable() {
    let mut app = App::hello();
    let venv = app.add_build_time_venv();
    // An in-build runtime cannot know `home` at build time; the .pth carries the one-line fix-up.
    fs::write(
        venv.join("pyvenv.cfg"),
        "include-system-site-packages = false\n",
    )
    .unwrap();
    let pth = venv.join("lib/python3.11/site-packages/_py_launcher.pth");
    let mut text = fs::read_to_string(&pth).unwrap();
    text.push_str("import sys, os; sys._base_executable = os.path.realpath(sys.executable) if sys._base_executable == sys.executable else sys._base_executable\n");
    fs::write(&pth, text).unwrap();
    app.finalize();
    let report = app.command().run().ok().report();
    assert_eq!(
        report["executable"],
        venv.join("bin/python3").to_str().unwrap()
    );
    assert_eq!(report["base_executable"], PYTHON);
}

#[test]
fn an_unusable_build_time_venv_falls_back_to_a_run_time_venv() {
    // Interpreter moved: bin/python3 dangles.
    let mut app = App::hello();
    let venv = app.add_build_time_venv();
    fs::remove_file(venv.join("bin/python3")).unwrap();
    symlink("/nonexistent/python3.11", venv.join("bin/python3")).unwrap();
    app.finalize();
    let plan = app.command().plan();
    assert_eq!(plan["venv"]["kind"], "run-time");
    assert!(
        plan["venv"]["reason"]
            .as_str()
            .unwrap()
            .contains("does not resolve"),
        "{plan}"
    );
    assert_eq!(
        app.command().run().ok().report()["greeting"],
        "hello from greet"
    );

    // Manifest-only runfiles: the venv's links do not exist.
    let mut app = App::hello();
    app.add_build_time_venv();
    app.finalize();
    app.entries.insert(
        "_main/pkg/_app.venv/pyvenv.cfg".into(),
        app.runfiles().join("_main/pkg/_app.venv/pyvenv.cfg"),
    );
    let manifest_text: String = app
        .entries
        .iter()
        .map(|(k, v)| format!("{k} {}\n", v.display()))
        .collect();
    let runfiles = app.runfiles();
    fs::rename(&runfiles, app.sandbox.path("moved.runfiles")).unwrap();
    let manifest_text = manifest_text.replace(
        runfiles.to_str().unwrap(),
        app.sandbox.path("moved.runfiles").to_str().unwrap(),
    );
    app.sandbox
        .write("bin/app.runfiles_manifest", manifest_text);
    let plan = app.command().plan();
    assert_eq!(plan["venv"]["kind"], "run-time");
    assert!(
        plan["venv"]["reason"]
            .as_str()
            .unwrap()
            .contains("manifest-only"),
        "{plan}"
    );
}

#[test]
fn run_time_venv_is_created_once_then_reused() {
    let mut app = App::hello();
    app.add_file("_main/pkg/main.py", SUBPROCESS_MAIN);
    app.finalize();
    let first = app.command().env("PY_LAUNCHER_DEBUG", "1").run().ok();
    assert!(first.stderr().contains("venv: created"), "{first}");
    let second = app.command().env("PY_LAUNCHER_DEBUG", "1").run().ok();
    assert!(second.stderr().contains("venv: reusing"), "{second}");
    let report = second.report();
    let entries = venvs(&app.sandbox.cache());
    assert_eq!(entries.len(), 1, "{entries:?}");
    let venv = &entries[0];
    assert!(venv
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("venv-"));
    assert_eq!(report["prefix"], venv.to_str().unwrap());
    assert_eq!(
        report["executable"],
        venv.join("bin/python3.11").to_str().unwrap()
    );
    assert_eq!(report["base_executable"], PYTHON);
    assert_import_order(
        &strs(&report["path"]),
        &app,
        venv.join("lib/python3.11/site-packages").to_str().unwrap(),
    );
    assert_eq!(report["child"][0], report["path"]);
    assert_eq!(report["child"][1], "hello from greet");
    let base = app.sandbox.cache().join("py-launcher");
    assert_eq!(fs::metadata(&base).unwrap().mode() & 0o777, 0o700);
    let cfg = fs::read_to_string(venv.join("pyvenv.cfg")).unwrap();
    assert!(
        cfg.contains("home = /usr/bin") && cfg.contains("include-system-site-packages = false"),
        "{cfg}"
    );
}

#[test]
fn system_site_packages_can_be_opted_into() {
    let mut app = App::hello();
    app.set("system_site_packages", json!(true));
    app.finalize();
    let path = strs(&app.command().run().ok().report()["path"]);
    let lib = path
        .iter()
        .position(|p| p.ends_with("_main/pkg/lib"))
        .unwrap();
    let host = path
        .iter()
        .position(|p| p == "/usr/lib/python3/dist-packages")
        .expect("host site-packages missing");
    assert!(lib < host, "{path:?}");
}

#[test]
fn sixty_four_cold_launches_race_to_one_venv() {
    let app = App::hello();
    app.finalize();
    let children: Vec<_> = (0..64).map(|_| app.command().spawn()).collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "a racing launch failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: Value = serde_json::from_slice(out.stdout.trim_ascii()).unwrap();
        assert_eq!(report["greeting"], "hello from greet");
    }
    let entries = venvs(&app.sandbox.cache());
    assert_eq!(
        entries.len(),
        1,
        "expected exactly one venv and no leftovers: {entries:?}"
    );
}

#[test]
fn a_damaged_or_tampered_venv_is_rebuilt_not_used() {
    let app = App::hello();
    app.finalize();
    app.command().run().ok();
    let venv = venvs(&app.sandbox.cache()).pop().unwrap();
    // Re-point the interpreter link elsewhere.
    let decoy = app
        .sandbox
        .write_exe("decoy/python3.11", "#!/bin/sh\necho decoy\n");
    let link = venv.join("bin/python3.11");
    fs::remove_file(&link).unwrap();
    symlink(&decoy, &link).unwrap();
    let run = app.command().env("PY_LAUNCHER_DEBUG", "1").run().ok();
    assert!(run.stderr().contains("is damaged or was changed"), "{run}");
    assert_eq!(run.report()["greeting"], "hello from greet");
    assert_eq!(fs::read_link(&link).unwrap(), PathBuf::from(PYTHON));

    // Partly deleted by hand: the import file is gone.
    fs::remove_file(venv.join("lib/python3.11/site-packages/_py_launcher.pth")).unwrap();
    let run = app.command().env("PY_LAUNCHER_DEBUG", "1").run().ok();
    assert!(
        run.stderr().contains("_py_launcher.pth\" is missing"),
        "{run}"
    );
    assert_eq!(run.report()["greeting"], "hello from greet");
    assert_eq!(venvs(&app.sandbox.cache()).len(), 1);
}

#[test]
fn unsafe_cache_directories_are_refused() {
    // A symlink planted where the cache directory goes.
    let app = App::hello();
    app.finalize();
    let elsewhere = app.sandbox.path("planted");
    fs::create_dir_all(&elsewhere).unwrap();
    fs::create_dir_all(app.sandbox.cache()).unwrap();
    symlink(&elsewhere, app.sandbox.cache().join("py-launcher")).unwrap();
    app.command().run().fails(73, "refusing cache directory");
    assert_eq!(
        fs::read_dir(&elsewhere).unwrap().count(),
        0,
        "wrote through the planted symlink"
    );

    // Writable by others.
    let app = App::hello();
    app.finalize();
    let base = app.sandbox.cache().join("py-launcher");
    fs::create_dir_all(&base).unwrap();
    fs::set_permissions(&base, fs::Permissions::from_mode(0o777)).unwrap();
    app.command()
        .run()
        .fails(73, "writable by group or others (mode 777)");

    // Owned by another user (the tests run as root, which can hand it to nobody).
    let app = App::hello();
    app.finalize();
    let base = app.sandbox.cache().join("py-launcher");
    fs::create_dir_all(&base).unwrap();
    fs::set_permissions(&base, fs::Permissions::from_mode(0o700)).unwrap();
    if std::os::unix::fs::chown(&base, Some(65534), Some(65534)).is_ok() {
        app.command().run().fails(73, "is owned by uid 65534");
    }
}

#[test]
fn an_unwritable_cache_falls_back_to_tmpdir() {
    let app = App::hello();
    app.finalize();
    // A cache home below a regular file can never be created (read-only $HOME behaves the same way).
    let blocker = app.sandbox.write("blocker", "file");
    let run = app
        .command()
        .env("XDG_CACHE_HOME", blocker.join("cache"))
        .env("PY_LAUNCHER_DEBUG", "1")
        .run()
        .ok();
    assert!(run.stderr().contains("unusable"), "{run}");
    let uid = unsafe { libc::geteuid() };
    let fallback = app.sandbox.path(&format!("tmp/py-launcher-{uid}"));
    assert!(
        run.report()["prefix"]
            .as_str()
            .unwrap()
            .starts_with(fallback.to_str().unwrap()),
        "{run}"
    );

    // With no usable location at all: a clear error.
    app.command()
        .env("XDG_CACHE_HOME", blocker.join("cache"))
        .env("TMPDIR", blocker.join("tmp"))
        .run()
        .fails(73, "no usable cache directory for the run-time venv");
}

#[test]
fn stale_entries_are_swept_when_a_venv_is_created() {
    let app = App::hello();
    app.finalize();
    let base = app.sandbox.cache().join("py-launcher");
    fs::create_dir_all(&base).unwrap();
    fs::set_permissions(&base, fs::Permissions::from_mode(0o700)).unwrap();
    // A venv untouched for 30 days, a temp dir of a dead process, and a fresh venv to keep.
    let old = base.join("venv-00000000000000aa");
    let fresh = base.join("venv-00000000000000bb");
    let dead_temp = base.join(".tmp-venv-00000000000000cc-999999999");
    for dir in [&old, &fresh, &dead_temp] {
        fs::create_dir_all(dir.join("bin")).unwrap();
    }
    let month_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(30 * 24 * 3600);
    fs::File::open(&old)
        .unwrap()
        .set_modified(month_ago)
        .unwrap();
    app.command().run().ok();
    assert!(!old.exists(), "stale venv kept");
    assert!(!dead_temp.exists(), "dead process's temp dir kept");
    assert!(fresh.exists(), "fresh venv removed");
    // A warm launch never sweeps: recreate the stale one and launch again.
    fs::create_dir_all(&old).unwrap();
    fs::File::open(&old)
        .unwrap()
        .set_modified(month_ago)
        .unwrap();
    app.command().run().ok();
    assert!(old.exists(), "a warm launch swept the cache");
}
