//! Faults: a launch killed with SIGKILL at each step of venv creation, then a clean launch; read-only
//! runfiles. Needs the `fault-injection` feature (scripts/test enables it).

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;

use common::*;

const STEPS: [&str; 6] = [
    "tempdir",
    "bin",
    "modules",
    "site-packages",
    "filled",
    "renamed",
];

/// The names of what the launcher's cache directory holds, sorted.
fn cache_names(cache: &Path) -> Vec<String> {
    cache_entries(cache)
        .iter()
        .map(|e| e.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn a_launch_killed_at_any_step_of_venv_creation_leaves_no_garbage() {
    for step in STEPS {
        let app = App::hello();
        app.finalize();
        let killed = app.command().env("PY_LAUNCHER_FAULT", step).run();
        assert_eq!(
            killed.output.status.signal(),
            Some(libc::SIGKILL),
            "step {step}: not killed\n{killed}"
        );
        let left = cache_names(&app.sandbox.cache());
        assert!(
            left.iter()
                .all(|n| n.starts_with(".tmp-") || n.starts_with("venv-")),
            "step {step}: {left:?}"
        );
        assert!(
            left.iter().filter(|n| n.starts_with("venv-")).count() <= 1,
            "step {step}: {left:?}"
        );

        let run = app.command().run().ok();
        assert_eq!(run.report()["greeting"], "hello from greet", "step {step}");
        let left = cache_names(&app.sandbox.cache());
        assert_eq!(left.len(), 1, "step {step}: garbage left: {left:?}");
        assert!(left[0].starts_with("venv-"), "step {step}: {left:?}");
    }
}

#[test]
fn read_only_runfiles_are_never_written() {
    let mut app = App::hello();
    app.add_build_time_venv();
    app.finalize();
    fn set_mode(dir: &Path, dirs: u32) {
        for entry in fs::read_dir(dir).unwrap().flatten() {
            if entry.file_type().unwrap().is_dir() {
                set_mode(&entry.path(), dirs);
            }
        }
        fs::set_permissions(dir, fs::Permissions::from_mode(dirs)).unwrap();
    }
    set_mode(&app.runfiles(), 0o555);
    let listing = |dir: &Path| {
        entries_under(dir)
            .into_iter()
            .map(|(path, meta)| (path, meta.modified().ok()))
            .collect::<Vec<_>>()
    };
    let before = listing(&app.runfiles());
    // Python itself would cache bytecode next to the sources; only the launcher is under test here.
    let report = app
        .command()
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .run()
        .ok()
        .report();
    assert_eq!(report["greeting"], "hello from greet");
    assert_eq!(
        listing(&app.runfiles()),
        before,
        "the launcher or Python wrote into the runfiles"
    );
    set_mode(&app.runfiles(), 0o755);
}
