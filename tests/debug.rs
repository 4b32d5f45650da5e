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
        let version = py_launcher::version::launcher_version();
        assert!(
            trace.starts_with(&format!("py-launcher: debug: py-launcher {version}\n")),
            "{run}"
        );
        for expected in [
            "py-launcher: debug: descriptor: {\"version\":1,\"target\":\"//pkg:app\"",
            "runfiles candidate RUNFILES_DIR=\"/nonexistent\": rejected, missing",
            "runfiles: directory",
            "(from <executable>.runfiles)",
            "interpreter: \"/usr/bin/python3.11\" (platform runtime, absolute interpreter_path) is \"/usr/bin/python3.11\", an interpreter binary, Python 3.11\n",
            "venv: run-time, because the descriptor names no build-time venv",
            "import path: ",
            "_main/pkg/lib\" (exists)",
            "build info: PY_LAUNCHER_BUILD_CONFIG=none; stamp files (present only when stamped) in",
            "argv: \"",
            "environment: set RUNFILES_DIR=\"",
            "environment: set PY_LAUNCHER_TARGET=\"//pkg:app\"\n",
            "environment: unset RUNFILES_MANIFEST_FILE\n",
            "environment: PYTHONPATH is not set\n",
            "environment: PYTHONHOME is not set\n",
            "environment: PYTHONSAFEPATH is not set by the caller, so the launcher sets it to 1\n",
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
        assert!(
            trace.ends_with('\n'),
            "the last line ends with a newline\n{run}"
        );
        assert!(!trace.contains("Binary"), "no Rust debug formatting\n{run}");
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

#[test]
fn the_trace_shows_inherited_python_variables_and_ends_every_line() {
    let mut app = App::hello();
    app.add_file("_main/pkg/main.py", "raise SystemExit('boom')\n");
    app.finalize();
    let run = app
        .command()
        .env("PY_LAUNCHER_DEBUG", "1")
        .env("PYTHONPATH", "/extra/path")
        .env("PYTHONHOME", "/usr")
        .env("PYTHONSAFEPATH", "")
        .run();
    assert_eq!(run.code(), Some(1), "{run}");
    let stderr = run.stderr();
    for expected in [
        "py-launcher: debug: environment: inherited PYTHONPATH=\"/extra/path\" (passed through: Python puts it before the standard library and the binary's imports)\n",
        "py-launcher: debug: environment: removing the inherited PYTHONHOME=\"/usr\" (it would take the program out of its venv)\n",
        "py-launcher: debug: environment: inherited PYTHONSAFEPATH=\"\" (the caller's choice, kept)\n",
    ] {
        assert!(stderr.contains(expected), "missing {expected:?}\n{run}");
    }
    // What Python prints comes on a line of its own, after the trace.
    assert!(stderr.ends_with("\nboom\n"), "{run}");
    assert_eq!(
        stderr
            .lines()
            .filter(|l| l.contains("environment: set "))
            .count(),
        3,
        "one line per change: RUNFILES_DIR, JAVA_RUNFILES, PY_LAUNCHER_TARGET\n{run}"
    );
}

#[test]
fn debug_values_are_case_insensitive_and_unknown_ones_warned_about() {
    let app = App::hello();
    app.finalize();
    for json in ["JSON", "Json", "json"] {
        let run = app.command().env("PY_LAUNCHER_DEBUG", json).run().ok();
        assert_eq!(run.json()["target"], "//pkg:app", "{run}");
        assert_eq!(run.stderr(), "", "{run}");
    }
    for off in ["0", "OFF", ""] {
        let run = app.command().env("PY_LAUNCHER_DEBUG", off).run().ok();
        assert_eq!(run.stderr(), "", "{run}");
    }
    let run = app.command().env("PY_LAUNCHER_DEBUG", "jsn").run().ok();
    let stderr = run.stderr();
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.starts_with("py-launcher: debug: "))
        .collect();
    assert_eq!(
        warnings,
        ["py-launcher: warning: PY_LAUNCHER_DEBUG=\"jsn\" is not a known value (1 for the trace, json for the launch plan, 0 for off; any case); showing the trace"],
        "{run}"
    );
    assert!(stderr.contains("py-launcher: debug: argv: "), "{run}");
    assert_eq!(run.report()["greeting"], "hello from greet");
}

