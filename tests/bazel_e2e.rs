//! End-to-end tests of the Bazel rules (`bazel/`) with a real Bazel (Debian's `bazel-bootstrap`, 4.2.3).
//!
//! The test workspace is `tests/bazel/workspace`, used in place (Bazel writes nothing into it: the
//! convenience symlinks are off). Everything generated lives under `$CARGO_TARGET_TMPDIR/bazel-e2e/`:
//!
//! - `repos/py_launcher_bins`: `py-launcher` and `py-launcher-finalize` exactly as cargo built them for this
//!   run (`CARGO_BIN_EXE_*`), registered by the workspace's launcher toolchain;
//! - `repos/pyrt`: an in-build Python runtime (`bin/python3.11` -> the machine's CPython 3.11);
//! - `repos/pypi_bazel_runfiles`: the `bazel-runfiles` wheel from PyPI (downloaded once into `downloads/`),
//!   unpacked, with a BUILD file and a data file;
//! - `bazelrc`: the absolute `--override_repository` flags for those and for the offline stand-ins in
//!   `tests/bazel/offline`; `output_base/`: Bazel's output base, shared by all tests; `cache/`: the
//!   `XDG_CACHE_HOME` the launched programs use.
//!
//! Overrides: `PY_LAUNCHER_E2E_WHEEL` (a local bazel_runfiles wheel: no network needed),
//! `PY_LAUNCHER_E2E_LAUNCHER` / `PY_LAUNCHER_E2E_FINALIZE` (other launcher executables).
//!
//! Tests are `#[ignore]`d (they need Bazel; about 30 s cold, 10 s warm); `scripts/test` and
//! `scripts/test-bazel` run them with `--run-ignored all`. Each test
//! holds an exclusive lock on `bazel-e2e/lock` for its whole duration, so the cases run one at a time even
//! under nextest (one process per test): they share one Bazel server and some cases build with flags that
//! would change outputs another case is reading.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use common::bazel::*;
use common::{strs, PYTHON};
use serde_json::Value;
use std::collections::BTreeSet;

