//! `py_launcher_image_layers` (bazel/private/layers.bzl) with a real Bazel: the tar layers are
//! deterministic (fixed mtime, owner and modes, sorted, symlinks kept) and byte-identical when built
//! again in an empty output base; with `split_third_party` the shared layer of an external library is one action for two binaries
//! (`bazel aquery`); and a binary unpacked from its layers runs in an otherwise empty root (no shell, no
//! `env`, no Python on `PATH`; only the platform interpreter, its shared libraries and its standard library
//! are copied in, plus the shared libraries of the launcher when it is not the static release build).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::bazel::*;
use common::PYTHON;
use serde_json::Value;

const LAYERS: [&str; 4] = ["interpreter", "third_party", "app", "bootstrap"];
const SHARED: &str = "external/pypi_bazel_runfiles/runfiles.py_launcher_layer.tar";
const TARGETS: [&str; 3] = [
    "//groups:shapes_layers",
    "//groups:twin_layers",
    "//groups:shapes_layers_single",
];

/// Every layer file of the three targets, relative to bazel-bin.
fn layer_files() -> Vec<String> {
    let mut files = vec![SHARED.to_owned()];
    for target in ["shapes_layers", "twin_layers", "shapes_layers_single"] {
        for layer in LAYERS {
            files.push(format!("groups/{target}/{layer}.tar"));
        }
    }
    files
}

/// The members of a tar, as Python's tarfile reads them.
fn members(tar: &Path) -> Vec<Value> {
    let script = "import json, sys, tarfile\n\
        print(json.dumps([dict(name=m.name, type=m.type.decode(), mode=m.mode, mtime=m.mtime, uid=m.uid,\n\
        gid=m.gid, uname=m.uname, gname=m.gname, linkname=m.linkname) for m in tarfile.open(sys.argv[1])]))";
    let out = Command::new(PYTHON)
        .args(["-c", script])
        .arg(tar)
        .output()
        .unwrap();
    json_stdout(&out, &format!("list {}", tar.display()))
        .as_array()
        .unwrap()
        .clone()
}

