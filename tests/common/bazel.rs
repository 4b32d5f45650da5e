//! The Bazel end-to-end driver: a real Bazel 4.2.3 (Debian's `bazel-bootstrap`) on the test workspace,
//! shared by every `tests/bazel_*.rs` suite (their doc comments say what each covers).
//!
//! The test workspace is `tests/bazel/workspace`, used in place (Bazel writes nothing into it: the
//! convenience symlinks are off). Everything generated lives under `$CARGO_TARGET_TMPDIR/bazel-e2e/`:
//!
//! - `repos/py_launcher_bins`: `py-launcher` and `py-launcher-finalize` exactly as cargo built them for this
//!   run (`CARGO_BIN_EXE_*`), registered by the workspace's launcher toolchain;
//! - `repos/pyrt`: an in-build Python runtime (`bin/python3.11` -> the machine's CPython 3.11);
//! - `repos/pypi_bazel_runfiles`: the pinned `bazel-runfiles` wheel from PyPI (`tests/deps.txt`, fetched by `scripts/test`),
//!   unpacked, with a BUILD file and a data file;
//! - `bazelrc`: the absolute `--override_repository` flags for those and for the offline stand-ins in
//!   `tests/bazel/offline`, and the test environment below; `output_base/`: Bazel's output base, shared
//!   by all tests; `cache/` and `tmp/`: the `XDG_CACHE_HOME` and `TMPDIR` of every launched program (run
//!   directly, by `bazel run`, or as a `bazel test` action), so nothing lands in the shared `/tmp`.
//!
//! The Bazel server stays up after the suite (`--max_idle_secs=900` ends it after 15 idle minutes); to
//! stop it at once: `bazel --output_base=target/tmp/bazel-e2e/output_base shutdown`.
//!
//! Overrides: `PY_LAUNCHER_E2E_LAUNCHER` / `PY_LAUNCHER_E2E_FINALIZE` (other launcher executables).
//!
//! Tests are `#[ignore]`d (they need Bazel; about 30 s cold, 10 s warm); `scripts/test` and
//! `scripts/test-bazel` run them with `--run-ignored only -E 'binary(/^bazel_/)'`. Each test
//! holds an exclusive lock on `bazel-e2e/lock` for its whole duration, so the cases run one at a time even
//! under nextest (one process per test): they share one Bazel server and some cases build with flags that
//! would change outputs another case is reading.

use super::{strs, PYTHON};
use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

pub const THIRD_PARTY_TEXT: &str = "hello from a third-party data file\n";

/// What `//groups:shapes` (every runfiles shape: generated module, namespace package, data of data,
/// third-party data, a native tool, stamping) reports when all its files are where they belong.
pub fn shapes_report() -> serde_json::Value {
    serde_json::json!({
        "generated": "hello from a generated module",
        "namespace": "namespace package module",
        "outer": "outer data\n",
        "inner": "inner data\n",
        "third_party": THIRD_PARTY_TEXT,
        "native_tool": true,
        "target": "//groups:shapes",
        "stamped": true,
        "build_user": true,
    })
}
pub const GROUPS: [&str; 5] = [
    "executable",
    "bootstrap_files",
    "interpreter_files",
    "third_party_files",
    "app_files",
];

// ---------------------------------------------------------------------------------------------------------
// The shared workspace.

pub struct Bazel {
    pub repo: PathBuf,
    pub workspace: PathBuf,
    pub root: PathBuf,
    pub output_base: PathBuf,
    pub rc: PathBuf,
    pub cache_home: PathBuf,
    /// The `TMPDIR` of every program the tests start.
    pub tmp: PathBuf,
    pub bin: PathBuf,
    pub _lock: fs::File,
}

pub fn root_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bazel-e2e")
}

