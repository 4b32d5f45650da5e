//! The rules' Starlark mirrors of facts the launcher owns (`bazel/private/shared.bzl`) agree with the Rust
//! code: one table (`tests/bazel/workspace/mirror/tables.bzl`) is fed to both, Starlark through a real Bazel
//! build of `//mirror:answers`, Rust directly.
//!
//! - runfiles-path normalisation: `runfiles_path`/`join_runfiles_path` in Starlark,
//!   `descriptor::join_runfiles_path` in Rust;
//! - the Python version: what the rules accept for `python_version` is what the launcher accepts in the
//!   descriptor (`"3.13t"`, free-threaded, included);
//! - the build-time venv layout names the files the launcher looks for.

mod common;

use common::bazel::*;
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

    // The build-time venv: where the launcher looks for its python, configuration and .pth file.
    let layout = &answers["venv_layout"];
    assert_eq!(layout["python"], py_launcher::venv::VENV_PYTHON);
    assert_eq!(layout["config"], py_launcher::venv::VENV_CONFIG);
    assert_eq!(
        layout["site_packages"],
        PythonVersion::new(3, 11).site_packages()
    );
    assert_eq!(layout["pth"], py_launcher::venv::PTH_NAME);
}
