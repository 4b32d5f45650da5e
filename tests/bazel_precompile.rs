//! Bytecode precompilation in the Bazel rules (bazel/private/precompile.bzl) with a real Bazel, on the
//! workspace package `//precompile`: the unchecked-hash `.pyc` files of a first-party and a third-party
//! library are in a binary's runfiles beside their sources and in the right output groups; a binary whose
//! runfiles were copied to a read-only place imports them without compiling anything and writes nothing;
//! two binaries sharing the libraries share one compile action per source (`bazel aquery`); the binary's
//! `precompile = False`, the launcher toolchain's `precompile = False` and an in-build runtime behave as
//! docs/bazel.md ("Bytecode") says.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::bazel::*;
use common::{entries_under, PYTHON};
use serde_json::Value;

/// The `.pyc` files (runfiles paths) of `//precompile:mylib` and `@pypi_bazel_runfiles//:runfiles`.
const APP_PYC: [&str; 2] = [
    "e2e/precompile/mylib/__pycache__/__init__.cpython-311.pyc",
    "e2e/precompile/mylib/__pycache__/helper.cpython-311.pyc",
];
const THIRD_PARTY_PYC: [&str; 2] = [
    "pypi_bazel_runfiles/runfiles/__pycache__/__init__.cpython-311.pyc",
    "pypi_bazel_runfiles/runfiles/__pycache__/runfiles.cpython-311.pyc",
];
const MODULES: [(&str, &str); 4] = [
    (
        "mylib",
        "e2e/precompile/mylib/__pycache__/__init__.cpython-311.pyc",
    ),
    (
        "mylib.helper",
        "e2e/precompile/mylib/__pycache__/helper.cpython-311.pyc",
    ),
    (
        "runfiles",
        "pypi_bazel_runfiles/runfiles/__pycache__/__init__.cpython-311.pyc",
    ),
    (
        "runfiles.runfiles",
        "pypi_bazel_runfiles/runfiles/__pycache__/runfiles.cpython-311.pyc",
    ),
];

fn pyc_keys(manifest: &BTreeSet<String>) -> BTreeSet<String> {
    manifest
        .iter()
        .filter(|k| k.contains("/__pycache__/"))
        .cloned()
        .collect()
}

/// Makes every directory and file under `dir` writable by its owner again (so it can be removed).
fn make_writable(dir: &Path) {
    let Ok(meta) = fs::symlink_metadata(dir) else {
        return;
    };
    let mode = meta.permissions().mode();
    fs::set_permissions(dir, fs::Permissions::from_mode(mode | 0o200)).unwrap();
    if meta.is_dir() {
        for entry in fs::read_dir(dir).unwrap() {
            make_writable(&entry.unwrap().path());
        }
    }
}

/// Copies `from` to `to`, following every symlink (a runfiles tree becomes plain files, as in an image).
fn copy_deref(from: &Path, to: &Path) {
    let meta = fs::metadata(from).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
    if meta.is_dir() {
        fs::create_dir_all(to).unwrap();
        for entry in fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            copy_deref(&entry.path(), &to.join(entry.file_name()));
        }
    } else {
        fs::copy(from, to).unwrap_or_else(|e| panic!("copy {}: {e}", from.display()));
    }
}

/// Removes write permission for everyone from every entry under `dir` (`chmod -R a-w`).
fn make_read_only(dir: &Path) {
    let meta = fs::symlink_metadata(dir).unwrap();
    if meta.is_dir() {
        for entry in fs::read_dir(dir).unwrap() {
            make_read_only(&entry.unwrap().path());
        }
    }
    let mode = meta.permissions().mode();
    fs::set_permissions(dir, fs::Permissions::from_mode(mode & !0o222)).unwrap();
}

/// Every path under `dir` with its size and modification time.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (u64, std::time::SystemTime)> {
    entries_under(dir)
        .into_iter()
        .map(|(path, meta)| (path, (meta.len(), meta.modified().unwrap())))
        .collect()
}

