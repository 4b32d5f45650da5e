//! The bad-input table: one test per row, each asserting the message class, the documented exit code,
//! one `py-launcher:` line with no panic, and nothing written outside the cache.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::*;
use py_launcher::trailer;
use serde_json::json;

/// Every path under the sandbox except the cache and temp directories the launcher may write.
fn snapshot(root: &Path) -> Vec<PathBuf> {
    entries_under(root)
        .into_iter()
        .map(|(path, _)| path)
        .filter(|p| !p.starts_with(root.join("cache")) && !p.starts_with(root.join("tmp")))
        .collect()
}

/// Runs the app, expecting a failure with `code` and `needle`, and checks nothing else was written.
fn expect_failure(app: &App, cmd: Cmd, code: i32, needle: &str) {
    let before = snapshot(app.sandbox.root());
    cmd.run().fails(code, needle);
    assert_eq!(
        snapshot(app.sandbox.root()),
        before,
        "files were written outside the cache"
    );
}

/// A launcher with raw descriptor bytes and a hand-made trailer.
fn with_raw_descriptor(app: &App, descriptor: &[u8]) {
    let mut bytes = fs::read(launcher()).unwrap();
    bytes.extend_from_slice(&trailer::encode(descriptor));
    write_bin(app, &bytes);
}

/// Replaces the app's executable ([`App::bin`]) with `bytes`.
fn write_bin(app: &App, bytes: &[u8]) {
    app.sandbox.write_exe("bin/app", bytes);
}

/// Finalizes the app, then replaces its executable with the finalized bytes as `damage` leaves them.
fn damage_bin(app: &App, damage: impl FnOnce(&mut Vec<u8>)) {
    let mut bytes = fs::read(app.finalize()).unwrap();
    damage(&mut bytes);
    write_bin(app, &bytes);
}

fn descriptor_with(change: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let mut app = App::hello();
    change(&mut app.descriptor);
    serde_json::to_vec(&app.descriptor).unwrap()
}

#[test]
fn a_truncated_trailer_reads_as_no_descriptor() {
    let app = App::hello();
    damage_bin(&app, |bytes| bytes.truncate(bytes.len() - 5));
    expect_failure(&app, app.command(), 64, "has no embedded descriptor");
}

#[test]
fn a_trailer_with_the_wrong_magic_reads_as_no_descriptor() {
    let app = App::hello();
    damage_bin(&app, |bytes| {
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
    });
    expect_failure(&app, app.command(), 64, "has no embedded descriptor");
}

#[test]
fn a_descriptor_length_past_the_start_of_the_file_is_refused() {
    let app = App::hello();
    damage_bin(&app, |bytes| {
        let len_at = bytes.len() - 24;
        bytes[len_at..len_at + 8].copy_from_slice(&(u64::MAX / 2).to_le_bytes());
    });
    expect_failure(&app, app.command(), 65, "points past the start of the file");
}

#[test]
fn a_descriptor_changed_after_finalizing_fails_its_checksum() {
    let app = App::hello();
    damage_bin(&app, |bytes| {
        let at = bytes.len() - 30;
        bytes[at] ^= 0x01;
    });
    expect_failure(&app, app.command(), 65, "checksum does not match");
}

#[test]
fn invalid_descriptor_json_is_a_descriptor_error() {
    let app = App::hello();
    with_raw_descriptor(&app, b"{\"version\": 1, \"target\": ");
    expect_failure(&app, app.command(), 65, "descriptor is not valid");
}

#[test]
fn an_unknown_descriptor_version_is_refused() {
    let app = App::hello();
    with_raw_descriptor(&app, &descriptor_with(|d| d["version"] = json!(7)));
    expect_failure(&app, app.command(), 65, "unsupported descriptor version 7");
}

#[test]
fn a_missing_required_field_is_named() {
    let app = App::hello();
    with_raw_descriptor(
        &app,
        &descriptor_with(|d| drop(d.as_object_mut().unwrap().remove("interpreter"))),
    );
    expect_failure(&app, app.command(), 65, "missing field `interpreter`");
    with_raw_descriptor(
        &app,
        &descriptor_with(|d| drop(d.as_object_mut().unwrap().remove("main"))),
    );
    expect_failure(
        &app,
        app.command(),
        65,
        "neither `main` nor `main_module` is set",
    );
}

