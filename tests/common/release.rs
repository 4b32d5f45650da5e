//! `scripts/release` as the tests use it: run it into a directory, list and read the archive it wrote
//! (through CPython's tarfile, the reference reader; the tests need no tar crate).

use super::PYTHON;
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The archive's file name for this crate version.
pub fn archive_name() -> String {
    format!("py_launcher-{}.tar.gz", env!("CARGO_PKG_VERSION"))
}

/// Runs `scripts/release --out OUT` and returns the archive path. The release build shares the
/// checkout's `target/` (cargo makes it a no-op when scripts/test already built it).
pub fn run_release(out: &Path) -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    fs::create_dir_all(out).unwrap();
    let output = Command::new(repo.join("scripts/release"))
        .arg("--out")
        .arg(out)
        .current_dir(repo)
        .stdin(Stdio::null())
        .output()
        .expect("start scripts/release");
    assert!(
        output.status.success(),
        "scripts/release --out {} failed: {}\n--- stdout\n{}--- stderr\n{}",
        out.display(),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let archive = out.join(archive_name());
    assert!(archive.is_file(), "no {}", archive.display());
    archive
}

/// The sha256 that `SHA256SUMS` beside the archive gives for it (checked against `sha256sum`).
pub fn archive_sha256(archive: &Path) -> String {
    let sums = fs::read_to_string(archive.with_file_name("SHA256SUMS")).unwrap();
    let name = archive.file_name().unwrap().to_str().unwrap();
    let line = sums
        .lines()
        .find(|l| l.ends_with(&format!("  {name}")))
        .unwrap_or_else(|| panic!("SHA256SUMS has no line for {name}:\n{sums}"));
    let sha = line.split("  ").next().unwrap().to_owned();
    let out = Command::new("sha256sum").arg(archive).output().unwrap();
    let real = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        real.split(' ').next(),
        Some(sha.as_str()),
        "SHA256SUMS is stale"
    );
    sha
}

/// Every member of a .tar.gz: name, type ("file", "dir", "other"), mode, uid, gid, uname, gname, mtime,
/// size, sha256 (files only).
pub fn list(archive: &Path) -> Vec<Value> {
    let script = r#"
import hashlib, json, sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    for m in t.getmembers():
        kind = "file" if m.isfile() else "dir" if m.isdir() else "other"
        sha = hashlib.sha256(t.extractfile(m).read()).hexdigest() if m.isfile() else None
        print(json.dumps({"name": m.name, "type": kind, "mode": m.mode, "uid": m.uid, "gid": m.gid,
                          "uname": m.uname, "gname": m.gname, "mtime": m.mtime, "size": m.size,
                          "sha256": sha}))
"#;
    let out = python(&[script, archive.to_str().unwrap()]);
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The bytes of one member.
pub fn read_member(archive: &Path, name: &str) -> Vec<u8> {
    let script = r#"
import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    sys.stdout.buffer.write(t.extractfile(sys.argv[2]).read())
"#;
    let out = Command::new(PYTHON)
        .args(["-c", script, archive.to_str().unwrap(), name])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "read {name} from {}: {}",
        archive.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Writes a copy of `archive` at `output` without the members under any of `drop_prefixes`.
pub fn copy_without(archive: &Path, output: &Path, drop_prefixes: &[&str]) {
    let script = r#"
import gzip, io, sys, tarfile
src, dst, drop = sys.argv[1], sys.argv[2], sys.argv[3:]
raw = io.BytesIO()
with tarfile.open(src) as t, tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as out:
    for m in t.getmembers():
        if any(m.name == p.rstrip("/") or m.name.startswith(p) for p in drop):
            continue
        out.addfile(m, t.extractfile(m) if m.isfile() else None)
with open(dst, "wb") as f:
    f.write(gzip.compress(raw.getvalue(), mtime=0))
"#;
    let mut args = vec![script, archive.to_str().unwrap(), output.to_str().unwrap()];
    args.extend_from_slice(drop_prefixes);
    python(&args);
}

fn python(args: &[&str]) -> String {
    let out = Command::new(PYTHON).arg("-c").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "python -c ... {:?}: {}",
        &args[1..],
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
