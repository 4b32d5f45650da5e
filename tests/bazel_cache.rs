//! Shared caches: two checkouts of the test workspace (copies in different directories, each with its own
//! Bazel output base) build and test the same targets through (i) a real remote cache, BuildGrid from PyPI
//! (`ensure_buildgrid` in `scripts/lib/setup.sh` installs it into `target/test-deps/buildgrid`; the test
//! starts `bgd server start` with an in-memory LRU CAS, ByteStream and action cache on 127.0.0.1 and stops
//! it), and (ii) a `--disk_cache`. The second checkout must get every cacheable action from the cache
//! (counted from `--execution_log_json_file`), and both checkouts' outputs must be byte-identical.
//!
//! This is the shape that used to crash Bazel 4.2.3 (`IllegalStateException: Encountered symlink input
//! '…/_t.venv/bin/python3'`) while it built the input tree of any action holding a build-time venv: a
//! `bazel test` of a launcher test, a genrule with a launcher tool, a packaging action over a binary's
//! output groups (image layers), and a test on an in-build runtime.
//!
//! Remote execution is not tried: no REAPI worker is installable from the registries this project uses
//! (docs/bazel.md, "Caches and remote execution").

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::bazel::*;
use serde_json::Value;

// twin_layers: a packaging action over a binary's output groups, with the tar tool (itself a launcher
// binary) in the exec configuration.
const BUILD_TARGETS: &[&str] = &["//cases:all", "//example:all", "//groups:twin_layers"];
const TESTS: &[&str] = &["//cases:report_test", "//example:hello_test"];
const INBUILD: &str = "--extra_toolchains=//toolchains:inbuild_python_toolchain";

/// A copy of the test workspace in its own directory with its own output base.
struct Checkout {
    workspace: PathBuf,
    output_base: PathBuf,
    logs: PathBuf,
    rc: PathBuf,
    cache_home: PathBuf,
    repo: PathBuf,
}

impl Checkout {
    fn new(b: &Bazel, root: &Path, name: &str) -> Checkout {
        let dir = root.join(name);
        let workspace = dir.join("src/monorepo");
        if workspace.exists() {
            fs::remove_dir_all(&workspace).unwrap();
        }
        copy_tree(&b.workspace, &workspace);
        let logs = dir.join("logs");
        fs::create_dir_all(&logs).unwrap();
        Checkout {
            workspace,
            output_base: dir.join("output_base"),
            logs,
            rc: b.rc.clone(),
            cache_home: b.cache_home.clone(),
            repo: b.repo.clone(),
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new("bazel");
        cmd.arg(format!("--bazelrc={}", self.rc.display()))
            .arg(format!("--output_base={}", self.output_base.display()))
            .arg("--max_idle_secs=300")
            .args(args)
            .current_dir(&self.workspace)
            .env("XDG_CACHE_HOME", &self.cache_home)
            .stdin(Stdio::null());
        // The copy's WORKSPACE still says path = "../../.."; point @py_launcher at this checkout.
        if !matches!(args.first(), Some(&"shutdown") | Some(&"clean")) {
            cmd.arg(format!(
                "--override_repository=py_launcher={}",
                self.repo.display()
            ));
        }
        scrub_inherited_env(&mut cmd);
        cmd.output().expect("start bazel")
    }

    fn ok(&self, args: &[&str]) -> Output {
        succeeded(&self.workspace, args, self.run(args))
    }

    /// Builds, tests, and tests on the in-build runtime with `cache_flags`; returns every spawn Bazel ran
    /// or fetched, from the execution logs.
    fn pass(&self, tag: &str, cache_flags: &[&str]) -> Vec<Value> {
        let mut spawns = Vec::new();
        let steps: [(&str, Vec<&str>); 3] = [
            ("build", BUILD_TARGETS.to_vec()),
            ("test", TESTS.to_vec()),
            ("test", vec![INBUILD, "//cases:report_test"]),
        ];
        for (i, (command, rest)) in steps.iter().enumerate() {
            let log = self.logs.join(format!("{tag}-{i}.json"));
            let _ = fs::remove_file(&log);
            let log_flag = format!("--execution_log_json_file={}", log.display());
            let mut args = vec![*command, log_flag.as_str()];
            args.extend_from_slice(cache_flags);
            args.extend(rest.iter().copied());
            self.ok(&args);
            spawns.extend(read_execution_log(&log));
        }
        spawns
    }

    fn bin(&self) -> PathBuf {
        let out = self.ok(&["info", "bazel-bin"]);
        PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
    }
}

impl Drop for Checkout {
    fn drop(&mut self) {
        let _ = self.run(&["shutdown"]);
    }
}

fn copy_tree(src: &Path, dst: &Path) {
    fs::create_dir_all(dst).unwrap();
    for entry in fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let to = dst.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &to);
        } else {
            fs::copy(entry.path(), &to).unwrap();
        }
    }
}

