//! Records the git commit the binaries were built from (when built from a checkout), for `--version`,
//! the debug trace and the JSON plan. A build from a release archive has no `.git` and reports the crate
//! version alone; nothing else about the build machine (paths, time) goes into the binaries.

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=PY_LAUNCHER_GIT_COMMIT");
    let root = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let commit = std::env::var("PY_LAUNCHER_GIT_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(|| git_commit(Path::new(&root)));
    if let Some(commit) = commit {
        println!("cargo:rustc-env=PY_LAUNCHER_GIT_COMMIT={commit}");
    }
}

fn git_commit(root: &Path) -> Option<String> {
    if !root.join(".git").exists() {
        return None;
    }
    let git = |args: &[&str]| -> Option<String> {
        let out = Command::new("git")
            .arg("-C")
            .arg(root)
            .args(args)
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    // Rebuild when HEAD moves: HEAD itself, and the branch it points at.
    if let Some(dir) = git(&["rev-parse", "--absolute-git-dir"]) {
        println!("cargo:rerun-if-changed={dir}/HEAD");
        if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
            println!("cargo:rerun-if-changed={dir}/{branch}");
        }
        println!("cargo:rerun-if-changed={dir}/packed-refs");
    }
    let commit = git(&["rev-parse", "--short=12", "HEAD"])?;
    (!commit.is_empty()).then_some(commit)
}
