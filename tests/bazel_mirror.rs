//! The rules' Starlark mirrors of facts the launcher owns (`bazel/private/shared.bzl`) agree with the Rust
//! code: one table (`tests/bazel/workspace/mirror/tables.bzl`) is fed to both, Starlark through a real Bazel
//! build of `//mirror:answers`, Rust directly.
//!
//! - runfiles-path normalisation: `runfiles_path`/`join_runfiles_path` in Starlark,
//!   `descriptor::join_runfiles_path` in Rust;
//! - the Python version: what the rules accept for `python_version` is what the launcher accepts in the
//!   descriptor (`"3.13t"`, free-threaded, included);
//! - the venv layout: one description (`bazel/private/venv_layout.bzl`) that the rules build from and the
//!   launcher is checked against (`src/venv/layout.rs`); here the rules' derivations from it (site-packages,
//!   `pyvenv.cfg`, `.pth` lines) meet the table, and a real build-time venv made by Bazel and a real
//!   run-time venv made by the launcher, for the same binary, are held to it file by file.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Component, Path, PathBuf};
use std::process::Command;

use common::bazel::*;
use common::layout::{venv_layout, Kind, VenvLayout};
use common::PYTHON;
use py_launcher::descriptor::{join_runfiles_path, Descriptor};
use py_launcher::python_version::PythonVersion;
use serde_json::Value;

const TABLES: &str = include_str!("bazel/workspace/mirror/tables.bzl");

/// The table, as JSON (everything after `TABLES = `).
fn tables() -> Value {
    let (_, json) = TABLES
        .split_once("\nTABLES = ")
        .expect("tables.bzl defines TABLES");
    serde_json::from_str(json).expect("tables.bzl's TABLES is JSON")
}

fn rows(value: &Value) -> Vec<Vec<String>> {
    value
        .as_array()
        .expect("a table is a list of rows")
        .iter()
        .map(|row| {
            row.as_array()
                .expect("a row is a list")
                .iter()
                .map(|cell| cell.as_str().expect("a cell is a string").to_owned())
                .collect()
        })
        .collect()
}

/// Whether the launcher takes `version` as a descriptor's `python_version`.
fn launcher_accepts_version(version: &str) -> bool {
    let json = serde_json::json!({
        "version": 1,
        "target": "//mirror:answers",
        "workspace_name": "_main",
        "interpreter": "/usr/bin/python3",
        "main": "_main/main.py",
        "python_version": version,
    });
    Descriptor::from_json(json.to_string().as_bytes()).is_ok()
}

/// The Rust side alone (no Bazel): the table is what the launcher does.
#[test]
fn the_table_is_what_the_launcher_does() {
    let tables = tables();
    for row in rows(&tables["join_runfiles_path"]) {
        let got = join_runfiles_path(&row[0], &row[1]).unwrap_or_else(|| "!".into());
        assert_eq!(
            got, row[2],
            "join_runfiles_path({:?}, {:?})",
            row[0], row[1]
        );
    }
    for row in rows(&tables["python_version"]) {
        assert_eq!(
            launcher_accepts_version(&row[0]),
            row[1] != "!",
            "python_version {:?}",
            row[0]
        );
        assert_eq!(
            rust_version(&row[0]),
            row[1],
            "PythonVersion::parse({:?})",
            row[0]
        );
    }
    venv_rows_from_description(&tables, &venv_layout());
}

