//! `bazel coverage` of launcher-based tests, with a real Bazel 4.2.3 (driver: `tests/common/bazel.rs`).
//!
//! The workspace's `//covered` package has a library with a branch its test takes and one it never takes.
//! coverage.py is the pinned wheel of `tests/deps.txt` (fetched by the scripts), unpacked as
//! `@pypi_coverage` and named by the `coverage_tool` of a second launcher toolchain
//! (`//toolchains:py_launcher_coverage_toolchain`). Bazel's collect_coverage.sh runs each test and then the
//! LCOV merger, which here is the project's offline stand-in (`tests/bazel/offline/remote_coverage_tools`).
//! Each case checks the exact `DA:line,count` lines of the merged `coverage.dat` in the test logs (and of
//! the `--combined_report=lcov` report), and that nothing but the instrumented library is in it: no
//! standard library, no coverage.py, no third-party code, no launcher module.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use common::bazel::*;

const COVERAGE_TOOLCHAIN: &str = "--extra_toolchains=//toolchains:py_launcher_coverage_toolchain";

/// The library's lines as coverage.py counts statements: the docstring, `def`, `if`, the taken
/// `return`, and the `return` no test reaches.
const SHAPES: &[(u32, u64)] = &[(1, 1), (4, 1), (5, 1), (6, 1), (7, 0)];

/// lcov text -> source file -> its `DA:line,count` pairs, in file order.
fn lcov_lines(text: &str) -> BTreeMap<String, Vec<(u32, u64)>> {
    let mut files: BTreeMap<String, Vec<(u32, u64)>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("SF:") {
            current = Some(name.to_owned());
            files.insert(name.to_owned(), Vec::new());
        } else if let Some(da) = line.strip_prefix("DA:") {
            let mut parts = da.split(',');
            let number = parts.next().unwrap().parse().unwrap();
            let count = parts.next().unwrap().parse().unwrap();
            let file = current.as_ref().expect("DA: outside a record");
            files.get_mut(file).unwrap().push((number, count));
        } else if line == "end_of_record" {
            current = None;
        }
    }
    files
}

fn expected() -> BTreeMap<String, Vec<(u32, u64)>> {
    BTreeMap::from([("covered/shapes.py".to_owned(), SHAPES.to_vec())])
}

/// The shared workspace; `bazel()` also writes `@pypi_coverage` (every suite needs it: the coverage
/// toolchain is in `//toolchains:all`).
fn setup() -> Bazel {
    bazel()
}

fn testlogs(b: &Bazel) -> PathBuf {
    b.bin.parent().unwrap().join("testlogs")
}

/// Runs `bazel coverage` of `target` with `flags` and returns the test's merged coverage.dat.
fn coverage(b: &Bazel, flags: &[&str], target: &str) -> String {
    let mut args = vec![
        "coverage",
        "--nocache_test_results",
        COVERAGE_TOOLCHAIN,
        "--test_output=errors",
    ];
    args.extend_from_slice(flags);
    args.push(target);
    let out = b.ok(&args);
    let dat = testlogs(b)
        .join(target.trim_start_matches("//").replace(':', "/"))
        .join("coverage.dat");
    fs::read_to_string(&dat)
        .unwrap_or_else(|e| panic!("read {}: {e}\n{}", dat.display(), output_text(&out)))
}

#[test]
#[ignore = "needs Bazel; run by scripts/test"]
fn coverage_of_a_launcher_test_names_hit_and_missed_lines() {
    let b = setup();
    let dat = coverage(&b, &["--combined_report=lcov"], "//covered:shapes_test");
    assert_eq!(lcov_lines(&dat), expected(), "coverage.dat:\n{dat}");

    // --combined_report=lcov: the report generator merges every test's coverage.dat.
    let output_path = b.bin.parent().unwrap().parent().unwrap();
    let combined = output_path.join("_coverage/_coverage_report.dat");
    let text = fs::read_to_string(&combined)
        .unwrap_or_else(|e| panic!("read {}: {e}", combined.display()));
    assert_eq!(lcov_lines(&text), expected(), "combined report:\n{text}");

    // The test itself saw the ordinary launch: its main file as argv[0], COVERAGE_DIR inherited.
    let log = fs::read_to_string(testlogs(&b).join("covered/shapes_test/test.log")).unwrap();
    assert!(
        log.contains("shapes_test.py\", \"coverage_dir\": true, \"runfiles\": \"directory\"}"),
        "test.log:\n{log}"
    );
}

