//! Build information: `bazel_build_info` and rules_python's `bazel_binary_info`, stamped and unstamped,
//! in the program and in its `sys.executable` subprocesses.

mod common;

use common::*;
use serde_json::json;

const BUILD_INFO_MAIN: &str = r#"
import json, subprocess, sys
import bazel_build_info as info
def facts():
    return {"target": info.target(), "config": info.build_config(), "stamped": info.is_stamped(),
            "stable": info.stable_status(), "volatile": info.volatile_status()}
import bazel_binary_info
child = subprocess.run([sys.executable, "-c",
    "import json, bazel_build_info as i; print(json.dumps([i.target(), i.is_stamped(), i.stable_status()]))"],
    capture_output=True, text=True, check=True)
print(json.dumps({"facts": facts(), "data": bazel_binary_info.get_build_data(),
                  "data_file": bazel_binary_info.BUILD_DATA_FILE, "child": json.loads(child.stdout)}))
"#;

fn app_with_build_config(stamped: bool) -> App {
    let mut app = App::hello();
    app.add_file("_main/pkg/main.py", BUILD_INFO_MAIN);
    let config = json!({"target": "//pkg:app", "python_version": "3.11", "cpu": "k8", "compilation_mode": "fastbuild", "stamped": stamped});
    app.add_file("_main/pkg/_app_build_config.json", &config.to_string());
    app.set("build_config", json!("_main/pkg/_app_build_config.json"));
    if stamped {
        app.add_file(
            "bazel_build_info/stable.txt",
            "BUILD_EMBED_LABEL v1.2\nBUILD_HOST ci-host\nSTABLE_GIT_COMMIT abc123\n",
        );
        app.add_file(
            "bazel_build_info/volatile.txt",
            "BUILD_TIMESTAMP 1700000000\n",
        );
    }
    app
}

#[test]
fn unstamped_program_reads_target_and_config() {
    let app = app_with_build_config(false);
    app.finalize();
    let report = app.command().run().ok().report();
    let facts = &report["facts"];
    assert_eq!(facts["target"], "//pkg:app");
    assert_eq!(facts["config"]["cpu"], "k8");
    assert_eq!(facts["stamped"], false);
    assert_eq!(facts["stable"], serde_json::Value::Null);
    assert_eq!(facts["volatile"], serde_json::Value::Null);
    assert_eq!(report["data"], "TARGET //pkg:app\nSTAMPED FALSE\n");
    assert_eq!(
        report["data_file"],
        app.runfiles()
            .join("_main/pkg/_app_build_config.json")
            .to_str()
            .unwrap()
    );
    assert_eq!(report["child"], json!(["//pkg:app", false, null]));
}

#[test]
fn stamped_program_reads_status_in_directory_and_manifest_mode() {
    for manifest_only in [false, true] {
        let app = app_with_build_config(true);
        app.finalize();
        if manifest_only {
            app.make_manifest_only();
        }
        let report = app.command().run().ok().report();
        let facts = &report["facts"];
        assert_eq!(facts["stamped"], true, "manifest_only={manifest_only}");
        assert_eq!(facts["stable"]["STABLE_GIT_COMMIT"], "abc123");
        assert_eq!(facts["stable"]["BUILD_EMBED_LABEL"], "v1.2");
        assert_eq!(facts["volatile"]["BUILD_TIMESTAMP"], "1700000000");
        assert_eq!(
            report["data"],
            "TARGET //pkg:app\nSTAMPED TRUE\nBUILD_TIMESTAMP 1700000000\nBUILD_EMBED_LABEL v1.2\nBUILD_HOST ci-host\nSTABLE_GIT_COMMIT abc123\n"
        );
        assert_eq!(report["child"][1], true);
        assert_eq!(report["child"][2]["STABLE_GIT_COMMIT"], "abc123");
    }
}

#[test]
fn importing_the_modules_reads_nothing() {
    let mut app = app_with_build_config(true);
    app.add_file(
        "_main/pkg/main.py",
        "import sys\nimport bazel_build_info, bazel_binary_info\nprint(sorted(m for m in ('json',) if m in sys.modules), bazel_build_info._cache)\n",
    );
    app.finalize();
    assert_eq!(app.command().run().ok().stdout().trim(), "[] {}");
}