/// The venv rows of the table, worked through the description: what both sides must answer.
fn venv_rows_from_description(tables: &Value, layout: &VenvLayout) {
    for row in rows(&tables["venv_site_packages"]) {
        assert_eq!(
            layout.site_packages(&row[0]),
            row[1],
            "site-packages of {:?}",
            row[0]
        );
        let version = PythonVersion::parse(&row[0]).expect("a version");
        assert_eq!(
            version.site_packages(),
            row[1],
            "the launcher's site-packages of {:?}",
            row[0]
        );
    }
    for row in rows(&tables["venv_config"]) {
        let home: &[(&str, &str)] = if row[0] == "!" {
            &[]
        } else {
            &[("home", &row[0])]
        };
        assert_eq!(
            layout.config(Kind::BuildTime, home),
            row[1],
            "pyvenv.cfg of {row:?}"
        );
    }
    for row in rows(&tables["venv_pth_line"]) {
        assert_eq!(
            layout.build_time_pth_line(&row[0], &row[1]),
            row[2],
            ".pth line of {row:?}"
        );
        // The line names the directory: site resolves it against site-packages.
        let resolved = normalize(&Path::new("/r").join(&row[0]).join(&row[2]));
        assert_eq!(resolved, Path::new("/r").join(&row[1]), "{row:?} resolves");
    }
}

/// `..` and `.` folded without looking at the file system, as `site` joins a `.pth` line.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The launcher's reading of a version: `X.Y` or free-threaded `X.Yt`, or `!`.
fn rust_version(text: &str) -> String {
    PythonVersion::parse(text).map_or_else(|| "!".to_owned(), |v| v.to_string())
}

#[test]
#[ignore = "needs Bazel; run by scripts/test"]
fn starlark_agrees_with_the_launcher() {
    let b = bazel();
    b.build(&[], &["//mirror:answers"]);
    let answers = b.read_json("mirror/answers.json");
    let tables = tables();

    let starlark = rows(&answers["join_runfiles_path"]);
    let expected = rows(&tables["join_runfiles_path"]);
    assert_eq!(starlark.len(), expected.len());
    for (got, row) in starlark.iter().zip(&expected) {
        let rust = join_runfiles_path(&row[0], &row[1]).unwrap_or_else(|| "!".into());
        assert_eq!(
            (&got[2], &rust),
            (&row[2], &row[2]),
            "join_runfiles_path({:?}, {:?}): (Starlark, Rust)",
            row[0],
            row[1]
        );
    }

    let starlark = rows(&answers["python_version"]);
    let expected = rows(&tables["python_version"]);
    assert_eq!(starlark.len(), expected.len());
    for (got, row) in starlark.iter().zip(&expected) {
        assert_eq!(
            got[1], row[1],
            "Starlark's parse_python_version({:?})",
            row[0]
        );
        assert_eq!(
            launcher_accepts_version(&row[0]),
            got[1] != "!",
            "the rules and the launcher disagree on python_version {:?}",
            row[0]
        );
    }

    // The venv layout: the rules' names and derivations are the description's, and the launcher's.
    let layout = venv_layout();
    venv_rows_from_description(&tables, &layout);
    let names = &answers["venv_layout"];
    assert_eq!(names["python"], layout.build_time_python());
    assert_eq!(names["config"], layout.config_name());
    assert_eq!(names["pth"], layout.pth_name());
    assert_eq!(names["modules"], serde_json::json!(layout.modules()));
    assert_eq!(names["python"], py_launcher::venv::VENV_PYTHON);
    assert_eq!(names["config"], py_launcher::venv::VENV_CONFIG);
    assert_eq!(names["pth"], py_launcher::venv::PTH_NAME);
    for name in ["venv_site_packages", "venv_config", "venv_pth_line"] {
        let starlark = rows(&answers[name]);
        let expected = rows(&tables[name]);
        assert_eq!(starlark.len(), expected.len(), "{name}");
        for (got, row) in starlark.iter().zip(&expected) {
            assert_eq!(got.last(), row.last(), "Starlark's {name} for {row:?}");
        }
    }
}

/// Every file and link under `dir` (directories walked, links not followed), relative to it.
fn tree(dir: &Path) -> BTreeSet<String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<String>) {
        for entry in fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if fs::symlink_metadata(&path).unwrap().is_dir() {
                walk(root, &path, out);
            } else {
                out.insert(path_str(path.strip_prefix(root).unwrap()));
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(dir, dir, &mut out);
    out
}

/// A copy of the runfiles tree `from` at `to` (directories made, links copied with their absolute
/// targets), without the directory `skip`: the same binary's runfiles with its build-time venv gone.
fn copy_runfiles_without(from: &Path, to: &Path, skip: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let dest = to.join(path.file_name().unwrap());
        let meta = fs::symlink_metadata(&path).unwrap();
        if path == skip {
            continue;
        } else if meta.is_dir() {
            copy_runfiles_without(&path, &dest, skip);
        } else if meta.file_type().is_symlink() {
            let target = fs::read_link(&path).unwrap();
            std::os::unix::fs::symlink(from.join(target), dest).unwrap();
        } else {
            fs::copy(&path, dest).unwrap();
        }
    }
}