#[test]
fn the_plan_names_main_user_args_and_the_launcher_version() {
    let app = App::hello();
    app.finalize();
    let plan = app
        .command()
        .env("PY_LAUNCHER_INTERPRETER_ARGS", "-X dev")
        .args(["a", "-m", "b c"])
        .plan();
    let main = app.runfiles().join("_main/pkg/main.py");
    assert_eq!(
        plan["launcher_version"],
        py_launcher::version::launcher_version()
    );
    assert_eq!(plan["main"], main.to_str().unwrap());
    assert_eq!(plan["main_module"], serde_json::Value::Null);
    assert_eq!(strs(&plan["interpreter_args"]), ["-X", "dev"]);
    assert_eq!(strs(&plan["debugger_args"]), Vec::<String>::new());
    assert_eq!(strs(&plan["user_args"]), ["a", "-m", "b c"]);
    let argv = strs(&plan["argv"]);
    let index = plan["user_args_index"].as_u64().unwrap() as usize;
    assert_eq!(argv[index - 1], main.to_str().unwrap());
    assert_eq!(argv[index..], ["a", "-m", "b c"]);

    let mut app = App::hello();
    app.remove("main");
    app.set("main_module", serde_json::json!("greet"));
    app.finalize();
    let plan = app.command().arg("x").plan();
    assert_eq!(plan["main"], serde_json::Value::Null);
    assert_eq!(plan["main_module"], "greet");
    let argv = strs(&plan["argv"]);
    assert_eq!(argv[1..], ["-m", "greet", "x"]);
    assert_eq!(plan["user_args_index"], 3);
}

#[test]
fn every_plan_validates_against_the_shipped_schema() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/docs/plan.schema.json"
        ))
        .unwrap(),
    )
    .unwrap();
    assert_eq!(schema["properties"]["version"]["const"], 1);
    let mut plans = Vec::new();

    let app = App::hello();
    app.finalize();
    plans.push(("directory", app.command().arg("x").plan()));
    plans.push((
        "debugpy",
        app.command().env("PY_LAUNCHER_DEBUGPY", "5678").plan(),
    ));
    app.make_manifest_only();
    plans.push(("manifest", app.command().plan()));

    let mut app = App::hello();
    app.remove("main");
    app.set("main_module", serde_json::json!("greet"));
    app.add_build_time_venv();
    app.add_file("_main/pkg/_app_build_config.json", "{}");
    app.set(
        "build_config",
        serde_json::json!("_main/pkg/_app_build_config.json"),
    );
    app.finalize();
    plans.push(("module, build-time venv", app.command().plan()));

    for (what, plan) in &plans {
        let mut errors = Vec::new();
        schema::validate(&schema, &schema, plan, "$", &mut errors);
        assert!(errors.is_empty(), "{what}: {errors:#?}\n{plan:#}");
    }

    // The validator is not vacuous: a plan missing a field or with an unknown one is refused.
    let mut bad = plans[0].1.clone();
    bad.as_object_mut().unwrap().remove("user_args");
    bad["extra"] = serde_json::json!(1);
    bad["venv"]["kind"] = serde_json::json!("other");
    let mut errors = Vec::new();
    schema::validate(&schema, &schema, &bad, "$", &mut errors);
    assert_eq!(errors.len(), 3, "{errors:#?}");
}

/// A JSON Schema validator for the keywords docs/plan.schema.json uses (draft 2020-12). A keyword it
/// does not know fails the test, so the schema cannot silently use one that is not checked.
mod schema {
    use serde_json::Value;

    const ANNOTATIONS: [&str; 5] = ["$schema", "$id", "title", "description", "$defs"];

