//! Drop-in route: each template in `templates/` expanded the way Bazel expands it (literal replacement of
//! every placeholder), laid over a runfiles tree shaped like the one its rule set makes, then run by the
//! kernel through its `#!` line (`/usr/bin/env py-launcher` with the launcher on PATH, and an absolute
//! path), with real CPython, in directory and manifest-only runfiles.
//!
//! The rules_python stage 2 and site init used here are this project's own small stand-ins
//! (`tests/fixtures/dropin/`), written to the contract in docs/dropin.md.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const PYTHON: &str = "/usr/bin/python3.11";
const RULES_PYTHON_TEMPLATE: &str = include_str!("../templates/rules_python_stub.tmpl");
const BAZEL_NATIVE_TEMPLATE: &str = include_str!("../templates/bazel_native_stub.tmpl");
const OWN_TEMPLATE: &str = include_str!("../templates/py_launcher_stub.tmpl");
const STAGE2: &str = include_str!("fixtures/dropin/stage2_bootstrap.py");
const SITE_INIT: &str = include_str!("fixtures/dropin/bazel_site_init.py");
const APP: &str = include_str!("fixtures/dropin/app.py");
const GREETING: &str = include_str!("fixtures/dropin/greeting.py");

const STAGE2_PATH: &str = "_main/pkg/_app_stage2_bootstrap.py";
const VENV: &str = "_main/pkg/_app.venv";
const SITE_PACKAGES: &str = "lib/python3.11/site-packages";

fn launcher() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_py-launcher"))
}