#[test]
fn main_and_main_module_together_are_refused() {
    let app = App::hello();
    with_raw_descriptor(
        &app,
        &descriptor_with(|d| d["main_module"] = json!("greet")),
    );
    expect_failure(
        &app,
        app.command(),
        65,
        "both `main` and `main_module` are set",
    );
}

#[test]
fn dot_dot_and_absolute_paths_are_refused_as_runfiles_paths() {
    let app = App::hello();
    for (field, value) in [
        ("main", json!("_main/../etc/passwd")),
        ("main", json!("/etc/passwd")),
        ("imports", json!(["_main/./lib"])),
        ("venv", json!("a//b")),
        ("build_config", json!("..")),
        ("interpreter", json!("py/../../bin/python3")),
    ] {
        with_raw_descriptor(&app, &descriptor_with(|d| d[field] = value.clone()));
        expect_failure(&app, app.command(), 65, "is not a runfiles path");
    }
}

#[test]
fn a_main_file_missing_from_the_runfiles_names_them_and_how_they_were_found() {
    let app = App::hello();
    app.finalize();
    fs::remove_file(app.runfiles().join("_main/pkg/main.py")).unwrap();
    // The runfiles were found: the message names them rather than saying there are none.
    expect_failure(
        &app,
        app.command(),
        66,
        &format!(
            "the main file \"_main/pkg/main.py\" is missing from the runfiles \"{}\" (found from <executable>.runfiles)",
            app.runfiles().display()
        ),
    );
    let run = app.command().run();
    assert!(
        run.stderr()
            .contains("hint: the runfiles are incomplete or stale: rebuild the binary"),
        "{run}"
    );
}

#[test]
fn a_main_file_that_is_a_dangling_link_names_its_target() {
    let app = App::hello();
    app.finalize();
    let real = app.sandbox.path("src/_main/pkg/main.py");
    fs::remove_file(&real).unwrap();
    expect_failure(
        &app,
        app.command(),
        66,
        &format!(
            "the main file \"_main/pkg/main.py\" is a dangling link to \"{}\" in the runfiles \"{}\"",
            real.display(),
            app.runfiles().display()
        ),
    );
}

#[test]
fn a_manifest_entry_whose_target_is_gone_is_a_stale_manifest_not_a_python_error() {
    let app = App::hello();
    app.finalize();
    let manifest = app.make_manifest_only();
    let real = app.sandbox.path("src/_main/pkg/main.py");
    fs::remove_file(&real).unwrap();
    expect_failure(
        &app,
        app.command(),
        66,
        &format!(
            "the manifest \"{}\" lists the main file \"_main/pkg/main.py\" at \"{}\", which no longer exists",
            manifest.display(),
            real.display()
        ),
    );
    let run = app.command().run();
    assert!(
        run.stderr().contains("hint: the manifest is stale"),
        "{run}"
    );
    assert!(!run.stderr().contains("can't open file"), "{run}");
}

#[test]
fn a_manifest_without_the_main_file_names_the_manifest() {
    let app = App::hello();
    app.finalize();
    let manifest = app.make_manifest_only();
    let text = fs::read_to_string(&manifest).unwrap();
    let kept: String = text
        .lines()
        .filter(|l| !l.starts_with("_main/pkg/main.py "))
        .map(|l| format!("{l}\n"))
        .collect();
    fs::write(&manifest, kept).unwrap();
    expect_failure(
        &app,
        app.command(),
        66,
        &format!(
            "the main file \"_main/pkg/main.py\" is not listed in the runfiles manifest \"{}\" (found from <executable>.runfiles_manifest)",
            manifest.display()
        ),
    );
}

#[test]
fn unfinalized_launcher_given_an_argument_says_what_it_lacks() {
    let sandbox = Sandbox::new();
    let script = sandbox.write("main.py", "print('hi')\n");
    for arg in [script.clone(), sandbox.path("missing.py")] {
        let run = sandbox.command(launcher()).arg(&arg).arg("more").run();
        let run = run.fails(
            64,
            "this py-launcher has no embedded descriptor, so its first argument must be a drop-in stub, but",
        );
        assert!(
            run.stderr()
                .contains(&format!("\"{}\" is not a py-launcher stub", arg.display())),
            "{run}"
        );
        assert!(
            run.stderr()
                .contains("hint: finalize it with py-launcher-finalize"),
            "{run}"
        );
    }
}

