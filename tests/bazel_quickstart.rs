//! The README's "Quick start for Bazel users", done as a new user would, with real Bazel 4.2.3 offline:
//! `scripts/release` makes the archive; a fresh workspace gets the README's WORKSPACE snippet verbatim
//! (only the URL replaced by the archive's `file://` path and the sha256 by the real one), the README's
//! Python toolchain and `example/BUILD.bazel`, and the example's sources; then `bazel run` and
//! `bazel test`. No local_repository of the checkout, no --override_repository for py_launcher: Bazel
//! fetches the archive with http_archive. Three cases: the prebuilt binaries; an archive without `bin/` and
//! `build_from_source = True` (cargo builds the crate inside the repository rule); an archive without `bin/`
//! and no `build_from_source` (the error).
//!
//! Everything lives under `$CARGO_TARGET_TMPDIR/bazel-quickstart/`: `release/` (the archive), per case a
//! workspace recreated on every run and an output base kept between runs (so an unchanged archive is not
//! fetched or compiled again), and `repository-cache/`. The cases hold `bazel-quickstart/lock` for their
//! whole duration and shut their Bazel server down at the end. The offline stand-ins for `@rules_cc`,
//! `@rules_java` and `@remote_coverage_tools` (`tests/bazel/offline`) are the only overrides.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::bazel::{
    ensure_bazel_installed, output_text, scrub_inherited_env, succeeded, write_coverage_repo,
};
use common::release::{archive_name, archive_sha256, copy_without, read_member, run_release};
use common::PYTHON;

const README_URL: &str = "file:///opt/py_launcher/py_launcher-0.1.0.tar.gz";
const README_SHA256: &str = "<sha256 from SHA256SUMS>";
const REGISTER: &str = "py_launcher_register_toolchains()";
const REGISTER_FROM_SOURCE: &str = "py_launcher_register_toolchains(build_from_source = True)";
const HELLO_OUTPUT: &str = "Hello, docs!\nbuilt from //example:hello stamped: False\n";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bazel-quickstart")
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn lock() -> fs::File {
    use std::os::unix::io::AsRawFd;
    fs::create_dir_all(root()).unwrap();
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(root().join("lock"))
        .unwrap();
    // SAFETY: flock on a descriptor we own; blocks until the other test process releases it.
    assert_eq!(unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) }, 0);
    file
}

/// The fenced block of README's quick start whose first line is `# <first_line>`, as written there.
fn readme_block(first_line: &str) -> String {
    let readme = fs::read_to_string(repo().join("README.md")).unwrap();
    let section = readme
        .split("\n## Quick start for Bazel users\n")
        .nth(1)
        .expect("README.md has a \"Quick start for Bazel users\" section");
    let section = section.split("\n## ").next().unwrap();
    let opening = format!("```python\n# {first_line}\n");
    let start = section
        .find(&opening)
        .unwrap_or_else(|| panic!("the quick start has no block starting with # {first_line}"));
    let body = &section[start + "```python\n".len()..];
    body[..body.find("```\n").unwrap()].to_owned()
}

/// The release archive (built once per lock holder; a no-op rebuild when nothing changed).
fn release() -> PathBuf {
    run_release(&root().join("release"))
}

/// The same archive without its prebuilt binaries (deterministic bytes, so an unchanged one is cached).
fn source_only_release(archive: &Path) -> PathBuf {
    let out = root().join("release-source-only");
    fs::create_dir_all(&out).unwrap();
    let source_only = out.join(archive_name());
    copy_without(archive, &source_only, &["bin/"]);
    let sums = Command::new("sha256sum")
        .arg(archive_name())
        .current_dir(&out)
        .output()
        .unwrap();
    fs::write(out.join("SHA256SUMS"), &sums.stdout).unwrap();
    source_only
}

struct Workspace {
    dir: PathBuf,
    output_base: PathBuf,
    cache_home: PathBuf,
}

