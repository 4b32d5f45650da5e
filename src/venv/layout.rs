//! The venv layout on the launcher's side: the names of a venv's files relative to its root, the
//! run-time `pyvenv.cfg` text and the build-information modules a venv's site-packages holds.
//!
//! The layout is described once, in `bazel/private/venv_layout.bzl`: the rules build their build-time
//! venv from that description, and this module's unit test checks every name and format the launcher
//! uses against it (these constants, [`PythonVersion::site_packages`](crate::python_version::PythonVersion),
//! the cache's aliases and record name, the `.pth` lines). `tests/bazel_mirror.rs` checks a real
//! Bazel-built venv and a real run-time venv against the same description.

use std::path::Path;

use crate::python_version::PythonVersion;

/// The build-time venv's python, relative to the venv (`"build_time"."python"` in the description).
pub const VENV_PYTHON: &str = "bin/python3";
/// A venv's configuration file, relative to the venv (`"config"`).
pub const VENV_CONFIG: &str = "pyvenv.cfg";
/// The `.pth` file the launcher and the rules write into a venv's site-packages (`"pth"`).
pub const PTH_NAME: &str = "_py_launcher.pth";
/// The directory of a venv's python and its aliases (`"bin"`).
pub(crate) const BIN_DIR: &str = "bin";
/// The directory a linked run-time venv shares with its build-time venv (`"lib"`).
pub(crate) const LIB_DIR: &str = "lib";

pub(crate) const BUILD_INFO_MODULE: &str = include_str!("../../templates/bazel_build_info.py");
pub(crate) const BINARY_INFO_MODULE: &str = include_str!("../../templates/bazel_binary_info.py");
/// The modules in a venv's site-packages, by file name (`"modules"`), with their content.
pub(crate) const MODULES: [(&str, &str); 2] = [
    ("bazel_build_info.py", BUILD_INFO_MODULE),
    ("bazel_binary_info.py", BINARY_INFO_MODULE),
];

/// A run-time venv's `pyvenv.cfg`: its `"run_time"."config"` pairs, in order, one
/// `"config_line"` each.
pub(crate) fn run_time_config(
    home: &Path,
    system_site_packages: bool,
    version: PythonVersion,
) -> String {
    format!(
        "home = {}\ninclude-system-site-packages = {system_site_packages}\nversion = {version}\n",
        home.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::venv::{cache, pth};
    use serde_json::Value;
    use std::path::PathBuf;

    const DESCRIPTION: &str = include_str!("../../bazel/private/venv_layout.bzl");

    /// The description, as JSON (everything after `VENV_LAYOUT = `).
    fn description() -> Value {
        let (_, json) = DESCRIPTION
            .split_once("\nVENV_LAYOUT = ")
            .expect("venv_layout.bzl defines VENV_LAYOUT");
        serde_json::from_str(json).expect("venv_layout.bzl's VENV_LAYOUT is JSON")
    }

    fn strings(value: &Value) -> Vec<&str> {
        value
            .as_array()
            .expect("a list")
            .iter()
            .map(|v| v.as_str().expect("a string"))
            .collect()
    }

    /// `"config_line"` for each `[key, value]` pair of `pairs`, its value's placeholders filled from
    /// `values` (every placeholder here has a value: the run-time venv knows them all).
    fn config(layout: &Value, pairs: &Value, values: &[(&str, &str)]) -> String {
        let line = layout["config_line"].as_str().unwrap();
        let pairs = pairs.as_array().expect("a list of pairs");
        pairs
            .iter()
            .map(|pair| {
                let pair = strings(pair);
                let mut value = pair[1].to_owned();
                for (name, filled) in values {
                    value = value.replace(&format!("{{{name}}}"), filled);
                }
                assert!(
                    !value.contains('{'),
                    "a placeholder without a value in {pair:?}"
                );
                line.replace("{key}", pair[0]).replace("{value}", &value)
            })
            .collect()
    }

    #[test]
    fn the_launcher_uses_the_described_layout() {
        let layout = description();
        assert_eq!(layout["build_time"]["python"], VENV_PYTHON);
        assert_eq!(layout["config"], VENV_CONFIG);
        assert_eq!(layout["pth"], PTH_NAME);
        assert_eq!(layout["bin"], BIN_DIR);
        assert_eq!(layout["lib"], LIB_DIR);
        assert!(VENV_PYTHON.starts_with(&format!("{BIN_DIR}/")));
        let names: Vec<&str> = MODULES.iter().map(|(name, _)| *name).collect();
        assert_eq!(strings(&layout["modules"]), names);
        let run_time = &layout["run_time"];
        assert_eq!(strings(&run_time["aliases"]), cache::ALIASES);
        assert_eq!(run_time["record"], cache::RECORD_NAME);

        let pattern = layout["site_packages"].as_str().unwrap();
        for text in ["3.11", "3.13t", "10.0"] {
            let version = PythonVersion::parse(text).unwrap();
            assert_eq!(
                version.site_packages(),
                pattern.replace("{version}", text),
                "site-packages of {text}"
            );
        }

        for (home, system, version) in [("/usr/bin", false, "3.11"), ("/opt/py/bin", true, "3.13t")]
        {
            let expected = config(
                &layout,
                &run_time["config"],
                &[
                    ("home", home),
                    ("system_site_packages", &system.to_string()),
                    ("version", version),
                ],
            );
            let got = run_time_config(
                Path::new(home),
                system,
                PythonVersion::parse(version).unwrap(),
            );
            assert_eq!(got, expected);
        }
    }

    /// A run-time venv's `.pth` lines are absolute directories: the launcher refuses to write any other.
    #[test]
    fn run_time_pth_lines_are_absolute() {
        let layout = description();
        assert_eq!(layout["run_time"]["pth_lines"], "absolute");
        assert_eq!(layout["build_time"]["pth_lines"], "relative");
        assert!(pth::line_problem(&PathBuf::from("/runfiles/_main")).is_none());
        assert!(pth::line_problem(&PathBuf::from("../../_main")).is_some());
    }
}