#[test]
#[ignore = "needs Bazel; run by scripts/test"]
fn platform_runtime_build_time_venv() {
    let b = bazel();
    b.build(&[], &["//cases:report"]);

    let descriptor = b.read_json("cases/_report.descriptor.json");
    let expected: Value = serde_json::json!({
        "version": 1,
        "target": "//cases:report",
        "workspace_name": "e2e",
        "main": "e2e/cases/report_main.py",
        "interpreter": PYTHON,
        "python_version": "3.11",
        "imports": ["e2e/cases/extra", "e2e/lib/py"],
        "interpreter_args": ["-X", "utf8"],
        "env": {"DATA_FILE": "cases/data.txt", "GREETING": "from env"},
        "venv": "e2e/cases/_report.venv",
        "build_config": "e2e/cases/_report_build_config.json",
    });
    assert_eq!(descriptor, expected);

    // The descriptor is what the finalized executable carries, followed by the trailer.
    let exe = fs::read(b.bin.join("cases/report")).unwrap();
    let desc_bytes = fs::read(b.bin.join("cases/_report.descriptor.json")).unwrap();
    assert_eq!(&exe[exe.len() - 8..], b"PYLDESC1");
    let len = u64::from_le_bytes(exe[exe.len() - 24..exe.len() - 16].try_into().unwrap()) as usize;
    assert_eq!(&exe[exe.len() - 24 - len..exe.len() - 24], &desc_bytes[..]);

    let venv = b.bin.join("cases/_report.venv");
    assert_eq!(
        fs::read_to_string(venv.join("pyvenv.cfg")).unwrap(),
        "home = /usr/bin\ninclude-system-site-packages = false\n"
    );
    // bin/python3 is a regular file (no unresolved symlink for a cache to trip on): the launcher finalized
    // in its venv_python mode, which runs the platform interpreter in this venv.
    let python = venv.join("bin/python3");
    let meta = fs::symlink_metadata(&python).unwrap();
    assert!(
        meta.file_type().is_file(),
        "{} is a regular file",
        python.display()
    );
    assert_eq!(meta.permissions().mode() & 0o111, 0o111, "executable");
    let venv_descriptor = b.read_json("cases/_report.venv/bin/python3.descriptor.json");
    assert_eq!(
        venv_descriptor,
        serde_json::json!({"version": 1, "target": "//cases:report", "workspace_name": "e2e",
                           "interpreter": PYTHON, "venv_python": true})
    );
    let out = Command::new(&python)
        .args([
            "-c",
            "import sys; print(sys.prefix, sys.base_prefix, sys.executable)",
        ])
        .env_remove("PYTHONSAFEPATH")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{} /usr {}\n", venv.display(), python.display()),
        "{}",
        output_text(&out)
    );
    let site = venv.join("lib/python3.11/site-packages");
    let up = "../".repeat(6);
    assert_eq!(
        fs::read_to_string(site.join("_py_launcher.pth")).unwrap(),
        format!("{up}e2e/cases/extra\n{up}e2e/lib/py\n{up}e2e\nimport sys; sys._base_executable = \"{PYTHON}\"\n")
    );
    for module in ["bazel_build_info.py", "bazel_binary_info.py"] {
        assert_eq!(
            fs::read(site.join(module)).unwrap(),
            fs::read(b.repo.join("templates").join(module)).unwrap(),
            "{module} is a copy of the template"
        );
    }
    let config = b.read_json("cases/_report_build_config.json");
    assert_eq!(config["target"], "//cases:report");
    assert_eq!(config["workspace_name"], "e2e");
    assert_eq!(config["python_version"], "3.11");
    assert_eq!(config["compilation_mode"], "fastbuild");
    assert_eq!(config["stamped"], false);
    assert_eq!(config["main"], "e2e/cases/report_main.py");
    assert!(
        config["cpu"].as_str().is_some_and(|c| !c.is_empty()),
        "cpu: {config}"
    );
    assert_eq!(
        config["attributes"]["imports"],
        serde_json::json!(["extra"])
    );

    let report = b.exec_json("cases/report", &["a b", "c"]);
    check_report_world(&report, &b.runfiles("cases/report"), "report");
    assert_eq!(report["positional"], serde_json::json!(["a b", "c"]));

    // Started through a relative path from another directory: same world.
    let out = Command::new("./report")
        .current_dir(b.bin.join("cases"))
        .env("XDG_CACHE_HOME", &b.cache_home)
        .env_remove("RUNFILES_DIR")
        .env_remove("RUNFILES_MANIFEST_FILE")
        .output()
        .unwrap();
    // (The launcher makes argv[0] absolute without dropping its "./": compare normalised paths.)
    let report = normalize_dots(json_stdout(&out, "./report"));
    check_report_world(&report, &b.runfiles("cases/report"), "report");
}

#[test]
#[ignore = "needs Bazel; run by scripts/test"]
fn main_module_binary() {
    let b = bazel();
    b.build(&[], &["//cases:report_module"]);
    let descriptor = b.read_json("cases/_report_module.descriptor.json");
    assert_eq!(descriptor["main_module"], "greetlib.cli");
    assert!(descriptor.get("main").is_none(), "{descriptor}");
    let report = b.exec_json("cases/report_module", &[]);
    assert_eq!(report["module"], "__main__");
    assert_eq!(report["spec"], "greetlib.cli");
    assert_eq!(
        report["build_info"]["config"]["main_module"],
        "greetlib.cli"
    );
}