impl Workspace {
    /// A fresh workspace for `case`: the README's files with only the URL and sha256 replaced, and
    /// `register` for the README's `py_launcher_register_toolchains()` line.
    fn new(case: &str, archive: &Path, register: &str) -> Workspace {
        ensure_bazel_installed();
        assert!(
            Path::new(PYTHON).is_file(),
            "{PYTHON} is missing (apt-get install -y python3.11)"
        );
        let case_dir = root().join(case);
        let dir = case_dir.join("workspace");
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();

        let snippet = readme_block("WORKSPACE");
        for (needle, count) in [(README_URL, 1), (README_SHA256, 1), (REGISTER, 1)] {
            assert_eq!(
                snippet.matches(needle).count(),
                count,
                "README's WORKSPACE snippet and {needle:?}:\n{snippet}"
            );
        }
        let url = format!("file://{}", archive.display());
        let mut workspace = snippet
            .replace(README_URL, &url)
            .replace(README_SHA256, &archive_sha256(archive));
        if register != REGISTER {
            let readme = fs::read_to_string(repo().join("README.md")).unwrap();
            assert!(
                readme.contains(register),
                "README.md does not document {register}"
            );
            workspace = workspace.replace(REGISTER, register);
        }
        fs::write(dir.join("WORKSPACE"), workspace).unwrap();
        fs::create_dir_all(dir.join("tools/python")).unwrap();
        fs::write(
            dir.join("tools/python/BUILD.bazel"),
            readme_block("tools/python/BUILD.bazel"),
        )
        .unwrap();
        fs::create_dir_all(dir.join("example")).unwrap();
        let build = readme_block("example/BUILD.bazel");
        fs::write(dir.join("example/BUILD.bazel"), &build).unwrap();
        for source in ["greeting.py", "hello.py", "hello_test.py"] {
            fs::copy(
                repo().join("tests/bazel/workspace/example").join(source),
                dir.join("example").join(source),
            )
            .unwrap();
        }

        let cache_home = case_dir.join("cache");
        fs::create_dir_all(&cache_home).unwrap();
        fs::set_permissions(&cache_home, fs::Permissions::from_mode(0o700)).unwrap();
        let offline = repo().join("tests/bazel/offline");
        let mut rc = String::from(
            "# Written by tests/bazel_quickstart.rs: Bazel 4.2.3 offline, and nothing else.\n",
        );
        for name in ["rules_cc", "rules_java", "remote_coverage_tools"] {
            rc += &format!(
                "build --override_repository={name}={}\n",
                offline.join(name).display()
            );
        }
        rc += &format!(
            "build --repository_cache={}\n",
            root().join("repository-cache").display()
        );
        rc += &format!("test --test_env=XDG_CACHE_HOME={}\n", cache_home.display());
        rc += "test --test_output=errors\n";
        // Debian's /etc/bazel.bazelrc turns on --sandbox_debug, which keeps every sandbox directory.
        rc += "build --nosandbox_debug\n";
        fs::write(dir.join(".bazelrc"), rc).unwrap();
        Workspace {
            dir,
            output_base: case_dir.join("output_base"),
            cache_home,
        }
    }

    fn bazel(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new("bazel");
        cmd.arg(format!("--output_base={}", self.output_base.display()))
            .arg("--max_idle_secs=300")
            .args(args)
            .current_dir(&self.dir)
            .env("XDG_CACHE_HOME", &self.cache_home)
            .stdin(Stdio::null());
        scrub_inherited_env(&mut cmd);
        // Cargo hands build.rs's `rustc-env` to the test process too; a user's shell has no such variable
        // (it would name a commit the archive's sources do not come from).
        cmd.env_remove("PY_LAUNCHER_GIT_COMMIT");
        cmd.output().expect("start bazel")
    }

    fn ok(&self, args: &[&str]) -> Output {
        succeeded(&self.dir, args, self.bazel(args))
    }

    fn info(&self, key: &str) -> PathBuf {
        PathBuf::from(
            String::from_utf8(self.ok(&["info", key]).stdout)
                .unwrap()
                .trim(),
        )
    }

    /// `bazel run //example:hello -- docs` and `bazel test //example:hello_test`, checked on their output;
    /// returns the finalized executable's bytes.
    fn run_and_test_the_example(&self) -> Vec<u8> {
        let run = self.ok(&["run", "//example:hello", "--", "docs"]);
        assert_eq!(
            String::from_utf8_lossy(&run.stdout),
            HELLO_OUTPUT,
            "{}",
            output_text(&run)
        );
        let test = self.ok(&["test", "//example:hello_test"]);
        let text = output_text(&test);
        assert!(
            text.contains("//example:hello_test") && text.contains("PASSED"),
            "{text}"
        );
        let log = fs::read_to_string(
            self.info("bazel-testlogs")
                .join("example/hello_test/test.log"),
        )
        .unwrap();
        assert!(
            log.contains("Ran 2 tests") && log.contains("\nOK\n"),
            "test.log:\n{log}"
        );
        fs::read(self.info("bazel-bin").join("example/hello")).unwrap()
    }

    fn toolchains_repo(&self) -> PathBuf {
        self.output_base.join("external/py_launcher_toolchains")
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let _ = self.bazel(&["shutdown"]);
    }
}

#[test]
#[ignore = "needs Bazel; run by scripts/test"]
fn quickstart_with_the_prebuilt_binaries() {
    let _lock = lock();
    let archive = release();
    let ws = Workspace::new("prebuilt", &archive, REGISTER);
    let executable = ws.run_and_test_the_example();

    // The executable is the archive's prebuilt launcher with a descriptor appended.
    let prebuilt = read_member(&archive, "bin/x86_64-unknown-linux-musl/py-launcher");
    assert!(
        executable.starts_with(&prebuilt),
        "//example:hello is not the prebuilt launcher + descriptor"
    );
    // The generated toolchain carries the platform constraints.
    let toolchains =
        fs::read_to_string(ws.toolchains_repo().join("toolchains/BUILD.bazel")).unwrap();
    assert!(toolchains.contains(
        "    exec_compatible_with = [\"@platforms//cpu:x86_64\", \"@platforms//os:linux\"],\n    \
         target_compatible_with = [\"@platforms//cpu:x86_64\", \"@platforms//os:linux\"],\n"
    ), "{toolchains}");
    assert!(
        !ws.toolchains_repo().join("cargo-target").exists(),
        "cargo ran although binaries were prebuilt"
    );
}

