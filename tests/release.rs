//! `scripts/release`: two runs on one commit give byte-identical archives; the archive is a complete Bazel
//! repository (rules, templates, module files, the sources cargo needs, the prebuilt static binaries) with
//! fixed owners, modes and mtimes; the binaries carry no build-machine path.
//!
//! Ignored for plain `cargo test` (it drives the static musl release build, a minute or two when cold);
//! `scripts/test` runs it after building the release binaries, so there the build is a no-op.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::Command;

use common::release::{archive_name, archive_sha256, list, read_member, run_release};

const TRIPLE: &str = "x86_64-unknown-linux-musl";

fn git(args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?} failed");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
#[ignore = "drives the release build; run by scripts/test"]
fn release_archive_is_reproducible_complete_and_free_of_build_paths() {
    let tmp = tempfile::Builder::new()
        .prefix("release-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    let first = run_release(&tmp.path().join("one"));
    let second = run_release(&tmp.path().join("two"));
    assert_eq!(
        first.file_name().unwrap().to_str(),
        Some(archive_name().as_str())
    );

    // Byte-identical archives and checksum files.
    let bytes = fs::read(&first).unwrap();
    assert!(
        bytes == fs::read(&second).unwrap(),
        "two runs gave different archives: {} and {}",
        first.display(),
        second.display()
    );
    assert_eq!(
        fs::read(tmp.path().join("one/SHA256SUMS")).unwrap(),
        fs::read(tmp.path().join("two/SHA256SUMS")).unwrap()
    );
    let sha = archive_sha256(&first);
    assert_eq!(
        fs::read_to_string(tmp.path().join("one/SHA256SUMS")).unwrap(),
        format!("{sha}  {}\n", archive_name())
    );
    // gzip header: no file name (FLG bit 3 clear), MTIME zero.
    assert_eq!(&bytes[..3], &[0x1f, 0x8b, 8]);
    assert_eq!(bytes[3] & 0x08, 0, "the gzip header names a file");
    assert_eq!(
        &bytes[4..8],
        &[0, 0, 0, 0],
        "the gzip header carries a time"
    );

    // Fixed metadata: owner 0:0 without names, one mtime (the commit's), modes 0644/0755.
    let members = list(&first);
    let commit_time: i64 = git(&["log", "-1", "--format=%ct", "HEAD"])
        .trim()
        .parse()
        .unwrap();
    let mut names = Vec::new();
    for m in &members {
        let name = m["name"].as_str().unwrap().to_owned();
        assert_eq!(
            (m["uid"].as_i64(), m["gid"].as_i64()),
            (Some(0), Some(0)),
            "{m}"
        );
        assert_eq!(
            (m["uname"].as_str(), m["gname"].as_str()),
            (Some(""), Some("")),
            "{m}"
        );
        assert_eq!(m["mtime"].as_i64(), Some(commit_time), "{m}");
        let mode = m["mode"].as_i64().unwrap();
        match m["type"].as_str().unwrap() {
            "dir" => assert_eq!(mode, 0o755, "{m}"),
            "file" => assert!(mode == 0o644 || mode == 0o755, "{m}"),
            _ => panic!("neither a file nor a directory: {m}"),
        }
        names.push(name);
    }
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "members are not in name order");
    let files: BTreeSet<&str> = members
        .iter()
        .filter(|m| m["type"] == "file")
        .map(|m| m["name"].as_str().unwrap())
        .collect();

    // A complete Bazel repository, plus what cargo needs to build from source, and nothing else.
    for required in [
        "WORKSPACE",
        "MODULE.bazel",
        "BUILD.bazel",
        "LICENSE",
        "README.md",
        "CHANGELOG.md",
        "release.json",
        "bazel/BUILD.bazel",
        "bazel/defs.bzl",
        "bazel/repositories.bzl",
        "bazel/extensions.bzl",
        "bazel/private/BUILD.bazel",
        "bazel/private/repos.bzl",
        "Cargo.toml",
        "Cargo.lock",
        "build.rs",
        ".cargo/config.toml",
        "src/lib.rs",
        "src/bin/py-launcher.rs",
        "src/bin/py-launcher-finalize.rs",
    ] {
        assert!(files.contains(required), "{required} is missing: {files:?}");
    }
    let tracked = git(&["ls-files", "--", "bazel", "templates", "src", "docs"]);
    for path in tracked
        .lines()
        .filter(|p| Path::new(env!("CARGO_MANIFEST_DIR")).join(p).is_file())
    {
        assert!(
            files.contains(path),
            "tracked {path} is missing from the archive"
        );
    }
    let allowed_top = [
        "WORKSPACE",
        "MODULE.bazel",
        "BUILD.bazel",
        "LICENSE",
        "README.md",
        "CHANGELOG.md",
        "Cargo.toml",
        "Cargo.lock",
        "build.rs",
        ".cargo",
        "bazel",
        "templates",
        "src",
        "docs",
        "bin",
        "release.json",
    ];
    for name in &files {
        let top = name.split('/').next().unwrap();
        assert!(allowed_top.contains(&top), "unexpected member {name}");
    }
    let bins: Vec<&str> = files
        .iter()
        .copied()
        .filter(|n| n.starts_with("bin/"))
        .collect();
    assert_eq!(
        bins,
        [
            format!("bin/{TRIPLE}/py-launcher"),
            format!("bin/{TRIPLE}/py-launcher-finalize")
        ],
        "prebuilt binaries"
    );

    // release.json: the version, the commit and the sha256 of every other file, exactly.
    let commit = git(&["rev-parse", "--short=12", "HEAD"]);
    let manifest: serde_json::Value =
        serde_json::from_slice(&read_member(&first, "release.json")).unwrap();
    assert_eq!(manifest["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(manifest["commit"], commit.trim());
    let listed: std::collections::BTreeMap<String, String> = manifest["files"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    let actual: std::collections::BTreeMap<String, String> = members
        .iter()
        .filter(|m| m["type"] == "file" && m["name"] != "release.json")
        .map(|m| {
            (
                m["name"].as_str().unwrap().to_owned(),
                m["sha256"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        listed, actual,
        "release.json does not list the archive's files"
    );

    // The binaries: executable, static, carrying the version with the commit, and no build-machine path.
    let home = std::env::var("HOME").unwrap();
    let cargo_home = std::env::var("CARGO_HOME").unwrap_or(format!("{home}/.cargo"));
    let checkout = fs::canonicalize(env!("CARGO_MANIFEST_DIR")).unwrap();
    let forbidden = [
        checkout.to_str().unwrap().to_owned(),
        env!("CARGO_MANIFEST_DIR").to_owned(),
        format!("{home}/"),
        format!("{cargo_home}/registry"),
        ".cargo/registry".to_owned(),
        ".rustup/toolchains".to_owned(),
    ];
    let exe_dir = tmp.path().join("bin");
    fs::create_dir_all(&exe_dir).unwrap();
    for (name, program) in [
        ("py-launcher", "py-launcher"),
        ("py-launcher-finalize", "py-launcher-finalize"),
    ] {
        let member = format!("bin/{TRIPLE}/{name}");
        let mode = members
            .iter()
            .find(|m| m["name"] == member.as_str())
            .unwrap()["mode"]
            .as_i64();
        assert_eq!(mode, Some(0o755), "{member} is not executable");
        let data = read_member(&first, &member);
        for needle in &forbidden {
            assert!(
                memchr::memmem::find(&data, needle.as_bytes()).is_none(),
                "{member} contains the build-machine path {needle:?}"
            );
        }
        assert!(
            memchr::memmem::find(&data, b"ld-linux").is_none(),
            "{member} names a dynamic loader"
        );
        let exe = exe_dir.join(name);
        fs::write(&exe, &data).unwrap();
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&exe, fs::Permissions::from_mode(0o755)).unwrap();
        let out = Command::new(&exe).arg("--version").output().unwrap();
        assert!(out.status.success(), "{member} --version failed");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!(
                "{program} {} ({})\n",
                env!("CARGO_PKG_VERSION"),
                commit.trim()
            )
        );
    }
}