#[test]
#[ignore = "needs Bazel; run by scripts/test"]
fn coverage_of_a_native_py_test_through_the_drop_in_stub() {
    // Bazel 4.2.3's own py_test: its stock stub's #! is py-launcher (docs/dropin.md), and the stub names
    // no coverage tool, so PYTHON_COVERAGE (what that stub reads) names coverage.py's entry point.
    let b = setup();
    let entry = b.root.join("repos/pypi_coverage/coverage/__main__.py");
    let dat = coverage(
        &b,
        &[
            "--extra_toolchains=//native:absolute_toolchain",
            &format!("--test_env=PYTHON_COVERAGE={}", entry.display()),
        ],
        "//covered:shapes_native_test",
    );
    assert_eq!(lcov_lines(&dat), expected(), "coverage.dat:\n{dat}");
    let stub = fs::read_to_string(b.bin.join("covered/shapes_native_test")).unwrap();
    assert!(
        stub.starts_with("#!/") && stub.lines().next().unwrap().ends_with("/py-launcher"),
        "the test's executable is Bazel's stub run by py-launcher: {}",
        stub.lines().next().unwrap()
    );
    let log = fs::read_to_string(testlogs(&b).join("covered/shapes_native_test/test.log")).unwrap();
    assert!(
        log.contains("\"coverage_dir\": true, \"runfiles\": \"directory\"}"),
        "test.log:\n{log}"
    );
}

#[test]
#[ignore = "needs Bazel; run by scripts/test"]
fn instrumentation_flags_decide_what_is_measured() {
    // The rules' InstrumentedFilesInfo: --instrument_test_targets adds the test's own srcs, and an
    // --instrumentation_filter that excludes the library leaves nothing.
    let b = setup();
    let dat = coverage(&b, &["--instrument_test_targets"], "//covered:shapes_test");
    assert_eq!(
        lcov_lines(&dat),
        BTreeMap::from([
            ("covered/shapes.py".to_owned(), SHAPES.to_vec()),
            ("covered/shapes_test.py".to_owned(), SHAPES_TEST.to_vec()),
        ]),
        "coverage.dat:\n{dat}"
    );
    let dat = coverage(
        &b,
        &["--instrumentation_filter=-//covered[/:]"],
        "//covered:shapes_test",
    );
    assert_eq!(lcov_lines(&dat), BTreeMap::new(), "coverage.dat:\n{dat}");
}

#[test]
#[ignore = "needs Bazel; run by scripts/test"]
fn a_launcher_binary_started_by_the_test_adds_its_own_coverage() {
    // The test takes one branch, the binary it starts (a py_launcher_binary in its data) the other: the
    // merged counts add up, and the binary's own file is there.
    let b = setup();
    let dat = coverage(&b, &[], "//covered:shapes_subprocess_test");
    assert_eq!(
        lcov_lines(&dat),
        BTreeMap::from([
            (
                "covered/shapes.py".to_owned(),
                vec![(1, 2), (4, 2), (5, 2), (6, 1), (7, 1)]
            ),
            ("covered/shapes_cli.py".to_owned(), vec![(1, 1), (3, 1)]),
        ]),
        "coverage.dat:\n{dat}"
    );
}

#[test]
#[ignore = "needs Bazel; run by scripts/test"]
fn coverage_of_a_main_module_test() {
    let b = setup();
    let dat = coverage(&b, &[], "//covered:shapes_module_test");
    assert_eq!(lcov_lines(&dat), expected(), "coverage.dat:\n{dat}");
}

/// The test file's statements as coverage.py counts them: every one runs.
const SHAPES_TEST: &[(u32, u64)] = &[
    (1, 1),
    (2, 1),
    (3, 1),
    (5, 1),
    (6, 1),
    (8, 1),
    (9, 1),
    (10, 1),
    (11, 1),
];