#[test]
#[ignore = "needs Bazel; run by scripts/test"]
fn quickstart_builds_from_source_when_the_archive_has_no_binaries() {
    let _lock = lock();
    let archive = source_only_release(&release());
    let ws = Workspace::new("from-source", &archive, REGISTER_FROM_SOURCE);
    let executable = ws.run_and_test_the_example();

    // The launcher cargo built inside the repository rule, with the descriptor appended.
    let built = fs::read(
        ws.toolchains_repo()
            .join("cargo-target/release/py-launcher"),
    )
    .unwrap();
    assert!(
        executable.starts_with(&built),
        "//example:hello is not the launcher cargo built"
    );
    let version = Command::new(ws.toolchains_repo().join("built-from-source/py-launcher"))
        .arg("--version")
        .output()
        .unwrap();
    // The archive has no .git; the repository rule passes release.json's commit to build.rs. This also
    // shows the source build is not a stale one from an earlier archive (release.json changed, so Bazel
    // refetched the repository and cargo ran again).
    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(repo())
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&version.stdout),
        format!(
            "py-launcher {} ({})\n",
            env!("CARGO_PKG_VERSION"),
            String::from_utf8_lossy(&commit.stdout).trim()
        ),
    );
}

#[test]
#[ignore = "needs Bazel; run by scripts/test"]
fn quickstart_without_binaries_or_build_from_source_names_the_platform_and_both_ways_out() {
    let _lock = lock();
    let archive = source_only_release(&release());
    let ws = Workspace::new("no-binaries", &archive, REGISTER);
    let out = ws.bazel(&["build", "//example:hello"]);
    assert!(!out.status.success(), "{}", output_text(&out));
    let text = output_text(&out);
    let expected = "py_launcher has no prebuilt binaries for this platform, linux-x86_64 (bin/ of the \
                    py_launcher archive has: none). Either build them from source with cargo: \
                    py_launcher_register_toolchains(build_from_source = True) in WORKSPACE (Bzlmod: \
                    py_launcher.toolchains(build_from_source = True)); or use a py_launcher archive with \
                    bin/<target triple>/py-launcher and py-launcher-finalize for linux-x86_64.";
    assert!(
        text.contains(&format!("Error in fail: {expected}\n")),
        "{text}"
    );
    assert!(
        !ws.toolchains_repo().join("cargo-target").exists(),
        "cargo ran without build_from_source"
    );
}

#[test]
#[ignore = "needs Bazel; run by scripts/test"]
fn quickstart_coverage_tool_gives_bazel_coverage_lcov() {
    let _lock = lock();
    let archive = release();
    // docs/coverage.md's set-up on top of the quick start: a repository holding coverage.py, named by
    // py_launcher_register_toolchains(coverage_tool = ...).
    let register = "py_launcher_register_toolchains(coverage_tool = \"@pypi_coverage//:coverage\")";
    let coverage_doc = fs::read_to_string(repo().join("docs/coverage.md")).unwrap();
    assert!(
        coverage_doc.contains(register),
        "docs/coverage.md does not document {register}"
    );
    let ws = Workspace::new("coverage", &archive, register);
    let coverage_repo = root().join("coverage/pypi_coverage");
    write_coverage_repo(&coverage_repo);
    let mut workspace = fs::read_to_string(ws.dir.join("WORKSPACE")).unwrap();
    workspace += &format!(
        "\nlocal_repository(name = \"pypi_coverage\", path = \"{}\")\n",
        coverage_repo.display()
    );
    fs::write(ws.dir.join("WORKSPACE"), workspace).unwrap();

    ws.ok(&["coverage", "//example:hello_test"]);
    let dat = fs::read_to_string(
        ws.info("bazel-testlogs")
            .join("example/hello_test/coverage.dat"),
    )
    .unwrap();
    // greeting.py is the library the test exercises; its lines are measured, nothing of the stdlib is.
    assert!(
        dat.contains("SF:example/greeting.py\n"),
        "coverage.dat:\n{dat}"
    );
    assert!(
        dat.contains("\nDA:"),
        "coverage.dat has no line data:\n{dat}"
    );
    assert!(
        !dat.contains("/usr/lib/python3"),
        "the standard library is in coverage.dat:\n{dat}"
    );
    let toolchains = fs::read_to_string(ws.toolchains_repo().join("BUILD.bazel")).unwrap();
    assert!(
        toolchains.contains("    coverage_tool = \"@pypi_coverage//:coverage\",\n"),
        "{toolchains}"
    );
}
