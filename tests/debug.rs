//! The debugging mode: the decision trace on stderr and the JSON launch plan on stdout.

mod common;

use common::*;

#[test]
fn text_mode_traces_every_decision_then_runs_the_program() {
    let app = App::hello();
    app.finalize();
    for var in ["PY_LAUNCHER_DEBUG", "RULES_PYTHON_BOOTSTRAP_VERBOSE"] {
        let run = app
            .command()
            .env(var, "1")
            .env("RUNFILES_DIR", "/nonexistent")
            .run()
            .ok();
        let trace = run.stderr();
        for expected in [
            "py-launcher: debug: descriptor: {\"version\":1,\"target\":\"//pkg:app\"",
            "runfiles candidate RUNFILES_DIR=\"/nonexistent\": rejected, missing",
            "runfiles: directory",
            "(from <executable>.runfiles)",
            "interpreter: \"/usr/bin/python3.11\" (platform runtime, absolute interpreter_path)",
            "venv: run-time, because the descriptor names no build-time venv",
            "import path: ",
            "_main/pkg/lib\" (exists)",
            "build info: PY_LAUNCHER_BUILD_CONFIG=none; stamp files (present only when stamped) in",
            "argv: [",
            "environment: set [",
        ] {
            assert!(
                trace.contains(expected),
                "{var}: missing {expected:?}\n{run}"
            );
        }
        assert!(
            trace.lines().all(|l| l.starts_with("py-launcher: debug: ")),
            "{run}"
        );
        assert_eq!(
            run.report()["greeting"],
            "hello from greet",
            "the program must still run"
        );
    }
}

#[test]
fn json_mode_prints_the_plan_and_runs_nothing() {
    let mut app = App::hello();
    app.add_file(
        "_main/pkg/main.py",
        "open('/proc/self/cwd/ran', 'w').write('x')\n",
    );
    app.finalize();
    let cwd = app.sandbox.path("work");
    std::fs::create_dir_all(&cwd).unwrap();
    let run = app
        .command()
        .env("PY_LAUNCHER_DEBUG", "json")
        .current_dir(&cwd)
        .arg("user arg")
        .run()
        .ok();
    assert!(!cwd.join("ran").exists(), "the program ran");
    let plan = run.json();
    let root = app.runfiles();
    assert_eq!(plan["version"], 1);
    assert_eq!(plan["target"], "//pkg:app");
    assert_eq!(plan["runfiles"]["mode"], "directory");
    assert_eq!(plan["runfiles"]["root"], root.to_str().unwrap());
    assert_eq!(plan["interpreter"]["form"], "absolute");
    assert_eq!(plan["interpreter"]["path"], PYTHON);
    assert_eq!(plan["interpreter"]["version"], "3.11");
    assert_eq!(plan["venv"]["kind"], "run-time");
    let python = plan["venv"]["python"].as_str().unwrap().to_owned();
    assert_eq!(plan["executable"], python.as_str());
    assert_eq!(
        strs(&plan["argv"]),
        vec![
            python.clone(),
            root.join("_main/pkg/main.py").to_str().unwrap().to_owned(),
            "user arg".into()
        ]
    );
    assert_eq!(plan["cwd"], cwd.to_str().unwrap());
    assert_eq!(plan["env"]["set"]["RUNFILES_DIR"], root.to_str().unwrap());
    assert_eq!(plan["env"]["set"]["PYTHONSAFEPATH"], "1");
    assert!(strs(&plan["env"]["unset"]).contains(&"RUNFILES_MANIFEST_FILE".to_owned()));
    let import_path = plan["import_path"].as_array().unwrap();
    assert_eq!(
        import_path[0]["path"],
        root.join("_main/pkg/lib").to_str().unwrap()
    );
    assert_eq!(import_path[0]["exists"], true);
    assert_eq!(import_path[1]["path"], root.join("_main").to_str().unwrap());

    // The plan is runnable as printed: starting argv with env.set applied gives the program's run.
    let mut command = std::process::Command::new(&python);
    command
        .args(&strs(&plan["argv"])[1..])
        .env_clear()
        .current_dir(&cwd);
    for (k, v) in plan["env"]["set"].as_object().unwrap() {
        command.env(k, v.as_str().unwrap());
    }
    assert!(command.status().unwrap().success());
    assert!(cwd.join("ran").exists());
}

#[test]
fn json_mode_reports_manifest_mode() {
    let app = App::hello();
    app.finalize();
    let manifest = app.make_manifest_only();
    let plan = app.command().plan();
    assert_eq!(plan["runfiles"]["mode"], "manifest");
    assert_eq!(plan["runfiles"]["manifest"], manifest.to_str().unwrap());
    assert_eq!(
        plan["env"]["set"]["RUNFILES_MANIFEST_FILE"],
        manifest.to_str().unwrap()
    );
}

#[test]
fn errors_are_still_one_line_in_debug_mode_json() {
    let mut app = App::hello();
    app.set("interpreter", serde_json::json!("/missing/python3.11"));
    app.finalize();
    let run = app.command().env("PY_LAUNCHER_DEBUG", "json").run();
    assert_eq!(run.stdout(), "", "no partial plan on failure");
    run.fails(67, "does not exist");
}