#[test]
#[ignore = "needs Bazel; run by scripts/test"]
fn in_build_runtime() {
    let b = bazel();
    let flags = ["--extra_toolchains=//toolchains:inbuild_python_toolchain"];
    b.build(&flags, &["//cases:inbuild"]);
    let descriptor = b.read_json("cases/_inbuild.descriptor.json");
    assert_eq!(descriptor["interpreter"], "pyrt/bin/python3.11");
    assert_eq!(descriptor["python_version"], "3.11");
    assert_eq!(descriptor["venv"], "e2e/cases/_inbuild.venv");

    let runfiles = b.runfiles("cases/inbuild");
    let root = path_str(&runfiles);
    assert!(
        runfiles.join("pyrt/bin/python3.11").is_file(),
        "the interpreter is in the runfiles"
    );
    // The venv's bin/python3 is an ordinary runfiles entry (a root symlink to the interpreter File), and
    // pyvenv.cfg has no `home`: CPython follows the link to its standard library.
    assert_eq!(
        fs::read_to_string(b.bin.join("cases/_inbuild.venv/pyvenv.cfg")).unwrap(),
        "include-system-site-packages = false\n"
    );
    let report = b.exec_json("cases/inbuild", &[]);
    let venv = format!("{root}/e2e/cases/_inbuild.venv");
    assert_eq!(
        report["prefix"],
        venv.as_str(),
        "the build-time venv is used"
    );
    assert_eq!(report["executable"], format!("{venv}/bin/python3").as_str());
    assert_eq!(
        report["base_executable"], PYTHON,
        "the in-build interpreter resolves to the real one"
    );
    assert_eq!(report["version"], "3.11");
    assert_eq!(report["extramod"], "extra import dir");
    assert_eq!(report["subprocess"]["greeting"], "hello, subprocess");
    assert_eq!(report["subprocess"]["prefix"], venv.as_str());
    assert_eq!(report["build_info"]["target"], "//cases:inbuild");
    let path = strs(&report["path"]);
    assert!(path.ends_with(&[
        format!("{venv}/lib/python3.11/site-packages"),
        format!("{root}/e2e/cases/extra"),
        format!("{root}/e2e/lib/py"),
        format!("{root}/e2e")
    ]));

    let groups = b.output_groups(&flags, "//cases:inbuild");
    assert_eq!(groups["interpreter_files"], set(&["pyrt/bin/python3.11"]));
    assert_eq!(
        groups["bootstrap_files"],
        set(&[
            "e2e/cases/inbuild",
            "e2e/cases/_inbuild_build_config.json",
            "e2e/cases/_inbuild.venv/pyvenv.cfg",
            "e2e/cases/_inbuild.venv/lib/python3.11/site-packages/_py_launcher.pth",
            "e2e/cases/_inbuild.venv/lib/python3.11/site-packages/bazel_build_info.py",
            "e2e/cases/_inbuild.venv/lib/python3.11/site-packages/bazel_binary_info.py",
        ])
    );
    // The venv's bin/python3 is the interpreter File again, under a root symlink.
    let mut expected = union_of(&groups);
    expected.insert("e2e/cases/_inbuild.venv/bin/python3".into());
    assert_eq!(
        expected,
        manifest_keys(&b.bin.join("cases/inbuild.runfiles_manifest"))
    );
}

#[test]
#[ignore = "needs Bazel; run by scripts/test"]
fn bazel_run_relative_argv0_cwd_in_runfiles() {
    let b = bazel();
    let out = b.ok(&["run", "//cases:report_run", "--", "extra arg"]);
    let report = json_stdout(&out, "bazel run //cases:report_run");
    let runfiles = b.runfiles("cases/report_run");
    assert_eq!(
        report["cwd"],
        format!("{}/e2e", runfiles.display()).as_str(),
        "cwd inside the runfiles"
    );
    assert_eq!(
        report["positional"],
        serde_json::json!(["from-args", "extra arg"]),
        "`args` then the command line"
    );
    check_report_world(&report, &runfiles, "report_run");
}

