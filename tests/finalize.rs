//! The finalize tool: validation before writing, the trailer, determinism and re-finalizing.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;

use common::*;
use py_launcher::trailer::{self, Tail};

#[test]
fn finalized_launcher_carries_the_descriptor_and_is_executable() {
    let app = App::hello();
    let bin = app.finalize();
    let bytes = fs::read(&bin).unwrap();
    let Tail::Present(found, json) = trailer::read_bytes(&bytes) else {
        panic!("no trailer")
    };
    assert_eq!(
        found.start as usize,
        fs::metadata(launcher()).unwrap().len() as usize
    );
    let embedded: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(embedded, app.descriptor);
    assert_eq!(
        fs::metadata(&bin).unwrap().permissions().mode() & 0o111,
        0o111
    );
}

#[test]
fn finalize_is_deterministic() {
    let app = App::hello();
    let first = fs::read(app.finalize()).unwrap();
    fs::remove_file(app.bin()).unwrap();
    let second = fs::read(app.finalize()).unwrap();
    assert_eq!(first, second);
}

#[test]
fn refinalizing_replaces_the_descriptor_instead_of_stacking() {
    let mut app = App::hello();
    let once = app.finalize();
    app.set("target", "//pkg:renamed".into());
    let json = app
        .sandbox
        .write("second.json", serde_json::to_vec(&app.descriptor).unwrap());
    let twice = app.sandbox.path("bin/app2");
    let out = std::process::Command::new(finalizer())
        .args([
            std::ffi::OsStr::new("--launcher"),
            once.as_os_str(),
            "--descriptor".as_ref(),
            json.as_os_str(),
            "--output".as_ref(),
            twice.as_os_str(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = fs::read(&twice).unwrap();
    assert_eq!(
        bytes.len() as u64,
        fs::metadata(launcher()).unwrap().len() + json_len(&app) + trailer::TRAILER_LEN
    );
    let Tail::Present(_, embedded) = trailer::read_bytes(&bytes) else {
        panic!("no trailer")
    };
    assert!(String::from_utf8_lossy(&embedded).contains("//pkg:renamed"));
}

fn json_len(app: &App) -> u64 {
    serde_json::to_vec(&app.descriptor).unwrap().len() as u64
}

#[test]
fn invalid_json_is_refused_and_nothing_is_written() {
    let sandbox = Sandbox::new();
    let json = sandbox.write("bad.json", "{\"version\": 1,");
    let out = sandbox.path("out");
    finalize(&json, &out).fails(65, "descriptor is not valid");
    assert!(!out.exists());
}

#[test]
fn unknown_fields_are_refused() {
    let mut app = App::hello();
    app.set("mian", "_main/pkg/main.py".into());
    let json = app
        .sandbox
        .write("d.json", serde_json::to_vec(&app.descriptor).unwrap());
    finalize(&json, &app.bin()).fails(65, "unknown field `mian`");
    assert!(!app.bin().exists());
}

#[test]
fn invalid_values_are_refused_before_writing() {
    for (key, value, needle) in [
        (
            "version",
            serde_json::json!(2),
            "unsupported descriptor version 2",
        ),
        (
            "main",
            serde_json::json!("../escape.py"),
            "not a runfiles path",
        ),
        ("imports", serde_json::json!(["/abs"]), "it is absolute"),
        ("python_version", serde_json::json!("three"), "not X.Y"),
    ] {
        let mut app = App::hello();
        app.set(key, value);
        let json = app
            .sandbox
            .write("d.json", serde_json::to_vec(&app.descriptor).unwrap());
        finalize(&json, &app.bin()).fails(65, needle);
        assert!(!app.bin().exists());
    }
}

#[test]
fn missing_arguments_are_a_usage_error() {
    let out = std::process::Command::new(finalizer())
        .arg("--launcher")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("py-launcher: usage: "));
}

#[test]
fn a_descriptor_survives_bytes_appended_after_finalizing() {
    let app = App::hello();
    let bin = app.finalize();
    let mut bytes = fs::read(&bin).unwrap();
    bytes.extend_from_slice(&[0u8; 4000]);
    fs::write(&bin, &bytes).unwrap();
    let run = app.command().run().ok();
    assert_eq!(run.report()["greeting"], "hello from greet");
}

#[test]
fn finalize_refuses_what_the_launcher_would_refuse() {
    // Over the launcher's descriptor limit (py_launcher::limits, shared by both): nothing is written.
    let mut app = App::hello();
    let limit = py_launcher::limits::MAX_DESCRIPTOR_LEN as usize;
    app.set("env", serde_json::json!({"BIG": "x".repeat(limit)}));
    let json = app
        .sandbox
        .write("big.json", serde_json::to_vec(&app.descriptor).unwrap());
    let out = app.sandbox.path("bin/big");
    finalize(&json, &out).fails(64, "larger than");
    assert!(!out.exists());
    // A line break in the interpreter path: the launcher's venv record is line-based.
    for bad in ["/usr/bin/python3.11\r", "/opt/py\nthon/bin/python3.11"] {
        let mut app = App::hello();
        app.set("interpreter", serde_json::json!(bad));
        let json = app
            .sandbox
            .write("bad.json", serde_json::to_vec(&app.descriptor).unwrap());
        let out = app.sandbox.path("bin/bad");
        finalize(&json, &out).fails(65, "field `interpreter` is not usable");
        assert!(!out.exists());
    }
}

#[test]
fn errors_name_the_descriptor_file() {
    let sandbox = Sandbox::new();
    let json = sandbox.write("bad.json", "{\"version\": 1,");
    finalize(&json, &sandbox.path("out")).fails(
        65,
        &format!("descriptor \"{}\": descriptor is not valid", json.display()),
    );
    let mut app = App::hello();
    app.set("main", "/abs/main.py".into());
    let json = app
        .sandbox
        .write("d.json", serde_json::to_vec(&app.descriptor).unwrap());
    finalize(&json, &app.bin()).fails(
        65,
        &format!("descriptor \"{}\": field `main`", json.display()),
    );
}

#[test]
fn a_main_or_import_without_the_workspace_prefix_is_warned_about() {
    let mut app = App::hello();
    app.set("main", "pkg/main.py".into());
    app.set(
        "imports",
        serde_json::json!(["pkg/lib", "pypi_requests/site-packages"]),
    );
    let json = app
        .sandbox
        .write("d.json", serde_json::to_vec(&app.descriptor).unwrap());
    let run = finalize(&json, &app.bin()).ok();
    let prefix = format!(
        "py-launcher-finalize: warning: descriptor \"{}\": ",
        json.display()
    );
    assert_eq!(
        run.stderr(),
        format!(
            "{prefix}main \"pkg/main.py\" does not start with the workspace name \"_main\"; runfiles paths start with a repository name, so it is probably \"_main/pkg/main.py\"\n\
             {prefix}import \"pkg/lib\" does not start with the workspace name \"_main\" but names the main file's directory \"pkg\"; it is probably \"_main/pkg/lib\"\n"
        ),
        "{run}"
    );
    assert!(app.bin().exists(), "a warning does not stop finalize");

    // A well-formed descriptor, with another repository's import, finalizes silently.
    let mut app = App::hello();
    app.set(
        "imports",
        serde_json::json!(["_main/pkg/lib", "pypi_requests/site-packages"]),
    );
    app.sandbox
        .write("d.json", serde_json::to_vec(&app.descriptor).unwrap());
    let run = finalize(&app.sandbox.path("d.json"), &app.bin()).ok();
    assert_eq!(run.stderr(), "", "{run}");
}

#[test]
fn a_venv_python_descriptor_needs_an_absolute_interpreter_and_no_main() {
    // The build-time venv's bin/python3 (docs/layout.md): a launcher that only runs `interpreter` with its
    // own path as argv[0]. An in-build (runfiles) interpreter or a main file make no sense there.
    let sandbox = Sandbox::new();
    let base = serde_json::json!({"version": 1, "target": "//a:b", "workspace_name": "w",
                                  "interpreter": PYTHON, "venv_python": true});
    let ok = sandbox.write("ok.json", serde_json::to_vec(&base).unwrap());
    let out = sandbox.path("python3");
    finalize(&ok, &out).ok();
    assert!(out.is_file());
    for (key, value) in [
        ("interpreter", serde_json::json!("pyrt/bin/python3")),
        ("main", serde_json::json!("w/m.py")),
    ] {
        let mut bad = base.clone();
        bad[key] = value;
        let json = sandbox.write("bad.json", serde_json::to_vec(&bad).unwrap());
        let out = sandbox.path("bad-python3");
        finalize(&json, &out).fails(
            65,
            "a `venv_python` descriptor needs an absolute `interpreter` and no main",
        );
        assert!(!out.exists(), "{key}: nothing is written");
    }
}
