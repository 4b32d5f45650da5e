//! Drop-in route: every stub kind py-launcher reads — its own templates in `templates/`, and the stock
//! stubs Bazel and rules_python write when a runtime changes only `stub_shebang` — expanded the way Bazel
//! expands them (literal replacement of every placeholder), laid over a runfiles tree shaped like the one
//! its rule set makes, then run by the kernel through its `#!` line (`/usr/bin/env py-launcher` with the
//! launcher on PATH, and an absolute path), with real CPython, in directory and manifest-only runfiles.
//!
//! The stock stubs are not copied: `STOCK_*_SHAPE` hold only their substituted lines, written from our
//! own description in docs/dropin.md. The rules_python stage 2 and site init used here are this
//! project's own small stand-ins (`tests/fixtures/dropin/`), written to the contract in docs/dropin.md.

mod common;

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::PathBuf;

use common::{launcher, path_with, strs, Run, Sandbox, PYTHON};
use serde_json::Value;

const RULES_PYTHON_TEMPLATE: &str = include_str!("../templates/rules_python_stub.tmpl");
const BAZEL_NATIVE_TEMPLATE: &str = include_str!("../templates/bazel_native_stub.tmpl");
const OWN_TEMPLATE: &str = include_str!("../templates/py_launcher_stub.tmpl");
const STAGE2: &str = include_str!("fixtures/dropin/stage2_bootstrap.py");
const SITE_INIT: &str = include_str!("fixtures/dropin/bazel_site_init.py");
const APP: &str = include_str!("fixtures/dropin/app.py");
const GREETING: &str = include_str!("fixtures/dropin/greeting.py");

/// Bazel's stock Python stub (`python_stub_template.txt`), reduced to the lines it substitutes, in the
/// shape docs/dropin.md describes (our own description; py-launcher reads only these lines).
const STOCK_NATIVE_SHAPE: &str = "%shebang%
# Stand-in for Bazel's stock Python stub: its substituted lines only.
PYTHON_BINARY = '%python_binary%'
def IsRunningFromZip():
  return %is_zipfile%
def GetRepositoriesImports(module_space, import_all):
  return [os.path.join(module_space, '%workspace_name%')]
def Main():
  python_imports = '%imports%'
  python_path_entries += GetRepositoriesImports(module_space, %import_all%)
  rel_path = '%main%'
    target='%target%',
";

/// rules_python's stock `system_python` stub (`python_bootstrap_template.txt`, 2.x), reduced the same
/// way. `%interpreter_args%` sits in a string literal, so a multi-line value spans lines.
const STOCK_SYSTEM_PYTHON_SHAPE: &str = "%shebang%
# Stand-in for rules_python's system_python stub: its substituted lines only.
STAGE2_BOOTSTRAP=\"%stage2_bootstrap%\"
  _main = \"%main%\"
PYTHON_BINARY = '%python_binary%'
PYTHON_BINARY_ACTUAL = \"%python_binary_actual%\"
IS_ZIPFILE = \"%is_zipfile%\" == \"1\"
RECREATE_VENV_AT_RUNTIME = \"%recreate_venv_at_runtime%\" == \"1\"
RESOLVE_PYTHON_BINARY_AT_RUNTIME = \"%resolve_python_binary_at_runtime%\" == \"1\"
VENV_REL_SITE_PACKAGES = \"%venv_rel_site_packages%\"
WORKSPACE_NAME = \"%workspace_name%\"
_INTERPRETER_ARGS_RAW = \"%interpreter_args%\"
RUNTIME_VENV_SYMLINKS = \"\"\"
%runtime_venv_symlinks%
\"\"\".strip()
";

const STAGE2_PATH: &str = "_main/pkg/_app_stage2_bootstrap.py";
const VENV: &str = "_main/pkg/_app.venv";
const SITE_PACKAGES: &str = "lib/python3.11/site-packages";

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