/// Sets up the workspace (idempotent; cheap when nothing changed) and returns it, holding the lock.
pub fn bazel() -> Bazel {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let root = root_dir();
    fs::create_dir_all(&root).unwrap();
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(root.join("lock"))
        .unwrap();
    // SAFETY: flock on a file descriptor we own; blocks until the other test process releases it.
    let rc = unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) };
    assert_eq!(
        rc,
        0,
        "flock {}: {}",
        root.join("lock").display(),
        std::io::Error::last_os_error()
    );

    ensure_bazel_installed();
    assert!(
        Path::new(PYTHON).is_file(),
        "{PYTHON} is missing: the test workspace's Python toolchains use it (apt-get install -y python3.11)"
    );

    let repos = root.join("repos");
    write_launcher_repo(&repos.join("py_launcher_bins"));
    write_runtime_repo(&repos.join("pyrt"));
    write_third_party_repo(&repos.join("pypi_bazel_runfiles"));
    // Every suite: `//toolchains:all` (queried by bazel_e2e) names it, whichever suite runs first.
    write_coverage_repo(&repos.join("pypi_coverage"));

    let offline = repo.join("tests/bazel/offline");
    let mut rc_text = String::from("# Generated by tests/bazel_e2e.rs\n");
    for (name, path) in [
        ("rules_cc", offline.join("rules_cc")),
        ("rules_java", offline.join("rules_java")),
        (
            "remote_coverage_tools",
            offline.join("remote_coverage_tools"),
        ),
        ("py_launcher_bins", repos.join("py_launcher_bins")),
        ("pyrt", repos.join("pyrt")),
        ("pypi_bazel_runfiles", repos.join("pypi_bazel_runfiles")),
        ("pypi_coverage", repos.join("pypi_coverage")),
    ] {
        rc_text += &format!("build --override_repository={name}={}\n", path.display());
    }
    rc_text += "build --symlink_prefix=/\n";
    // Programs the tests start (directly, through `bazel run` and as `bazel test` actions) keep their
    // run-time venvs and temporary files here, never in the shared /tmp. `build`, not `test`: test
    // options in a `test`-only line would give `bazel test` another configuration than `bazel build`.
    let cache_home = root.join("cache");
    let tmp = root.join("tmp");
    for dir in [&cache_home, &tmp] {
        fs::create_dir_all(dir).unwrap();
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).unwrap();
        rc_text += &format!("build --sandbox_writable_path={}\n", dir.display());
    }
    rc_text += &format!(
        "build --test_env=XDG_CACHE_HOME={}\nbuild --test_env=TMPDIR={}\n",
        cache_home.display(),
        tmp.display()
    );
    let rc = root.join("bazelrc");
    write_if_changed(&rc, rc_text.as_bytes(), false);

    let mut b = Bazel {
        workspace: repo.join("tests/bazel/workspace"),
        repo,
        output_base: root.join("output_base"),
        root,
        rc,
        cache_home,
        tmp,
        bin: PathBuf::new(),
        _lock: lock,
    };
    let info = b.ok(&["info", "bazel-bin"]);
    b.bin = PathBuf::from(String::from_utf8(info.stdout).unwrap().trim());
    b
}

/// Bazel is installed by `scripts/test` (`bazel-bootstrap`); a test never installs anything itself.
pub fn ensure_bazel_installed() {
    assert!(
        Command::new("bazel").arg("--version").output().is_ok(),
        "bazel is not installed: run scripts/test, or `apt-get install -y bazel-bootstrap`"
    );
}

pub fn write_if_changed(path: &Path, content: &[u8], executable: bool) {
    if fs::read(path).ok().as_deref() != Some(content) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        let tmp = path.with_extension("tmp");
        fs::write(&tmp, content).unwrap();
        fs::rename(&tmp, path).unwrap();
    }
    let mode = if executable { 0o755 } else { 0o644 };
    if fs::metadata(path).unwrap().permissions().mode() & 0o777 != mode {
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    }
}