/// Copies the built binary `precompile/<name>` and its runfiles to `<root>/precompile-copies/<name>/`.
fn copy_binary(b: &Bazel, name: &str) -> PathBuf {
    let dir = b.root.join("precompile-copies").join(name);
    make_writable(&dir);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    copy_deref(&b.bin.join("precompile").join(name), &dir.join(name));
    copy_deref(
        &b.bin.join(format!("precompile/{name}.runfiles")),
        &dir.join(format!("{name}.runfiles")),
    );
    dir
}

/// Runs a copied binary with a clean environment: nothing that would stop CPython from writing bytecode.
fn run_copy(b: &Bazel, exe: &Path) -> Value {
    let mut cmd = Command::new(exe);
    cmd.current_dir(&b.root)
        .env("XDG_CACHE_HOME", &b.cache_home)
        .env("TMPDIR", &b.tmp)
        .env_remove("PYTHONDONTWRITEBYTECODE")
        .env_remove("PYTHONPYCACHEPREFIX")
        .stdin(Stdio::null());
    scrub_inherited_env(&mut cmd);
    json_stdout(&cmd.output().unwrap(), &exe.display().to_string())
}

#[test]
#[ignore = "needs Bazel; run by scripts/test"]
fn pyc_files_in_runfiles_and_groups_and_used_from_read_only_copy() {
    let b = bazel();
    b.build(&[], &["//precompile:first", "//precompile:no_pyc"]);

    let manifest = manifest_keys(&b.bin.join("precompile/first.runfiles_manifest"));
    let expected: BTreeSet<String> = APP_PYC
        .iter()
        .chain(THIRD_PARTY_PYC.iter())
        .map(|s| s.to_string())
        .collect();
    assert_eq!(pyc_keys(&manifest), expected, "{manifest:?}");
    // unchecked-hash: flags word 0b01 (hash-based, source not checked), right after CPython 3.11's magic.
    for key in &expected {
        let bytes = fs::read(b.runfiles("precompile/first").join(key)).unwrap();
        assert_eq!(&bytes[2..4], b"\r\n", "{key}: a .pyc magic");
        assert_eq!(&bytes[4..8], &[1, 0, 0, 0], "{key}: unchecked-hash flags");
    }
    let no_pyc = manifest_keys(&b.bin.join("precompile/no_pyc.runfiles_manifest"));
    assert!(
        pyc_keys(&no_pyc).is_empty(),
        "precompile = False: {no_pyc:?}"
    );

    // The groups: first-party .pyc with the app, third-party .pyc with the third-party files, and together
    // exactly the runfiles.
    let groups = b.output_groups(&[], "//precompile:first");
    for key in APP_PYC {
        assert!(groups["app_files"].contains(key), "{key}: {groups:?}");
    }
    for key in THIRD_PARTY_PYC {
        assert!(
            groups["third_party_files"].contains(key),
            "{key}: {groups:?}"
        );
    }
    let union: BTreeSet<String> = GROUPS
        .iter()
        .filter_map(|g| groups.get(*g))
        .flatten()
        .cloned()
        .collect();
    assert_eq!(union, manifest);

    // A read-only copy (as in a container image): every library module comes from its .pyc, nothing is
    // compiled and nothing written, with bytecode writing on (no PYTHONDONTWRITEBYTECODE, no -B). The
    // test may run as root, for whom `chmod a-w` stops nothing: the unchanged tree and the empty `compiled`
    // list (CPython compiled no source) are the evidence, and the control below shows both would see a
    // compile.
    let dir = copy_binary(&b, "first");
    make_read_only(&dir);
    let before = snapshot(&dir);
    let report = run_copy(&b, &dir.join("first"));
    let root = dir.join("first.runfiles");
    assert_eq!(report["greeting"], "hello, pyc");
    assert_eq!(report["compiled"], serde_json::json!([]), "{report}");
    assert_eq!(report["dont_write_bytecode"], 0, "{report}");
    assert_eq!(report["PYTHONDONTWRITEBYTECODE"], Value::Null);
    assert_eq!(report["pycache_prefix"], Value::Null);
    for (module, pyc) in MODULES {
        assert_eq!(
            report["cached"][module],
            path_str(&root.join(pyc)).as_str(),
            "{report}"
        );
    }
    assert_eq!(snapshot(&dir), before, "the run wrote into the runfiles");
    make_writable(&dir);

    // Control: without precompiled files, the same program compiles all four modules and writes their
    // bytecode into the (writable) copy.
    let dir = copy_binary(&b, "no_pyc");
    let report = run_copy(&b, &dir.join("no_pyc"));
    assert_eq!(
        report["compiled"].as_array().map(Vec::len),
        Some(4),
        "{report}"
    );
    for (module, pyc) in MODULES {
        let written = dir.join("no_pyc.runfiles").join(pyc);
        assert!(written.is_file(), "{module}: {} written", written.display());
    }
    make_writable(&dir);
    fs::remove_dir_all(b.root.join("precompile-copies")).unwrap();
}

