//! Drop-in with one attribute, on a real Bazel 4.2.3: Bazel's own `py_binary`/`py_test` (no py-launcher
//! rule, no `bootstrap_template`) whose `py_runtime` changes only `stub_shebang`, so Bazel writes its
//! stock Python stub with py-launcher as the `#!` interpreter (`tests/bazel/workspace/native/`).
//!
//! Three runtimes: `//native:absolute_toolchain` (`#!/<abs>/py-launcher`), `//native:env_toolchain`
//! (`#!/usr/bin/env py-launcher`, with the launcher's directory put on PATH for `bazel run`, for
//! `bazel test` through `--test_env=PATH`, and for direct runs) and `//native:inbuild_toolchain` (an
//! in-build interpreter, so the stub names it by runfiles path). Cases: `bazel run` with arguments,
//! `bazel test` passing and failing, a native binary in another's data started through the runfiles,
//! `--nobuild_runfile_links`, and `--build_python_zip`.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::bazel::*;
use common::{path_with, PYTHON};
use serde_json::Value;

const ABSOLUTE: &str = "--extra_toolchains=//native:absolute_toolchain";
const ENV: &str = "--extra_toolchains=//native:env_toolchain";
const INBUILD: &str = "--extra_toolchains=//native:inbuild_toolchain";

/// The kernel reads at most this many bytes of a `#!` line (Linux `BINPRM_BUF_SIZE`, 5.1 and later).
const SHEBANG_LIMIT: usize = 255;

fn launcher_dir(b: &Bazel) -> PathBuf {
    b.root.join("repos/py_launcher_bins")
}

/// PATH with the launcher's directory first, for `#!/usr/bin/env py-launcher`.
fn path_with_launcher(b: &Bazel) -> String {
    path_with(&launcher_dir(b))
}