/// An external repository's two files in `dir`: a WORKSPACE naming it `name`, and `build` as its BUILD file.
fn write_repo_files(dir: &Path, name: &str, build: &str) {
    write_if_changed(
        &dir.join("WORKSPACE"),
        format!("workspace(name = \"{name}\")\n").as_bytes(),
        false,
    );
    write_if_changed(&dir.join("BUILD.bazel"), build.as_bytes(), false);
}

pub fn write_launcher_repo(dir: &Path) {
    write_repo_files(
        dir,
        "py_launcher_bins",
        "exports_files([\"py-launcher\", \"py-launcher-finalize\", \"paths.bzl\"], visibility = [\"//visibility:public\"])\n",
    );
    // The executables cargo built for this test run, unless PY_LAUNCHER_E2E_LAUNCHER /
    // PY_LAUNCHER_E2E_FINALIZE name others (e.g. the static release launcher scripts/test builds).
    for (name, var, built) in [
        (
            "py-launcher",
            "PY_LAUNCHER_E2E_LAUNCHER",
            env!("CARGO_BIN_EXE_py-launcher"),
        ),
        (
            "py-launcher-finalize",
            "PY_LAUNCHER_E2E_FINALIZE",
            env!("CARGO_BIN_EXE_py-launcher-finalize"),
        ),
    ] {
        let path = std::env::var_os(var).map_or_else(|| PathBuf::from(built), PathBuf::from);
        let bytes = fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        write_if_changed(&dir.join(name), &bytes, true);
    }
    // The launcher's absolute path, for a py_runtime's stub_shebang (tests/bazel_dropin.rs).
    let launcher = dir.join("py-launcher");
    write_if_changed(
        &dir.join("paths.bzl"),
        format!("LAUNCHER = {:?}\n", launcher.display().to_string()).as_bytes(),
        false,
    );
}

pub fn write_runtime_repo(dir: &Path) {
    write_repo_files(
        dir,
        "pyrt",
        "# An in-build Python runtime: the interpreter is a file of this repository.\n\
          exports_files([\"bin/python3.11\"], visibility = [\"//visibility:public\"])\n\n\
          filegroup(\n    name = \"files\",\n    srcs = [\"bin/python3.11\"],\n    \
          visibility = [\"//visibility:public\"],\n)\n",
    );
    // bin/python3.11 is a symlink to the real interpreter; CPython resolves it and finds its standard library
    // beside the real binary (lib/python3.11 -> the real stdlib is there too, for tools that look for it).
    fs::create_dir_all(dir.join("bin")).unwrap();
    fs::create_dir_all(dir.join("lib")).unwrap();
    for (link, target) in [
        ("bin/python3.11", PYTHON),
        ("lib/python3.11", "/usr/lib/python3.11"),
    ] {
        let link = dir.join(link);
        if fs::read_link(&link).ok().as_deref() != Some(Path::new(target)) {
            let _ = fs::remove_file(&link);
            std::os::unix::fs::symlink(target, &link).unwrap();
        }
    }
}

/// `@pypi_bazel_runfiles`: the pinned bazel-runfiles wheel (`tests/deps.txt`) unpacked, as a py_library
/// with a data file (third-party data through runfiles).
pub fn write_third_party_repo(dir: &Path) {
    write_wheel_repo(
        dir,
        "bazel_runfiles",
        "runfiles/runfiles.py",
        "pypi_bazel_runfiles",
        "py_library(\n    name = \"runfiles\",\n    srcs = glob([\"runfiles/*.py\"]),\n    \
         data = [\"data/greeting.txt\"],\n    imports = [\".\"],\n    visibility = [\"//visibility:public\"],\n)\n",
    );
    write_if_changed(
        &dir.join("data/greeting.txt"),
        THIRD_PARTY_TEXT.as_bytes(),
        false,
    );
}