    pub(super) fn validate(
        root: &Value,
        schema: &Value,
        value: &Value,
        at: &str,
        errors: &mut Vec<String>,
    ) {
        let schema = schema.as_object().expect("a schema is an object");
        for (keyword, arg) in schema {
            match keyword.as_str() {
                k if ANNOTATIONS.contains(&k) => {}
                "$ref" => {
                    let name = arg
                        .as_str()
                        .unwrap()
                        .strip_prefix("#/$defs/")
                        .expect("a local $ref");
                    validate(root, &root["$defs"][name], value, at, errors);
                }
                "type" => {
                    let types: Vec<&str> = match arg {
                        Value::String(t) => vec![t.as_str()],
                        Value::Array(ts) => ts.iter().map(|t| t.as_str().unwrap()).collect(),
                        _ => panic!("bad type {arg}"),
                    };
                    if !types.iter().any(|t| has_type(value, t)) {
                        errors.push(format!("{at}: {value} is not {types:?}"));
                    }
                }
                "const" => {
                    if value != arg {
                        errors.push(format!("{at}: {value} is not {arg}"));
                    }
                }
                "enum" => {
                    if !arg.as_array().unwrap().contains(value) {
                        errors.push(format!("{at}: {value} is not one of {arg}"));
                    }
                }
                "minimum" => {
                    if value.as_f64().is_some_and(|v| v < arg.as_f64().unwrap()) {
                        errors.push(format!("{at}: {value} < {arg}"));
                    }
                }
                "minItems" => {
                    if value
                        .as_array()
                        .is_some_and(|a| (a.len() as u64) < arg.as_u64().unwrap())
                    {
                        errors.push(format!("{at}: fewer than {arg} items"));
                    }
                }
                "required" => {
                    if let Some(object) = value.as_object() {
                        for name in arg.as_array().unwrap() {
                            if !object.contains_key(name.as_str().unwrap()) {
                                errors.push(format!("{at}: {name} is missing"));
                            }
                        }
                    }
                }
                "properties" => {
                    if let Some(object) = value.as_object() {
                        for (name, sub) in arg.as_object().unwrap() {
                            if let Some(v) = object.get(name) {
                                validate(root, sub, v, &format!("{at}.{name}"), errors);
                            }
                        }
                    }
                }
                "additionalProperties" => {
                    if let Some(object) = value.as_object() {
                        let known = schema.get("properties").and_then(Value::as_object);
                        for (name, v) in object {
                            if known.is_some_and(|k| k.contains_key(name)) {
                                continue;
                            }
                            match arg {
                                Value::Bool(false) => {
                                    errors.push(format!("{at}: unknown property {name:?}"))
                                }
                                sub => validate(root, sub, v, &format!("{at}.{name}"), errors),
                            }
                        }
                    }
                }
                "items" => {
                    if let Some(items) = value.as_array() {
                        for (i, v) in items.iter().enumerate() {
                            validate(root, arg, v, &format!("{at}[{i}]"), errors);
                        }
                    }
                }
                "oneOf" => {
                    let matching = arg
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|sub| {
                            let mut sub_errors = Vec::new();
                            validate(root, sub, value, at, &mut sub_errors);
                            sub_errors.is_empty()
                        })
                        .count();
                    if matching != 1 {
                        errors.push(format!("{at}: {matching} of oneOf match {value}"));
                    }
                }
                other => panic!("the test's validator does not know the keyword {other:?}"),
            }
        }
    }

    fn has_type(value: &Value, name: &str) -> bool {
        match name {
            "null" => value.is_null(),
            "boolean" => value.is_boolean(),
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "integer" => value.is_u64() || value.is_i64(),
            "number" => value.is_number(),
            other => panic!("unknown type {other:?}"),
        }
    }
}

/// docs/debugging.md's pdb recipe: `-m pdb` through PY_LAUNCHER_INTERPRETER_ARGS, a breakpoint in a
/// library module by its path relative to the import path.
#[test]
fn the_pdb_recipe_stops_in_a_library_module() {
    let app = App::hello();
    app.finalize();
    let mut cmd = app
        .command()
        .env("PY_LAUNCHER_INTERPRETER_ARGS", "-m pdb")
        .arg("under pdb");
    cmd.command.stdin(std::process::Stdio::piped());
    let mut child = cmd.spawn();
    // At the end of its input pdb quits, so the program cannot hang waiting for a command.
    std::io::Write::write_all(
        &mut child.stdin.take().unwrap(),
        b"break greet/__init__.py:2\ncontinue\np ('stopped in', __name__)\ncontinue\n",
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let library = app.runfiles().join("_main/pkg/lib/greet/__init__.py");
    assert!(
        stdout.contains(&format!("Breakpoint 1 at {}:2", library.display())),
        "{stdout}"
    );
    assert!(stdout.contains("('stopped in', 'greet')"), "{stdout}");
    let report: serde_json::Value = stdout
        .lines()
        .find_map(|l| serde_json::from_str(l.trim_start_matches("(Pdb) ")).ok())
        .unwrap_or_else(|| panic!("no report\n{stdout}"));
    assert_eq!(report["argv"][1], "under pdb");
    assert_eq!(report["greeting"], "hello from greet");
}

/// docs/debugging.md's plan_to_vscode.py, run on a real plan, makes the launch configuration it describes.
#[test]
fn the_vscode_recipe_turns_a_plan_into_a_launch_configuration() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/debugging.md")).unwrap();
    let section = &doc[doc
        .find("### VS Code: launch")
        .expect("the VS Code launch section")..];
    let script = section
        .split("```python\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the python block");
    let app = App::hello();
    app.finalize();
    let plan = app
        .command()
        .env("PY_LAUNCHER_DEBUG", "json")
        .env("PY_LAUNCHER_INTERPRETER_ARGS", "-X dev")
        .arg("a b")
        .run()
        .ok()
        .stdout();
    let mut child = std::process::Command::new(PYTHON)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), plan.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let launch: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let config = &launch["configurations"][0];
    let plan: serde_json::Value = serde_json::from_str(&plan).unwrap();
    assert_eq!(config["type"], "debugpy");
    assert_eq!(config["request"], "launch");
    assert_eq!(config["python"], plan["argv"][0]);
    assert_eq!(strs(&config["pythonArgs"]), ["-X", "dev"]);
    assert_eq!(
        config["program"],
        app.runfiles().join("_main/pkg/main.py").to_str().unwrap()
    );
    assert_eq!(strs(&config["args"]), ["a b"]);
    assert_eq!(
        config["env"]["RUNFILES_DIR"],
        app.runfiles().to_str().unwrap()
    );
}