/// `ctx.actions.expand_template`: every `%name%` replaced literally, nothing escaped.
fn expand(template: &str, substitutions: &[(&str, &str)]) -> String {
    substitutions
        .iter()
        .fold(template.to_owned(), |text, (name, value)| {
            text.replace(&format!("%{name}%"), value)
        })
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Mode {
    Directory,
    Manifest,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Shebang {
    /// `#!/usr/bin/env py-launcher`, the launcher's directory first on PATH.
    Env,
    /// `#!/absolute/path/to/py-launcher`.
    Absolute,
}

impl Shebang {
    fn line(self) -> String {
        match self {
            Shebang::Env => "#!/usr/bin/env py-launcher".into(),
            Shebang::Absolute => format!("#!{}", launcher().display()),
        }
    }
}

/// A Bazel-like output tree in a temp dir whose path has a space: real files under `real/`, the stub at
/// `bazel-bin/pkg/app`, and either `app.runfiles/` (a tree of symlinks) or `app.runfiles_manifest`.
struct Tree {
    _tmp: tempfile::TempDir,
    base: PathBuf,
    cache: PathBuf,
    /// (runfiles path, real file) or (runfiles path, verbatim target of a declared symlink).
    entries: Vec<(String, Entry)>,
}

enum Entry {
    File(PathBuf),
    Symlink(String),
}

impl Tree {
    fn new() -> Tree {
        let tmp = tempfile::Builder::new()
            .prefix("dropin ")
            .tempdir()
            .expect("tempdir");
        let base = tmp.path().join("work space");
        let cache = tmp.path().join("cache");
        fs::create_dir_all(base.join("bazel-bin/pkg")).unwrap();
        fs::create_dir_all(&cache).unwrap();
        Tree {
            _tmp: tmp,
            base,
            cache,
            entries: Vec::new(),
        }
    }

    fn file(&mut self, rpath: &str, content: &str) -> &mut Tree {
        let real = self.base.join("real").join(rpath);
        fs::create_dir_all(real.parent().unwrap()).unwrap();
        fs::write(&real, content).unwrap();
        self.entries.push((rpath.into(), Entry::File(real)));
        self
    }

    /// A declared (unresolved) symlink: its target is kept verbatim in the tree and in the manifest.
    fn symlink(&mut self, rpath: &str, target: &str) -> &mut Tree {
        self.entries
            .push((rpath.into(), Entry::Symlink(target.into())));
        self
    }

    fn stub_path(&self) -> PathBuf {
        self.base.join("bazel-bin/pkg/app")
    }

    fn runfiles(&self) -> PathBuf {
        self.base.join("bazel-bin/pkg/app.runfiles")
    }

    fn manifest(&self) -> PathBuf {
        self.base.join("bazel-bin/pkg/app.runfiles_manifest")
    }

    /// Writes the stub and lays out the runfiles; returns the stub's path.
    fn finish(&mut self, stub: &str, mode: Mode) -> PathBuf {
        let stub_path = self.stub_path();
        fs::write(&stub_path, stub).unwrap();
        fs::set_permissions(&stub_path, fs::Permissions::from_mode(0o755)).unwrap();
        self.entries
            .push(("_main/pkg/app".into(), Entry::File(stub_path.clone())));
        match mode {
            Mode::Directory => {
                for (rpath, entry) in &self.entries {
                    let link = self.runfiles().join(rpath);
                    fs::create_dir_all(link.parent().unwrap()).unwrap();
                    match entry {
                        Entry::File(real) => symlink(real, &link).unwrap(),
                        Entry::Symlink(target) => symlink(target, &link).unwrap(),
                    }
                }
            }
            Mode::Manifest => {
                // Bazel writes the manifest sorted by link.
                self.entries.sort_by(|a, b| a.0.cmp(&b.0));
                let mut text = String::new();
                for (rpath, entry) in &self.entries {
                    let target = match entry {
                        Entry::File(real) => real.to_str().unwrap().to_owned(),
                        Entry::Symlink(target) => target.clone(),
                    };
                    text.push_str(&format!("{rpath} {target}\n"));
                }
                fs::write(self.manifest(), text).unwrap();
            }
        }
        stub_path
    }

    /// Runs the stub the way a user does (`execve` of the stub; the kernel reads its `#!` line).
    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let path = format!(
            "{}:/usr/bin:/bin",
            launcher().parent().unwrap().to_str().unwrap()
        );
        let mut command = Command::new(self.stub_path());
        command
            .args(args)
            .env_clear()
            .env("PATH", path)
            .env("HOME", self.base.join("home"))
            .env("XDG_CACHE_HOME", &self.cache)
            .envs(env.iter().copied());
        spawn(&mut command)
    }

    fn runfiles_root(&self, mode: Mode) -> String {
        match mode {
            Mode::Directory => self.runfiles().to_str().unwrap().to_owned(),
            Mode::Manifest => String::new(),
        }
    }
}

/// Runs a command, retrying while another test's fork still holds a just-written file open (ETXTBSY).
fn spawn(command: &mut Command) -> Output {
    for _ in 0..50 {
        match command.output() {
            Err(err) if err.raw_os_error() == Some(26) => {
                std::thread::sleep(std::time::Duration::from_millis(20))
            }
            result => return result.expect("spawn"),
        }
    }
    panic!("the stub stayed busy (ETXTBSY)")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The program's JSON report (the last stdout line), after checking the exit status.
fn report(out: &Output, code: i32) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(code),
        "status {:?}\nstdout: {stdout}\nstderr: {}",
        out.status,
        stderr(out)
    );
    let line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("not a report ({e}): {stdout}\nstderr: {}", stderr(out)))
}

fn strs(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

// ---------------------------------------------------------------------------------------------------
// rules_python (bootstrap_impl=script stage 1 replaced by the stub)

/// rules_python's layout: `_app.venv/` with an empty pyvenv.cfg, `bin/python3` linking to the
/// interpreter, site-packages with `bazel.pth` and the site init; the stage 2 beside the target.
fn rules_python_tree(venv_python_target: &str) -> Tree {
    let mut tree = Tree::new();
    tree.file("_main/pkg/app.py", APP)
        .file("_main/pkg/lib/greeting.py", GREETING)
        .file(STAGE2_PATH, STAGE2)
        .file(&format!("{VENV}/pyvenv.cfg"), "")
        .symlink(&format!("{VENV}/bin/python3"), venv_python_target)
        .file(
            &format!("{VENV}/{SITE_PACKAGES}/bazel.pth"),
            "import _bazel_site_init\n",
        )
        .file(
            &format!("{VENV}/{SITE_PACKAGES}/_bazel_site_init.py"),
            SITE_INIT,
        );
    tree
}

struct RulesPython<'a> {
    shebang: String,
    python_binary: &'a str,
    python_binary_actual: &'a str,
    recreate: &'a str,
    resolve: &'a str,
    interpreter_args: &'a str,
    target: &'a str,
}

