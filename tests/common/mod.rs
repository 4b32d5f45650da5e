//! Shared helpers: a private sandbox per test, a hello-world binary laid out the way Bazel lays out
//! runfiles (every file a symlink into a separate source tree), the real finalize tool, and a command
//! runner that starts from an empty environment and prints everything useful when an assertion fails.
#![allow(dead_code, unreachable_pub)]

pub mod bazel;
pub mod layout;
pub mod release;

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{json, Value};

/// Debian's CPython: the interpreter every test runs (the `python3` on PATH is a pyenv shim).
pub const PYTHON: &str = "/usr/bin/python3.11";

/// The PATH every launched program gets unless a test says otherwise ([`Sandbox::command`]).
pub const CLEAN_PATH: &str = "/usr/bin:/bin";

/// [`CLEAN_PATH`] with `dir` first (a launcher for `#!/usr/bin/env py-launcher`, a decoy interpreter).
pub fn path_with(dir: &Path) -> String {
    format!("{}:{CLEAN_PATH}", dir.display())
}

/// The effective user id of the test process (root-only cases skip on another).
pub fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

pub fn launcher() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_py-launcher"))
}

pub fn finalizer() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_py-launcher-finalize"))
}

pub struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::Builder::new()
                .prefix("pyl-test-")
                .tempdir()
                .expect("temp dir"),
        }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }

    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, content).unwrap();
        path
    }

    pub fn write_exe(&self, rel: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.write(rel, content);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    pub fn symlink(&self, target: impl AsRef<Path>, rel: &str) -> PathBuf {
        let path = self.path(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        symlink(target, &path).unwrap();
        path
    }

    pub fn cache(&self) -> PathBuf {
        self.path("cache")
    }

    pub fn home(&self) -> PathBuf {
        self.path("home")
    }

    /// A command that starts from an empty environment but for PATH, HOME, LANG and a private cache.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Cmd {
        fs::create_dir_all(self.home()).unwrap();
        let mut command = Command::new(program);
        command
            .env_clear()
            .env("PATH", CLEAN_PATH)
            .env("HOME", self.home())
            .env("LANG", "C.UTF-8")
            .env("XDG_CACHE_HOME", self.cache())
            .env("TMPDIR", self.path("tmp"))
            .stdin(Stdio::null());
        fs::create_dir_all(self.path("tmp")).unwrap();
        Cmd {
            command,
            tree: Some(self.root().to_path_buf()),
        }
    }
}

/// The Python program most tests run: it reports what it sees as one JSON line.
pub const REPORT_MAIN: &str = r#"
import json, os, sys
import greet
print(json.dumps({
    "argv": [os.fsencode(a).decode("utf-8", "replace") for a in sys.argv],
    "argv_bytes": [list(os.fsencode(a)) for a in sys.argv],
    "path": sys.path,
    "executable": sys.executable,
    "base_executable": sys._base_executable,
    "prefix": sys.prefix,
    "base_prefix": sys.base_prefix,
    "flags_safe_path": sys.flags.safe_path,
    "version": "%d.%d" % sys.version_info[:2],
    "greeting": greet.hello(),
    "pid": os.getpid(),
    "cwd": os.getcwd(),
    "env": {k: os.fsencode(v).decode("utf-8", "replace") for k, v in os.environ.items()},
}))
"#;

/// A py_binary-like app: `bin/app` (the finalized launcher), `bin/app.runfiles/` whose files are
/// symlinks into `src/`, and a descriptor the test can change before [`App::finalize`].
pub struct App {
    pub sandbox: Sandbox,
    pub descriptor: Value,
    /// Runfiles path → real file, as a manifest would list them.
    pub entries: BTreeMap<String, PathBuf>,
}

impl App {
    pub fn hello() -> App {
        let sandbox = Sandbox::new();
        let mut app = App {
            sandbox,
            descriptor: json!({
                "version": 1,
                "target": "//pkg:app",
                "workspace_name": "_main",
                "main": "_main/pkg/main.py",
                "interpreter": PYTHON,
                "python_version": "3.11",
                "imports": ["_main/pkg/lib"],
            }),
            entries: BTreeMap::new(),
        };
        app.add_file("_main/pkg/main.py", REPORT_MAIN);
        app.add_file(
            "_main/pkg/lib/greet/__init__.py",
            "def hello():\n    return 'hello from greet'\n",
        );
        app
    }

    /// Adds a source file and its runfiles symlink.
    pub fn add_file(&mut self, runfiles_path: &str, content: &str) -> PathBuf {
        let real = self.sandbox.write(&format!("src/{runfiles_path}"), content);
        let link = self.runfiles().join(runfiles_path);
        let _ = fs::remove_file(&link);
        fs::create_dir_all(link.parent().unwrap()).unwrap();
        symlink(&real, &link).unwrap();
        self.entries.insert(runfiles_path.to_owned(), real.clone());
        real
    }