/// `@pypi_coverage`: the pinned coverage wheel (`tests/deps.txt`) unpacked, as a py_library whose files
/// hold `coverage/__init__.py` (what a py_launcher_toolchain's `coverage_tool` needs).
pub fn write_coverage_repo(dir: &Path) {
    write_wheel_repo(
        dir,
        "coverage",
        "coverage/__init__.py",
        "pypi_coverage",
        "py_library(\n    name = \"coverage\",\n    srcs = glob([\"coverage/**/*.py\"]),\n    \
         data = glob([\"coverage/**\"], exclude = [\"coverage/**/*.py\"]),\n    imports = [\".\"],\n    \
         visibility = [\"//visibility:public\"],\n)\n",
    );
}

/// An external repository `name` in `dir`: the pinned wheel `dist` unpacked (it must hold `marker`), a
/// WORKSPACE and `build` as its BUILD file.
fn write_wheel_repo(dir: &Path, dist: &str, marker: &str, name: &str, build: &str) {
    let wheel = super::test_wheel(dist);
    unpack_wheel(&wheel, dir);
    assert!(
        dir.join(marker).is_file(),
        "{} has no {marker}",
        wheel.display()
    );
    let build =
        format!("# The {dist} wheel from PyPI, unpacked by tests/common/bazel.rs.\n{build}");
    write_repo_files(dir, name, &build);
}

/// Unpacks `wheel` into `dir` unless `dir` already holds exactly that wheel.
fn unpack_wheel(wheel: &Path, dir: &Path) {
    let stamp = dir.join(".wheel");
    let wheel_name = wheel.file_name().unwrap().to_string_lossy().into_owned();
    if fs::read_to_string(&stamp).ok().as_deref() == Some(wheel_name.as_str()) {
        return;
    }
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir).unwrap();
    let out = Command::new(PYTHON)
        .args([
            OsStr::new("-m"),
            OsStr::new("zipfile"),
            OsStr::new("-e"),
            wheel.as_os_str(),
            dir.as_os_str(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "unzip {}: {}",
        wheel.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    fs::write(&stamp, &wheel_name).unwrap();
}

impl Bazel {
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("bazel");
        // The system rc stays: Debian's bazel-bootstrap needs its `startup --install_base`.
        cmd.arg(format!("--bazelrc={}", self.rc.display()))
            .arg(format!("--output_base={}", self.output_base.display()))
            .arg("--max_idle_secs=900")
            .args(args)
            .current_dir(&self.workspace)
            .env("XDG_CACHE_HOME", &self.cache_home)
            .env("TMPDIR", &self.tmp)
            .stdin(Stdio::null());
        scrub_inherited_env(&mut cmd);
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("start bazel")
    }

    /// Runs a Bazel command and fails the test, with Bazel's output, unless it succeeds.
    pub fn ok(&self, args: &[&str]) -> Output {
        succeeded(&self.workspace, args, self.run(args))
    }

    pub fn build(&self, flags: &[&str], targets: &[&str]) {
        let mut args = vec!["build"];
        args.extend_from_slice(flags);
        args.extend_from_slice(targets);
        self.ok(&args);
    }

    /// Runs a built executable (path relative to bazel-bin) directly, with a clean runfiles environment.
    pub fn exec(&self, rel: &str, args: &[&str]) -> Output {
        let mut cmd = Command::new(self.bin.join(rel));
        cmd.args(args)
            .current_dir(&self.root)
            .env("XDG_CACHE_HOME", &self.cache_home)
            .env("TMPDIR", &self.tmp)
            .stdin(Stdio::null());
        scrub_inherited_env(&mut cmd);
        cmd.output().unwrap()
    }

    pub fn exec_json(&self, rel: &str, args: &[&str]) -> Value {
        json_stdout(&self.exec(rel, args), rel)
    }

    pub fn read_json(&self, rel: &str) -> Value {
        let path = self.bin.join(rel);
        serde_json::from_slice(
            &fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display())),
        )
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
    }

    pub fn runfiles(&self, binary: &str) -> PathBuf {
        self.bin.join(format!("{binary}.runfiles"))
    }

    /// The files of each output group of `target`, as runfiles paths, from the Build Event Protocol.
    pub fn output_groups(
        &self,
        flags: &[&str],
        target: &str,
    ) -> std::collections::BTreeMap<String, BTreeSet<String>> {
        let bep = self.root.join("bep.json");
        let _ = fs::remove_file(&bep);
        let groups = format!("--output_groups={}", GROUPS.join(","));
        let bep_flag = format!("--build_event_json_file={}", bep.display());
        let mut args = vec!["build", groups.as_str(), bep_flag.as_str()];
        args.extend_from_slice(flags);
        args.push(target);
        self.ok(&args);
        parse_bep_groups(&fs::read_to_string(&bep).unwrap(), &self.output_base)
    }
}