/// Bazel 4's JSON execution log: a stream of pretty-printed SpawnExec messages (proto3 JSON names).
fn read_execution_log(path: &Path) -> Vec<Value> {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::Deserializer::from_str(&text)
        .into_iter::<Value>()
        .map(|v| v.unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .collect()
}

fn flag(spawn: &Value, name: &str) -> bool {
    spawn[name].as_bool().unwrap_or(false)
}

/// The spawns a cache may serve (remotable and cacheable), by mnemonic and first output.
fn cacheable(spawns: &[Value]) -> BTreeMap<String, Value> {
    spawns
        .iter()
        .filter(|s| flag(s, "remotable") && flag(s, "cacheable"))
        .map(|s| {
            let first = s["actualOutputs"][0]["path"]
                .as_str()
                .unwrap_or("")
                .to_owned();
            (
                format!("{} {first}", s["mnemonic"].as_str().unwrap_or("")),
                s.clone(),
            )
        })
        .collect()
}

fn hits(spawns: &[Value]) -> usize {
    spawns.iter().filter(|s| flag(s, "remoteCacheHit")).count()
}

/// Checkout B must have fetched every cacheable spawn from the cache, with A's output digests.
fn check_shared(what: &str, a: &[Value], b: &[Value]) {
    let (a_cacheable, b_cacheable) = (cacheable(a), cacheable(b));
    // The first checkout starts from an empty cache. (Only a test's second spawn, which turns test.log into
    // test.xml, may hit there: the platform and in-build runs of report_test print the same log.)
    let early: Vec<&Value> = a
        .iter()
        .filter(|s| flag(s, "remoteCacheHit") && s["mnemonic"] != "TestRunner")
        .collect();
    assert!(
        early.is_empty(),
        "{what}: the first checkout found an empty cache: {early:?}"
    );
    assert!(
        b_cacheable.len() >= 10,
        "{what}: too few cacheable spawns: {:?}",
        b_cacheable.keys()
    );
    let missed: Vec<&String> = b_cacheable
        .iter()
        .filter(|(_, s)| !flag(s, "remoteCacheHit"))
        .map(|(k, _)| k)
        .collect();
    assert!(
        missed.is_empty(),
        "{what}: cache misses in the second checkout: {missed:?}"
    );
    for mnemonic in [
        "PyLauncherFinalize",
        "TestRunner",
        "Genrule",
        "PyLauncherLayer",
    ] {
        assert!(
            b_cacheable.keys().any(|k| k.starts_with(mnemonic)),
            "{what}: no {mnemonic} spawn among {:?}",
            b_cacheable.keys()
        );
    }
    assert_eq!(
        a_cacheable.keys().collect::<Vec<_>>(),
        b_cacheable.keys().collect::<Vec<_>>(),
        "{what}: both checkouts ran the same actions"
    );
    for (key, spawn) in &b_cacheable {
        assert_eq!(
            spawn["actualOutputs"], a_cacheable[key]["actualOutputs"],
            "{what}: {key}: outputs differ"
        );
    }
    eprintln!(
        "{what}: all {} cacheable actions of the second checkout were cache hits ({} hits in its \
         execution logs, {} spawns in all)",
        b_cacheable.len(),
        hits(b),
        b.len()
    );
}

/// Every regular file under bazel-bin (outside runfiles trees and their manifests, which hold the output
/// base's absolute paths) with its bytes and executable bit.
fn outputs(bin: &Path) -> BTreeMap<String, (Vec<u8>, bool)> {
    use std::os::unix::fs::PermissionsExt;
    let mut files = BTreeMap::new();
    let mut todo = vec![bin.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let kind = entry.file_type().unwrap();
            // (Also Bazel's param files, `<output>-0.params`: written for an action that runs, not
            // fetched with a cache hit; they are no output.)
            if name.ends_with(".runfiles")
                || name.ends_with(".runfiles_manifest")
                || name.ends_with(".params")
            {
                continue;
            }
            if kind.is_dir() {
                todo.push(path);
            } else if kind.is_file() {
                let rel = path
                    .strip_prefix(bin)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                let exec = fs::metadata(&path).unwrap().permissions().mode() & 0o100 != 0;
                files.insert(rel, (fs::read(&path).unwrap(), exec));
            }
        }
    }
    files
}