fn first_line(path: &Path) -> String {
    let bytes = fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let end = bytes
        .iter()
        .position(|b| *b == b'\n')
        .unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

fn report(out: &Output, what: &str) -> Value {
    json_stdout(out, what)
}

/// Runs a built executable directly with the launcher on PATH.
fn exec_with_path(b: &Bazel, rel: &str, args: &[&str]) -> Output {
    let mut cmd = Command::new(b.bin.join(rel));
    cmd.args(args)
        .current_dir(&b.root)
        .env("XDG_CACHE_HOME", &b.cache_home)
        .env("PATH", path_with_launcher(b))
        .stdin(std::process::Stdio::null());
    scrub_inherited_env(&mut cmd);
    cmd.output().unwrap()
}

fn check_app_report(r: &Value, runfiles: &Path, target: &str) {
    assert_eq!(r["greeting"], "hello from a native py_library");
    assert_eq!(r["version"], "3.11");
    assert_eq!(r["data"], "native data file");
    assert_eq!(r["env"]["RUNFILES_DIR"], path_str(runfiles).as_str());
    assert_eq!(r["env"]["PY_LAUNCHER_TARGET"], target);
    assert_eq!(r["env"]["PYTHONSAFEPATH"], "1");
    assert_eq!(
        r["argv"][0],
        path_str(&runfiles.join("e2e/native/native_app.py")).as_str()
    );
    // Bazel's native rules make no venv: the launcher's run-time venv, in the cache.
    let prefix = r["prefix"].as_str().unwrap_or_default();
    assert!(
        prefix.contains("/py-launcher/venv-"),
        "run-time venv: {prefix}"
    );
}

#[test]
#[ignore = "needs Bazel; run by scripts/test"]
fn native_stub_with_an_absolute_shebang() {
    let b = bazel();
    let shebang = format!("#!{}", launcher_dir(&b).join("py-launcher").display());
    assert!(
        shebang.len() < SHEBANG_LIMIT,
        "the kernel cuts #! lines at {SHEBANG_LIMIT} bytes; this checkout's launcher path is too long: {shebang}"
    );
    b.build(&[ABSOLUTE], &["//native:app", "//native:outer"]);
    let exe = b.bin.join("native/app");
    assert_eq!(first_line(&exe), shebang, "Bazel's stub, our #! line");
    let text = fs::read_to_string(&exe).unwrap();
    assert!(
        text.contains("PYTHON_BINARY = '/usr/bin/python3.11'"),
        "Bazel's own stub"
    );

    // Started directly: facts from the stub, same world as the embedded-descriptor route.
    let r = report(&b.exec("native/app", &["a b", ""]), "native/app");
    check_app_report(&r, &b.runfiles("native/app"), "//native:app");
    assert_eq!(r["args"], serde_json::json!(["a b", ""]));

    // bazel run: the target's args, then the command line's.
    let out = b.ok(&["run", ABSOLUTE, "//native:app", "--", "x y", "--z"]);
    let r = report(&out, "bazel run //native:app");
    check_app_report(&r, &b.runfiles("native/app"), "//native:app");
    assert_eq!(r["args"], serde_json::json!(["from-args", "x y", "--z"]));

    // A native binary in another's data, started through the runfiles the outer one was given.
    // (Bazel's `args` reach only `bazel run`/`bazel test`: a direct start passes them itself.)
    let r = report(
        &b.exec("native/outer", &["--run", "e2e/native/inner"]),
        "native/outer",
    );
    let outer_runfiles = b.runfiles("native/outer");
    let inner = &r["inner"];
    assert_eq!(inner["env"]["PY_LAUNCHER_TARGET"], "//native:inner");
    assert_eq!(
        inner["env"]["RUNFILES_DIR"],
        path_str(&outer_runfiles).as_str()
    );
    assert_eq!(inner["args"], serde_json::json!(["from-outer"]));
    assert_eq!(inner["greeting"], "hello from a native py_library");

    // The JSON plan names the stub and its template.
    let mut cmd = Command::new(&exe);
    cmd.env("PY_LAUNCHER_DEBUG", "json")
        .env("XDG_CACHE_HOME", &b.cache_home)
        .env_remove("RUNFILES_DIR")
        .env_remove("RUNFILES_MANIFEST_FILE");
    let plan = json_stdout(&cmd.output().unwrap(), "plan");
    assert_eq!(plan["stub"]["template"], "stock-native");
    assert_eq!(plan["stub"]["facts"]["main"], "e2e/native/native_app.py");
    assert_eq!(plan["interpreter"]["configured"], PYTHON);
}

#[test]
#[ignore = "needs Bazel; run by scripts/test"]
fn native_stub_with_env_shebang() {
    let b = bazel();
    b.build(&[ENV], &["//native:app", "//native:outer"]);
    let exe = b.bin.join("native/app");
    assert_eq!(first_line(&exe), "#!/usr/bin/env py-launcher");

    let r = report(&exec_with_path(&b, "native/app", &["q"]), "native/app");
    check_app_report(&r, &b.runfiles("native/app"), "//native:app");

    let path = path_with_launcher(&b);
    let out = b
        .command(&["run", ENV, "//native:app", "--", "x y"])
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", output_text(&out));
    let r = report(&out, "bazel run //native:app");
    assert_eq!(r["args"], serde_json::json!(["from-args", "x y"]));

    let r = report(
        &exec_with_path(&b, "native/outer", &["--run", "e2e/native/inner"]),
        "native/outer",
    );
    assert_eq!(r["inner"]["env"]["PY_LAUNCHER_TARGET"], "//native:inner");
}

#[test]
#[ignore = "needs Bazel; run by scripts/test"]
fn native_py_test_passes_and_fails() {
    let b = bazel();
    let testlogs = b.bin.parent().unwrap().join("testlogs");
    let test_path = format!("--test_env=PATH={}", path_with_launcher(&b));
    for toolchain in [ABSOLUTE, ENV] {
        let out = b.run(&[
            "test",
            toolchain,
            &test_path,
            "--nocache_test_results",
            "//native:passing_test",
        ]);
        assert!(out.status.success(), "{toolchain}: {}", output_text(&out));
        let log = fs::read_to_string(testlogs.join("native/passing_test/test.log")).unwrap();
        assert!(
            log.contains(
                "native test under //native:passing_test greeting: hello from a native py_library"
            ),
            "{toolchain}: {log}"
        );

        let out = b.run(&[
            "test",
            toolchain,
            &test_path,
            "--nocache_test_results",
            "//native:failing_test",
        ]);
        assert_eq!(
            out.status.code(),
            Some(3),
            "{toolchain}: {}",
            output_text(&out)
        );
        let log = fs::read_to_string(testlogs.join("native/failing_test/test.log")).unwrap();
        assert!(
            log.contains("native test under //native:failing_test"),
            "{toolchain}: {log}"
        );
    }
}

#[test]
#[ignore = "needs Bazel; run by scripts/test"]
fn native_stub_with_manifest_only_runfiles() {
    let b = bazel();
    let tree = b.runfiles("native/manifest_only");
    if tree.exists() {
        fs::remove_dir_all(&tree).unwrap();
    }
    b.build(
        &[ABSOLUTE, "--nobuild_runfile_links"],
        &["//native:manifest_only"],
    );
    assert!(!tree.join("e2e").exists(), "no runfiles tree");
    let manifest = b.bin.join("native/manifest_only.runfiles_manifest");
    let r = report(
        &b.exec("native/manifest_only", &["m"]),
        "native/manifest_only",
    );
    assert_eq!(r["greeting"], "hello from a native py_library");
    assert_eq!(
        r["env"]["RUNFILES_MANIFEST_FILE"],
        path_str(&manifest).as_str()
    );
    assert_eq!(r["env"]["RUNFILES_DIR"], Value::Null);
    assert_eq!(r["env"]["PY_LAUNCHER_TARGET"], "//native:manifest_only");
    assert_eq!(r["args"], serde_json::json!(["m"]));
}

#[test]
#[ignore = "needs Bazel; run by scripts/test"]
fn native_zip_is_refused_naming_the_flag() {
    let b = bazel();
    b.build(&[ABSOLUTE, "--build_python_zip"], &["//native:zipped"]);
    let exe = b.bin.join("native/zipped");
    // Bazel 4.2.3 writes its own `#!/usr/bin/env python3` before the zip, not the runtime's
    // stub_shebang: the kernel never starts py-launcher for such a binary. Given one, py-launcher
    // refuses it and names the flag.
    let line = first_line(&exe);
    assert_eq!(line, "#!/usr/bin/env python3", "Bazel's fixed zip #! line");
    let out = Command::new(launcher_dir(&b).join("py-launcher"))
        .arg(&exe)
        .env("XDG_CACHE_HOME", &b.cache_home)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(64), "{line}: {err}");
    assert!(err.starts_with("py-launcher: "), "{err}");
    assert!(err.contains("--build_python_zip"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    // The zip file Bazel builds beside it is refused the same way.
    let out = Command::new(launcher_dir(&b).join("py-launcher"))
        .arg(b.bin.join("native/zipped.zip"))
        .env("XDG_CACHE_HOME", &b.cache_home)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(64), "{err}");
    assert!(err.contains("--build_python_zip"), "{err}");
}

#[test]
#[ignore = "needs Bazel; run by scripts/test"]
fn native_stub_with_an_in_build_runtime() {
    let b = bazel();
    b.build(&[INBUILD], &["//native:app_inbuild"]);
    let text = fs::read_to_string(b.bin.join("native/app_inbuild")).unwrap();
    // Bazel 4.2.3 writes the interpreter's runfiles path, already normalised.
    assert!(
        text.contains("PYTHON_BINARY = 'pyrt/bin/python3.11'"),
        "{}",
        text.lines()
            .find(|l| l.starts_with("PYTHON_BINARY"))
            .unwrap_or_default()
    );
    let runfiles = b.runfiles("native/app_inbuild");
    let r = report(&b.exec("native/app_inbuild", &["i"]), "native/app_inbuild");
    assert_eq!(r["greeting"], "hello from a native py_library");
    assert_eq!(r["version"], "3.11");
    assert_eq!(r["env"]["PY_LAUNCHER_TARGET"], "//native:app_inbuild");
    assert_eq!(r["env"]["RUNFILES_DIR"], path_str(&runfiles).as_str());
    assert_eq!(r["args"], serde_json::json!(["i"]));

    let mut cmd = Command::new(b.bin.join("native/app_inbuild"));
    cmd.env("PY_LAUNCHER_DEBUG", "json")
        .env("XDG_CACHE_HOME", &b.cache_home)
        .env_remove("RUNFILES_DIR")
        .env_remove("RUNFILES_MANIFEST_FILE");
    let plan = json_stdout(&cmd.output().unwrap(), "plan");
    assert_eq!(plan["interpreter"]["configured"], "pyrt/bin/python3.11");
    assert_eq!(plan["interpreter"]["form"], "runfiles");
}