/// The `.pth` file's directory lines as `site` reads them (the `import` lines are code, not directories),
/// each resolved against `site_packages` and made relative to `root`.
fn pth_dirs(text: &str, site_packages: &Path, root: &Path) -> Vec<String> {
    text.lines()
        .filter(|line| !line.starts_with("import "))
        .map(|line| {
            let dir = normalize(&site_packages.join(line));
            path_str(
                dir.strip_prefix(root)
                    .unwrap_or_else(|_| panic!("{line} is under {}", root.display())),
            )
        })
        .collect()
}

/// What a checked build-time venv tells the run-time check.
struct BuildTime {
    runfiles: PathBuf,
    venv: PathBuf,
    version: String,
    /// The descriptor's import directories, then the workspace root: what the `.pth` lines must name.
    imports: Vec<String>,
    /// The `.pth` lines resolved, relative to the runfiles root.
    dirs: Vec<String>,
}

/// Builds `//cases:<binary>` with `flags` and holds its build-time venv, in the runfiles tree Bazel made,
/// to the description: file set, `pyvenv.cfg` (with `home` when given), `.pth` lines, modules.
fn check_build_time_venv(
    b: &Bazel,
    layout: &VenvLayout,
    binary: &str,
    flags: &[&str],
    home: Option<&str>,
) -> BuildTime {
    b.build(flags, &[&format!("//cases:{binary}")]);
    let descriptor = b.read_json(&format!("cases/_{binary}.descriptor.json"));
    let venv_path = descriptor["venv"].as_str().unwrap();
    let version = descriptor["python_version"].as_str().unwrap().to_owned();
    let site_packages = layout.site_packages(&version);
    let mut imports = common::strs(&descriptor["imports"]);
    imports.push(descriptor["workspace_name"].as_str().unwrap().to_owned());

    let runfiles = b.runfiles(&format!("cases/{binary}"));
    let venv = runfiles.join(venv_path);
    assert_eq!(
        tree(&venv),
        layout.files(Kind::BuildTime, &version, ""),
        "{binary}"
    );
    let values: Vec<(&str, &str)> = home.map(|home| ("home", home)).into_iter().collect();
    assert_eq!(
        fs::read_to_string(venv.join(layout.config_name())).unwrap(),
        layout.config(Kind::BuildTime, &values),
        "{binary}"
    );
    let site = venv.join(&site_packages);
    let pth = fs::read_to_string(site.join(layout.pth_name())).unwrap();
    let site_path = format!("{venv_path}/{site_packages}");
    let mut expected: Vec<String> = imports
        .iter()
        .map(|dir| layout.build_time_pth_line(&site_path, dir))
        .collect();
    let lines: Vec<&str> = pth.lines().collect();
    assert_eq!(lines.len(), expected.len() + 1, "{binary}: {pth}");
    assert!(
        lines[expected.len()].starts_with("import sys"),
        "{binary}: the sys._base_executable line comes last: {pth}"
    );
    expected.push(lines[expected.len()].to_owned());
    assert_eq!(lines, expected, "{binary}");
    let dirs = pth_dirs(&pth, &site, &runfiles);
    assert_eq!(dirs, imports, "{binary}");
    for module in layout.modules() {
        assert_eq!(
            fs::read(site.join(module)).unwrap(),
            fs::read(b.repo.join("templates").join(module)).unwrap(),
            "{binary}: {module}"
        );
    }
    BuildTime {
        runfiles,
        venv,
        version,
        imports,
        dirs,
    }
}

