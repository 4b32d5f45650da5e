//! The venv layout as its one description, `bazel/private/venv_layout.bzl`, states it, for the tests: the
//! hand-made build-time venv of `App::add_build_time_venv` and the checks of real venvs in
//! `tests/bazel_mirror.rs` take every name from here, and this module reads them from the description.

use std::collections::BTreeSet;

use serde_json::Value;

const DESCRIPTION: &str = include_str!("../../bazel/private/venv_layout.bzl");

/// The build-time (`"build_time"`) or run-time (`"run_time"`) venv.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    BuildTime,
    RunTime,
}

impl Kind {
    fn key(self) -> &'static str {
        match self {
            Kind::BuildTime => "build_time",
            Kind::RunTime => "run_time",
        }
    }
}

/// `VENV_LAYOUT` of the description.
pub struct VenvLayout(Value);

/// The description, parsed (everything after `VENV_LAYOUT = ` is JSON).
pub fn venv_layout() -> VenvLayout {
    let (_, json) = DESCRIPTION
        .split_once("\nVENV_LAYOUT = ")
        .expect("venv_layout.bzl defines VENV_LAYOUT");
    VenvLayout(serde_json::from_str(json).expect("venv_layout.bzl's VENV_LAYOUT is JSON"))
}

impl VenvLayout {
    /// The raw description.
    pub fn json(&self) -> &Value {
        &self.0
    }

    fn str(value: &Value) -> &str {
        value
            .as_str()
            .unwrap_or_else(|| panic!("{value} is a string"))
    }

    fn strs(value: &Value) -> Vec<&str> {
        value
            .as_array()
            .unwrap_or_else(|| panic!("{value} is a list"))
            .iter()
            .map(Self::str)
            .collect()
    }

    /// `pyvenv.cfg`.
    pub fn config_name(&self) -> &str {
        Self::str(&self.0["config"])
    }

    /// The `.pth` file's name.
    pub fn pth_name(&self) -> &str {
        Self::str(&self.0["pth"])
    }

    /// The build-time venv's python, relative to the venv.
    pub fn build_time_python(&self) -> &str {
        Self::str(&self.0["build_time"]["python"])
    }

    /// A run-time venv's python, relative to the venv: `bin/<the interpreter's file name>`.
    pub fn run_time_python(&self, bin_name: &str) -> String {
        format!("{}/{bin_name}", Self::str(&self.0["bin"]))
    }

    /// The links beside a run-time venv's python, to its name.
    pub fn aliases(&self) -> Vec<&str> {
        Self::strs(&self.0["run_time"]["aliases"])
    }

    /// The build-information modules in site-packages.
    pub fn modules(&self) -> Vec<&str> {
        Self::strs(&self.0["modules"])
    }

    /// Site-packages relative to the venv, for `"3.11"` or `"3.13t"`.
    pub fn site_packages(&self, version: &str) -> String {
        Self::str(&self.0["site_packages"]).replace("{version}", version)
    }

    /// `pyvenv.cfg`'s text: the kind's `[key, value]` pairs in the described order, each value's
    /// placeholders (`{home}`, `{system_site_packages}`, `{version}`) filled from `values`; a pair whose
    /// placeholder `values` lacks is left out.
    pub fn config(&self, kind: Kind, values: &[(&str, &str)]) -> String {
        let line = Self::str(&self.0["config_line"]);
        let pairs = self.0[kind.key()]["config"]
            .as_array()
            .expect("config is a list of pairs");
        pairs
            .iter()
            .filter_map(|pair| {
                let (key, template) = (Self::str(&pair[0]), Self::str(&pair[1]));
                let mut value = template.to_owned();
                for name in template.split('{').skip(1) {
                    let name = name.split('}').next().unwrap();
                    let (_, filled) = values.iter().find(|(k, _)| *k == name)?;
                    value = value.replace(&format!("{{{name}}}"), filled);
                }
                Some(line.replace("{key}", key).replace("{value}", &value))
            })
            .collect()
    }

    /// A build-time `.pth` line (without its line break) for the runfiles path `path`, in the
    /// site-packages directory whose runfiles path is `site_packages_path`: relative to it.
    pub fn build_time_pth_line(&self, site_packages_path: &str, path: &str) -> String {
        assert_eq!(self.0["build_time"]["pth_lines"], "relative");
        let depth = site_packages_path.split('/').count();
        format!("{}{path}", "../".repeat(depth))
    }

    /// The files (and links) of a venv, relative to it: the build-time one, or a run-time one whose
    /// python is `bin/<bin_name>`.
    pub fn files(&self, kind: Kind, version: &str, bin_name: &str) -> BTreeSet<String> {
        let site = self.site_packages(version);
        let mut files: BTreeSet<String> = [
            self.config_name().to_owned(),
            format!("{site}/{}", self.pth_name()),
        ]
        .into_iter()
        .chain(self.modules().iter().map(|m| format!("{site}/{m}")))
        .collect();
        match kind {
            Kind::BuildTime => {
                files.insert(self.build_time_python().to_owned());
            }
            Kind::RunTime => {
                files.insert(self.run_time_python(bin_name));
                for alias in self.aliases() {
                    files.insert(self.run_time_python(alias));
                }
                files.insert(Self::str(&self.0["run_time"]["record"]).to_owned());
            }
        }
        files
    }
}