#[test]
#[ignore = "needs Bazel; run by scripts/test"]
fn bazel_test_pass_and_fail() {
    let b = bazel();
    let out = b.ok(&[
        "test",
        "--nocache_test_results",
        "//cases:report_test",
        "//example:hello_test",
    ]);
    assert!(
        output_text(&out).contains("Executed 2 out of 2 tests: 2 tests pass"),
        "{}",
        output_text(&out)
    );
    let testlogs = b.bin.parent().unwrap().join("testlogs");
    let log = fs::read_to_string(testlogs.join("cases/report_test/test.log")).unwrap_or_default();
    assert!(
        log.contains("Ran 4 tests") && log.contains("OK"),
        "report_test log:\n{log}"
    );

    // A failing test must fail `bazel test`; its exit status and output reach Bazel.
    let out = b.run(&["test", "--nocache_test_results", "//cases:failing_test"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "bazel test of a failing test: {}",
        output_text(&out)
    );
    let log = fs::read_to_string(testlogs.join("cases/failing_test/test.log")).unwrap();
    assert!(
        log.contains("\"target\": \"//cases:failing_test\""),
        "failing_test log:\n{log}"
    );
}

#[test]
#[ignore = "needs Bazel; run by scripts/test"]
fn genrule_tool_in_exec_configuration_sandboxed() {
    let b = bazel();
    b.build(&["--strategy=Genrule=sandboxed"], &["//cases:tool_output"]);
    let report = b.read_json("cases/tool_output.json");
    let argv0 = report["argv"][0].as_str().unwrap();
    assert!(
        argv0.ends_with("/cases/tool.runfiles/e2e/cases/report_main.py"),
        "{argv0}"
    );
    assert!(
        argv0.contains("/bazel-out/host/") || argv0.contains("-exec-"),
        "built for the exec platform: {argv0}"
    );
    assert_eq!(
        report["build_info"]["config"]["compilation_mode"], "opt",
        "host configuration"
    );
    let cwd = report["cwd"].as_str().unwrap();
    assert!(
        cwd.contains("/sandbox/") && cwd.ends_with("/execroot/e2e"),
        "ran in the sandbox: {cwd}"
    );
    assert_eq!(report["positional"], Value::Null);
    // The tool has its build-time venv in the exec configuration too: nothing is written outside the
    // action's outputs (no run-time venv in the host's cache from inside the sandbox).
    let prefix = report["prefix"].as_str().unwrap();
    assert!(
        prefix.ends_with("/cases/tool.runfiles/e2e/cases/_tool.venv"),
        "{prefix}"
    );
    assert_eq!(report["subprocess"]["prefix"], prefix);
    assert_eq!(report["extramod"], "extra import dir");
    assert_eq!(report["subprocess"]["greeting"], "hello, subprocess");
    assert_eq!(report["build_info"]["target"], "//cases:tool");
}

#[test]
#[ignore = "needs Bazel; run by scripts/test"]
fn binary_runs_binary_from_data() {
    let b = bazel();
    b.build(&[], &["//cases:outer"]);
    let report = b.exec_json("cases/outer", &["--run", "e2e/cases/inner"]);
    let outer = b.runfiles("cases/outer");
    assert_eq!(
        report["rlocation"],
        serde_json::json!([format!("{}/e2e/cases/inner", outer.display())])
    );
    assert_eq!(
        report["child_exit"], 0,
        "inner failed: {}",
        report["child_stderr"]
    );
    let child = &report["child"];
    assert_eq!(child["build_info"]["target"], "//cases:inner");
    assert_eq!(
        child["env"]["RUNFILES_DIR"],
        path_str(&outer).as_str(),
        "inner uses the outer's runfiles"
    );
    assert_eq!(
        child["prefix"],
        format!("{}/e2e/cases/_inner.venv", outer.display()).as_str()
    );
    assert_eq!(child["positional"], serde_json::json!(["from-outer"]));
    assert_eq!(child["extramod"], "extra import dir");

    // The inner binary's bootstrap files are part of the outer's.
    let groups = b.output_groups(&[], "//cases:outer");
    for file in [
        "e2e/cases/inner",
        "e2e/cases/_inner_build_config.json",
        "e2e/cases/_inner.venv/bin/python3",
    ] {
        assert!(
            groups["bootstrap_files"].contains(file),
            "{file} in {:?}",
            groups["bootstrap_files"]
        );
    }
    assert_eq!(groups["executable"], set(&["e2e/cases/outer"]));
    assert!(groups["third_party_files"].contains("pypi_bazel_runfiles/runfiles/runfiles.py"));
    assert!(
        groups["app_files"].contains("e2e/cases/data.txt"),
        "inner's data"
    );
    assert_eq!(
        union_of(&groups),
        manifest_keys(&b.bin.join("cases/outer.runfiles_manifest"))
    );
}

#[test]
#[ignore = "needs Bazel; run by scripts/test"]
fn manifest_only_runfiles() {
    let b = bazel();
    // A runfiles tree left by an earlier build with links would stay (Bazel does not remove it).
    let tree = b.runfiles("cases/manifest_only");
    if tree.exists() {
        fs::remove_dir_all(&tree).unwrap();
    }
    b.build(&["--nobuild_runfile_links"], &["//cases:manifest_only"]);
    let manifest = b.bin.join("cases/manifest_only.runfiles_manifest");
    assert!(manifest.is_file());
    assert!(!tree.join("e2e").exists(), "no runfiles tree");

    let report = b.exec_json("cases/manifest_only", &[]);
    assert_eq!(
        report["env"]["RUNFILES_MANIFEST_FILE"],
        path_str(&manifest).as_str()
    );
    assert_eq!(report["env"]["RUNFILES_DIR"], Value::Null);
    assert!(
        report["prefix"]
            .as_str()
            .unwrap()
            .starts_with(&path_str(&b.cache_home.join("py-launcher"))),
        "a run-time venv: {}",
        report["prefix"]
    );
    assert_eq!(report["base_executable"], PYTHON);
    assert_eq!(report["extramod"], "extra import dir");
    assert_eq!(report["subprocess"]["greeting"], "hello, subprocess");
    assert_eq!(report["env"]["GREETING"], "from env");
    let info = &report["build_info"];
    assert_eq!(info["target"], "//cases:manifest_only");
    assert_eq!(
        info["config"]["target"], "//cases:manifest_only",
        "build config found through the manifest"
    );
    assert_eq!(info["stamped"], false);
}

fn check_stamped(b: &Bazel, binary: &str) {
    let report = b.exec_json(&format!("cases/{binary}"), &[]);
    let info = &report["build_info"];
    assert_eq!(info["stamped"], true, "{binary}: {info}");
    assert_eq!(info["config"]["stamped"], true);
    for key in ["BUILD_EMBED_LABEL", "BUILD_HOST", "BUILD_USER"] {
        assert!(
            strs(&info["stable_keys"]).contains(&key.to_owned()),
            "{binary}: {key} in {}",
            info["stable_keys"]
        );
    }
    assert!(
        strs(&info["volatile_keys"]).contains(&"BUILD_TIMESTAMP".to_owned()),
        "{}",
        info["volatile_keys"]
    );
    assert_eq!(
        info["binary_info_first_lines"],
        serde_json::json!([format!("TARGET //cases:{binary}"), "STAMPED TRUE"])
    );
    assert_eq!(report["subprocess"]["stamped"], true);
    let stable = b
        .runfiles(&format!("cases/{binary}"))
        .join("bazel_build_info/stable.txt");
    let real = b
        .output_base
        .join("execroot/e2e/bazel-out/stable-status.txt");
    assert_eq!(
        fs::read(&stable).unwrap(),
        fs::read(&real).unwrap(),
        "stable.txt is Bazel's stable status"
    );
}

fn check_unstamped(b: &Bazel, binary: &str) {
    let report = b.exec_json(&format!("cases/{binary}"), &[]);
    let info = &report["build_info"];
    assert_eq!(info["stamped"], false, "{binary}: {info}");
    assert_eq!(info["config"]["stamped"], false);
    assert_eq!(info["stable_keys"], Value::Null);
    assert_eq!(info["volatile_keys"], Value::Null);
    assert_eq!(
        info["binary_info_first_lines"],
        serde_json::json!([format!("TARGET //cases:{binary}"), "STAMPED FALSE"])
    );
    assert!(!b
        .runfiles(&format!("cases/{binary}"))
        .join("bazel_build_info")
        .exists());
}

#[test]
#[ignore = "needs Bazel; run by scripts/test"]
fn stamped_and_unstamped_build_info() {
    let b = bazel();
    b.build(
        &[],
        &["//cases:stamped", "//cases:unstamped", "//cases:stamp_flag"],
    );
    check_stamped(&b, "stamped");
    check_unstamped(&b, "unstamped");
    check_unstamped(&b, "stamp_flag");

    let groups = b.output_groups(&[], "//cases:stamped");
    let bootstrap = &groups["bootstrap_files"];
    for file in [
        "py_launcher/bazel/private/build_info/stable.txt",
        "py_launcher/bazel/private/build_info/volatile.txt",
    ] {
        assert!(
            bootstrap.iter().any(|f| f.ends_with(file)),
            "{file} in {bootstrap:?}"
        );
    }
    assert!(bootstrap.contains("e2e/cases/stamped"), "{bootstrap:?}");

    // stamp = -1 follows --stamp; stamp = 0 ignores it.
    b.build(&["--stamp"], &["//cases:stamp_flag", "//cases:unstamped"]);
    check_stamped(&b, "stamp_flag");
    check_unstamped(&b, "unstamped");
}

#[test]
#[ignore = "needs Bazel; run by scripts/test"]
fn third_party_library_and_output_groups() {
    let b = bazel();
    b.build(&[], &["//cases:third_party"]);
    let report = b.exec_json(
        "cases/third_party",
        &["--rlocation", "pypi_bazel_runfiles/data/greeting.txt"],
    );
    let runfiles = b.runfiles("cases/third_party");
    assert_eq!(
        report["rlocation"],
        serde_json::json!([format!(
            "{}/pypi_bazel_runfiles/data/greeting.txt",
            runfiles.display()
        )])
    );
    assert_eq!(report["rlocation_text"], THIRD_PARTY_TEXT);

    let groups = b.output_groups(&[], "//cases:third_party");
    assert_eq!(groups["executable"], set(&["e2e/cases/third_party"]));
    assert_eq!(
        groups["bootstrap_files"],
        set(&[
            "e2e/cases/third_party",
            "e2e/cases/_third_party_build_config.json",
            "e2e/cases/_third_party.venv/pyvenv.cfg",
            "e2e/cases/_third_party.venv/bin/python3",
            "e2e/cases/_third_party.venv/lib/python3.11/site-packages/_py_launcher.pth",
            "e2e/cases/_third_party.venv/lib/python3.11/site-packages/bazel_build_info.py",
            "e2e/cases/_third_party.venv/lib/python3.11/site-packages/bazel_binary_info.py",
        ])
    );
    assert_eq!(
        groups["third_party_files"],
        set(&[
            "pypi_bazel_runfiles/runfiles/__init__.py",
            "pypi_bazel_runfiles/runfiles/runfiles.py",
            "pypi_bazel_runfiles/data/greeting.txt",
            // Precompiled bytecode (precompile.bzl) beside each library source.
            "pypi_bazel_runfiles/runfiles/__pycache__/__init__.cpython-311.pyc",
            "pypi_bazel_runfiles/runfiles/__pycache__/runfiles.cpython-311.pyc",
        ])
    );
    assert_eq!(
        groups["app_files"],
        set(&[
            "e2e/cases/report_main.py",
            "e2e/cases/data.txt",
            "e2e/lib/py/e2e_report/__init__.py",
            "e2e/lib/py/greetlib/__init__.py",
            "e2e/lib/py/greetlib/cli.py",
            "e2e/lib/py/e2e_report/__pycache__/__init__.cpython-311.pyc",
            "e2e/lib/py/greetlib/__pycache__/__init__.cpython-311.pyc",
            "e2e/lib/py/greetlib/__pycache__/cli.cpython-311.pyc",
        ])
    );
    assert!(
        groups.get("interpreter_files").is_none_or(|g| g.is_empty()),
        "platform runtime: no interpreter files"
    );

    // The groups together are exactly the runfiles.
    assert_eq!(
        union_of(&groups),
        manifest_keys(&b.bin.join("cases/third_party.runfiles_manifest"))
    );
}

/// All files of the five PyLauncherInfo output groups.
/// Also checks that no file is in two groups (the executable group repeats bootstrap's executable).
fn union_of(groups: &std::collections::BTreeMap<String, BTreeSet<String>>) -> BTreeSet<String> {
    let layers = [
        "bootstrap_files",
        "interpreter_files",
        "third_party_files",
        "app_files",
    ];
    let mut seen = BTreeSet::new();
    for (name, files) in groups.iter().filter(|(n, _)| layers.contains(&n.as_str())) {
        for file in files {
            assert!(
                seen.insert(file.clone()),
                "{file} is in {name} and another group"
            );
        }
    }
    groups
        .iter()
        .filter(|(name, _)| GROUPS.contains(&name.as_str()))
        .flat_map(|(_, files)| files.iter().cloned())
        .collect()
}

#[test]
#[ignore = "needs Bazel; run by scripts/test"]
fn no_shell_in_rule_actions() {
    let b = bazel();
    let out = b.ok(&[
        "aquery",
        "--output=jsonproto",
        "deps(//cases:stamped) except (deps(//toolchains:platform_python_toolchain) + deps(//toolchains:py_launcher_toolchain))",
    ]);
    let graph: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut mnemonics = BTreeSet::new();
    for action in graph["actions"].as_array().unwrap() {
        let mnemonic = action["mnemonic"].as_str().unwrap().to_owned();
        if let Some(args) = action.get("arguments") {
            let argv0 = args[0].as_str().unwrap();
            assert!(
                !argv0.ends_with("sh") && !argv0.contains("/bash"),
                "{mnemonic} runs a shell: {args}"
            );
        }
        mnemonics.insert(mnemonic);
    }
    assert!(mnemonics.contains("PyLauncherFinalize"), "{mnemonics:?}");
    let allowed = set(&[
        "PyLauncherFinalize",
        "PyLauncherPrecompile",
        "FileWrite",
        "TemplateExpand",
        "Symlink",
        "SourceSymlinkManifest",
        "SymlinkTree",
        "Middleman",
    ]);
    assert!(
        mnemonics.is_subset(&allowed),
        "unexpected actions: {mnemonics:?}"
    );
}

#[test]
#[ignore = "needs Bazel; run by scripts/test"]
fn documented_example_builds_and_runs() {
    let b = bazel();
    b.build(&[], &["//example:hello"]);
    let out = b.exec("example/hello", &["docs"]);
    assert!(out.status.success(), "{}", output_text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Hello, docs!\nbuilt from //example:hello stamped: False\n"
    );

    // docs/bazel.md shows this BUILD file and the workspace's toolchain registration verbatim.
    let docs = fs::read_to_string(b.repo.join("docs/bazel.md")).unwrap();
    let build = fs::read_to_string(b.workspace.join("example/BUILD.bazel")).unwrap();
    assert!(
        docs.contains(&build),
        "docs/bazel.md must contain tests/bazel/workspace/example/BUILD.bazel verbatim"
    );
    let readme = fs::read_to_string(b.repo.join("README.md")).unwrap();
    assert!(
        readme.contains(&build),
        "README.md must contain tests/bazel/workspace/example/BUILD.bazel verbatim"
    );
    let toolchains = fs::read_to_string(b.workspace.join("toolchains/BUILD.bazel")).unwrap();
    assert!(
        docs.contains(&toolchains),
        "docs/bazel.md must contain tests/bazel/workspace/toolchains/BUILD.bazel verbatim"
    );
}

/// The runfiles paths of the four layer groups' files: a generated file of an external repository is
/// reported by BEP under `e2e/external/<repo>/`, and the stamp copies are in the runfiles only as the root
/// symlinks `bazel_build_info/*.txt`.
fn group_runfiles_paths(
    groups: &std::collections::BTreeMap<String, BTreeSet<String>>,
) -> BTreeSet<String> {
    union_of(groups)
        .into_iter()
        .map(|f| {
            let f = f
                .strip_prefix("e2e/external/")
                .map_or(f.clone(), str::to_owned);
            match f.as_str() {
                "py_launcher/bazel/private/build_info/stable.txt" => {
                    "bazel_build_info/stable.txt".to_owned()
                }
                "py_launcher/bazel/private/build_info/volatile.txt" => {
                    "bazel_build_info/volatile.txt".to_owned()
                }
                _ => f,
            }
        })
        .collect()
}

#[test]
#[ignore = "needs Bazel; run by scripts/test"]
fn output_groups_cover_every_runfiles_shape() {
    let b = bazel();
    b.build(&[], &["//groups:shapes"]);
    let report = b.exec_json("groups/shapes", &[]);
    assert_eq!(report, shapes_report());

    let manifest = manifest_keys(&b.bin.join("groups/shapes.runfiles_manifest"));
    // Bazel creates no __init__.py (the native py_binary in data asks for them, legacy_create_init; the
    // rule does not pass that request on), and the stamp files are there once, as root symlinks.
    assert!(
        manifest.iter().all(|k| !k.ends_with("__init__.py")
            || k == "pypi_bazel_runfiles/runfiles/__init__.py"),
        "{manifest:?}"
    );
    assert!(
        manifest
            .iter()
            .all(|k| !k.contains("build_info/stable.txt") || k == "bazel_build_info/stable.txt"),
        "{manifest:?}"
    );

    let groups = b.output_groups(&[], "//groups:shapes");
    for (group, file) in [
        ("app_files", "e2e/groups/gen_mod.py"),
        ("app_files", "e2e/groups/inner/inner.txt"),
        ("app_files", "e2e/groups/outer.txt"),
        ("app_files", "e2e/groups/native_tool"),
        ("app_files", "e2e/groups/pkg/sub/mod.py"),
        ("third_party_files", "pypi_bazel_runfiles/data/greeting.txt"),
        ("bootstrap_files", "e2e/groups/_shapes.venv/bin/python3"),
    ] {
        assert!(
            groups[group].contains(file),
            "{file} in {group}: {:?}",
            groups[group]
        );
    }
    assert_eq!(group_runfiles_paths(&groups), manifest);
}
