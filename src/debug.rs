//! The debugging mode: a trace of every decision on stderr, or the whole launch plan as JSON.
//!
//! `PY_LAUNCHER_DEBUG=1` (or rules_python's `RULES_PYTHON_BOOTSTRAP_VERBOSE` set to anything non-empty)
//! prints each decision as it is made, as `py-launcher: debug: …` lines on stderr, then runs the program.
//! `PY_LAUNCHER_DEBUG=json` prints the launch plan as one JSON object on stdout instead of running
//! anything; the plan carries its own reasons (the venv's, the import path and whether each entry exists),
//! so no trace lines are built for it. When the text trace is off, [`Trace::note`] never builds its
//! message, so tracing costs nothing on the normal path.

use std::ffi::OsStr;
use std::io::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DebugMode {
    Off,
    Text,
    Json,
}

impl DebugMode {
    pub fn from_env(debug: Option<&OsStr>, rules_python_verbose: Option<&OsStr>) -> DebugMode {
        match debug.map(|v| v.as_encoded_bytes()) {
            Some(b"json") => DebugMode::Json,
            Some(b"" | b"0") | None => {
                if rules_python_verbose.is_some_and(|v| !v.is_empty()) {
                    DebugMode::Text
                } else {
                    DebugMode::Off
                }
            }
            Some(_) => DebugMode::Text,
        }
    }
}

pub struct Trace {
    mode: DebugMode,
}

impl Trace {
    pub fn new(mode: DebugMode) -> Trace {
        Trace { mode }
    }

    pub fn mode(&self) -> DebugMode {
        self.mode
    }

    /// Whether the text trace is on (work done only to be traced checks this first).
    pub fn enabled(&self) -> bool {
        self.mode == DebugMode::Text
    }

    pub fn note(&mut self, message: impl FnOnce() -> String) {
        if self.mode == DebugMode::Text {
            let line = message().replace('\n', "\\n");
            let _ = writeln!(std::io::stderr().lock(), "py-launcher: debug: {line}");
        }
    }
}