#[test]
fn a_manifest_key_listed_twice_with_different_targets_is_refused() {
    let app = App::hello();
    app.finalize();
    let manifest = app.make_manifest_only();
    let mut text = fs::read_to_string(&manifest).unwrap();
    text.push_str("_main/pkg/main.py /somewhere/else.py\n");
    fs::write(&manifest, text).unwrap();
    expect_failure(
        &app,
        app.command(),
        66,
        "listed twice with different targets",
    );
}

#[test]
fn malformed_manifest_lines_are_skipped_and_a_main_without_target_is_an_empty_file() {
    let app = App::hello();
    app.finalize();
    let manifest = app.make_manifest_only();
    // A line with no target at all for the main file, between binary garbage.
    let mut text = fs::read(&manifest).unwrap();
    text = String::from_utf8(text)
        .unwrap()
        .replace(
            &format!(
                "_main/pkg/main.py {}",
                app.sandbox.path("src/_main/pkg/main.py").display()
            ),
            "_main/pkg/main.py",
        )
        .into_bytes();
    text.extend_from_slice(b"\xff\xfe garbage\n\n\n \\\n");
    fs::write(&manifest, text).unwrap();
    expect_failure(
        &app,
        app.command(),
        66,
        "is listed as an empty file in the manifest",
    );
}

#[test]
fn a_manifest_target_escaping_the_runfiles_root_is_refused() {
    let app = App::hello();
    app.finalize();
    let manifest = app.make_manifest_only();
    let text = fs::read_to_string(&manifest).unwrap().replace(
        app.sandbox
            .path("src/_main/pkg/lib/greet/__init__.py")
            .to_str()
            .unwrap(),
        "../../../../../etc/passwd",
    );
    fs::write(&manifest, text).unwrap();
    let mut app2 = App::hello();
    app2.set("interpreter", json!("_main/pkg/lib/greet/__init__.py"));
    with_raw_descriptor(&app, &serde_json::to_vec(&app2.descriptor).unwrap());
    expect_failure(&app, app.command(), 66, "links outside the runfiles root");
}

#[test]
fn runfiles_dir_pointing_at_nothing_falls_back_then_fails_clearly() {
    let app = App::hello();
    app.finalize();
    fs::rename(app.runfiles(), app.sandbox.path("gone")).unwrap();
    expect_failure(
        &app,
        app.command().env("RUNFILES_DIR", "/nonexistent/x.runfiles"),
        66,
        "RUNFILES_DIR=\"/nonexistent/x.runfiles\" (missing)",
    );
}

#[test]
fn empty_variables_count_as_unset_and_huge_ones_still_launch() {
    let app = App::hello();
    app.finalize();
    // Empty values mean "unset" for the runfiles variables and the debug switch.
    let run = app
        .command()
        .env("RUNFILES_DIR", "")
        .env("RUNFILES_MANIFEST_FILE", "")
        .env("PY_LAUNCHER_DEBUG", "")
        .env("PY_LAUNCHER_INTERPRETER_ARGS", "")
        .run()
        .ok();
    assert_eq!(run.report()["greeting"], "hello from greet");
    assert_eq!(run.stderr(), "");
    // A cache path too long for the file system: the launcher falls back to $TMPDIR.
    let huge = format!("/{}", "a".repeat(100_000));
    assert_eq!(
        app.command()
            .env("XDG_CACHE_HOME", &huge)
            .run()
            .ok()
            .report()["greeting"],
        "hello from greet"
    );
    // 100 KB of interpreter arguments (14,000 of them) are split and passed on intact.
    let many = "-X dev ".repeat(14_000);
    assert_eq!(
        app.command()
            .env("PY_LAUNCHER_INTERPRETER_ARGS", &many)
            .run()
            .ok()
            .report()["greeting"],
        "hello from greet"
    );
}

#[test]
fn no_descriptor_and_no_stub_is_a_usage_error() {
    let sandbox = Sandbox::new();
    let run = sandbox.command(launcher()).run();
    run.fails(64, "has no embedded descriptor and was given no stub file");
}