impl Default for RulesPython<'_> {
    fn default() -> Self {
        RulesPython {
            shebang: Shebang::Env.line(),
            python_binary: "_main/pkg/_app.venv/bin/python3",
            python_binary_actual: PYTHON,
            recreate: "0",
            resolve: "0",
            interpreter_args: "-X\nutf8\n-X\npy_launcher_test=a b",
            target: "@@//pkg:app",
        }
    }
}

impl RulesPython<'_> {
    /// Every placeholder rules_python substitutes into stage 1, with the values it gives them.
    fn expand(&self) -> String {
        expand(
            RULES_PYTHON_TEMPLATE,
            &[
                ("shebang", &self.shebang),
                ("stage2_bootstrap", STAGE2_PATH),
                ("python_binary", self.python_binary),
                ("python_binary_actual", self.python_binary_actual),
                ("is_zipfile", "0"),
                ("recreate_venv_at_runtime", self.recreate),
                ("resolve_python_binary_at_runtime", self.resolve),
                ("venv_rel_site_packages", SITE_PACKAGES),
                ("interpreter_args", self.interpreter_args),
                ("target", self.target),
                ("workspace_name", "_main"),
                ("runtime_venv_symlinks", ""),
            ],
        )
    }
}

fn rules_python_runs(mode: Mode, shebang: Shebang) {
    let mut tree = rules_python_tree(PYTHON);
    let stub = RulesPython {
        shebang: shebang.line(),
        ..RulesPython::default()
    }
    .expand();
    tree.finish(&stub, mode);
    let out = tree.run(
        &["a b", "", "--exit=3"],
        &[("RULES_PYTHON_ADDITIONAL_INTERPRETER_ARGS", "-X 'extra=x y'")],
    );
    let r = report(&out, 3);
    let root = tree.runfiles_root(mode);
    let env = &r["env"];
    assert_eq!(r["greeting"], "hello from the import path");
    assert_eq!(r["site_init"], true, "bazel.pth ran the site init");
    assert_eq!(r["version"], "3.11");
    assert_eq!(r["utf8_mode"], 1);
    assert_eq!(r["xoptions"]["py_launcher_test"], "a b");
    assert_eq!(r["xoptions"]["extra"], "x y");
    assert_eq!(env["PYTHONSAFEPATH"], "1");
    assert_eq!(env["PY_LAUNCHER_TARGET"], "@@//pkg:app");
    assert_eq!(env["RULES_PYTHON_ADDITIONAL_INTERPRETER_ARGS"], Value::Null);
    let argv = strs(&r["argv"]);
    assert_eq!(&argv[1..], ["a b", "", "--exit=3"]);
    let orig = strs(&r["orig_argv"]);
    // python, the stub's interpreter args, then the variable's, then stage 2, then the user's.
    assert_eq!(
        &orig[1..9],
        [
            "-X",
            "utf8",
            "-X",
            "py_launcher_test=a b",
            "-X",
            "extra=x y",
            &orig[7],
            "a b"
        ]
    );
    assert!(orig[7].ends_with("_app_stage2_bootstrap.py"), "{orig:?}");
    assert_eq!(r["stage2"], orig[7].as_str());
    match mode {
        Mode::Directory => {
            // The build-time venv is used as it is: its python is the program's sys.executable.
            let venv_python = format!("{root}/{VENV}/bin/python3");
            assert_eq!(orig[0], venv_python);
            assert_eq!(r["executable"], venv_python.as_str());
            assert_eq!(r["prefix"], format!("{root}/{VENV}").as_str());
            assert_eq!(orig[7], format!("{root}/{STAGE2_PATH}"));
            assert_eq!(argv[0], format!("{root}/_main/pkg/app.py"));
            assert_eq!(env["RUNFILES_DIR"], root.as_str());
            assert_eq!(env["RUNFILES_MANIFEST_FILE"], Value::Null);
        }
        Mode::Manifest => {
            // No tree: a run-time venv in the cache links to the real venv, so bazel.pth still runs.
            let executable = r["executable"].as_str().unwrap();
            assert!(
                executable.starts_with(tree.cache.to_str().unwrap()),
                "{executable}"
            );
            assert_eq!(
                env["RUNFILES_MANIFEST_FILE"],
                tree.manifest().to_str().unwrap()
            );
            assert_eq!(env["RUNFILES_DIR"], Value::Null);
        }
    }
}