fn names(members: &[Value]) -> Vec<String> {
    members
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
#[ignore = "needs Bazel; run by scripts/test"]
fn layers_are_deterministic_and_shared_between_binaries() {
    let b = bazel();
    b.build(&[], &TARGETS);
    let first: BTreeMap<String, Vec<u8>> = layer_files()
        .into_iter()
        .map(|f| {
            let bytes = fs::read(b.bin.join(&f)).unwrap_or_else(|e| panic!("{f}: {e}"));
            (f, bytes)
        })
        .collect();

    for file in first.keys() {
        let members = members(&b.bin.join(file));
        let listed = names(&members);
        let mut sorted = listed.clone();
        sorted.sort();
        assert_eq!(listed, sorted, "{file}: entries sorted");
        for m in &members {
            assert_eq!(
                (&m["mtime"], &m["uid"], &m["gid"], &m["uname"], &m["gname"]),
                (
                    &Value::from(0),
                    &Value::from(0),
                    &Value::from(0),
                    &Value::from(""),
                    &Value::from("")
                ),
                "{file}: {m}"
            );
            let mode = m["mode"].as_u64().unwrap();
            let ok = match m["type"].as_str().unwrap() {
                "5" => mode == 0o755,
                "2" => mode == 0o777,
                "0" => mode == 0o755 || mode == 0o644,
                other => panic!("{file}: unexpected member type {other}: {m}"),
            };
            assert!(ok, "{file}: mode {mode:o} of {m}");
        }
    }

    // Where the files go: split (prefix /app) and single (prefix /srv/shapes).
    let shared = names(&members(&b.bin.join(SHARED)));
    assert!(
        shared
            .contains(&"opt/py_launcher/runfiles/pypi_bazel_runfiles/runfiles/runfiles.py".into()),
        "{shared:?}"
    );
    let bootstrap = members(&b.bin.join("groups/shapes_layers/bootstrap.tar"));
    let link = bootstrap
        .iter()
        .find(|m| m["name"] == "app/groups/shapes.runfiles/pypi_bazel_runfiles")
        .unwrap_or_else(|| panic!("no repository link in {:?}", names(&bootstrap)));
    assert_eq!(link["type"], "2", "kept as a symlink");
    assert_eq!(
        link["linkname"],
        "../../../opt/py_launcher/runfiles/pypi_bazel_runfiles"
    );
    let bootstrap = names(&bootstrap);
    for name in [
        "app/groups/shapes",
        "app/groups/shapes.runfiles/e2e/groups/shapes",
        "app/groups/shapes.runfiles/e2e/groups/_shapes.venv/bin/python3",
        "app/groups/shapes.runfiles/bazel_build_info/stable.txt",
    ] {
        assert!(
            bootstrap.contains(&name.to_owned()),
            "{name} in {bootstrap:?}"
        );
    }
    assert!(
        !bootstrap
            .iter()
            .any(|n| n.contains("build_info/build_info")
                || n.ends_with("private/build_info/stable.txt")),
        "stamp files once: {bootstrap:?}"
    );
    let third_party = names(&members(
        &b.bin.join("groups/shapes_layers/third_party.tar"),
    ));
    assert!(
        third_party.is_empty(),
        "all in the shared layer: {third_party:?}"
    );
    let single = names(&members(
        &b.bin.join("groups/shapes_layers_single/third_party.tar"),
    ));
    assert!(
        single.contains(
            &"srv/shapes/groups/shapes.runfiles/pypi_bazel_runfiles/runfiles/runfiles.py".into()
        ),
        "{single:?}"
    );
    let app = names(&members(&b.bin.join("groups/shapes_layers_single/app.tar")));
    assert!(
        app.contains(&"srv/shapes/groups/shapes.runfiles/e2e/groups/gen_mod.py".into()),
        "{app:?}"
    );

    // One action writes the shared layer, and it belongs to both binaries' layer targets.
    let query = |expr: &str| -> Value {
        let out = b.ok(&["aquery", "--include_aspects", "--output=jsonproto", expr]);
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let shared_actions = |graph: &Value| -> Vec<String> {
        let artifacts: BTreeMap<String, String> = graph["artifacts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["id"].to_string(),
                    path_of(graph, a["pathFragmentId"].as_u64().unwrap()),
                )
            })
            .collect();
        graph["actions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| {
                a["outputIds"].as_array().unwrap().iter().any(|id| {
                    artifacts[&id.to_string()].ends_with("runfiles.py_launcher_layer.tar")
                })
            })
            .map(|a| {
                let argv0 = a["arguments"][0].as_str().unwrap_or("");
                assert!(
                    !argv0.ends_with("sh") && !argv0.contains("/bash"),
                    "the layer action runs a shell: {}",
                    a["arguments"]
                );
                assert_eq!(a["mnemonic"], "PyLauncherLayer");
                a["actionKey"].as_str().unwrap().to_owned()
            })
            .collect()
    };
    let one = shared_actions(&query("deps(//groups:shapes_layers)"));
    let two = shared_actions(&query("deps(//groups:twin_layers)"));
    let both = shared_actions(&query(
        "deps(//groups:shapes_layers) + deps(//groups:twin_layers)",
    ));
    assert_eq!(one.len(), 1, "{one:?}");
    assert_eq!(one, two, "the same action for both binaries");
    assert_eq!(both, one, "declared once");

    // Byte-identical when built again from nothing: a second, empty output base (a `bazel clean` of the
    // shared one would throw away what other suites' cases keep between them). shapes is stamped: its
    // bootstrap layer holds Bazel's volatile status (BUILD_TIMESTAMP), which differs by definition; twin
    // is not stamped.
    let other = b.root.join("layers_output_base");
    if other.exists() {
        let _ = fresh_bazel(&b, &other, &["clean", "--expunge"]);
    }
    let mut args = vec!["build"];
    args.extend_from_slice(&TARGETS);
    let out = fresh_bazel(&b, &other, &args);
    assert!(out.status.success(), "{}", output_text(&out));
    let info = fresh_bazel(&b, &other, &["info", "bazel-bin"]);
    let other_bin = PathBuf::from(String::from_utf8(info.stdout).unwrap().trim());
    let _ = fresh_bazel(&b, &other, &["shutdown"]);
    assert_ne!(other_bin, b.bin);
    for (file, bytes) in &first {
        if file.starts_with("groups/shapes_layers") && file.ends_with("/bootstrap.tar") {
            continue;
        }
        assert!(
            fs::read(other_bin.join(file)).unwrap() == *bytes,
            "{file} differs when built again in another output base"
        );
    }
}