/// An in-build runtime's build-time venv: the same layout, with no `home` in `pyvenv.cfg` and
/// `bin/python3` the interpreter `File` under a root symlink.
#[test]
#[ignore = "needs Bazel; run by scripts/test"]
fn in_build_runtime_venv_matches_the_description() {
    let b = bazel();
    let layout = venv_layout();
    let flags = ["--extra_toolchains=//toolchains:inbuild_python_toolchain"];
    let venv = check_build_time_venv(&b, &layout, "inbuild", &flags, None).venv;
    let python = venv.join(layout.build_time_python());
    let interpreter = b.runfiles("cases/inbuild").join("pyrt/bin/python3.11");
    assert_eq!(
        fs::canonicalize(&python).unwrap(),
        fs::canonicalize(&interpreter).unwrap(),
        "{} is the interpreter File",
        python.display()
    );
}

/// One binary, two venvs: the build-time venv Bazel made and the run-time venv the launcher makes when
/// that one is gone, both exactly as the description says (file set, `pyvenv.cfg`, `.pth` lines naming
/// the same directories, the modules).
#[test]
#[ignore = "needs Bazel; run by scripts/test"]
fn real_venvs_match_the_description() {
    let b = bazel();
    let layout = venv_layout();
    let home = Path::new(PYTHON).parent().unwrap().to_str().unwrap();
    let BuildTime {
        runfiles,
        venv,
        version,
        imports,
        dirs: build_time_dirs,
    } = check_build_time_venv(&b, &layout, "report", &[], Some(home));
    let version = version.as_str();
    let templates = b.repo.join("templates");

    // The run-time venv the launcher makes for the same binary once its build-time venv is gone.
    let work = b.tmp.join("layout-run-time");
    if work.exists() {
        fs::remove_dir_all(&work).unwrap();
    }
    let copy = work.join("runfiles");
    copy_runfiles_without(&runfiles, &copy, &venv);
    let mut cmd = Command::new(b.bin.join("cases/report"));
    scrub_inherited_env(&mut cmd);
    let out = cmd
        .current_dir(&b.root)
        .env("RUNFILES_DIR", &copy)
        .env("XDG_CACHE_HOME", work.join("cache"))
        .env("TMPDIR", &b.tmp)
        .output()
        .unwrap();
    let report = json_stdout(&out, "cases/report without its build-time venv");
    let run_time = PathBuf::from(report["prefix"].as_str().unwrap());
    assert!(
        run_time.starts_with(work.join("cache/py-launcher")),
        "a run-time venv: {report}"
    );
    let bin_name = Path::new(PYTHON).file_name().unwrap().to_str().unwrap();
    assert_eq!(
        tree(&run_time),
        layout.files(Kind::RunTime, version, bin_name)
    );
    assert_eq!(
        fs::read_to_string(run_time.join(layout.config_name())).unwrap(),
        layout.config(
            Kind::RunTime,
            &[
                ("home", home),
                ("system_site_packages", "false"),
                ("version", version)
            ]
        )
    );
    let python = run_time.join(layout.run_time_python(bin_name));
    assert_eq!(fs::read_link(&python).unwrap(), Path::new(PYTHON));
    for alias in layout.aliases() {
        let link = python.with_file_name(alias);
        assert_eq!(
            fs::read_link(&link).unwrap(),
            Path::new(bin_name),
            "{alias}"
        );
    }
    let site = run_time.join(layout.site_packages(version));
    let pth = fs::read_to_string(site.join(layout.pth_name())).unwrap();
    let expected: String = imports
        .iter()
        .map(|dir| format!("{}\n", path_str(&copy.join(dir))))
        .collect();
    assert_eq!(pth, expected, "absolute lines");
    assert_eq!(
        pth_dirs(&pth, &site, &copy),
        build_time_dirs,
        "the same directories as the build-time venv's"
    );
    for module in layout.modules() {
        assert_eq!(
            fs::read(site.join(module)).unwrap(),
            fs::read(templates.join(module)).unwrap()
        );
    }
    fs::remove_dir_all(&work).unwrap();
}