/// A Bazel-like output tree in a sandbox, under a path with a space: real files under `real/`, the stub
/// at `bazel-bin/pkg/app`, and either `app.runfiles/` (a tree of symlinks) or `app.runfiles_manifest`.
struct Tree {
    sandbox: Sandbox,
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
        let sandbox = Sandbox::new();
        let base = sandbox.path("work space");
        let cache = sandbox.cache();
        fs::create_dir_all(base.join("bazel-bin/pkg")).unwrap();
        Tree {
            sandbox,
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

    /// Runs the stub the way a user does (`execve` of the stub; the kernel reads its `#!` line), from
    /// the sandbox's clean environment with the launcher's directory first on PATH.
    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = self
            .sandbox
            .command(self.stub_path())
            .env("PATH", path_with(launcher().parent().unwrap()))
            .args(args);
        for (key, value) in env {
            cmd = cmd.env(key, value);
        }
        cmd.run()
    }

    fn runfiles_root(&self, mode: Mode) -> String {
        match mode {
            Mode::Directory => self.runfiles().to_str().unwrap().to_owned(),
            Mode::Manifest => String::new(),
        }
    }
}

/// The program's JSON report (the last stdout line), after checking the exit status.
fn report(run: &Run, code: i32) -> Value {
    assert_eq!(run.code(), Some(code), "wrong exit status\n{run}");
    run.report()
}

// ---------------------------------------------------------------------------------------------------
// Stubs: each kind expanded from its template (ours) or shape (a stock stub's substituted lines)

#[derive(Clone, Copy, PartialEq, Debug)]
enum Stub {
    /// rules_python's script bootstrap through `templates/rules_python_stub.tmpl`.
    RulesPythonTemplate,
    /// rules_python's stock `system_python` stub (only `stub_shebang` changed).
    SystemPython,
    /// Bazel's built-in rules through `templates/bazel_native_stub.tmpl`.
    BazelNativeTemplate,
    /// Bazel's stock Python stub (only `stub_shebang` changed).
    StockNative,
    /// py-launcher's own text stub: the descriptor JSON after the `#!` line.
    Own,
}

const STUBS: [Stub; 5] = [
    Stub::RulesPythonTemplate,
    Stub::SystemPython,
    Stub::BazelNativeTemplate,
    Stub::StockNative,
    Stub::Own,
];

impl Stub {
    fn is_rules_python(self) -> bool {
        matches!(self, Stub::RulesPythonTemplate | Stub::SystemPython)
    }

    /// What the debug trace and the JSON plan call the stub's template.
    fn template_name(self) -> &'static str {
        match self {
            Stub::RulesPythonTemplate => "rules-python",
            Stub::SystemPython => "stock-system-python",
            Stub::BazelNativeTemplate => "bazel-native",
            Stub::StockNative => "stock-native",
            Stub::Own => "py-launcher",
        }
    }

    /// The tree its rule set lays out, and the stub with the default facts.
    fn tree_and_text(self, shebang: Shebang) -> (Tree, String) {
        match self {
            Stub::RulesPythonTemplate | Stub::SystemPython => (
                rules_python_tree(PYTHON),
                RulesPython {
                    shebang: shebang.line(),
                    ..RulesPython::of(self)
                }
                .expand(),
            ),
            Stub::BazelNativeTemplate | Stub::StockNative => {
                (bazel_native_tree(), native_stub(self, shebang, &[]))
            }
            Stub::Own => (bazel_native_tree(), own_stub(shebang)),
        }
    }

    /// `PY_LAUNCHER_TARGET`: the label where the stub carries one, else the stub's own path.
    fn target(self, tree: &Tree) -> String {
        match self {
            Stub::RulesPythonTemplate => "@@//pkg:app".into(),
            Stub::SystemPython => tree.stub_path().to_str().unwrap().into(),
            _ => "//pkg:app".into(),
        }
    }
}

/// rules_python's layout: `_app.venv/` with an empty pyvenv.cfg, `bin/python3` linking to the
/// interpreter, site-packages with `bazel.pth` and the site init; the stage 2 beside the target.
fn rules_python_tree(venv_python_target: &str) -> Tree {
    rules_python_tree_with(venv_python_target, SITE_PACKAGES)
}