/// Bazel on the test workspace with another output base (its own server, stopped by the caller).
fn fresh_bazel(b: &Bazel, output_base: &Path, args: &[&str]) -> std::process::Output {
    let mut cmd = Command::new("bazel");
    cmd.arg(format!("--bazelrc={}", b.rc.display()))
        .arg(format!("--output_base={}", output_base.display()))
        .arg("--max_idle_secs=60")
        .args(args)
        .current_dir(&b.workspace)
        .env("XDG_CACHE_HOME", &b.cache_home)
        .stdin(std::process::Stdio::null());
    scrub_inherited_env(&mut cmd);
    cmd.output().unwrap()
}

/// The path of an aquery path fragment, from its chain of parents.
fn path_of(graph: &Value, id: u64) -> String {
    let fragments: BTreeMap<u64, &Value> = graph["pathFragments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["id"].as_u64().unwrap(), f))
        .collect();
    let mut parts = Vec::new();
    let mut next = Some(id);
    while let Some(id) = next {
        let fragment = fragments[&id];
        parts.push(fragment["label"].as_str().unwrap().to_owned());
        next = fragment["parentId"].as_u64();
    }
    parts.reverse();
    parts.join("/")
}

/// Copies a file or directory tree, hard-linking files where the file system allows.
fn copy_in(src: &Path, root: &Path) {
    let dst = root.join(src.strip_prefix("/").unwrap());
    let meta = fs::symlink_metadata(src).unwrap();
    if meta.is_dir() {
        fs::create_dir_all(&dst).unwrap();
        for entry in fs::read_dir(src).unwrap() {
            copy_in(&entry.unwrap().path(), root);
        }
    } else if meta.file_type().is_symlink() {
        fs::create_dir_all(dst.parent().unwrap()).unwrap();
        let _ = std::os::unix::fs::symlink(fs::read_link(src).unwrap(), &dst);
    } else {
        fs::create_dir_all(dst.parent().unwrap()).unwrap();
        if fs::hard_link(src, &dst).is_err() {
            fs::copy(src, &dst).unwrap();
        }
    }
}

/// Copies one file under its own name with its symlinks resolved (`ldd` names e.g. /lib64/ld-linux…,
/// itself a link).
fn copy_resolved(src: &Path, root: &Path) {
    let real = fs::canonicalize(src).unwrap();
    let dst = root.join(src.strip_prefix("/").unwrap());
    fs::create_dir_all(dst.parent().unwrap()).unwrap();
    if fs::hard_link(&real, &dst).is_err() {
        fs::copy(&real, &dst).unwrap();
    }
}

/// The shared libraries `ldd` lists for an executable (none for a static one).
fn shared_libraries(exe: &Path) -> BTreeSet<PathBuf> {
    let out = Command::new("ldd").arg(exe).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter(|w| w.starts_with('/'))
        .map(PathBuf::from)
        .collect()
}

#[test]
#[ignore = "needs Bazel; run by scripts/test"]
fn distroless_root_runs_the_binary_from_its_layers() {
    let b = bazel();
    b.build(
        &[],
        &["//groups:shapes_layers", "//groups:shapes_layers_single"],
    );
    let root = b.root.join("distroless");
    if root.exists() {
        fs::remove_dir_all(&root).unwrap();
    }
    // /proc is the only thing a container runtime always provides (the launcher reads /proc/self/exe).
    fs::create_dir_all(root.join("proc")).unwrap();
    let mut tars = vec![b.bin.join(SHARED)];
    for target in ["shapes_layers", "shapes_layers_single"] {
        tars.extend(
            LAYERS
                .iter()
                .map(|l| b.bin.join(format!("groups/{target}/{l}.tar"))),
        );
    }
    for tar in &tars {
        let out = Command::new(PYTHON)
            .args([
                "-c",
                "import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])",
            ])
            .arg(tar)
            .arg(&root)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "unpack {}: {}",
            tar.display(),
            output_text(&out)
        );
    }
    // The platform runtime: the interpreter, its shared libraries and its standard library. And the
    // launcher's shared libraries, if it is not the static release build.
    let mut copy: BTreeSet<PathBuf> = shared_libraries(Path::new(PYTHON));
    copy.extend(shared_libraries(&b.bin.join("groups/shapes")));
    copy.insert(PathBuf::from(PYTHON));
    for path in &copy {
        copy_resolved(path, &root);
    }
    copy_in(Path::new("/usr/lib/python3.11"), &root);
    for absent in [
        "bin/sh",
        "usr/bin/env",
        "bin/bash",
        "usr/bin/python3",
        "usr/local/bin",
    ] {
        assert!(
            !root.join(absent).exists(),
            "{absent} must not be in the image"
        );
    }

    let expected = shapes_report();
    for entry in ["/app/groups/shapes", "/srv/shapes/groups/shapes"] {
        let out = Command::new("/usr/bin/unshare")
            .args(["--mount", "--pid", "--fork", "--mount-proc"])
            .arg(format!("--root={}", root.display()))
            .arg(entry)
            .env_clear()
            .env("PATH", "/nonexistent")
            .output()
            .unwrap();
        assert_eq!(json_stdout(&out, entry), expected, "{entry}");
    }
}

