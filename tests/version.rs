//! `--version` and `--help` of both binaries: on stdout, exit 0, and only where they cannot belong to a
//! Python program (a finalized launcher passes them on unchanged).

mod common;

use common::*;
use py_launcher::version::launcher_version;

fn expected_version_line(program: &str) -> String {
    format!("{program} {}\n", launcher_version())
}

#[test]
fn version_is_the_crate_version_plus_the_commit_of_a_checkout() {
    let version = launcher_version();
    assert!(version.starts_with(env!("CARGO_PKG_VERSION")), "{version}");
    // This test runs from a git checkout, so build.rs found the commit.
    let commit = version
        .strip_prefix(&format!("{} (", env!("CARGO_PKG_VERSION")))
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or_else(|| panic!("no commit in {version:?}"));
    assert_eq!(commit.len(), 12, "{version}");
    assert!(commit.bytes().all(|b| b.is_ascii_hexdigit()), "{version}");
}

#[test]
fn plain_launcher_prints_its_version_on_stdout() {
    let sandbox = Sandbox::new();
    for flag in ["--version", "-V"] {
        let run = sandbox.command(launcher()).arg(flag).run().ok();
        assert_eq!(run.stdout(), expected_version_line("py-launcher"), "{run}");
        assert_eq!(run.stderr(), "", "{run}");
    }
}

#[test]
fn plain_launcher_prints_its_help_on_stdout() {
    let sandbox = Sandbox::new();
    for flag in ["--help", "-h"] {
        let run = sandbox.command(launcher()).arg(flag).run().ok();
        let stdout = run.stdout();
        assert!(
            stdout.starts_with(&format!("py-launcher {}: ", launcher_version())),
            "{run}"
        );
        assert!(
            stdout.contains("usage: py-launcher STUB [ARGS...]\n"),
            "{run}"
        );
        assert!(stdout.contains("py-launcher --version | --help\n"), "{run}");
        assert_eq!(run.stderr(), "", "{run}");
    }
}

#[test]
fn plain_launcher_without_arguments_is_still_a_usage_error() {
    let sandbox = Sandbox::new();
    sandbox
        .command(launcher())
        .run()
        .fails(64, "no embedded descriptor and was given no stub file");
}

#[test]
fn finalized_app_passes_help_and_version_to_python_unchanged() {
    let app = App::hello();
    app.finalize();
    for args in [
        &["--help"][..],
        &["--version"],
        &["-V", "-h"],
        &["--version", "--help", "x"],
    ] {
        let run = app.command().args(args).run().ok();
        let report = run.report();
        let argv = strs(&report["argv"]);
        assert_eq!(
            argv[1..],
            args.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
            "{run}"
        );
        assert!(argv[0].ends_with("/_main/pkg/main.py"), "{run}");
        assert_eq!(
            run.stdout().lines().count(),
            1,
            "only Python's output: {run}"
        );
        assert!(!run.stdout().contains(&launcher_version()), "{run}");
    }
}

#[test]
fn finalizer_prints_its_version_and_help_on_stdout() {
    let sandbox = Sandbox::new();
    for flag in ["--version", "-V"] {
        let run = sandbox.command(finalizer()).arg(flag).run().ok();
        assert_eq!(
            run.stdout(),
            expected_version_line("py-launcher-finalize"),
            "{run}"
        );
        assert_eq!(run.stderr(), "", "{run}");
    }
    for flag in ["--help", "-h"] {
        let run = sandbox
            .command(finalizer())
            .args(["--launcher", "x", flag])
            .run()
            .ok();
        let stdout = run.stdout();
        assert!(
            stdout.starts_with(&format!("py-launcher-finalize {}: ", launcher_version())),
            "{run}"
        );
        assert!(
            stdout.contains(
                "\nusage: py-launcher-finalize --launcher PATH --descriptor FILE.json --output PATH\n"
            ),
            "{run}"
        );
        assert!(!stdout.contains("usage: usage"), "{run}");
        assert_eq!(run.stderr(), "", "{run}");
    }
}

#[test]
fn finalizer_usage_errors_say_usage_once() {
    let sandbox = Sandbox::new();
    for args in [&["--bogus"][..], &["--launcher"], &[]] {
        let run = sandbox.command(finalizer()).args(args).run().fails(64, "");
        let line = run.stderr();
        assert!(line.starts_with("py-launcher: usage: "), "{run}");
        assert_eq!(
            line.matches("usage:").count(),
            2,
            "the class and the hint's usage line: {run}"
        );
        assert!(!line.contains("usage: usage"), "{run}");
        assert_eq!(run.stdout(), "", "{run}");
    }
}