#[test]
fn rules_python_directory_env_shebang() {
    rules_python_runs(Mode::Directory, Shebang::Env);
}

#[test]
fn rules_python_directory_absolute_shebang() {
    rules_python_runs(Mode::Directory, Shebang::Absolute);
}

#[test]
fn rules_python_manifest_env_shebang() {
    rules_python_runs(Mode::Manifest, Shebang::Env);
}

#[test]
fn rules_python_manifest_absolute_shebang() {
    rules_python_runs(Mode::Manifest, Shebang::Absolute);
}

#[test]
fn rules_python_recreates_the_venv_at_run_time_when_asked() {
    // With recreate (and resolve) at run time, rules_python's venv python is a plain file that must
    // never be executed.
    let mut tree = Tree::new();
    tree.file("_main/pkg/app.py", APP)
        .file("_main/pkg/lib/greeting.py", GREETING)
        .file(STAGE2_PATH, STAGE2)
        .file(&format!("{VENV}/pyvenv.cfg"), "")
        .file(&format!("{VENV}/bin/python3"), &format!("actual:{PYTHON}"))
        .file(
            &format!("{VENV}/{SITE_PACKAGES}/bazel.pth"),
            "import _bazel_site_init\n",
        )
        .file(
            &format!("{VENV}/{SITE_PACKAGES}/_bazel_site_init.py"),
            SITE_INIT,
        );
    let stub = RulesPython {
        recreate: "1",
        resolve: "1",
        ..RulesPython::default()
    }
    .expand();
    tree.finish(&stub, Mode::Directory);
    for _ in 0..2 {
        let r = report(&tree.run(&[], &[]), 0);
        let executable = r["executable"].as_str().unwrap();
        assert!(
            executable.starts_with(tree.cache.to_str().unwrap()),
            "{executable}"
        );
        assert!(executable.ends_with("/bin/python3.11"), "{executable}");
        assert_eq!(r["site_init"], true);
        assert_eq!(r["greeting"], "hello from the import path");
    }
    let venvs: Vec<_> = fs::read_dir(tree.cache.join("py-launcher"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("venv-"))
        .collect();
    assert_eq!(venvs.len(), 1, "the second launch reuses the first's venv");
    let lib = fs::read_link(venvs[0].path().join("lib")).unwrap();
    assert_eq!(lib, tree.runfiles().join(VENV).join("lib"));
}

#[test]
fn rules_python_in_build_runtime_with_a_relative_venv_link() {
    // An in-build runtime: %python_binary_actual% is a runfiles path and the venv's bin/python3 a
    // relative declared symlink to it.
    let mut tree = rules_python_tree("../../../../python_3_11/bin/python3");
    tree.symlink("python_3_11/bin/python3", PYTHON);
    let stub = RulesPython {
        python_binary_actual: "python_3_11/bin/python3",
        ..RulesPython::default()
    }
    .expand();
    tree.finish(&stub, Mode::Directory);
    let r = report(&tree.run(&["x"], &[]), 0);
    let root = tree.runfiles_root(Mode::Directory);
    assert_eq!(
        r["executable"],
        format!("{root}/{VENV}/bin/python3").as_str()
    );
    assert_eq!(r["version"], "3.11");
    assert_eq!(r["site_init"], true);
}

#[test]
fn rules_python_empty_and_unsubstituted_values() {
    // No interpreter args (an empty multi-line value), an empty target, and an older rules_python that
    // does not substitute %resolve_python_binary_at_runtime%.
    let mut tree = rules_python_tree(PYTHON);
    let stub = RulesPython {
        interpreter_args: "",
        target: "",
        resolve: "%resolve_python_binary_at_runtime%",
        ..RulesPython::default()
    }
    .expand();
    tree.finish(&stub, Mode::Directory);
    let r = report(&tree.run(&[], &[]), 0);
    let orig = strs(&r["orig_argv"]);
    assert_eq!(orig.len(), 2, "python and stage 2 only: {orig:?}");
    // No label: the stub's own path stands in for it.
    assert_eq!(
        r["env"]["PY_LAUNCHER_TARGET"],
        tree.stub_path().to_str().unwrap()
    );
}

#[test]
fn rules_python_debug_mode_shows_the_stub_facts() {
    let mut tree = rules_python_tree(PYTHON);
    tree.finish(&RulesPython::default().expand(), Mode::Directory);
    for var in ["PY_LAUNCHER_DEBUG", "RULES_PYTHON_BOOTSTRAP_VERBOSE"] {
        let out = tree.run(&[], &[(var, "1")]);
        report(&out, 0);
        let err = stderr(&out);
        for needle in [
            "py-launcher: debug: stub: rules-python template, read from",
            &format!("stub fact: stage2_bootstrap = \"{STAGE2_PATH}\""),
            "stub fact: python_binary = \"_main/pkg/_app.venv/bin/python3\"",
            &format!("stub fact: python_binary_actual = \"{PYTHON}\""),
            "stub fact: interpreter_args = \"-X\\nutf8\\n-X\\npy_launcher_test=a b\"",
            "stub fact: venv_rel_site_packages = \"lib/python3.11/site-packages\"",
            "stub fact: recreate_venv_at_runtime = \"0\"",
            "stub: stage 2 (run as the main file)",
        ] {
            assert!(err.contains(needle), "{var}: missing {needle:?} in:\n{err}");
        }
    }
}

#[test]
fn rules_python_zip_is_refused_naming_the_flag() {
    let mut tree = rules_python_tree(PYTHON);
    let stub = RulesPython::default()
        .expand()
        .replace("is_zipfile=0", "is_zipfile=1");
    // A zip executable is stage 1 followed by the zip's bytes.
    tree.finish(
        &format!("{stub}PK\u{3}\u{4}\u{14}\0binary"),
        Mode::Directory,
    );
    let out = tree.run(&[], &[]);
    assert_usage_error(&out, "--build_python_zip");
}

// ---------------------------------------------------------------------------------------------------
// Bazel's built-in py_binary

fn bazel_native_tree() -> Tree {
    let mut tree = Tree::new();
    tree.file("_main/pkg/app.py", APP)
        .file("_main/pkg/lib/greeting.py", GREETING);
    tree
}

fn bazel_native_stub(shebang: Shebang, extra: &[(&str, &str)]) -> String {
    let mut subs: Vec<(&str, &str)> = extra.to_vec();
    let shebang = shebang.line();
    subs.extend([
        ("shebang", shebang.as_str()),
        ("python_binary", PYTHON),
        ("main", "_main/pkg/app.py"),
        ("imports", "_main/pkg/lib"),
        ("workspace_name", "_main"),
        ("import_all", "False"),
        ("is_zipfile", "False"),
        ("coverage_tool", ""),
        ("target", "//pkg:app"),
    ]);
    expand(BAZEL_NATIVE_TEMPLATE, &subs)
}

fn bazel_native_runs(mode: Mode, shebang: Shebang) {
    let mut tree = bazel_native_tree();
    tree.finish(&bazel_native_stub(shebang, &[]), mode);
    let out = tree.run(&["a b", "", "--exit=5"], &[("PYTHONSAFEPATH", "")]);
    let r = report(&out, 5);
    assert_eq!(r["greeting"], "hello from the import path");
    assert_eq!(r["site_init"], false);
    assert_eq!(strs(&r["argv"])[1..], ["a b", "", "--exit=5"]);
    assert_eq!(r["env"]["PY_LAUNCHER_TARGET"], "//pkg:app");
    assert_eq!(
        r["env"]["PYTHONSAFEPATH"], "",
        "a caller's empty value is kept"
    );
    assert_eq!(r["version"], "3.11");
    let executable = r["executable"].as_str().unwrap();
    assert!(
        executable.starts_with(tree.cache.to_str().unwrap()),
        "{executable}"
    );
    match mode {
        Mode::Directory => {
            let root = tree.runfiles_root(mode);
            assert_eq!(strs(&r["argv"])[0], format!("{root}/_main/pkg/app.py"));
            assert_eq!(r["env"]["RUNFILES_DIR"], root.as_str());
        }
        Mode::Manifest => {
            assert_eq!(
                r["env"]["RUNFILES_MANIFEST_FILE"],
                tree.manifest().to_str().unwrap()
            );
            assert_eq!(r["env"]["RUNFILES_DIR"], Value::Null);
        }
    }
}

#[test]
fn bazel_native_directory_env_shebang() {
    bazel_native_runs(Mode::Directory, Shebang::Env);
}

#[test]
fn bazel_native_directory_absolute_shebang() {
    bazel_native_runs(Mode::Directory, Shebang::Absolute);
}

#[test]
fn bazel_native_manifest_env_shebang() {
    bazel_native_runs(Mode::Manifest, Shebang::Env);
}

#[test]
fn bazel_native_manifest_absolute_shebang() {
    bazel_native_runs(Mode::Manifest, Shebang::Absolute);
}

#[test]
fn bazel_native_on_an_old_bazel_leaves_placeholders_and_empty_values() {
    // Bazel 4 knows neither %coverage_tool% nor (in this case) %target%; %imports% may be empty, and
    // %main% may come as <workspace>/<short_path> of a file in another repository.
    let mut tree = Tree::new();
    tree.file("other_repo/tool/app.py", APP)
        .file("_main/greeting.py", GREETING);
    let stub = expand(
        BAZEL_NATIVE_TEMPLATE,
        &[
            ("shebang", &Shebang::Env.line()),
            ("python_binary", PYTHON),
            ("main", "_main/../other_repo/tool/app.py"),
            ("imports", ""),
            ("workspace_name", "_main"),
            ("import_all", "False"),
            ("is_zipfile", "False"),
        ],
    );
    assert!(stub.contains("coverage_tool=%coverage_tool%"));
    tree.finish(&stub, Mode::Directory);
    let r = report(&tree.run(&[], &[]), 0);
    assert_eq!(r["greeting"], "hello from the import path");
    assert_eq!(
        r["env"]["PY_LAUNCHER_TARGET"],
        tree.stub_path().to_str().unwrap()
    );
}

#[test]
fn bazel_native_import_all_puts_every_repository_on_the_path() {
    let mut tree = Tree::new();
    tree.file("_main/pkg/app.py", APP)
        .file("greeting_repo/greeting.py", GREETING);
    tree.finish(
        &bazel_native_stub(Shebang::Env, &[("import_all", "True"), ("imports", "")]),
        Mode::Directory,
    );
    let r = report(&tree.run(&[], &[]), 0);
    assert_eq!(r["greeting"], "hello from the import path");
}

#[test]
fn bazel_native_debug_mode_shows_the_stub_facts() {
    let mut tree = bazel_native_tree();
    tree.finish(&bazel_native_stub(Shebang::Env, &[]), Mode::Manifest);
    let out = tree.run(&[], &[("PY_LAUNCHER_DEBUG", "1")]);
    report(&out, 0);
    let err = stderr(&out);
    for needle in [
        "py-launcher: debug: stub: bazel-native template, read from",
        "stub fact: main = \"_main/pkg/app.py\"",
        "stub fact: imports = \"_main/pkg/lib\"",
        "stub fact: import_all = \"False\"",
        "stub fact: coverage_tool = (empty)",
        "stub fact: target = \"//pkg:app\"",
    ] {
        assert!(err.contains(needle), "missing {needle:?} in:\n{err}");
    }
}

#[test]
fn bazel_native_zip_is_refused_naming_the_flag() {
    // With --build_python_zip, Bazel's executable is a #! line followed by the zip (the stub is inside).
    let mut tree = bazel_native_tree();
    tree.finish(
        "#!/usr/bin/env py-launcher\nPK\u{3}\u{4}\u{14}\0binary",
        Mode::Directory,
    );
    assert_usage_error(&tree.run(&[], &[]), "--build_python_zip");
    let mut tree = bazel_native_tree();
    tree.finish(
        &bazel_native_stub(Shebang::Env, &[("is_zipfile", "True")]),
        Mode::Directory,
    );
    assert_usage_error(&tree.run(&[], &[]), "--build_python_zip");
}

// ---------------------------------------------------------------------------------------------------
// py-launcher's own text stub: the descriptor JSON after the #! line

fn own_runs(mode: Mode, shebang: Shebang) {
    let mut tree = bazel_native_tree();
    let descriptor = serde_json::json!({
        "version": 1,
        "target": "//pkg:app",
        "workspace_name": "_main",
        "main": "_main/pkg/app.py",
        "interpreter": PYTHON,
        "python_version": "3.11",
        "imports": ["_main/pkg/lib"],
        "interpreter_args": ["-X", "utf8"],
    });
    let stub = expand(
        OWN_TEMPLATE,
        &[
            ("shebang", &shebang.line()),
            ("descriptor", &descriptor.to_string()),
        ],
    );
    tree.finish(&stub, mode);
    let out = tree.run(&["x y", "--exit=9"], &[("PY_LAUNCHER_DEBUG", "1")]);
    let r = report(&out, 9);
    assert_eq!(r["greeting"], "hello from the import path");
    assert_eq!(r["utf8_mode"], 1);
    assert_eq!(strs(&r["argv"])[1..], ["x y", "--exit=9"]);
    assert_eq!(r["env"]["PY_LAUNCHER_TARGET"], "//pkg:app");
    let runfiles_var = match mode {
        Mode::Directory => "RUNFILES_DIR",
        Mode::Manifest => "RUNFILES_MANIFEST_FILE",
    };
    assert!(r["env"][runfiles_var].is_string(), "{r}");
    assert!(
        stderr(&out).contains("py-launcher: debug: stub: py-launcher template, read from"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn own_stub_directory_env_shebang() {
    own_runs(Mode::Directory, Shebang::Env);
}

#[test]
fn own_stub_directory_absolute_shebang() {
    own_runs(Mode::Directory, Shebang::Absolute);
}

#[test]
fn own_stub_manifest_env_shebang() {
    own_runs(Mode::Manifest, Shebang::Env);
}

#[test]
fn own_stub_manifest_absolute_shebang() {
    own_runs(Mode::Manifest, Shebang::Absolute);
}

// ---------------------------------------------------------------------------------------------------
// Not a stub

fn assert_usage_error(out: &Output, needle: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(64), "stderr: {err}");
    assert!(out.stdout.is_empty(), "stdout: {:?}", out.stdout);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("py-launcher: "), "{err}");
    assert!(err.contains(needle), "missing {needle:?}: {err}");
}

fn run_launcher(args: &[&OsStr], cache: &Path) -> Output {
    spawn(
        Command::new(launcher())
            .args(args)
            .env_remove("PY_LAUNCHER_DEBUG")
            .env_remove("RULES_PYTHON_BOOTSTRAP_VERBOSE")
            .env("XDG_CACHE_HOME", cache),
    )
}

#[test]
fn no_stub_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run_launcher(&[], tmp.path());
    assert_usage_error(&out, "no stub file");
}

#[test]
fn files_that_are_not_stubs_are_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let write = |name: &str, content: &[u8]| {
        let path = tmp.path().join(name);
        fs::write(&path, content).unwrap();
        path
    };
    let cases: Vec<PathBuf> = vec![
        write("text", b"hello\n"),
        write("empty", b""),
        write("script.sh", b"#!/bin/sh\necho hi\n"),
        write("script.py", b"#!/usr/bin/env py-launcher\nprint('hi')\n"),
        write("binary", b"\x7fELF\x02\x01\x01\0\0\0\xff\xfe"),
        tmp.path().join("missing"),
        tmp.path().to_path_buf(),
    ];
    for path in cases {
        let out = run_launcher(&[path.as_os_str(), OsStr::new("arg")], tmp.path());
        assert_usage_error(&out, "is not a py-launcher stub");
    }
}

