//! Launcher failures: one kind per thing a user has to fix, each with its own documented exit code.
//!
//! Every failure is printed as exactly one line, `py-launcher: <what>: <detail> [<target>]; hint: <hint>`,
//! so a user reading a CI log sees what broke, where, and what to do, without a backtrace. Values are
//! escaped when shown (see `show`) so that a path holding a newline cannot split the line.

use std::ffi::OsStr;
use std::fmt;
use std::path::Path;

/// What failed. The exit codes follow the BSD `sysexits.h` meanings so that they stay clear of 0, 1
/// (Python's uncaught exception), 2 (Python's own usage error) and 128+N (death by signal N).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The launcher was started wrongly: no embedded descriptor and no stub, or bad tool arguments.
    Usage,
    /// The descriptor or stub is missing, truncated, not valid JSON, or has bad values.
    Descriptor,
    /// No runfiles root could be found, or a file the binary needs is not in it.
    Runfiles,
    /// The interpreter is missing, not executable, the launcher itself, or of the wrong version.
    Interpreter,
    /// The run-time venv could not be created, or its cache directory is unsafe.
    Venv,
    /// The operating system refused something else: reading our own executable, `exec` itself.
    Os,
}

impl ErrorKind {
    /// The process exit code for this kind (64–73, `sysexits.h`).
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorKind::Usage => 64,
            ErrorKind::Descriptor => 65,
            ErrorKind::Runfiles => 66,
            ErrorKind::Interpreter => 67,
            ErrorKind::Os => 71,
            ErrorKind::Venv => 73,
        }
    }

    /// The word the one-line message starts with after `py-launcher: `.
    pub(crate) fn label(self) -> &'static str {
        match self {
            ErrorKind::Usage => "usage",
            ErrorKind::Descriptor => "bad descriptor",
            ErrorKind::Runfiles => "runfiles",
            ErrorKind::Interpreter => "interpreter",
            ErrorKind::Venv => "venv",
            ErrorKind::Os => "system",
        }
    }
}

/// A launcher failure: its kind, what happened, a hint and, when known, the Bazel target.
#[derive(Debug, Clone)]
pub struct Error {
    /// What failed (decides the exit code).
    pub kind: ErrorKind,
    message: String,
    hint: String,
    target: Option<String>,
}

/// The launcher's result type.
pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error of `kind` with its message and hint (no target yet).
    pub(crate) fn new(
        kind: ErrorKind,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Error {
        Error {
            kind,
            message: message.into(),
            hint: hint.into(),
            target: None,
        }
    }

    /// An [`ErrorKind::Usage`] error.
    pub(crate) fn usage(message: impl Into<String>, hint: impl Into<String>) -> Error {
        Error::new(ErrorKind::Usage, message, hint)
    }
    /// An [`ErrorKind::Descriptor`] error.
    pub(crate) fn descriptor(message: impl Into<String>, hint: impl Into<String>) -> Error {
        Error::new(ErrorKind::Descriptor, message, hint)
    }
    /// An [`ErrorKind::Runfiles`] error.
    pub(crate) fn runfiles(message: impl Into<String>, hint: impl Into<String>) -> Error {
        Error::new(ErrorKind::Runfiles, message, hint)
    }
    /// An [`ErrorKind::Interpreter`] error.
    pub(crate) fn interpreter(message: impl Into<String>, hint: impl Into<String>) -> Error {
        Error::new(ErrorKind::Interpreter, message, hint)
    }
    /// An [`ErrorKind::Venv`] error.
    pub(crate) fn venv(message: impl Into<String>, hint: impl Into<String>) -> Error {
        Error::new(ErrorKind::Venv, message, hint)
    }
    /// An [`ErrorKind::Os`] error.
    pub(crate) fn os(message: impl Into<String>, hint: impl Into<String>) -> Error {
        Error::new(ErrorKind::Os, message, hint)
    }

    /// Names the Bazel target in the message, unless an inner step already did.
    pub(crate) fn for_target(mut self, target: &str) -> Error {
        if self.target.is_none() && !target.is_empty() {
            self.target = Some(target.to_owned());
        }
        self
    }

    /// Names the file the error is about in front of the message: `<what> "<path>": <message>`.
    pub(crate) fn in_file(mut self, what: &str, path: &Path) -> Error {
        self.message = format!("{what} {}: {}", show_path(path), self.message);
        self
    }

    /// What happened, without the kind, target or hint.
    pub(crate) fn message(&self) -> &str {
        &self.message
    }

    /// The exit code of its kind.
    pub fn exit_code(&self) -> i32 {
        self.kind.exit_code()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "py-launcher: {}: {}",
            self.kind.label(),
            one_line(&self.message)
        )?;
        if let Some(target) = &self.target {
            write!(f, " [{}]", one_line(target))?;
        }
        if !self.hint.is_empty() {
            write!(f, "; hint: {}", one_line(&self.hint))?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

fn one_line(text: &str) -> String {
    if text.contains(['\n', '\r']) {
        text.replace('\n', "\\n").replace('\r', "\\r")
    } else {
        text.to_owned()
    }
}

/// Renders an OS string for a message: quoted, with control characters and non-UTF-8 bytes escaped.
pub(crate) fn show(value: impl AsRef<OsStr>) -> String {
    let bytes = value.as_ref().as_encoded_bytes();
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('"');
    // Almost every path is printable ASCII with nothing to escape: copy it whole.
    if bytes
        .iter()
        .all(|&b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
    {
        out.push_str(std::str::from_utf8(bytes).unwrap_or_default());
        out.push('"');
        return out;
    }
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c if c.is_control() => out.extend(c.escape_default()),
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out.push('"');
    out
}

pub(crate) fn show_path(path: &Path) -> String {
    show(path.as_os_str())
}