/// Runs the coverage-built test executable the way collect_coverage.sh does, but by hand, so that the
/// launcher's own lcov can be read before any merger filters it: COVERAGE_DIR is a fresh directory and
/// COVERAGE_MANIFEST lists the library and the test file. Returns the launcher's one tracefile.
fn run_under_coverage(b: &Bazel, manifest_mode: bool, case: &str) -> String {
    let dir = b.root.join(format!("coverage-{case}"));
    let _ = fs::remove_dir_all(&dir);
    let coverage_dir = dir.join("coverage");
    fs::create_dir_all(&coverage_dir).unwrap();
    let listing = dir.join("instrumented_files");
    fs::write(&listing, "covered/shapes.py\ncovered/shapes_test.py\n").unwrap();
    let mut cmd = std::process::Command::new(b.bin.join("covered/shapes_test"));
    cmd.current_dir(&dir)
        .env("XDG_CACHE_HOME", &b.cache_home)
        .env("COVERAGE_DIR", &coverage_dir)
        .env("COVERAGE_MANIFEST", &listing)
        .env_remove("ROOT");
    scrub_inherited_env(&mut cmd);
    if manifest_mode {
        cmd.env(
            "RUNFILES_MANIFEST_FILE",
            b.bin.join("covered/shapes_test.runfiles_manifest"),
        );
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", output_text(&out));
    let mode = if manifest_mode {
        "manifest"
    } else {
        "directory"
    };
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!("\"runfiles\": \"{mode}\"")),
        "{}",
        output_text(&out)
    );
    let tracefiles: Vec<PathBuf> = fs::read_dir(&coverage_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(tracefiles.len(), 1, "one tracefile: {tracefiles:?}");
    let name = tracefiles[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(
        name.starts_with("py_launcher_") && name.ends_with(".dat"),
        "{name}"
    );
    let text = fs::read_to_string(&tracefiles[0]).unwrap();

    // Exactly the listed files, by their exec-root paths: no standard library, no coverage.py, no
    // third-party module (the test imports one), nothing of the launcher's.
    assert_eq!(
        lcov_lines(&text),
        BTreeMap::from([
            ("covered/shapes.py".to_owned(), SHAPES.to_vec()),
            ("covered/shapes_test.py".to_owned(), SHAPES_TEST.to_vec()),
        ]),
        "the launcher's tracefile:\n{text}"
    );

    // The merger as collect_coverage.sh runs it, with the list `bazel coverage` of this test makes by
    // default (written here: Bazel writes its own only for a test run, and another case may have left
    // one made with other instrumentation flags).
    let merged = dir.join("merged.dat");
    let source_manifest = dir.join("source_manifest");
    fs::write(&source_manifest, "covered/shapes.py\n").unwrap();
    let merger = b
        .repo
        .join("tests/bazel/offline/remote_coverage_tools/coverage_report_generator");
    let out = std::process::Command::new(common::PYTHON)
        .arg(merger)
        .arg(format!("--coverage_dir={}", coverage_dir.display()))
        .arg(format!("--output_file={}", merged.display()))
        .arg("--filter_sources=/usr/lib/.+")
        .arg("--filter_sources=.*external/.+")
        .arg(format!(
            "--source_file_manifest={}",
            source_manifest.display()
        ))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", output_text(&out));
    fs::read_to_string(merged).unwrap()
}

#[test]
#[ignore = "needs Bazel; run by scripts/test"]
fn coverage_in_manifest_only_mode() {
    // Bazel 4.2.3 always builds the runfiles tree before it runs a test (even with --nobuild_runfile_links),
    // so manifest-only mode is proven on the coverage-built test executable run as collect_coverage.sh does.
    let b = setup();
    let tree = b.runfiles("covered/shapes_test");
    if tree.exists() {
        fs::remove_dir_all(&tree).unwrap();
    }
    b.build(
        &[
            "--collect_code_coverage",
            "--nobuild_runfile_links",
            COVERAGE_TOOLCHAIN,
        ],
        &["//covered:shapes_test"],
    );
    assert!(!tree.join("e2e").exists(), "no runfiles tree");
    let merged = run_under_coverage(&b, true, "manifest");
    assert_eq!(lcov_lines(&merged), expected(), "merged:\n{merged}");
}

#[test]
#[ignore = "needs Bazel; run by scripts/test"]
fn coverage_tracefile_of_a_direct_run_in_directory_mode() {
    let b = setup();
    b.build(
        &["--collect_code_coverage", COVERAGE_TOOLCHAIN],
        &["//covered:shapes_test"],
    );
    let merged = run_under_coverage(&b, false, "directory");
    assert_eq!(lcov_lines(&merged), expected(), "merged:\n{merged}");
}

#[test]
#[ignore = "needs Bazel; run by scripts/test"]
fn bazel_test_is_unchanged_by_a_coverage_tool() {
    // `bazel test` (no coverage): the descriptor names no coverage tool and the tool is not in the runfiles.
    let b = setup();
    b.ok(&[
        "test",
        "--nocache_test_results",
        COVERAGE_TOOLCHAIN,
        "//covered:shapes_test",
    ]);
    let manifest = b.bin.join("covered/shapes_test.runfiles_manifest");
    let keys = manifest_keys(&manifest);
    assert!(
        !keys.iter().any(|k| k.starts_with("pypi_coverage/")),
        "coverage.py is not in the runfiles of a test built without coverage"
    );
    let descriptor = b.read_json("covered/_shapes_test.descriptor.json");
    assert_eq!(descriptor.get("coverage_tool"), None, "{descriptor}");
}