#[test]
fn a_broken_stub_is_a_descriptor_error_naming_the_stub() {
    let mut tree = rules_python_tree(PYTHON);
    let stub = RulesPython::default().expand();
    let stub = stub.replace("# py-launcher stub: end\n", "");
    let path = tree.finish(&stub, Mode::Directory);
    let out = tree.run(&[], &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(65), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("py-launcher: bad descriptor: stub "),
        "{err}"
    );
    let shown = String::from_utf8_lossy(path.as_os_str().as_bytes()).into_owned();
    assert!(err.contains(&shown), "{err}");
}

// ---------------------------------------------------------------------------------------------------
// How the stub is started

#[test]
fn a_relative_stub_path_and_a_symlink_to_the_stub_find_the_runfiles() {
    let mut tree = rules_python_tree(PYTHON);
    tree.finish(&RulesPython::default().expand(), Mode::Directory);
    let link = tree.base.join("app link");
    symlink("bazel-bin/pkg/app", &link).unwrap();
    let path = format!(
        "{}:/usr/bin:/bin",
        launcher().parent().unwrap().to_str().unwrap()
    );
    for program in ["bazel-bin/pkg/app", "./app link"] {
        let out = spawn(
            Command::new(program)
                .current_dir(&tree.base)
                .env_clear()
                .env("PATH", &path)
                .env("XDG_CACHE_HOME", &tree.cache),
        );
        let r = report(&out, 0);
        assert_eq!(
            r["env"]["RUNFILES_DIR"],
            tree.runfiles().to_str().unwrap(),
            "{program}"
        );
        assert_eq!(r["site_init"], true);
    }
}