    /// Adds every file below the real directory `real` as `runfiles_dir/<its path below real>`: a
    /// runfiles symlink and a manifest entry each (an unpacked wheel as an external repository).
    pub fn add_tree(&mut self, runfiles_dir: &str, real: &Path) {
        for file in files_under(real) {
            let rel = file.strip_prefix(real).unwrap().to_str().unwrap();
            let runfiles_path = format!("{runfiles_dir}/{rel}");
            let link = self.runfiles().join(&runfiles_path);
            fs::create_dir_all(link.parent().unwrap()).unwrap();
            symlink(&file, &link).unwrap();
            self.entries.insert(runfiles_path, file);
        }
    }

    pub fn set(&mut self, key: &str, value: Value) -> &mut App {
        self.descriptor[key] = value;
        self
    }

    pub fn remove(&mut self, key: &str) -> &mut App {
        self.descriptor.as_object_mut().unwrap().remove(key);
        self
    }

    pub fn bin(&self) -> PathBuf {
        self.sandbox.path("bin/app")
    }

    pub fn runfiles(&self) -> PathBuf {
        self.sandbox.path("bin/app.runfiles")
    }

    /// Writes the descriptor and runs the real finalize tool; panics with its stderr on failure.
    pub fn finalize(&self) -> PathBuf {
        let json = self.sandbox.write(
            "descriptor.json",
            serde_json::to_vec_pretty(&self.descriptor).unwrap(),
        );
        finalize(&json, &self.bin()).ok();
        self.bin()
    }

    pub fn command(&self) -> Cmd {
        self.sandbox.command(self.bin())
    }

    /// Lays out a build-time venv as `bazel/private/venv_layout.bzl` describes it (a platform runtime's
    /// `pyvenv.cfg`, without the `.pth` file's `sys._base_executable` line; `bin/python3` a link to
    /// [`PYTHON`]) and names it in the descriptor.
    pub fn add_build_time_venv(&mut self) -> PathBuf {
        let layout = layout::venv_layout();
        let venv_path = "_main/pkg/_app.venv";
        let venv = self.runfiles().join(venv_path);
        let site_packages = layout.site_packages("3.11");
        let site = venv.join(&site_packages);
        fs::create_dir_all(&site).unwrap();
        let python = venv.join(layout.build_time_python());
        fs::create_dir_all(python.parent().unwrap()).unwrap();
        let home = Path::new(PYTHON).parent().unwrap().to_str().unwrap();
        let config = layout.config(layout::Kind::BuildTime, &[("home", home)]);
        fs::write(venv.join(layout.config_name()), config).unwrap();
        symlink(PYTHON, python).unwrap();
        let site_path = format!("{venv_path}/{site_packages}");
        let mut pth = String::new();
        let imports = self.descriptor["imports"].as_array().unwrap();
        for import in imports.iter().map(|i| i.as_str().unwrap()).chain(["_main"]) {
            pth.push_str(&layout.build_time_pth_line(&site_path, import));
            pth.push('\n');
        }
        fs::write(site.join(layout.pth_name()), pth).unwrap();
        for module in layout.modules() {
            let source = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("templates")
                .join(module);
            symlink(source, site.join(module)).unwrap();
        }
        self.set("venv", json!(venv_path));
        venv
    }

    /// Turns the tree into manifest-only runfiles: writes `bin/app.runfiles_manifest` (sorted, as Bazel
    /// does) from the recorded entries and removes the tree.
    pub fn make_manifest_only(&self) -> PathBuf {
        let mut text = String::new();
        for (link, real) in &self.entries {
            text.push_str(&format!("{link} {}\n", real.display()));
        }
        let manifest = self.sandbox.write("bin/app.runfiles_manifest", text);
        fs::remove_dir_all(self.runfiles()).unwrap();
        manifest
    }
}

pub fn finalize(descriptor: &Path, output: &Path) -> Run {
    let mut command = Command::new(finalizer());
    command
        .arg("--launcher")
        .arg(launcher())
        .arg("--descriptor")
        .arg(descriptor)
        .arg("--output")
        .arg(output);
    let out = retry_text_file_busy(|| command.output());
    Run::new(format!("finalize {}", descriptor.display()), out)
}

pub struct Cmd {
    pub command: Command,
    /// The directory whose tree a failure message lists (the sandbox's root).
    pub tree: Option<PathBuf>,
}