#[test]
#[ignore = "needs Bazel; run by scripts/test"]
fn two_binaries_share_one_compile_action_per_source() {
    let b = bazel();
    let out = b.ok(&[
        "aquery",
        "--include_aspects",
        "--output=jsonproto",
        "mnemonic(\"PyLauncherPrecompile\", deps(//precompile:first) + deps(//precompile:second))",
    ]);
    let graph: Value = serde_json::from_slice(&out.stdout).unwrap();
    let actions = graph["actions"].as_array().cloned().unwrap_or_default();
    let mut sources = Vec::new();
    for action in &actions {
        let args: Vec<&str> = action["arguments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        // The interpreter itself is the executable: no shell.
        assert_eq!(args[0], PYTHON, "{args:?}");
        assert_eq!(&args[1..4], ["-I", "-B", "-S"], "{args:?}");
        assert!(args[4].ends_with("bazel/private/precompile.py"), "{args:?}");
        assert_eq!(args[5], "cpython-311");
        sources.push(args[8].to_owned());
    }
    sources.sort();
    assert_eq!(
        sources,
        vec![
            "e2e/precompile/mylib/__init__.py",
            "e2e/precompile/mylib/helper.py",
            "pypi_bazel_runfiles/runfiles/__init__.py",
            "pypi_bazel_runfiles/runfiles/runfiles.py",
        ],
        "one action per library source for both binaries"
    );

    // Both binaries' runfiles hold the same .pyc files (the same outputs).
    b.build(&[], &["//precompile:first", "//precompile:second"]);
    for key in APP_PYC.iter().chain(THIRD_PARTY_PYC.iter()) {
        let first = fs::canonicalize(b.runfiles("precompile/first").join(key)).unwrap();
        let second = fs::canonicalize(b.runfiles("precompile/second").join(key)).unwrap();
        assert_eq!(first, second, "{key}");
    }
}

#[test]
#[ignore = "needs Bazel; run by scripts/test"]
fn toolchain_switch_and_in_build_runtime() {
    let b = bazel();
    // The launcher toolchain's precompile = False: no .pyc for any binary, whatever it says.
    let off = ["--extra_toolchains=//precompile:no_precompile_toolchain"];
    b.build(&off, &["//precompile:first"]);
    let manifest = manifest_keys(&b.bin.join("precompile/first.runfiles_manifest"));
    assert!(pyc_keys(&manifest).is_empty(), "{manifest:?}");

    // An in-build runtime: the interpreter File runs the compile actions, and the program uses the files.
    let inbuild = ["--extra_toolchains=//toolchains:inbuild_python_toolchain"];
    b.build(&inbuild, &["//precompile:first"]);
    let manifest = manifest_keys(&b.bin.join("precompile/first.runfiles_manifest"));
    assert_eq!(pyc_keys(&manifest).len(), 4, "{manifest:?}");
    let dir = copy_binary(&b, "first");
    make_read_only(&dir);
    let report = run_copy(&b, &dir.join("first"));
    assert_eq!(report["compiled"], serde_json::json!([]), "{report}");
    make_writable(&dir);
    fs::remove_dir_all(b.root.join("precompile-copies")).unwrap();
}