#[test]
fn json_debug_mode_prints_the_plan_with_the_stub_facts() {
    let mut tree = rules_python_tree(PYTHON);
    tree.finish(&RulesPython::default().expand(), Mode::Directory);
    let out = tree.run(&["x"], &[("PY_LAUNCHER_DEBUG", "json")]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["stub"]["path"], tree.stub_path().to_str().unwrap());
    assert_eq!(plan["stub"]["template"], "rules-python");
    assert_eq!(plan["venv"]["kind"], "build-time");
    let argv = strs(&plan["argv"]);
    assert!(argv[argv.len() - 2].ends_with(STAGE2_PATH), "{argv:?}");
    assert_eq!(
        plan["stub"]["facts"]["stage2_bootstrap"], STAGE2_PATH,
        "{plan}"
    );
}

#[test]
fn a_stub_naming_the_launcher_as_its_interpreter_is_refused() {
    // The launcher as the interpreter would start itself forever.
    let mut tree = bazel_native_tree();
    let launcher_path = launcher();
    let stub = bazel_native_stub(
        Shebang::Env,
        &[("python_binary", launcher_path.to_str().unwrap())],
    );
    tree.finish(&stub, Mode::Directory);
    let out = tree.run(&[], &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(67), "{err}");
    assert!(err.contains("is py-launcher itself"), "{err}");
}