fn rules_python_tree_with(venv_python_target: &str, site_packages: &str) -> Tree {
    let mut tree = Tree::new();
    tree.file("_main/pkg/app.py", APP)
        .file("_main/pkg/lib/greeting.py", GREETING)
        .file(STAGE2_PATH, STAGE2)
        .file(&format!("{VENV}/pyvenv.cfg"), "")
        .symlink(&format!("{VENV}/bin/python3"), venv_python_target)
        .file(
            &format!("{VENV}/{site_packages}/bazel.pth"),
            "import _bazel_site_init\n",
        )
        .file(
            &format!("{VENV}/{site_packages}/_bazel_site_init.py"),
            SITE_INIT,
        );
    tree
}

/// The values rules_python substitutes into stage 1 (the same set for both stubs).
struct RulesPython<'a> {
    template: &'a str,
    shebang: String,
    python_binary: &'a str,
    python_binary_actual: &'a str,
    recreate: &'a str,
    resolve: &'a str,
    interpreter_args: &'a str,
    target: &'a str,
    site_packages: &'a str,
    is_zipfile: &'a str,
}

impl RulesPython<'_> {
    fn of(stub: Stub) -> Self {
        RulesPython {
            template: match stub {
                Stub::SystemPython => STOCK_SYSTEM_PYTHON_SHAPE,
                _ => RULES_PYTHON_TEMPLATE,
            },
            shebang: Shebang::Env.line(),
            python_binary: "_main/pkg/_app.venv/bin/python3",
            python_binary_actual: PYTHON,
            recreate: "0",
            resolve: "0",
            interpreter_args: "-X\nutf8\n-X\npy_launcher_test=a b",
            target: "@@//pkg:app",
            site_packages: SITE_PACKAGES,
            is_zipfile: "0",
        }
    }

    fn expand(&self) -> String {
        expand(
            self.template,
            &[
                ("shebang", &self.shebang),
                ("stage2_bootstrap", STAGE2_PATH),
                ("python_binary", self.python_binary),
                ("python_binary_actual", self.python_binary_actual),
                ("is_zipfile", self.is_zipfile),
                ("recreate_venv_at_runtime", self.recreate),
                ("resolve_python_binary_at_runtime", self.resolve),
                ("venv_rel_site_packages", self.site_packages),
                ("interpreter_args", self.interpreter_args),
                ("target", self.target),
                ("workspace_name", "_main"),
                ("runtime_venv_symlinks", ""),
            ],
        )
    }
}

fn bazel_native_tree() -> Tree {
    let mut tree = Tree::new();
    tree.file("_main/pkg/app.py", APP)
        .file("_main/pkg/lib/greeting.py", GREETING);
    tree
}

/// Bazel's built-in rules' values (`extra` first: the first substitution of a name wins).
fn native_stub(stub: Stub, shebang: Shebang, extra: &[(&str, &str)]) -> String {
    let template = match stub {
        Stub::StockNative => STOCK_NATIVE_SHAPE,
        _ => BAZEL_NATIVE_TEMPLATE,
    };
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
    expand(template, &subs)
}

fn own_stub(shebang: Shebang) -> String {
    let descriptor = serde_json::json!({
        "version": 1,
        "target": "//pkg:app",
        "workspace_name": "_main",
        "main": "_main/pkg/app.py",
        "interpreter": PYTHON,
        "python_version": "3.11",
        "imports": ["_main/pkg/lib"],
        "interpreter_args": ["-X", "utf8", "-X", "py_launcher_test=a b"],
    });
    expand(
        OWN_TEMPLATE,
        &[
            ("shebang", &shebang.line()),
            ("descriptor", &descriptor.to_string()),
        ],
    )
}

// ---------------------------------------------------------------------------------------------------
// The matrix: every stub kind, in directory and manifest-only runfiles, through both #! forms

#[test]
fn every_stub_runs_in_every_layout_through_both_shebangs() {
    for stub in STUBS {
        for mode in [Mode::Directory, Mode::Manifest] {
            for shebang in [Shebang::Env, Shebang::Absolute] {
                check_case(stub, mode, shebang);
            }
        }
    }
}