#[test]
#[ignore = "needs Bazel; run by scripts/test"]
fn more_than_127_layers_is_a_clear_error() {
    let b = bazel();
    // A generated external repository with 124 libraries (one shared layer each) and a binary using all:
    // 124 + 4 = 128 layers.
    let repo = b.root.join("repos/many_layers");
    let mut build = String::from(
        "load(\"@py_launcher//bazel:defs.bzl\", \"py_launcher_binary\", \"py_launcher_image_layers\")\n\n\
         [py_library(name = \"lib%d\" % i, srcs = [\"m%d.py\" % i]) for i in range(124)]\n\n\
         py_launcher_binary(name = \"app\", srcs = [\"app.py\"], deps = [\":lib%d\" % i for i in range(124)])\n\n\
         py_launcher_image_layers(name = \"layers\", binary = \":app\", split_third_party = True)\n",
    );
    build.push('\n');
    write_if_changed(&repo.join("BUILD.bazel"), build.as_bytes(), false);
    write_if_changed(
        &repo.join("WORKSPACE"),
        b"workspace(name = \"many_layers\")\n",
        false,
    );
    write_if_changed(&repo.join("app.py"), b"print('app')\n", false);
    for i in 0..124 {
        write_if_changed(&repo.join(format!("m{i}.py")), b"X = 1\n", false);
    }
    let flag = format!("--override_repository=many_layers={}", repo.display());
    let out = b.run(&["build", flag.as_str(), "@many_layers//:layers"]);
    assert!(!out.status.success(), "{}", output_text(&out));
    let text = output_text(&out);
    assert!(
        text.contains(
            "128 layers (124 shared third-party layers + 4) exceed the limit of 127 layers"
        ),
        "{text}"
    );
}
