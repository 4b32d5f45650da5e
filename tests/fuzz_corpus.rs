//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`) and every saved crash input
//! (`fuzz/regressions/<target>/`) through the same harnesses the cargo-fuzz targets run
//! (`fuzz/harness.rs`), on the stable toolchain, so a fixed crash stays fixed without nightly.
//! `scripts/fuzz` does the fuzzing itself; see docs/fuzzing.md.

#[path = "../fuzz/harness.rs"]
mod harness;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

fn inputs(target: &str) -> Vec<PathBuf> {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut files = Vec::new();
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(fuzz.join(dir).join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_file() {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Runs every input, then fails naming each one that panicked (not just the first).
fn replay(target: &str, harness: fn(&[u8])) {
    let files = inputs(target);
    assert!(
        !files.is_empty(),
        "no corpus for fuzz target {target} under fuzz/corpus/{target}"
    );
    let failed: Vec<String> = files
        .iter()
        .filter(|file| {
            let data = std::fs::read(file).unwrap();
            catch_unwind(AssertUnwindSafe(|| harness(&data))).is_err()
        })
        .map(|file| file.display().to_string())
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} {target} inputs fail: {}",
        failed.len(),
        files.len(),
        failed.join(", ")
    );
}

#[test]
fn trailer_corpus() {
    replay("trailer", harness::trailer);
}

#[test]
fn descriptor_corpus() {
    replay("descriptor", harness::descriptor);
}

#[test]
fn stub_corpus() {
    replay("stub", harness::stub);
}

#[test]
fn manifest_corpus() {
    replay("manifest", harness::manifest);
}

#[test]
fn words_corpus() {
    replay("words", harness::words);
}

#[test]
fn venv_key_corpus() {
    replay("venv_key", harness::venv_key);
}

// Known bugs found by fuzzing, reported to the lead and not fixed yet. Each replays its minimized
// input (also in fuzz/regressions/, where the tolerant harness above keeps it from regressing
// further) through the strict harness. When the bug is fixed, the test passes: remove its #[ignore].

fn regression(target: &str, name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target)
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
#[ignore = "bug: manifest relative target under a prefix match resolves against the key's directory, not the line's"]
fn bug_relative_target_under_prefix_wrong_dir() {
    // `_main/pkg/tree ../../other` + `other /right/other`: `_main/pkg/tree/sub/x.py` must resolve
    // to /right/other/sub/x.py (the link `_main/pkg/tree` lives in `_main/pkg`); it gives nothing.
    let data = regression("manifest", "bug-relative-target-under-prefix-wrong-dir");
    harness::manifest_checked(&data, harness::Check::Strict);
}

#[test]
#[ignore = "bug: a relative prefix line that matches its own result doubles the key per hop (OOM)"]
fn bug_relative_target_under_prefix_blowup() {
    // `_main/t x`: looking up `_main/t/sub/x.py` doubles the key on each of 32 hops. Run in a child
    // process with a 1 GiB address-space limit, so that the bug fails this test, not the test binary.
    if std::env::var_os("PY_LAUNCHER_FUZZ_CHILD").is_some() {
        let limit = libc::rlimit {
            rlim_cur: 1 << 30,
            rlim_max: 1 << 30,
        };
        // SAFETY: setrlimit only reads the struct we pass.
        assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_AS, &limit) }, 0);
        let data = regression("manifest", "bug-relative-target-under-prefix-blowup");
        harness::manifest_checked(&data, harness::Check::Strict);
        return;
    }
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "bug_relative_target_under_prefix_blowup",
            "--include-ignored",
            "--test-threads=1",
        ])
        .env("PY_LAUNCHER_FUZZ_CHILD", "1")
        .status()
        .unwrap();
    assert!(
        status.success(),
        "the lookup failed or ran out of memory: {status}"
    );
}

#[test]
#[ignore = "bug: an unsorted manifest is not read to its end when a larger link comes first"]
fn bug_unsorted_manifest_early_stop() {
    // `a /a`, `c /c`, `b /b`: `b` is listed but the scan stops at `c`; a conflicting duplicate
    // after a larger link is missed the same way.
    let data = regression("manifest", "bug-unsorted-early-stop");
    harness::manifest_checked(&data, harness::Check::Strict);
}

#[test]
#[ignore = "bug: real_dirs_under yields an empty path for a file at the root of its real directory"]
fn bug_real_dir_at_root_is_empty() {
    // `_main/x.py /x.py`: the real directory of `_main` is `/`, not `` (an empty .pth line).
    let data = regression("manifest", "bug-real-dir-at-root-is-empty");
    harness::manifest_checked(&data, harness::Check::Strict);
}

#[test]
#[ignore = "bug: an import directory holding a newline becomes two .pth lines"]
fn bug_pth_newline_in_import_dir() {
    let data = regression("venv_key", "bug-pth-newline-in-import-dir");
    harness::venv_key_checked(&data, harness::Check::Strict);
}

#[test]
#[ignore = "bug: an empty (relative) import directory is written to the .pth"]
fn bug_pth_empty_import_dir() {
    let data = regression("venv_key", "bug-pth-empty-import-dir");
    harness::venv_key_checked(&data, harness::Check::Strict);
}