fn check_case(stub: Stub, mode: Mode, shebang: Shebang) {
    let case = format!("{stub:?} {mode:?} {shebang:?}");
    let (mut tree, text) = stub.tree_and_text(shebang);
    tree.finish(&text, mode);
    let run = tree.run(
        &["a b", "", "--exit=3"],
        &[("RULES_PYTHON_ADDITIONAL_INTERPRETER_ARGS", "-X 'extra=x y'")],
    );
    let r = report(&run, 3);
    let root = tree.runfiles_root(mode);
    let env = &r["env"];
    assert_eq!(r["greeting"], "hello from the import path", "{case}");
    assert_eq!(r["version"], "3.11", "{case}");
    assert_eq!(r["xoptions"]["extra"], "x y", "{case}");
    assert_eq!(env["PYTHONSAFEPATH"], "1", "{case}");
    assert_eq!(
        env["PY_LAUNCHER_TARGET"],
        stub.target(&tree).as_str(),
        "{case}"
    );
    assert_eq!(
        env["RULES_PYTHON_ADDITIONAL_INTERPRETER_ARGS"],
        Value::Null,
        "{case}"
    );
    let argv = strs(&r["argv"]);
    assert_eq!(&argv[1..], ["a b", "", "--exit=3"], "{case}");
    match mode {
        Mode::Directory => {
            assert_eq!(argv[0], format!("{root}/_main/pkg/app.py"), "{case}");
            assert_eq!(env["RUNFILES_DIR"], root.as_str(), "{case}");
            assert_eq!(env["RUNFILES_MANIFEST_FILE"], Value::Null, "{case}");
        }
        Mode::Manifest => {
            assert_eq!(
                env["RUNFILES_MANIFEST_FILE"],
                tree.manifest().to_str().unwrap(),
                "{case}"
            );
            assert_eq!(env["RUNFILES_DIR"], Value::Null, "{case}");
        }
    }
    let orig = strs(&r["orig_argv"]);
    let executable = r["executable"].as_str().unwrap();
    let in_cache = executable.starts_with(tree.cache.to_str().unwrap());
    // bazel_build_info lives in the venvs py-launcher makes; rules_python's venv is rules_python's.
    assert_eq!(r["build_info"], !stub.is_rules_python(), "{case}");
    if stub.is_rules_python() {
        assert_eq!(r["site_init"], true, "{case}: bazel.pth ran the site init");
        assert_eq!(r["utf8_mode"], 1, "{case}");
        assert_eq!(r["xoptions"]["py_launcher_test"], "a b", "{case}");
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
            ],
            "{case}"
        );
        assert!(
            orig[7].ends_with("_app_stage2_bootstrap.py"),
            "{case}: {orig:?}"
        );
        assert_eq!(r["stage2"], orig[7].as_str(), "{case}");
        match mode {
            Mode::Directory => {
                // The build-time venv is used as it is: its python is the program's sys.executable.
                let venv_python = format!("{root}/{VENV}/bin/python3");
                assert_eq!(orig[0], venv_python, "{case}");
                assert_eq!(executable, venv_python, "{case}");
                assert_eq!(r["prefix"], format!("{root}/{VENV}").as_str(), "{case}");
                assert_eq!(orig[7], format!("{root}/{STAGE2_PATH}"), "{case}");
            }
            // No tree: a run-time venv in the cache links to the real venv, so bazel.pth still runs.
            Mode::Manifest => assert!(in_cache, "{case}: {executable}"),
        }
    } else {
        assert_eq!(r["site_init"], false, "{case}");
        // Bazel's built-in rules make no venv: the launcher's run-time venv, in the cache.
        assert!(in_cache, "{case}: {executable}");
        assert!(
            orig.ends_with(&["a b".into(), "".into(), "--exit=3".into()]),
            "{case}"
        );
    }
}

// ---------------------------------------------------------------------------------------------------
// rules_python specifics, for the template and the stock system_python stub alike

const RULES_PYTHON_STUBS: [Stub; 2] = [Stub::RulesPythonTemplate, Stub::SystemPython];