fn check_identical_outputs(what: &str, a: &Checkout, b: &Checkout) {
    let (oa, ob) = (outputs(&a.bin()), outputs(&b.bin()));
    assert_eq!(
        oa.keys().collect::<Vec<_>>(),
        ob.keys().collect::<Vec<_>>(),
        "{what}: the same output files"
    );
    for (rel, content) in &oa {
        // Bazel's volatile status (BUILD_TIMESTAMP) differs by definition; its copy is a local action.
        if rel.ends_with("build_info/volatile.txt") {
            continue;
        }
        assert!(
            ob[rel] == *content,
            "{what}: {rel} differs between the checkouts"
        );
    }
    assert!(
        oa.contains_key("cases/_report.venv/bin/python3")
            && oa.contains_key("cases/tool_output.json")
            && oa.contains_key("cases/report")
            && oa.contains_key("groups/twin_layers/bootstrap.tar"),
        "{what}: {:?}",
        oa.keys()
    );
}

/// BuildGrid's `bgd server start CONFIG`, stopped when dropped.
struct BuildGrid {
    child: Child,
    port: u16,
}

impl BuildGrid {
    fn start(dir: &Path, repo: &Path) -> BuildGrid {
        let bgd = repo.join("target/test-deps/buildgrid/bin/bgd");
        assert!(
            bgd.is_file(),
            "{} is missing: run scripts/test, or `. scripts/lib/setup.sh && ensure_buildgrid`",
            bgd.display()
        );
        fs::create_dir_all(dir).unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = dir.join("buildgrid.yml");
        fs::write(
            &config,
            format!(
                "# A remote cache only: CAS, ByteStream and action cache in memory (LRU), on 127.0.0.1.\n\
                 server:\n  - !channel\n    address: \"127.0.0.1:{port}\"\n    insecure-mode: true\n\
                 authorization:\n  method: none\n\
                 storages:\n  - !lru-storage &cas\n    size: 1GB\n\
                 caches:\n  - !lru-action-cache &ac\n    storage: *cas\n    max-cached-refs: 10000\n    \
                 allow-updates: true\n    cache-failed-actions: false\n\
                 instances:\n  - name: \"\"\n    services:\n      - !action-cache\n        cache: *ac\n      \
                 - !cas\n        storage: *cas\n      - !bytestream\n        storage: *cas\n"
            ),
        )
        .unwrap();
        let log = fs::File::create(dir.join("buildgrid.log")).unwrap();
        let child = Command::new(&bgd)
            .args(["server", "start"])
            .arg(&config)
            .current_dir(dir)
            .env("HOME", dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", bgd.display()));
        let mut grid = BuildGrid { child, port };
        let deadline = Instant::now() + Duration::from_secs(90);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = grid.child.try_wait().unwrap() {
                panic!(
                    "bgd exited ({status}):\n{}",
                    fs::read_to_string(dir.join("buildgrid.log")).unwrap_or_default()
                );
            }
            assert!(
                Instant::now() < deadline,
                "BuildGrid did not listen on port {port}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        grid
    }
}

impl Drop for BuildGrid {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
#[ignore = "needs Bazel; run by scripts/test"]
fn remote_and_disk_cache_shared_by_two_checkouts() {
    let b = bazel();
    let root = b.root.join("cache-suite");
    let a = Checkout::new(&b, &root, "a");
    let c = Checkout::new(&b, &root, "b");
    // Each run starts from empty outputs, so the first checkout really executes and uploads.
    for checkout in [&a, &c] {
        checkout.ok(&["clean"]);
    }

    let grid = BuildGrid::start(&root.join("buildgrid"), &b.repo);
    let remote = format!("--remote_cache=grpc://127.0.0.1:{}", grid.port);
    let remote_flags = [remote.as_str()];
    let first = a.pass("remote", &remote_flags);
    let second = c.pass("remote", &remote_flags);
    check_shared("remote cache (BuildGrid)", &first, &second);
    check_identical_outputs("remote cache (BuildGrid)", &a, &c);
    drop(grid);

    let disk_dir = root.join("disk_cache");
    if disk_dir.exists() {
        fs::remove_dir_all(&disk_dir).unwrap();
    }
    let disk = format!("--disk_cache={}", disk_dir.display());
    let disk_flags = [disk.as_str()];
    for checkout in [&a, &c] {
        checkout.ok(&["clean"]);
    }
    let first = a.pass("disk", &disk_flags);
    let second = c.pass("disk", &disk_flags);
    check_shared("disk cache", &first, &second);
    check_identical_outputs("disk cache", &a, &c);
}