impl Cmd {
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Cmd {
        self.command.arg(arg);
        self
    }
    pub fn args<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(mut self, args: I) -> Cmd {
        self.command.args(args);
        self
    }
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Cmd {
        self.command.env(key, value);
        self
    }
    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Cmd {
        self.command.env_remove(key);
        self
    }
    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Cmd {
        self.command.current_dir(dir);
        self
    }
    pub fn arg0(mut self, arg0: impl AsRef<OsStr>) -> Cmd {
        std::os::unix::process::CommandExt::arg0(&mut self.command, arg0);
        self
    }
    pub fn run(mut self) -> Run {
        let description = format!("{:?}", self.command);
        let cwd = self.command.get_current_dir().map(Path::to_path_buf);
        let out = retry_text_file_busy(|| self.command.output());
        let tree = self.tree.or_else(|| cwd.clone());
        Run::new(description, out).in_dir(cwd, tree)
    }
    /// The launch plan (`PY_LAUNCHER_DEBUG=json`), asserting the launcher succeeded.
    pub fn plan(self) -> Value {
        self.env("PY_LAUNCHER_DEBUG", "json").run().ok().json()
    }
    pub fn spawn(mut self) -> std::process::Child {
        self.command.stdout(Stdio::piped()).stderr(Stdio::piped());
        retry_text_file_busy(|| self.command.spawn())
    }
}

/// Starts a process, retrying while the kernel says ETXTBSY: a test that has just written an executable
/// can race with another test thread's fork, whose child holds the write descriptor until it execs.
fn retry_text_file_busy<T>(mut start: impl FnMut() -> std::io::Result<T>) -> T {
    for _ in 0..100 {
        match start() {
            Err(err) if err.raw_os_error() == Some(libc::ETXTBSY) => {
                std::thread::sleep(std::time::Duration::from_millis(10))
            }
            other => return other.expect("start command"),
        }
    }
    start().expect("start command")
}

/// A finished process, with assertions that print the whole story when they fail: the command, its
/// working directory and what was in it, the exit status, stdout and stderr.
pub struct Run {
    pub description: String,
    pub output: Output,
    /// The directory the process started in, when the test chose one (else the test's own).
    pub cwd: Option<PathBuf>,
    /// The directory whose tree a failure message lists: the sandbox, else the chosen cwd.
    pub tree: Option<PathBuf>,
}

impl Run {
    pub fn new(description: String, output: Output) -> Run {
        Run {
            description,
            output,
            cwd: None,
            tree: None,
        }
    }
    /// Records the directory the process started in and the one whose tree a failure lists.
    pub fn in_dir(mut self, cwd: Option<PathBuf>, tree: Option<PathBuf>) -> Run {
        self.cwd = cwd;
        self.tree = tree;
        self
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }
    pub fn code(&self) -> Option<i32> {
        self.output.status.code()
    }
    pub fn ok(self) -> Run {
        assert!(self.output.status.success(), "expected success\n{self}");
        self
    }
    /// Asserts a launcher failure: the exit code and exactly one `py-launcher:` line containing `needle`.
    pub fn fails(self, code: i32, needle: &str) -> Run {
        assert_eq!(self.code(), Some(code), "wrong exit code\n{self}");
        let stderr = self.stderr();
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "expected exactly one stderr line\n{self}");
        assert!(
            lines[0].starts_with("py-launcher: "),
            "not a py-launcher message\n{self}"
        );
        assert!(
            lines[0].contains(needle),
            "message lacks {needle:?}\n{self}"
        );
        assert!(
            lines[0].contains("hint: ") || code == 64,
            "message has no hint\n{self}"
        );
        assert!(
            !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
            "panic\n{self}"
        );
        self
    }
    /// The program's report (the last stdout line, as printed by [`REPORT_MAIN`]).
    pub fn report(&self) -> Value {
        let stdout = self.stdout();
        let line = stdout
            .lines()
            .last()
            .unwrap_or_else(|| panic!("no output\n{self}"));
        serde_json::from_str(line).unwrap_or_else(|e| panic!("stdout is not JSON ({e})\n{self}"))
    }
    pub fn json(&self) -> Value {
        serde_json::from_str(self.stdout().trim())
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e})\n{self}"))
    }
}

impl fmt::Display for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "command: {}", self.description)?;
        let own = std::env::current_dir().unwrap_or_default();
        writeln!(f, "cwd: {}", self.cwd.as_ref().unwrap_or(&own).display())?;
        if let Some(root) = &self.tree {
            writeln!(
                f,
                "--- tree of {}\n{}",
                root.display(),
                tree(root, TREE_LIMIT)
            )?;
        }
        writeln!(f, "status: {:?}", self.output.status)?;
        writeln!(f, "--- stdout\n{}", self.stdout())?;
        writeln!(f, "--- stderr\n{}", self.stderr())
    }
}