/// `out` of `bazel ARGS` run in `workspace`, or the test fails with Bazel's output.
pub fn succeeded(workspace: &Path, args: &[&str], out: Output) -> Output {
    assert!(
        out.status.success(),
        "bazel {} in {} failed: {}\n{}",
        args.join(" "),
        workspace.display(),
        out.status,
        output_text(&out)
    );
    out
}

pub fn output_text(out: &Output) -> String {
    format!(
        "--- stdout\n{}--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub fn json_stdout(out: &Output, what: &str) -> Value {
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        out.status,
        output_text(out)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{what} did not print JSON ({e}):\n{}", output_text(out)))
}

/// BEP `completed.outputGroup` -> file sets -> files. A file's key is its runfiles path: `<repo>/<name>`
/// for a source file of an external repository (its URI is under `<output_base>/external/<repo>/`) and for
/// a generated one (BEP names it `external/<repo>/<name>`, e.g. a library's precompiled `.pyc`),
/// `e2e/<name>` otherwise.
pub fn parse_bep_groups(
    text: &str,
    output_base: &Path,
) -> std::collections::BTreeMap<String, BTreeSet<String>> {
    let external = format!("file://{}/external/", output_base.display());
    let mut sets: std::collections::HashMap<String, (Vec<String>, Vec<String>)> =
        Default::default();
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for line in text.lines() {
        let event: Value = serde_json::from_str(line).unwrap();
        if let Some(set) = event.get("namedSetOfFiles") {
            let id = event["id"]["namedSet"]["id"].as_str().unwrap().to_owned();
            let files = set["files"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|f| {
                    let name = f["name"].as_str().unwrap();
                    let uri = f["uri"].as_str().unwrap();
                    match uri.strip_prefix(&external) {
                        Some(rest) if f.get("pathPrefix").is_none() => rest.to_owned(),
                        _ => match name.strip_prefix("external/") {
                            Some(rest) => rest.to_owned(),
                            None => format!("e2e/{name}"),
                        },
                    }
                })
                .collect();
            let children = ids(&set["fileSets"]);
            sets.insert(id, (files, children));
        }
        if let Some(groups_value) = event.get("completed").and_then(|c| c.get("outputGroup")) {
            for group in groups_value.as_array().unwrap() {
                groups.push((
                    group["name"].as_str().unwrap().to_owned(),
                    ids(&group["fileSets"]),
                ));
            }
        }
    }
    let mut result = std::collections::BTreeMap::new();
    for (name, roots) in groups {
        let mut files = BTreeSet::new();
        let mut todo = roots;
        while let Some(id) = todo.pop() {
            let (own, children) = &sets[&id];
            files.extend(own.iter().cloned());
            todo.extend(children.iter().cloned());
        }
        result.insert(name, files);
    }
    result
}

pub fn ids(value: &Value) -> Vec<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect()
}

pub fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Replaces every "/./" in the strings of a JSON value by "/".
pub fn normalize_dots(value: Value) -> Value {
    match value {
        Value::String(s) => Value::String(s.replace("/./", "/")),
        Value::Array(items) => Value::Array(items.into_iter().map(normalize_dots).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, normalize_dots(v)))
                .collect(),
        ),
        other => other,
    }
}

pub fn path_str(p: &Path) -> String {
    p.to_str().unwrap().to_owned()
}

