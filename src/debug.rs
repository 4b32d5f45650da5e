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
    /// The mode, and whether `PY_LAUNCHER_DEBUG` held a value this launcher does not know (it then
    /// shows the text trace: the caller asked for debugging, just not in a known word).
    ///
    /// Values are case-insensitive: `json`; `1`, `true`, `yes`, `on`, `text` (the trace); empty, `0`,
    /// `false`, `no`, `off` (nothing, unless `RULES_PYTHON_BOOTSTRAP_VERBOSE` is non-empty).
    pub fn from_env(
        debug: Option<&OsStr>,
        rules_python_verbose: Option<&OsStr>,
    ) -> (DebugMode, bool) {
        let verbose = || rules_python_verbose.is_some_and(|v| !v.is_empty());
        let Some(value) = debug.map(OsStr::as_encoded_bytes) else {
            return (
                if verbose() {
                    DebugMode::Text
                } else {
                    DebugMode::Off
                },
                false,
            );
        };
        let is = |word: &str| value.eq_ignore_ascii_case(word.as_bytes());
        if is("json") {
            (DebugMode::Json, false)
        } else if ["", "0", "false", "no", "off"].into_iter().any(is) {
            (
                if verbose() {
                    DebugMode::Text
                } else {
                    DebugMode::Off
                },
                false,
            )
        } else {
            let known = ["1", "true", "yes", "on", "text"].into_iter().any(is);
            (DebugMode::Text, !known)
        }
    }
}

/// The one-line warning for a `PY_LAUNCHER_DEBUG` value that is not one of the known words.
pub fn unknown_mode_warning(value: &OsStr) -> String {
    format!(
        "py-launcher: warning: PY_LAUNCHER_DEBUG={} is not a known value (1 for the trace, json for the \
         launch plan, 0 for off; any case); showing the trace\n",
        crate::error::show(value)
    )
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

    /// One trace line. The message is built only when the trace is on; a newline inside it is shown as
    /// `\n`, and the line, newline included, goes out in one write, so nothing the program prints later
    /// can continue it.
    pub fn note(&mut self, message: impl FnOnce() -> String) {
        if self.mode == DebugMode::Text {
            let mut line = String::from("py-launcher: debug: ");
            line.push_str(&message().replace('\n', "\\n"));
            line.push('\n');
            let _ = std::io::stderr().lock().write_all(line.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::DebugMode::{self, *};
    use std::ffi::OsStr;

    fn mode(debug: Option<&str>, verbose: Option<&str>) -> (DebugMode, bool) {
        DebugMode::from_env(debug.map(OsStr::new), verbose.map(OsStr::new))
    }

    #[test]
    fn values_are_case_insensitive_and_unknown_ones_flagged() {
        for json in ["json", "JSON", "Json"] {
            assert_eq!(mode(Some(json), None), (Json, false));
        }
        for text in ["1", "true", "TRUE", "yes", "On", "text"] {
            assert_eq!(mode(Some(text), None), (Text, false));
        }
        for off in ["", "0", "false", "No", "OFF"] {
            assert_eq!(mode(Some(off), None), (Off, false));
        }
        assert_eq!(mode(Some("jsno"), None), (Text, true));
        assert_eq!(mode(None, None), (Off, false));
        assert_eq!(mode(None, Some("1")), (Text, false));
        assert_eq!(mode(Some("0"), Some("1")), (Text, false));
        assert_eq!(mode(None, Some("")), (Off, false));
    }
}
