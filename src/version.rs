//! The launcher's version: the crate version, plus the git commit when it was built from a checkout
//! (`build.rs`). Shown by `--version` of both binaries, in the debug trace and in the JSON plan.

/// The crate version (`Cargo.toml`).
pub(crate) const CRATE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The git commit the binaries were built from, when known.
pub(crate) const GIT_COMMIT: Option<&str> = option_env!("PY_LAUNCHER_GIT_COMMIT");

/// `0.1.0` or `0.1.0 (abc123def456)`.
pub fn launcher_version() -> String {
    match GIT_COMMIT {
        Some(commit) => format!("{CRATE_VERSION} ({commit})"),
        None => CRATE_VERSION.to_string(),
    }
}