/// The runfiles paths listed in a runfiles manifest, minus Bazel 4's legacy `<ws>/external/` duplicates.
pub fn manifest_keys(manifest: &Path) -> BTreeSet<String> {
    fs::read_to_string(manifest)
        .unwrap_or_else(|e| panic!("read {}: {e}", manifest.display()))
        .lines()
        .map(|l| l.split(' ').next().unwrap().to_owned())
        .filter(|k| !k.starts_with("e2e/external/"))
        .collect()
}

// ---------------------------------------------------------------------------------------------------------
// Cases.

/// What every report binary in //cases built with the default (platform) runtime must show.
pub fn check_report_world(report: &Value, runfiles: &Path, binary: &str) {
    let root = path_str(runfiles);
    let venv = format!("{root}/e2e/cases/_{binary}.venv");
    assert_eq!(
        report["prefix"],
        venv.as_str(),
        "the build-time venv is used"
    );
    assert_eq!(report["executable"], format!("{venv}/bin/python3").as_str());
    assert_eq!(report["base_executable"], PYTHON);
    assert_eq!(report["base_prefix"], "/usr");
    assert_eq!(report["version"], "3.11");
    assert_eq!(
        report["argv"][0],
        format!("{root}/e2e/cases/report_main.py").as_str()
    );
    assert_eq!(
        report["utf8_mode"], 1,
        "interpreter_args -X utf8 reached the interpreter"
    );
    let path = strs(&report["path"]);
    let site = format!("{venv}/lib/python3.11/site-packages");
    let ours: Vec<String> = path.iter().skip_while(|p| **p != site).cloned().collect();
    assert_eq!(
        ours,
        vec![
            site.clone(),
            format!("{root}/e2e/cases/extra"),
            format!("{root}/e2e/lib/py"),
            format!("{root}/e2e")
        ],
        "import path after the standard library: {path:?}"
    );
    assert!(
        path[0].starts_with("/usr/lib/python3"),
        "standard library first: {path:?}"
    );
    assert_eq!(
        report["extramod"], "extra import dir",
        "own `imports` dir importable"
    );
    let env = &report["env"];
    assert_eq!(env["GREETING"], "from env");
    assert_eq!(
        env["DATA_FILE"], "cases/data.txt",
        "$(rootpath) expanded in env"
    );
    assert_eq!(
        env["PY_LAUNCHER_TARGET"],
        format!("//cases:{binary}").as_str()
    );
    assert_eq!(
        env["PY_LAUNCHER_BUILD_CONFIG"],
        format!("{root}/e2e/cases/_{binary}_build_config.json").as_str()
    );
    assert_eq!(env["RUNFILES_DIR"], root.as_str());
    assert_eq!(env["PYTHONSAFEPATH"], "1");
    // A sys.executable subprocess sees the same venv, import path and build information.
    let sub = &report["subprocess"];
    assert_eq!(sub["prefix"], venv.as_str(), "subprocess: {sub}");
    assert_eq!(sub["path"], report["path"]);
    assert_eq!(sub["greeting"], "hello, subprocess");
    assert_eq!(sub["target"], format!("//cases:{binary}").as_str());
    let info = &report["build_info"];
    assert_eq!(info["target"], format!("//cases:{binary}").as_str());
    assert_eq!(info["stamped"], false);
    assert_eq!(info["stable_keys"], Value::Null);
    assert_eq!(
        info["config"]["target"],
        format!("//cases:{binary}").as_str()
    );
}

/// Variables the test runner itself may carry that would steer a launch (a parent's runfiles, our own
/// debug switch, the caller's safe-path choice): every Bazel or binary run starts without them.
pub fn scrub_inherited_env(cmd: &mut Command) {
    for var in [
        "RUNFILES_DIR",
        "RUNFILES_MANIFEST_FILE",
        "JAVA_RUNFILES",
        "PY_LAUNCHER_DEBUG",
        "PYTHONSAFEPATH",
    ] {
        cmd.env_remove(var);
    }
}
