//! The coverage mode without Bazel: a finalized launcher whose descriptor names a coverage tool (the pinned
//! coverage wheel of `tests/deps.txt`, unpacked into the runfiles) runs the program under coverage.py only
//! when `COVERAGE_DIR` is set, measures only the files `COVERAGE_MANIFEST` lists, and writes lcov with
//! exec-root paths. `tests/bazel_coverage.rs` checks the same with a real `bazel coverage`.

mod common;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::PathBuf;

use common::*;
use serde_json::json;

const MAIN: &str = "import sys\nimport greet\n\nprint(greet.hello())\nif len(sys.argv) > 1:\n    sys.exit(int(sys.argv[1]))\n";

/// An app whose runfiles hold coverage.py at `pypi_coverage/coverage` and whose descriptor names it.
fn app_with_tool() -> App {
    let mut app = App::hello();
    app.add_file("_main/pkg/main.py", MAIN);
    symlink(
        unpacked_wheel("coverage"),
        app.runfiles().join("pypi_coverage"),
    )
    .unwrap();
    app.set("coverage_tool", json!("pypi_coverage"));
    app.finalize();
    app
}

/// Runs the app with the coverage variables; returns the run and the one tracefile's text (or "").
fn run_with_coverage(app: &App, args: &[&str]) -> (Run, String) {
    let coverage_dir = app.sandbox.path("coverage");
    fs::create_dir_all(&coverage_dir).unwrap();
    let listing = app.sandbox.write(
        "instrumented_files",
        "pkg/lib/greet/__init__.py\npkg/main.py\npkg/never_imported.py\n",
    );
    let run = app
        .command()
        .args(args)
        .env("COVERAGE_DIR", &coverage_dir)
        .env("COVERAGE_MANIFEST", &listing)
        .run();
    let files: Vec<PathBuf> = fs::read_dir(&coverage_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(files.len() <= 1, "{files:?}");
    let text = files
        .first()
        .map(|f| fs::read_to_string(f).unwrap())
        .unwrap_or_default();
    (run, text)
}

const EXPECTED: &str = "SF:pkg/lib/greet/__init__.py\nDA:1,1\nDA:2,1\nLF:2\nLH:2\nend_of_record\n\
SF:pkg/main.py\nDA:1,1\nDA:2,1\nDA:4,1\nDA:5,1\nDA:6,0\nLF:5\nLH:4\nend_of_record\n";

#[test]
fn coverage_dir_runs_the_program_under_coverage_and_writes_lcov() {
    let app = app_with_tool();
    let (run, lcov) = run_with_coverage(&app, &[]);
    let run = run.ok();
    assert_eq!(run.stdout(), "hello from greet\n");
    // Only the listed files that ran, by exec-root path: no standard library, no coverage.py, no driver.
    assert_eq!(lcov, EXPECTED, "{run}");
}

#[test]
fn the_exit_status_is_the_programs_and_the_report_is_still_written() {
    let app = app_with_tool();
    let (run, lcov) = run_with_coverage(&app, &["3"]);
    assert_eq!(run.code(), Some(3), "{run}");
    assert!(
        lcov.contains("SF:pkg/main.py\nDA:1,1\nDA:2,1\nDA:4,1\nDA:5,1\nDA:6,1\n"),
        "{lcov}"
    );
}

#[test]
fn manifest_only_runfiles_find_the_tool_and_the_sources() {
    let mut app = App::hello();
    app.add_file("_main/pkg/main.py", MAIN);
    // The manifest lists every file of the tool, as Bazel does.
    let tool = unpacked_wheel("coverage");
    app.add_tree("pypi_coverage/coverage", &tool.join("coverage"));
    app.set("coverage_tool", json!("pypi_coverage"));
    app.finalize();
    app.make_manifest_only();
    let (run, lcov) = run_with_coverage(&app, &[]);
    run.ok();
    assert_eq!(lcov, EXPECTED);
}

#[test]
fn without_coverage_dir_the_launch_is_unchanged() {
    let app = app_with_tool();
    let plan = app.command().plan();
    let argv = strs(&plan["argv"]);
    assert_eq!(argv.len(), 2, "{argv:?}");
    assert!(argv[1].ends_with("/_main/pkg/main.py"), "{argv:?}");

    let plan = app
        .command()
        .env("COVERAGE_DIR", app.sandbox.path("coverage"))
        .plan();
    let argv = strs(&plan["argv"]);
    assert_eq!(argv[1], "-c", "{argv:?}");
    assert!(argv[3].ends_with("/pypi_coverage"), "{argv:?}");
    assert_eq!(&argv[4..6], ["_main", "file"], "{argv:?}");
    assert!(argv[6].ends_with("/_main/pkg/main.py"), "{argv:?}");
}

#[test]
fn a_missing_tool_is_a_runfiles_error() {
    let mut app = App::hello();
    app.set("coverage_tool", json!("pypi_coverage"));
    app.finalize();
    app.command()
        .env("COVERAGE_DIR", app.sandbox.path("coverage"))
        .run()
        .fails(
            66,
            "coverage tool's \"pypi_coverage/coverage/__init__.py\" is not there",
        );
    // Without COVERAGE_DIR the tool is never looked for.
    app.command().run().ok();
}

#[test]
fn the_descriptor_refuses_a_coverage_tool_that_is_not_a_runfiles_path() {
    let mut app = App::hello();
    app.set("coverage_tool", json!("/abs/coverage"));
    let json = app.sandbox.write(
        "descriptor.json",
        serde_json::to_vec(&app.descriptor).unwrap(),
    );
    let run = finalize(&json, &app.bin());
    assert_ne!(run.code(), Some(0), "{run}");
    assert!(
        run.stderr()
            .contains("field `coverage_tool` is not a runfiles path"),
        "{run}"
    );
}

/// The system calls of a launch up to the `execve` of Python, by name (strace; the first `execve` is
/// strace starting the launcher). A second launch, so the run-time venv is warm in both.
fn syscalls_before_exec(app: &App, coverage_dir: bool) -> Vec<String> {
    let log = app.sandbox.path("strace.log");
    let mut cmd = app.sandbox.command("strace");
    if coverage_dir {
        cmd = cmd.env("COVERAGE_DIR", app.sandbox.path("coverage"));
    }
    app.command().run().ok();
    cmd.arg("-o").arg(&log).arg(app.bin()).run().ok();
    fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| l.split('(').next().unwrap().to_owned())
        .filter(|name| !name.is_empty() && !name.starts_with(['+', '-', ' ']))
        .scan(0, |execs, name| {
            *execs += (name == "execve") as u32;
            (*execs < 2).then_some(name)
        })
        .collect()
}

