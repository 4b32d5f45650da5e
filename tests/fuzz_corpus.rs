//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`) and every saved crash input
//! (`fuzz/regressions/<target>/`) through the same harnesses the cargo-fuzz targets run
//! (`fuzz/harness.rs`), on the stable toolchain, so a fixed crash stays fixed without nightly.
//! `scripts/fuzz` does the fuzzing itself; see docs/fuzzing.md.

#[path = "../fuzz/harness.rs"]
#[allow(unreachable_pub)] // its `pub` functions are the cargo-fuzz targets' entry points
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
fn every_saved_trailer_input_passes_its_harness() {
    replay("trailer", harness::trailer);
}

#[test]
fn every_saved_descriptor_input_passes_its_harness() {
    replay("descriptor", harness::descriptor);
}

#[test]
fn every_saved_stub_input_passes_its_harness() {
    replay("stub", harness::stub);
}

#[test]
fn every_saved_manifest_input_passes_its_harness() {
    replay("manifest", harness::manifest);
}

#[test]
fn every_saved_words_input_passes_its_harness() {
    replay("words", harness::words);
}

#[test]
fn every_saved_venv_key_input_passes_its_harness() {
    replay("venv_key", harness::venv_key);
}

// Bugs found by fuzzing. Each replays its minimized input (also in fuzz/regressions/, where the
// corpus tests above replay it through the tolerant harness) through the strict harness. A test
// still `#[ignore]`d is a bug not fixed yet (or a documented limitation): remove the `#[ignore]` once it
// passes.

fn regression(target: &str, name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target)
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Fixed in 73f1205. `_main/pkg/tree ../../other` + `other /right/other`: `_main/pkg/tree/sub/x.py`
/// resolves to /right/other/sub/x.py, since the link `_main/pkg/tree` lives in `_main/pkg`; it used to
/// be resolved from the key's directory and found nothing.
#[test]
fn a_relative_target_under_a_tree_prefix_resolves_from_the_links_directory() {
    let data = regression("manifest", "bug-relative-target-under-prefix-wrong-dir");
    harness::manifest_checked(&data, harness::Check::Strict);
}

/// Fixed in 73f1205. `_main/t x`: looking up `_main/t/sub/x.py` used to double the key on each of 32
/// hops (gigabytes). Run in a child process with a 1 GiB address-space limit, so that a regression
/// fails this test instead of aborting the test binary.
#[test]
fn a_relative_link_into_itself_resolves_in_bounded_memory() {
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
            "a_relative_link_into_itself_resolves_in_bounded_memory",
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

/// Fixed in 73f1205. `_main/x.py /x.py`: the real directory of `_main` is `/`, not `` (an empty,
/// relative .pth line).
#[test]
fn a_real_directory_at_the_file_system_root_is_slash_not_an_empty_pth_line() {
    let data = regression("manifest", "bug-real-dir-at-root-is-empty");
    harness::manifest_checked(&data, harness::Check::Strict);
    let data = regression("venv_key", "bug-pth-empty-import-dir");
    harness::venv_key_checked(&data, harness::Check::Strict);
}

/// Fixed in 73f1205. A real directory holding a newline (an escaped manifest line) used to become two
/// .pth lines; it is now left off.
#[test]
fn an_import_dir_holding_a_newline_never_becomes_two_pth_lines() {
    let data = regression("venv_key", "bug-pth-newline-in-import-dir");
    harness::venv_key_checked(&data, harness::Check::Strict);
}

#[test]
#[ignore = "documented limitation: an unsorted manifest's conflicting duplicate after a larger link is not seen"]
fn an_unsorted_manifests_conflicting_duplicate_after_a_larger_link_is_refused() {
    // `a /x`, `c /c`, `a /y`: `a` is listed twice with different targets, but the lookup answers /x.
    let data = regression("manifest", "bug-unsorted-early-stop");
    harness::manifest_checked(&data, harness::Check::Strict);
}

/// Fixed in b89bd43: the descriptor now refuses such a name.
#[test]
fn an_import_with_trailing_space_is_refused_never_silently_dropped() {
    // imports = ["_main/lib "]: validate() used to accept it and import_dirs() to drop it silently (a
    // .pth line loses its trailing white space), so the program ran without it on sys.path.
    let data = regression("venv_key", "bug-import-with-trailing-space-dropped");
    harness::venv_key_checked(&data, harness::Check::Strict);
}

/// Fixed in 5e1407c.
#[test]
fn a_blank_line_neither_hides_a_conflict_nor_matches_the_empty_key() {
    // `a /x`, ``, `a /y`: lines() skips the blank line, so the file is sorted and `a` is listed twice
    // with different targets; the bisection's neighbour walk used to stop at the blank line and answer /y.
    // The second input: the bisection used to match the key "" against a blank line.
    let data = regression("manifest", "bug-blank-line-hides-conflict");
    harness::manifest_checked(&data, harness::Check::Strict);
    let data = regression("manifest", "bug-blank-line-matches-empty-key");
    harness::manifest_checked(&data, harness::Check::Strict);
}