#[test]
fn rules_python_recreates_the_venv_at_run_time_when_asked() {
    // With recreate (and resolve) at run time, rules_python's venv python is a plain file that must
    // never be executed.
    for stub in RULES_PYTHON_STUBS {
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
        let text = RulesPython {
            recreate: "1",
            resolve: "1",
            ..RulesPython::of(stub)
        }
        .expand();
        tree.finish(&text, Mode::Directory);
        for _ in 0..2 {
            let r = report(&tree.run(&[], &[]), 0);
            let executable = r["executable"].as_str().unwrap();
            assert!(
                executable.starts_with(tree.cache.to_str().unwrap()),
                "{stub:?}: {executable}"
            );
            assert!(
                executable.ends_with("/bin/python3.11"),
                "{stub:?}: {executable}"
            );
            assert_eq!(r["site_init"], true, "{stub:?}");
            assert_eq!(r["greeting"], "hello from the import path", "{stub:?}");
        }
        let venvs: Vec<_> = fs::read_dir(tree.cache.join("py-launcher"))
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("venv-"))
            .collect();
        assert_eq!(
            venvs.len(),
            1,
            "{stub:?}: the second launch reuses the first's venv"
        );
        let lib = fs::read_link(venvs[0].path().join("lib")).unwrap();
        assert_eq!(lib, tree.runfiles().join(VENV).join("lib"), "{stub:?}");
    }
}

#[test]
fn rules_python_runs_when_site_packages_names_another_python_version() {
    // The venv was made for 3.10 (its site-packages says so); the interpreter is 3.11. rules_python
    // runs the program (its stage 2 adds the site-packages itself); so does py-launcher, and the trace
    // says so. With the build-time venv, and with a run-time venv linked to it.
    const OTHER: &str = "lib/python3.10/site-packages";
    for stub in RULES_PYTHON_STUBS {
        for recreate in ["0", "1"] {
            let case = format!("{stub:?} recreate={recreate}");
            let mut tree = rules_python_tree_with(PYTHON, OTHER);
            let text = RulesPython {
                recreate,
                site_packages: OTHER,
                ..RulesPython::of(stub)
            }
            .expand();
            tree.finish(&text, Mode::Directory);
            let run = tree.run(&["x"], &[("PY_LAUNCHER_DEBUG", "1")]);
            let r = report(&run, 0);
            assert_eq!(r["version"], "3.11", "{case}");
            assert_eq!(r["greeting"], "hello from the import path", "{case}");
            assert_eq!(r["site_init"], true, "{case}");
            let added = r["added_site_packages"].as_str().unwrap_or_default();
            assert!(
                added.ends_with(OTHER),
                "{case}: the program added it: {added}"
            );
            assert!(
                run.stderr().contains(&format!(
                    "venv: its site-packages \"{OTHER}\" names Python 3.10, but the interpreter is Python 3.11: running anyway"
                )),
                "{case}\n{run}"
            );
        }
    }
}

#[test]
fn rules_python_in_build_runtime_with_a_relative_venv_link() {
    // An in-build runtime: %python_binary_actual% is a runfiles path and the venv's bin/python3 a
    // relative declared symlink to it.
    for stub in RULES_PYTHON_STUBS {
        let mut tree = rules_python_tree("../../../../python_3_11/bin/python3");
        tree.symlink("python_3_11/bin/python3", PYTHON);
        let text = RulesPython {
            python_binary_actual: "python_3_11/bin/python3",
            ..RulesPython::of(stub)
        }
        .expand();
        tree.finish(&text, Mode::Directory);
        let r = report(&tree.run(&["x"], &[]), 0);
        let root = tree.runfiles_root(Mode::Directory);
        assert_eq!(
            r["executable"],
            format!("{root}/{VENV}/bin/python3").as_str(),
            "{stub:?}"
        );
        assert_eq!(r["version"], "3.11", "{stub:?}");
        assert_eq!(r["site_init"], true, "{stub:?}");
    }
}