#[test]
fn coverage_off_costs_no_system_call() {
    // Without the field (every build but a coverage build) and with it but no COVERAGE_DIR (a
    // coverage-built binary run outside `bazel coverage`): the same system calls, one for one.
    let mut plain = App::hello();
    plain.add_file("_main/pkg/main.py", MAIN);
    plain.finalize();
    let without = syscalls_before_exec(&plain, false);
    let with_tool = syscalls_before_exec(&app_with_tool(), false);
    assert!(without.len() > 5, "{without:?}");
    assert_eq!(without, with_tool);
    // Under coverage the only extra call is the one look at the tool's __init__.py.
    let on = syscalls_before_exec(&app_with_tool(), true);
    assert_eq!(on.len(), without.len() + 1, "{without:?}\n{on:?}");
}

#[test]
fn a_bazel_native_drop_in_stub_runs_under_coverage_from_its_coverage_tool() {
    // Bazel's built-in py_test with py-launcher's stub template: %coverage_tool% is the runtime's
    // coverage tool, a file of coverage.py given as `<workspace>/<short path>`.
    let app = App::hello();
    symlink(
        unpacked_wheel("coverage"),
        app.runfiles().join("pypi_coverage"),
    )
    .unwrap();
    let mut app = app;
    app.add_file("_main/pkg/main.py", MAIN);
    let template = include_str!("../templates/bazel_native_stub.tmpl");
    let stub = [
        ("shebang", format!("#!{}", launcher().display())),
        ("target", "//pkg:app".into()),
        ("workspace_name", "_main".into()),
        ("python_binary", PYTHON.into()),
        ("main", "_main/pkg/main.py".into()),
        ("imports", "_main/pkg/lib".into()),
        ("import_all", "False".into()),
        ("is_zipfile", "False".into()),
        (
            "coverage_tool",
            "_main/../pypi_coverage/coverage/__main__.py".into(),
        ),
    ]
    .iter()
    .fold(template.to_owned(), |text, (name, value)| {
        text.replace(&format!("%{name}%"), value)
    });
    app.sandbox.write_exe("bin/app", stub);
    let (run, lcov) = run_with_coverage(&app, &[]);
    let run = run.ok();
    assert_eq!(run.stdout(), "hello from greet\n");
    assert_eq!(lcov, EXPECTED, "{run}");
    // Without COVERAGE_DIR the same stub runs as always.
    let plan = app.command().plan();
    assert_eq!(strs(&plan["argv"]).len(), 2, "{plan}");
}

#[test]
fn python_coverage_names_the_tool_when_the_descriptor_does_not() {
    // What Bazel's own stub and rules_python read; here for a binary (or a Bazel 4 stock stub) whose
    // descriptor names no tool. Only together with COVERAGE_DIR.
    let mut app = App::hello();
    app.add_file("_main/pkg/main.py", MAIN);
    app.finalize();
    let entry = unpacked_wheel("coverage").join("coverage/__main__.py");
    assert!(entry.is_file(), "{}", entry.display());
    let plan = app.command().env("PYTHON_COVERAGE", &entry).plan();
    assert_eq!(strs(&plan["argv"]).len(), 2, "{plan}");

    let coverage_dir = app.sandbox.path("coverage");
    fs::create_dir_all(&coverage_dir).unwrap();
    let listing = app.sandbox.write(
        "instrumented_files",
        "pkg/lib/greet/__init__.py\npkg/main.py\n",
    );
    let run = app
        .command()
        .env("PYTHON_COVERAGE", &entry)
        .env("COVERAGE_DIR", &coverage_dir)
        .env("COVERAGE_MANIFEST", &listing)
        .run()
        .ok();
    let files: Vec<PathBuf> = fs::read_dir(&coverage_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}\n{run}");
    assert_eq!(fs::read_to_string(&files[0]).unwrap(), EXPECTED);

    app.command()
        .env(
            "PYTHON_COVERAGE",
            app.sandbox.path("nowhere/coverage/__main__.py"),
        )
        .env("COVERAGE_DIR", &coverage_dir)
        .run()
        .fails(66, "(from PYTHON_COVERAGE) is not there");
}
