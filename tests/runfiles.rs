//! Runfiles discovery (the order Bazel's runfiles libraries use) and manifest-only mode.

mod common;

use std::fs;

use common::*;

#[test]
fn runfiles_next_to_the_executable_are_found_and_exported() {
    let app = App::hello();
    app.finalize();
    let report = app.command().run().ok().report();
    assert_eq!(
        report["env"]["RUNFILES_DIR"],
        app.runfiles().to_str().unwrap()
    );
    assert_eq!(
        report["env"]["JAVA_RUNFILES"],
        app.runfiles().to_str().unwrap()
    );
    assert!(report["env"].get("RUNFILES_MANIFEST_FILE").is_none());
}

#[test]
fn runfiles_dir_variable_wins_when_it_holds_our_main() {
    let app = App::hello();
    app.finalize();
    // A copy of the tree elsewhere, pointed at by RUNFILES_DIR.
    let other = app.sandbox.path("elsewhere.runfiles");
    fs::create_dir_all(other.join("_main/pkg/lib/greet")).unwrap();
    fs::copy(
        app.runfiles().join("_main/pkg/main.py"),
        other.join("_main/pkg/main.py"),
    )
    .unwrap();
    fs::write(
        other.join("_main/pkg/lib/greet/__init__.py"),
        "def hello():\n    return 'from elsewhere'\n",
    )
    .unwrap();
    let report = app
        .command()
        .env("RUNFILES_DIR", &other)
        .run()
        .ok()
        .report();
    assert_eq!(report["greeting"], "from elsewhere");
    assert_eq!(report["env"]["RUNFILES_DIR"], other.to_str().unwrap());
}

#[test]
fn a_parents_runfiles_variables_do_not_capture_a_child() {
    let app = App::hello();
    app.finalize();
    let parent = app.sandbox.path("parent.runfiles");
    fs::create_dir_all(parent.join("_main")).unwrap();
    let parent_manifest = app
        .sandbox
        .write("parent.runfiles_manifest", "_main/other.py /x/other.py\n");
    let report = app
        .command()
        .env("RUNFILES_DIR", &parent)
        .env("RUNFILES_MANIFEST_FILE", &parent_manifest)
        .run()
        .ok()
        .report();
    assert_eq!(
        report["env"]["RUNFILES_DIR"],
        app.runfiles().to_str().unwrap()
    );
    assert!(
        report["env"].get("RUNFILES_MANIFEST_FILE").is_none(),
        "stale manifest variable kept"
    );
}

#[test]
fn runfiles_dir_pointing_at_a_file_is_rejected() {
    let app = App::hello();
    app.finalize();
    let file = app.sandbox.write("not-a-dir", "x");
    let debug = app
        .command()
        .env("RUNFILES_DIR", &file)
        .env("PY_LAUNCHER_DEBUG", "1")
        .run()
        .ok();
    assert!(debug.stderr().contains("not a directory"), "{debug}");
    assert_eq!(
        debug.report()["env"]["RUNFILES_DIR"],
        app.runfiles().to_str().unwrap()
    );
}

#[test]
fn bazel_run_style_relative_argv0_with_cwd_inside_the_runfiles() {
    let app = App::hello();
    app.finalize();
    // `bazel run` passes argv[0] relative to the workspace while the cwd is <runfiles>/_main.
    let cwd = app.runfiles().join("_main");
    let report = app
        .command()
        .arg0("bazel-bin/pkg/app")
        .current_dir(&cwd)
        .run()
        .ok()
        .report();
    assert_eq!(
        report["env"]["RUNFILES_DIR"],
        app.runfiles().to_str().unwrap()
    );
    assert_eq!(report["cwd"], cwd.to_str().unwrap());
}

#[test]
fn a_chain_of_symlinks_to_the_executable_is_followed() {
    let app = App::hello();
    app.finalize();
    // bazel-bin/app -> ../bin/app, with a relative link target, called through another link.
    let first = app.sandbox.symlink("../bin/app", "bazel-bin/app");
    let second = app.sandbox.symlink(&first, "shortcut/app");
    let report = app.sandbox.command(&second).run().ok().report();
    assert_eq!(
        report["env"]["RUNFILES_DIR"],
        app.runfiles().to_str().unwrap()
    );
}