#[test]
fn rules_python_empty_and_unsubstituted_values() {
    // No interpreter args (an empty multi-line value), an empty target, and an older rules_python that
    // does not substitute %resolve_python_binary_at_runtime%.
    for stub in RULES_PYTHON_STUBS {
        let mut tree = rules_python_tree(PYTHON);
        let text = RulesPython {
            interpreter_args: "",
            target: "",
            resolve: "%resolve_python_binary_at_runtime%",
            ..RulesPython::of(stub)
        }
        .expand();
        tree.finish(&text, Mode::Directory);
        let r = report(&tree.run(&[], &[]), 0);
        let orig = strs(&r["orig_argv"]);
        assert_eq!(orig.len(), 2, "{stub:?}: python and stage 2 only: {orig:?}");
        // No label: the stub's own path stands in for it.
        assert_eq!(
            r["env"]["PY_LAUNCHER_TARGET"],
            tree.stub_path().to_str().unwrap(),
            "{stub:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------------
// Bazel's built-in rules, for the template and the stock stub alike

const NATIVE_STUBS: [Stub; 2] = [Stub::BazelNativeTemplate, Stub::StockNative];

#[test]
fn bazel_native_on_an_old_bazel_leaves_placeholders_and_empty_values() {
    // Bazel 4 knows neither %coverage_tool% nor (in this case) %target%; %imports% may be empty, and
    // %main% may come as <workspace>/<short_path> of a file in another repository. A caller's empty
    // PYTHONSAFEPATH is kept.
    for stub in NATIVE_STUBS {
        let mut tree = Tree::new();
        tree.file("other_repo/tool/app.py", APP)
            .file("_main/greeting.py", GREETING);
        let template = match stub {
            Stub::StockNative => STOCK_NATIVE_SHAPE,
            _ => BAZEL_NATIVE_TEMPLATE,
        };
        let text = expand(
            template,
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
        assert!(text.contains("%target%"), "{stub:?}");
        tree.finish(&text, Mode::Directory);
        let r = report(&tree.run(&[], &[("PYTHONSAFEPATH", "")]), 0);
        assert_eq!(r["greeting"], "hello from the import path", "{stub:?}");
        assert_eq!(
            r["env"]["PY_LAUNCHER_TARGET"],
            tree.stub_path().to_str().unwrap(),
            "{stub:?}"
        );
        assert_eq!(
            r["env"]["PYTHONSAFEPATH"], "",
            "{stub:?}: a caller's empty value is kept"
        );
    }
}

#[test]
fn bazel_native_import_all_puts_every_repository_on_the_path() {
    for stub in NATIVE_STUBS {
        let mut tree = Tree::new();
        tree.file("_main/pkg/app.py", APP)
            .file("greeting_repo/greeting.py", GREETING);
        tree.finish(
            &native_stub(
                stub,
                Shebang::Env,
                &[("import_all", "True"), ("imports", "")],
            ),
            Mode::Directory,
        );
        let r = report(&tree.run(&[], &[]), 0);
        assert_eq!(r["greeting"], "hello from the import path", "{stub:?}");
    }
}

#[test]
fn a_stub_naming_the_launcher_as_its_interpreter_is_refused() {
    // The launcher as the interpreter would start itself forever.
    for stub in NATIVE_STUBS {
        let mut tree = bazel_native_tree();
        let launcher_path = launcher();
        let text = native_stub(
            stub,
            Shebang::Env,
            &[("python_binary", launcher_path.to_str().unwrap())],
        );
        tree.finish(&text, Mode::Directory);
        tree.run(&[], &[]).fails(67, "is py-launcher itself");
    }
}

// ---------------------------------------------------------------------------------------------------
// What the debug trace and the JSON plan show

#[test]
fn debug_mode_shows_the_stub_facts() {
    let rules_python = [
        &format!("stub fact: stage2_bootstrap = \"{STAGE2_PATH}\"") as &str,
        "stub fact: python_binary = \"_main/pkg/_app.venv/bin/python3\"",
        &format!("stub fact: python_binary_actual = \"{PYTHON}\""),
        "stub fact: interpreter_args = \"-X\\nutf8\\n-X\\npy_launcher_test=a b\"",
        "stub fact: venv_rel_site_packages = \"lib/python3.11/site-packages\"",
        "stub fact: recreate_venv_at_runtime = \"0\"",
        "stub: stage 2 (run as the main file)",
    ]
    .map(str::to_owned);
    let native = [
        "stub fact: main = \"_main/pkg/app.py\"",
        "stub fact: imports = \"_main/pkg/lib\"",
        "stub fact: import_all = \"False\"",
        "stub fact: target = \"//pkg:app\"",
    ];
    let cases: [(Stub, &[&str], Mode); 4] = [
        (
            Stub::RulesPythonTemplate,
            &["stub fact: target = \"@@//pkg:app\""],
            Mode::Directory,
        ),
        (
            Stub::SystemPython,
            &["stub fact: workspace_name = \"_main\""],
            Mode::Directory,
        ),
        (
            Stub::BazelNativeTemplate,
            &["stub fact: coverage_tool = (empty)"],
            Mode::Manifest,
        ),
        (
            Stub::StockNative,
            &["stub fact: is_zipfile = \"False\""],
            Mode::Manifest,
        ),
    ];
    for (stub, extra, mode) in cases {
        let (mut tree, text) = stub.tree_and_text(Shebang::Env);
        tree.finish(&text, mode);
        let common: Vec<&str> = if stub.is_rules_python() {
            rules_python.iter().map(String::as_str).collect()
        } else {
            native.to_vec()
        };
        for var in ["PY_LAUNCHER_DEBUG", "RULES_PYTHON_BOOTSTRAP_VERBOSE"] {
            let run = tree.run(&[], &[(var, "1")]);
            report(&run, 0);
            let err = run.stderr();
            let header = format!(
                "py-launcher: debug: stub: {} template, read from",
                stub.template_name()
            );
            for needle in common.iter().chain(extra).copied().chain([header.as_str()]) {
                assert!(
                    err.contains(needle),
                    "{stub:?} {var}: missing {needle:?} in:\n{err}"
                );
            }
        }
    }
}

#[test]
fn json_debug_mode_prints_the_plan_with_the_stub_facts() {
    for (stub, fact, value) in [
        (Stub::RulesPythonTemplate, "stage2_bootstrap", STAGE2_PATH),
        (Stub::SystemPython, "stage2_bootstrap", STAGE2_PATH),
        (Stub::StockNative, "main", "_main/pkg/app.py"),
    ] {
        let (mut tree, text) = stub.tree_and_text(Shebang::Env);
        tree.finish(&text, Mode::Directory);
        let run = tree.run(&["x"], &[("PY_LAUNCHER_DEBUG", "json")]);
        let plan = run.ok().json();
        assert_eq!(plan["stub"]["path"], tree.stub_path().to_str().unwrap());
        assert_eq!(plan["stub"]["template"], stub.template_name());
        assert_eq!(plan["stub"]["facts"][fact], value, "{plan}");
        let argv = strs(&plan["argv"]);
        assert_eq!(argv.last().map(String::as_str), Some("x"));
        if stub.is_rules_python() {
            assert_eq!(plan["venv"]["kind"], "build-time", "{stub:?}");
            assert!(argv[argv.len() - 2].ends_with(STAGE2_PATH), "{argv:?}");
        } else {
            assert_eq!(plan["venv"]["kind"], "run-time", "{stub:?}");
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// Refusals: zips, files that are not stubs, damaged stubs

#[test]
fn zips_are_refused_naming_the_flag() {
    let zip_tail = "PK\u{3}\u{4}\u{14}\0binary";
    let rules_python = |stub| {
        RulesPython {
            is_zipfile: "1",
            ..RulesPython::of(stub)
        }
        .expand()
    };
    let cases: Vec<(&str, String)> = vec![
        // A zip executable is stage 1 followed by the zip's bytes.
        (
            "rules_python template",
            rules_python(Stub::RulesPythonTemplate) + zip_tail,
        ),
        ("system_python stub", rules_python(Stub::SystemPython)),
        (
            "native template",
            native_stub(
                Stub::BazelNativeTemplate,
                Shebang::Env,
                &[("is_zipfile", "True")],
            ),
        ),
        (
            "stock native stub",
            native_stub(Stub::StockNative, Shebang::Env, &[("is_zipfile", "True")]),
        ),
        // Bazel's own zip executable: a #! line, then the zip (the stub is inside).
        (
            "#! line and a zip",
            format!("#!/usr/bin/env py-launcher\n{zip_tail}"),
        ),
        // The `.zip` beside it: no #! line at all.
        ("bare zip", zip_tail.to_owned()),
    ];
    for (case, text) in cases {
        let mut tree = bazel_native_tree();
        tree.finish(&text, Mode::Directory);
        let run = tree.sandbox.command(launcher()).arg(tree.stub_path()).run();
        assert!(run.stdout().is_empty(), "{case}\n{run}");
        run.fails(64, "--build_python_zip");
    }
}

#[test]
fn no_stub_is_a_usage_error() {
    let sandbox = Sandbox::new();
    sandbox.command(launcher()).run().fails(64, "no stub file");
}

#[test]
fn files_that_are_not_stubs_are_usage_errors() {
    let sandbox = Sandbox::new();
    let cases: Vec<PathBuf> = vec![
        sandbox.write("text", b"hello\n"),
        sandbox.write("empty", b""),
        sandbox.write("script.sh", b"#!/bin/sh\necho hi\n"),
        sandbox.write("script.py", b"#!/usr/bin/env py-launcher\nprint('hi')\n"),
        sandbox.write("binary", b"\x7fELF\x02\x01\x01\0\0\0\xff\xfe"),
        sandbox.path("missing"),
        sandbox.root().to_path_buf(),
    ];
    for path in cases {
        sandbox
            .command(launcher())
            .args([path.as_os_str(), OsStr::new("arg")])
            .run()
            .fails(64, "is not a py-launcher stub");
    }
    // What a script with a py-launcher #! line lacks is said.
    let run = sandbox
        .command(launcher())
        .arg(sandbox.path("script.py"))
        .run();
    for needle in [
        "descriptor JSON",
        "PYTHON_BINARY = '",
        "STAGE2_BOOTSTRAP=\"",
    ] {
        assert!(run.stderr().contains(needle), "{needle}\n{run}");
    }
}

#[test]
fn a_damaged_stub_is_a_descriptor_error_naming_the_stub_and_what_is_missing() {
    let cases: [(Stub, String, &str); 3] = [
        (
            Stub::RulesPythonTemplate,
            RulesPython::of(Stub::RulesPythonTemplate)
                .expand()
                .replace("# py-launcher stub: end\n", ""),
            "ends before the line",
        ),
        (
            Stub::StockNative,
            native_stub(Stub::StockNative, Shebang::Env, &[]).replace("rel_path = ", "path = "),
            "the line `rel_path = '…'` (main) is missing",
        ),
        (
            Stub::SystemPython,
            RulesPython::of(Stub::SystemPython)
                .expand()
                .replace("WORKSPACE_NAME = ", "NAME = "),
            "the line `WORKSPACE_NAME = \"…\"` (workspace_name) is missing",
        ),
    ];
    for (stub, text, needle) in cases {
        let (mut tree, _) = stub.tree_and_text(Shebang::Env);
        let path = tree.finish(&text, Mode::Directory);
        let run = tree.run(&[], &[]);
        let shown = String::from_utf8_lossy(path.as_os_str().as_bytes()).into_owned();
        assert!(
            run.stderr()
                .starts_with("py-launcher: bad descriptor: stub "),
            "{run}"
        );
        assert!(run.stderr().contains(&shown), "{run}");
        run.fails(65, needle);
    }
}

// ---------------------------------------------------------------------------------------------------
// How the stub is started

#[test]
fn a_relative_stub_path_and_a_symlink_to_the_stub_find_the_runfiles() {
    for stub in [Stub::RulesPythonTemplate, Stub::StockNative] {
        let (mut tree, text) = stub.tree_and_text(Shebang::Env);
        tree.finish(&text, Mode::Directory);
        let link = tree.base.join("app link");
        symlink("bazel-bin/pkg/app", &link).unwrap();
        for program in ["bazel-bin/pkg/app", "./app link"] {
            let run = tree
                .sandbox
                .command(program)
                .current_dir(&tree.base)
                .env("PATH", path_with(launcher().parent().unwrap()))
                .run();
            let r = report(&run, 0);
            assert_eq!(
                r["env"]["RUNFILES_DIR"],
                tree.runfiles().to_str().unwrap(),
                "{stub:?} {program}"
            );
            assert_eq!(
                r["greeting"], "hello from the import path",
                "{stub:?} {program}"
            );
        }
    }
}