/// At most this many entries of a tree are listed in a failure message.
const TREE_LIMIT: usize = 200;

/// A listing of the tree under `dir` (sorted; symlinks with their targets, not followed), at most
/// `limit` entries, for failure messages.
pub fn tree(dir: &Path, limit: usize) -> String {
    fn walk(dir: &Path, rel: &Path, out: &mut Vec<String>, limit: usize) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<_> = entries.flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            if out.len() > limit {
                return;
            }
            let rel = rel.join(entry.file_name());
            let Ok(meta) = fs::symlink_metadata(entry.path()) else {
                continue;
            };
            if meta.file_type().is_symlink() {
                let target = fs::read_link(entry.path()).unwrap_or_default();
                out.push(format!("{} -> {}", rel.display(), target.display()));
            } else if meta.is_dir() {
                out.push(format!("{}/", rel.display()));
                walk(&entry.path(), &rel, out, limit);
            } else {
                out.push(format!("{} ({} bytes)", rel.display(), meta.len()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, Path::new(""), &mut out, limit);
    if out.len() > limit {
        out.truncate(limit);
        out.push(format!("... (more than {limit} entries)"));
    }
    out.join("\n")
}

pub fn strs(value: &Value) -> Vec<String> {
    value
        .as_array()
        .expect("array")
        .iter()
        .map(|v| v.as_str().expect("string").to_owned())
        .collect()
}

pub fn os(s: &str) -> OsString {
    OsString::from(s)
}

/// The wheel of a pinned test dependency (`tests/deps.txt`), downloaded by `scripts/test`
/// (`ensure_test_deps`) into `target/test-deps/wheels/`. `name` is the distribution name as wheels spell
/// it (`bazel_runfiles`). Tests never download anything themselves.
pub fn test_wheel(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-deps/wheels");
    let prefix = format!("{name}-");
    let found = fs::read_dir(&dir).ok().and_then(|entries| {
        entries.flatten().map(|e| e.path()).find(|p| {
            let file = p.file_name().unwrap().to_string_lossy();
            file.starts_with(&prefix) && file.ends_with(".whl")
        })
    });
    found.unwrap_or_else(|| {
        panic!(
            "no {name} wheel in {}: run scripts/test, or `. scripts/lib/setup.sh && ensure_test_deps`",
            dir.display()
        )
    })
}

/// A test dependency's wheel unpacked once into `target/test-deps/<name>/` (wheels are zip files that
/// are importable as they unpack).
pub fn unpacked_wheel(name: &str) -> PathBuf {
    let wheel = test_wheel(name);
    let deps = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-deps");
    let dir = deps.join(name);
    let done = dir.join(".unpacked");
    if done.exists() {
        return dir;
    }
    let lock = fs::File::create(deps.join(format!("{name}.lock"))).unwrap();
    lock.lock().unwrap();
    if done.exists() {
        return dir;
    }
    let staging = deps.join(format!("{name}.tmp"));
    let _ = fs::remove_dir_all(&staging);
    let status = Command::new(PYTHON)
        .args(["-m", "zipfile", "-e"])
        .arg(&wheel)
        .arg(&staging)
        .status()
        .unwrap();
    assert!(status.success(), "unzip {}", wheel.display());
    fs::write(staging.join(".unpacked"), b"").unwrap();
    let _ = fs::remove_dir_all(&dir);
    fs::rename(&staging, &dir).unwrap();
    dir
}

/// The `bazel-runfiles` package from PyPI (the real runfiles client), unpacked.
pub fn bazel_runfiles_package() -> PathBuf {
    let deps = unpacked_wheel("bazel_runfiles");
    assert!(
        deps.join("runfiles/__init__.py").exists(),
        "the bazel_runfiles wheel has no runfiles/__init__.py"
    );
    deps
}

/// Every file below `dir`, recursively (directories are descended into, not listed; symlinks to
/// directories are followed).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// What the launcher's cache directory (`<cache>/py-launcher`) holds, sorted; nothing when it does not
/// exist.
pub fn cache_entries(cache: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = fs::read_dir(cache.join("py-launcher"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    found.sort();
    found
}

/// Every entry below `dir` (files, directories, links; links not followed) with its own metadata,
/// sorted by path: what a test compares before and after a run to see what it wrote.
pub fn entries_under(dir: &Path) -> Vec<(PathBuf, fs::Metadata)> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, fs::Metadata)>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = fs::symlink_metadata(&path).unwrap();
            let is_dir = meta.is_dir();
            out.push((path.clone(), meta));
            if is_dir {
                walk(&path, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, &mut out);
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}
