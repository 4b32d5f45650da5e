//! py-launcher: the native executable of a Bazel `py_binary`.
//!
//! It reads the descriptor embedded in its own file (or a drop-in text stub), finds the runfiles,
//! resolves the `py_runtime`'s interpreter, prepares a venv and the import path, exports the runfiles and
//! build-information variables, and `exec`s Python: no shell, no bootstrap interpreter.
//!
//! One module per concern: [`descriptor`] (the schema, runfiles paths), [`trailer`] (where it sits in
//! the executable), [`stub`] (the drop-in text stubs), [`manifest`] and [`runfiles`] (finding files),
//! `interpreter`, [`python_version`], [`venv`] (decision, cache, builder, layout, `.pth`), [`hash`],
//! [`limits`] (shared with finalize), `depth` (the launcher-loop guard), `environment` (the inherited and
//! the child's environment: the policy; how a variable is held is [`sys`]'s), `plan` (argv and
//! environment), `coverage` (running under coverage.py),
//! [`launch`] (the flow), `debug` (tracing and the JSON plan), `json` (the small JSON reader and
//! writer that stand in for serde), [`error`] (messages and exit codes),
//! [`finalize`] (the build-side tool), [`version`], [`words`] (interpreter-args splitting), [`sys`] (the
//! OS seam: everything that differs by OS, and nothing outside it does) and [`arena`] (the launcher
//! binary's allocator).
//!
//! `pub(crate)` is the default: a module or item is public only when the binaries, the fuzz harness
//! (`fuzz/harness.rs`) or the integration tests use it, or a public signature needs it; `coverage`,
//! `debug`, `depth`, `environment`, `interpreter`, `json` and `plan` are crate-private.

pub mod arena;
pub(crate) mod coverage;
pub(crate) mod debug;
pub(crate) mod depth;
pub mod descriptor;
pub(crate) mod environment;
pub mod error;
pub mod finalize;
pub mod hash;
pub(crate) mod interpreter;
pub(crate) mod json;
pub mod launch;
pub mod limits;
pub mod manifest;
pub(crate) mod plan;
pub mod python_version;
pub mod runfiles;
pub mod stub;
pub mod sys;
pub mod trailer;
pub mod venv;
pub mod version;
pub mod words;

pub use error::{Error, ErrorKind};