#[test]
fn an_executable_inside_another_runfiles_tree_uses_that_tree() {
    let app = App::hello();
    let bin = app.finalize();
    // A parent binary's tree lists this binary as data: <parent>.runfiles/_main/pkg/app -> bin/app.
    fs::rename(app.runfiles(), app.sandbox.path("parent.runfiles")).unwrap();
    let inside = app.sandbox.path("parent.runfiles/_main/pkg/app");
    fs::copy(&bin, &inside).unwrap();
    let report = app.sandbox.command(&inside).run().ok().report();
    assert_eq!(
        report["env"]["RUNFILES_DIR"],
        app.sandbox.path("parent.runfiles").to_str().unwrap()
    );
}

#[test]
fn manifest_only_runfiles_resolve_every_path_through_the_manifest() {
    let app = App::hello();
    app.finalize();
    let manifest = app.make_manifest_only();
    let report = app.command().run().ok().report();
    assert_eq!(report["greeting"], "hello from greet");
    assert_eq!(
        report["env"]["RUNFILES_MANIFEST_FILE"],
        manifest.to_str().unwrap()
    );
    assert!(report["env"].get("RUNFILES_DIR").is_none());
    assert_eq!(
        report["argv"][0],
        app.sandbox.path("src/_main/pkg/main.py").to_str().unwrap()
    );
}

#[test]
fn manifest_from_the_environment_with_escaped_lines_and_tree_artifacts() {
    let mut app = App::hello();
    // A tree artifact: only the directory is listed; its files resolve through the prefix.
    app.entries.remove("_main/pkg/lib/greet/__init__.py");
    let tree = app.sandbox.path("src/_main/pkg/lib");
    app.entries.insert("_main/pkg/lib".into(), tree);
    // A main file whose runfiles path has a space: Bazel escapes such a line.
    let main_real = app.sandbox.write("src/main with space.py", REPORT_MAIN);
    app.entries.remove("_main/pkg/main.py");
    app.set("main", "_main/pkg/main with space.py".into());
    app.finalize();
    let mut text = String::new();
    for (link, real) in &app.entries {
        text.push_str(&format!("{link} {}\n", real.display()));
    }
    text.push_str(&format!(
        " _main/pkg/main\\swith\\sspace.py {}\n",
        main_real.display()
    ));
    let manifest = app.sandbox.write("custom/MANIFEST_FILE", text);
    fs::remove_dir_all(app.runfiles()).unwrap();
    let report = app
        .command()
        .env("RUNFILES_MANIFEST_FILE", &manifest)
        .run()
        .ok()
        .report();
    assert_eq!(report["greeting"], "hello from greet");
    assert_eq!(report["argv"][0], main_real.to_str().unwrap());
}

#[test]
fn runfiles_library_from_pypi_finds_files_in_directory_and_manifest_mode() {
    let client = bazel_runfiles_package();
    for manifest_only in [false, true] {
        let mut app = App::hello();
        app.add_tree("pypi_bazel_runfiles", &client);
        app.add_file("_main/pkg/data.txt", "payload\n");
        app.add_file(
            "_main/pkg/main.py",
            "import runfiles\nr = runfiles.Create()\nprint(open(r.Rlocation('_main/pkg/data.txt')).read().strip())\n",
        );
        app.set(
            "imports",
            serde_json::json!(["_main/pkg/lib", "pypi_bazel_runfiles"]),
        );
        app.finalize();
        if manifest_only {
            app.make_manifest_only();
        }
        let run = app.command().run().ok();
        assert_eq!(
            run.stdout().trim(),
            "payload",
            "manifest_only={manifest_only}\n{run}"
        );
    }
}

#[test]
fn no_runfiles_at_all_is_a_clear_error() {
    let app = App::hello();
    app.finalize();
    fs::remove_dir_all(app.runfiles()).unwrap();
    app.command()
        .run()
        .fails(66, "no runfiles found holding \"_main/pkg/main.py\"");
}
