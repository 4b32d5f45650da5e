//! Drop-in route: reading launch facts from a text stub whose `#!` line names py-launcher.
//!
//! Bazel expands a `py_runtime`'s `bootstrap_template` as text and makes the result the binary's
//! executable. With `stub_shebang = "#!/usr/bin/env py-launcher"` the kernel then runs
//! `py-launcher STUB [ARGS...]`, and this module turns the stub's text into the same [`Descriptor`] an
//! embedded launcher carries, with a neutral [`VenvPolicy`] where the venv differs, plus an [`Origin`]
//! for reports. This is the only module that knows which template a launch came from; the zip refusal
//! happens here too. Formats (`templates/`, `docs/dropin.md`):
//!
//! - `py-launcher` (`templates/py_launcher_stub.tmpl`): a `#!` line, then the descriptor JSON.
//! - `bazel-native` (`templates/bazel_native_stub.tmpl`): Bazel's built-in `py_binary` placeholders.
//! - `rules-python` (`templates/rules_python_stub.tmpl`): rules_python's stage-1 placeholders; the
//!   program py-launcher runs is rules_python's stage 2, with the binary's venv python.
//! - `stock-native`: Bazel's own Python stub, written when a runtime sets only `stub_shebang` (and
//!   rules_python's `system_python` stub before 2.0, which has its shape). Same facts as `bazel-native`.
//! - `stock-system-python`: rules_python's (2.0+) `system_python` stage 1. Same facts as `rules-python`.
//!
//! The stock stubs are Python programs; they are read by matching the lines Bazel substitutes into
//! (the `Anchor` tables, described in `docs/dropin.md`), never run. Both stock and template facts go
//! through the same two translations into a [`Descriptor`].
//!
//! The two templates share one line format, read by py-launcher only (never a shell or Python):
//!
//! ```text
//! #!/usr/bin/env py-launcher           the #! line (may be empty when run as `py-launcher STUB`)
//! # py-launcher stub: KIND FORMAT       the marker: the first non-blank line after the #! line
//! key=value                             the value is the rest of the line, verbatim (spaces kept)
//! key<<DELIMITER                        a multi-line value: every line up to one equal to DELIMITER
//! # comment                             comments and blank lines are skipped
//! # py-launcher stub: end               nothing after this line is read
//! ```
//!
//! Bazel substitutes placeholders literally, so a value may be empty or hold spaces, and a placeholder
//! the running Bazel does not know stays in the text as `%name%`: such a value counts as absent. The
//! end line bounds what is read, so the zip that `--build_python_zip` appends to a stub cannot confuse
//! the parser; a zip stub is refused with a message naming that flag.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::debug::Trace;

use crate::descriptor::{check_runfiles_path, join_runfiles_path, Descriptor, VenvPolicy};
use crate::error::{show_path, Error, Result};
use crate::limits::MAX_STUB_LEN;

/// The marker line's prefix; the rest is `KIND FORMAT`, or `end` on the last line.
pub(crate) const MARKER: &str = "# py-launcher stub: ";
pub(crate) const END_LINE: &str = "# py-launcher stub: end";
/// The key/value format version this launcher reads.
pub(crate) const FORMAT: u32 = 1;

pub(crate) const KIND_BAZEL_NATIVE: &str = "bazel-native";
pub(crate) const KIND_RULES_PYTHON: &str = "rules-python";
pub(crate) const KIND_OWN: &str = "py-launcher";
/// Bazel's own Python stub (`python_stub_template.txt` of the native `py_binary`), as Bazel expands it
/// when a `py_runtime` sets only `stub_shebang`; rules_python before 2.0 writes the same shape for
/// `system_python` (`python_bootstrap_template.txt`).
pub(crate) const KIND_STOCK_NATIVE: &str = "stock-native";
/// rules_python's (2.0 and later) `system_python` stage 1, `python_bootstrap_template.txt`.
pub(crate) const KIND_STOCK_SYSTEM_PYTHON: &str = "stock-system-python";

/// How a fact sits in a stock stub, which is a Python program: on a line that, leading white space
/// removed, starts with `prefix` and ends with `suffix`; the value is the text between. Bazel
/// substitutes into string literals without escaping, so the value is taken verbatim.
struct Anchor {
    key: &'static str,
    prefix: &'static str,
    suffix: &'static str,
    /// The line must directly follow a line equal (white space trimmed) to this one.
    after: Option<&'static str>,
    /// The value may run over several lines (a multi-line value substituted into a string literal);
    /// it then ends on the first line that ends with `suffix`.
    multi_line: bool,
    /// A stub of this kind without this line is damaged.
    required: bool,
}

const fn anchor(key: &'static str, prefix: &'static str, suffix: &'static str) -> Anchor {
    Anchor {
        key,
        prefix,
        suffix,
        after: None,
        multi_line: false,
        required: false,
    }
}

const fn required(a: Anchor) -> Anchor {
    Anchor {
        required: true,
        ..a
    }
}

const STOCK_NATIVE_SIGNATURE: &str = "PYTHON_BINARY = '";
const STOCK_SYSTEM_PYTHON_SIGNATURE: &str = "STAGE2_BOOTSTRAP=\"";

/// The substituted lines of Bazel's Python stub (read from Bazel 4.2.3's `python_stub_template.txt`;
/// `main_rel_path` and `cov_tool` from rules_python 0.31–1.6's `python_bootstrap_template.txt`).
const STOCK_NATIVE: &[Anchor] = &[
    required(anchor("python_binary", STOCK_NATIVE_SIGNATURE, "'")),
    anchor("main", "rel_path = '", "'"),
    anchor("main", "main_rel_path = '", "'"),
    anchor("imports", "python_imports = '", "'"),
    anchor(
        "import_all",
        "python_path_entries += GetRepositoriesImports(module_space, ",
        ")",
    ),
    anchor(
        "workspace_name",
        "return [os.path.join(module_space, '",
        "')]",
    ),
    anchor("target", "target='", "',"),
    Anchor {
        after: Some("def IsRunningFromZip():"),
        ..anchor("is_zipfile", "return ", "")
    },
    anchor("coverage_tool", "cov_tool = '", "'"),
];

/// The substituted lines of rules_python's `system_python` stage 1 (read from rules_python 2.0.0 and
/// the development head `92c736e`, both `python/private/python_bootstrap_template.txt`).
const STOCK_SYSTEM_PYTHON: &[Anchor] = &[
    required(anchor(
        "stage2_bootstrap",
        STOCK_SYSTEM_PYTHON_SIGNATURE,
        "\"",
    )),
    anchor("main", "_main = \"", "\""),
    required(anchor("python_binary", "PYTHON_BINARY = '", "'")),
    required(anchor(
        "python_binary_actual",
        "PYTHON_BINARY_ACTUAL = \"",
        "\"",
    )),
    anchor("is_zipfile", "IS_ZIPFILE = \"", "\" == \"1\""),
    anchor(
        "recreate_venv_at_runtime",
        "RECREATE_VENV_AT_RUNTIME = \"",
        "\" == \"1\"",
    ),
    anchor(
        "resolve_python_binary_at_runtime",
        "RESOLVE_PYTHON_BINARY_AT_RUNTIME = \"",
        "\" == \"1\"",
    ),
    anchor(
        "venv_rel_site_packages",
        "VENV_REL_SITE_PACKAGES = \"",
        "\"",
    ),
    required(anchor("workspace_name", "WORKSPACE_NAME = \"", "\"")),
    Anchor {
        multi_line: true,
        ..anchor("interpreter_args", "_INTERPRETER_ARGS_RAW = \"", "\"")
    },
];

/// What [`Facts::from_stock`] made of a file.
enum Stock {
    Found(Facts),
    /// A stock stub of a known kind that lacks a line it must have.
    Damaged(String),
    /// No stock stub at all.
    NotOne,
}

const BAZEL_NATIVE_KEYS: &[&str] = &[
    "target",
    "workspace_name",
    "python_binary",
    "main",
    "imports",
    "import_all",
    "is_zipfile",
    "coverage_tool",
];
const RULES_PYTHON_KEYS: &[&str] = &[
    "target",
    "workspace_name",
    "stage2_bootstrap",
    "python_binary",
    "python_binary_actual",
    "is_zipfile",
    "recreate_venv_at_runtime",
    "resolve_python_binary_at_runtime",
    "venv_rel_site_packages",
    "interpreter_args",
];

const NOT_A_STUB_HINT: &str = "run py-launcher as a stub's #! interpreter (py-launcher STUB [ARGS...]), or finalize it with a descriptor";
const BAD_STUB_HINT: &str = "regenerate the stub from the template shipped with this py-launcher (templates/*.tmpl); see docs/dropin.md";

/// Why a file could not be read as a stub. Turned into an [`Error`] naming the file by [`parse`].
enum Problem {
    /// The file is not a stub at all (usage error).
    NotAStub(String),
    /// A `--build_python_zip` executable (usage error naming the flag).
    Zip,
    /// It is a py-launcher stub, but a broken one (bad-descriptor error).
    Bad(String),
}

/// Where a stub's facts came from. Report only (debug trace and JSON plan): nothing downstream of the
/// translator decides anything by it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The stub file itself, as the kernel passed it to us.
    pub path: PathBuf,
    /// Which template the stub came from.
    pub template: String,
    /// Every `key=value` the stub held, as written (an unsubstituted `%placeholder%` included).
    pub(crate) facts: Vec<(String, String)>,
}

/// A stub translated: the neutral launch facts, and where they came from.
pub(crate) type Translated = (Descriptor, Origin);

pub(crate) fn read_stub(path: &Path) -> Result<Translated> {
    let not_a_stub = |why: String| {
        Error::usage(
            format!("{} is not a py-launcher stub: {why}", show_path(path)),
            NOT_A_STUB_HINT,
        )
    };
    // Any size is accepted (a zip may follow the stub); only the first MAX_STUB_LEN bytes are read.
    let (file, meta) =
        crate::sys::open_regular(path, u64::MAX).map_err(|e| not_a_stub(e.to_string()))?;
    let mut head = Vec::new();
    file.take(MAX_STUB_LEN)
        .read_to_end(&mut head)
        .map_err(|e| not_a_stub(e.to_string()))?;
    parse_head(&head, meta.len(), path)
}

/// Parses stub text; `path` is the stub's path as invoked (runfiles discovery starts from it).
pub fn parse(text: &[u8], path: &Path) -> Result<Translated> {
    parse_head(text, text.len() as u64, path)
}

/// `head` is the start of a file of `file_len` bytes (all of it when the file is small).
fn parse_head(head: &[u8], file_len: u64, path: &Path) -> Result<Translated> {
    let shown = show_path(path);
    let problem = match classify(head, file_len, path) {
        Ok(descriptor) => return Ok(descriptor),
        Err(Err(err)) => return Err(err),
        Err(Ok(problem)) => problem,
    };
    Err(match problem {
        Problem::NotAStub(why) => Error::usage(
            format!("{shown} is not a py-launcher stub: {why}"),
            NOT_A_STUB_HINT,
        ),
        Problem::Zip => zip_error(&shown),
        Problem::Bad(why) => Error::descriptor(format!("stub {shown}: {why}"), BAD_STUB_HINT),
    })
}

pub(crate) fn zip_error(shown: &str) -> Error {
    Error::usage(
        format!("{shown} is a zip executable (--build_python_zip), which py-launcher does not run"),
        "build without --build_python_zip (it is off by default except on Windows)",
    )
}

type Classified = std::result::Result<Translated, std::result::Result<Problem, Error>>;

fn classify(head: &[u8], file_len: u64, path: &Path) -> Classified {
    let problem = |p: Problem| Err(Ok(p));
    // The first line is the #! line; an empty one (an empty stub_shebang) is tolerated.
    let (first, body) = match head.iter().position(|b| *b == b'\n') {
        Some(nl) => (&head[..nl], &head[nl + 1..]),
        None => (head, &b""[..]),
    };
    if head.starts_with(b"PK\x03\x04") {
        return problem(Problem::Zip);
    }
    if !first.starts_with(b"#!") && !first.trim_ascii().is_empty() {
        return problem(Problem::NotAStub("it does not start with a #! line".into()));
    }
    let untrimmed = body;
    let body = body.trim_ascii_start();
    // 1-based number of the body's first line, for messages.
    let first_line = 2 + untrimmed[..untrimmed.len() - body.len()]
        .iter()
        .filter(|b| **b == b'\n')
        .count();
    if body.starts_with(b"PK\x03\x04") {
        return problem(Problem::Zip);
    }
    if body.starts_with(b"{") {
        if file_len > head.len() as u64 {
            return problem(Problem::NotAStub(format!(
                "it is larger than {MAX_STUB_LEN} bytes"
            )));
        }
        let descriptor = Descriptor::from_json(body).map_err(Err)?;
        let origin = Origin {
            path: path.to_path_buf(),
            template: KIND_OWN.into(),
            facts: Vec::new(),
        };
        return Ok((descriptor, origin));
    }
    let facts = if body.starts_with(MARKER.as_bytes()) {
        Facts::parse(body, first_line).map_err(|why| Ok(Problem::Bad(why)))?
    } else {
        match Facts::from_stock(body) {
            Stock::Found(facts) => facts,
            Stock::Damaged(why) => return problem(Problem::Bad(why)),
            Stock::NotOne => {
                return problem(Problem::NotAStub(format!(
                    "it carries no launch facts py-launcher knows: expected, after the #! line, descriptor \
                     JSON, a {:?} line, Bazel's Python stub (a line `{}…'`) or rules_python's system_python \
                     stub (a line `{}…\"`)",
                    MARKER.trim_end(),
                    STOCK_NATIVE_SIGNATURE,
                    STOCK_SYSTEM_PYTHON_SIGNATURE,
                )))
            }
        }
    };
    if facts
        .flag("is_zipfile")
        .map_err(|why| Ok(Problem::Bad(why)))?
    {
        return problem(Problem::Zip);
    }
    let descriptor = match facts.kind.as_str() {
        KIND_BAZEL_NATIVE | KIND_STOCK_NATIVE => bazel_native(&facts, path),
        // The system_python stub runs `%main%` like Bazel's own stub when no stage 2 was substituted
        // (Bazel's native rules expanding rules_python's template).
        KIND_STOCK_SYSTEM_PYTHON
            if facts.get("stage2_bootstrap").is_none() && facts.get("main").is_some() =>
        {
            bazel_native(&facts, path)
        }
        _ => rules_python(&facts, path),
    }
    .map_err(|why| Ok(Problem::Bad(why)))?;
    // Values that made it this far are checked once more by the descriptor's own rules.
    descriptor.validate().map_err(|err| {
        Ok(Problem::Bad(format!(
            "its facts do not make a valid launch: {}",
            err.message()
        )))
    })?;
    Ok((descriptor, facts.origin(path)))
}

/// The `key=value` facts of a key/value stub, in file order.
struct Facts {
    kind: String,
    entries: Vec<(String, String)>,
}

impl Facts {
    fn parse(body: &[u8], first_line: usize) -> std::result::Result<Facts, String> {
        let mut lines = body
            .split(|b| *b == b'\n')
            .enumerate()
            .map(|(i, line)| (i + first_line, line.strip_suffix(b"\r").unwrap_or(line)));
        let text = |(n, line): (usize, &[u8])| -> std::result::Result<(usize, String), String> {
            String::from_utf8(line.to_vec())
                .map(|s| (n, s))
                .map_err(|_| format!("line {n} is not UTF-8"))
        };
        // `body` starts at the marker line (leading blank lines were trimmed).
        let (_, marker) = text(lines.next().unwrap_or((first_line, b"")))?;
        let spec = marker.strip_prefix(MARKER).unwrap_or_default();
        let mut words = spec.split_ascii_whitespace();
        let (kind, format) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
        let keys = match kind {
            KIND_BAZEL_NATIVE => BAZEL_NATIVE_KEYS,
            KIND_RULES_PYTHON => RULES_PYTHON_KEYS,
            _ => {
                return Err(format!(
                    "unknown stub kind {kind:?} (this py-launcher reads {KIND_BAZEL_NATIVE} and {KIND_RULES_PYTHON})"
                ))
            }
        };
        match format.parse::<u32>() {
            Ok(FORMAT) if words.next().is_none() => {}
            Ok(n) if n > FORMAT => {
                return Err(format!(
                    "stub format {n} is newer than this py-launcher, which reads format {FORMAT}"
                ))
            }
            _ => {
                return Err(format!(
                    "the marker line {marker:?} is not `{MARKER}{kind} {FORMAT}`"
                ))
            }
        }

        let mut entries: Vec<(String, String)> = Vec::new();
        loop {
            let Some(raw) = lines.next() else {
                return Err(format!(
                    "it ends before the line {END_LINE:?} (truncated, or larger than {MAX_STUB_LEN} bytes)"
                ));
            };
            let (n, line) = text(raw)?;
            if line == END_LINE {
                break;
            }
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let block = line
                .find("<<")
                .filter(|at| line.find('=').is_none_or(|eq| *at < eq));
            let (key, value) = match block {
                Some(at) => {
                    let delimiter = &line[at + 2..];
                    if delimiter.is_empty() {
                        return Err(format!("line {n}: a block needs a delimiter after <<"));
                    }
                    let mut value: Vec<String> = Vec::new();
                    loop {
                        let Some(raw) = lines.next() else {
                            return Err(format!(
                                "the block opened on line {n} is not closed by a line {delimiter:?}"
                            ));
                        };
                        let (_, inner) = text(raw)?;
                        if inner == delimiter {
                            break;
                        }
                        value.push(inner);
                    }
                    (line[..at].to_owned(), value.join("\n"))
                }
                None => match line.split_once('=') {
                    Some((key, value)) => (key.to_owned(), value.to_owned()),
                    None => {
                        return Err(format!(
                            "line {n} is neither key=value nor a comment: {line:?}"
                        ))
                    }
                },
            };
            if !keys.contains(&key.as_str()) {
                return Err(format!("line {n}: unknown key {key:?} for a {kind} stub"));
            }
            if entries.iter().any(|(k, _)| *k == key) {
                return Err(format!("line {n}: key {key:?} is given twice"));
            }
            entries.push((key, value));
        }
        Ok(Facts {
            kind: kind.to_owned(),
            entries,
        })
    }

    /// Reads a stock stub (a Python program Bazel or rules_python expanded) by its substituted lines.
    /// Only lines are matched, nothing is executed or parsed as Python. The first match of a key wins.
    fn from_stock(body: &[u8]) -> Stock {
        let lines: Vec<&str> = body
            .split(|b| *b == b'\n')
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
            .map(|l| std::str::from_utf8(l).unwrap_or(""))
            .collect();
        let has = |signature: &str| lines.iter().any(|l| l.trim_start().starts_with(signature));
        let (kind, anchors, name) = if has(STOCK_SYSTEM_PYTHON_SIGNATURE) {
            (
                KIND_STOCK_SYSTEM_PYTHON,
                STOCK_SYSTEM_PYTHON,
                "rules_python's system_python stub (python_bootstrap_template.txt)",
            )
        } else if has(STOCK_NATIVE_SIGNATURE) {
            (
                KIND_STOCK_NATIVE,
                STOCK_NATIVE,
                "Bazel's Python stub (python_stub_template.txt)",
            )
        } else {
            return Stock::NotOne;
        };
        let mut entries: Vec<(String, String)> = Vec::new();
        for a in anchors {
            if entries.iter().any(|(k, _)| k == a.key) {
                continue;
            }
            if let Some(value) = find_anchor(&lines, a) {
                entries.push((a.key.to_owned(), value));
            } else if a.required {
                return Stock::Damaged(format!(
                    "it looks like {name}, but the line `{}…{}` ({}) is missing",
                    a.prefix, a.suffix, a.key
                ));
            }
        }
        if kind == KIND_STOCK_NATIVE && !entries.iter().any(|(k, _)| k == "main") {
            return Stock::Damaged(format!(
                "it looks like {name}, but the line `rel_path = '…'` (main) is missing"
            ));
        }
        Stock::Found(Facts {
            kind: kind.to_owned(),
            entries,
        })
    }

    /// The value, or `None` when it is missing, empty or an unsubstituted placeholder.
    fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty() && !is_placeholder(v))
    }

    fn required(&self, key: &str) -> std::result::Result<&str, String> {
        self.get(key).ok_or_else(|| {
            let why = match self.entries.iter().find(|(k, _)| k == key) {
                None => "missing",
                Some((_, v)) if v.is_empty() => "empty",
                Some(_) => "not substituted by Bazel",
            };
            format!("{key} is {why}, but a {} stub needs it", self.kind)
        })
    }

    /// A boolean in either spelling Bazel's templates use: `1`/`0` (rules_python) or `True`/`False`
    /// (Bazel's built-in rules). Absent means false.
    fn flag(&self, key: &str) -> std::result::Result<bool, String> {
        match self.get(key) {
            None | Some("0" | "False" | "false") => Ok(false),
            Some("1" | "True" | "true") => Ok(true),
            Some(other) => Err(format!(
                "{key}={other:?} is not a boolean (1/0 or True/False)"
            )),
        }
    }

    fn runfiles_path(&self, key: &str) -> std::result::Result<String, String> {
        let value = self.required(key)?;
        normalize(value).ok_or_else(|| format!("{key}={value:?} is not a runfiles path"))
    }

    /// The target label, or the stub's own path when Bazel did not substitute one (Bazel 4 and older).
    fn target(&self, path: &Path) -> String {
        self.get("target")
            .map(str::to_owned)
            .unwrap_or_else(|| path.to_string_lossy().into_owned())
    }

    /// `%workspace_name%`, or the first segment of the program's runfiles path.
    fn workspace_name(&self, program: &str) -> String {
        self.get("workspace_name")
            .unwrap_or_else(|| program.split('/').next().unwrap_or("_main"))
            .to_owned()
    }

    fn origin(&self, path: &Path) -> Origin {
        Origin {
            path: path.to_path_buf(),
            template: self.kind.clone(),
            facts: self.entries.clone(),
        }
    }
}

/// The value of the first line that matches `a`, or `None`.
fn find_anchor(lines: &[&str], a: &Anchor) -> Option<String> {
    for (i, line) in lines.iter().enumerate() {
        let Some(rest) = line.trim_start().strip_prefix(a.prefix) else {
            continue;
        };
        if let Some(after) = a.after {
            if i == 0 || lines[i - 1].trim() != after {
                continue;
            }
        }
        let rest = rest.trim_end();
        if let Some(value) = rest.strip_suffix(a.suffix) {
            return Some(value.to_owned());
        }
        if a.multi_line {
            let mut value = vec![rest];
            for next in &lines[i + 1..] {
                match next.trim_end().strip_suffix(a.suffix) {
                    Some(last) => {
                        value.push(last);
                        return Some(value.join("\n"));
                    }
                    None => value.push(next),
                }
            }
        }
    }
    None
}

/// `%name%`: a placeholder the Bazel that expanded the template did not know.
fn is_placeholder(value: &str) -> bool {
    value.len() > 2
        && value.starts_with('%')
        && value.ends_with('%')
        && value[1..value.len() - 1]
            .bytes()
            .all(|b| b == b'_' || b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// Lexically normalises a relative runfiles path (`_main/../repo/x` → `repo/x`, as Bazel's
/// `<workspace>/<short_path>` values need). `None` for an absolute path, one that climbs out or one that
/// is not a runfiles path once normalised.
fn normalize(value: &str) -> Option<String> {
    if value.starts_with('/') {
        return None;
    }
    let path = join_runfiles_path("", value)?;
    check_runfiles_path("", &path).ok().map(|()| path)
}

/// An interpreter in its three `py_runtime` forms: absolute and bare words as given, runfiles paths
/// normalised.
fn interpreter(key: &str, value: &str) -> std::result::Result<String, String> {
    if value.starts_with('/') || !value.contains('/') {
        Ok(value.to_owned())
    } else {
        normalize(value).ok_or_else(|| {
            format!("{key}={value:?} is neither absolute, a runfiles path nor a name")
        })
    }
}

/// Bazel's built-in `py_binary`: the program is `%main%`, run with `%imports%` on the import path.
fn bazel_native(facts: &Facts, path: &Path) -> std::result::Result<Descriptor, String> {
    let main = facts.runfiles_path("main")?;
    let interpreter = interpreter("python_binary", facts.required("python_binary")?)?;
    let imports = facts
        .get("imports")
        .unwrap_or("")
        .split(':')
        .filter(|i| !i.is_empty())
        .map(|i| normalize(i).ok_or_else(|| format!("imports entry {i:?} is not a runfiles path")))
        .collect::<std::result::Result<Vec<String>, String>>()?;
    // The runtime's coverage tool, a file of coverage.py (`…/coverage/__main__.py`), used under
    // `bazel coverage` only (docs/coverage.md). An absolute path is not in the runfiles: ignored.
    let coverage_tool = match facts.get("coverage_tool") {
        Some(value) if !value.starts_with('/') => normalize(value)
            .ok_or_else(|| format!("coverage_tool={value:?} is not a runfiles path"))?,
        _ => String::new(),
    };
    Ok(Descriptor {
        version: crate::descriptor::SCHEMA_VERSION,
        target: facts.target(path),
        workspace_name: facts.workspace_name(&main),
        import_all: facts.flag("import_all")?,
        main: Some(main),
        interpreter,
        imports,
        coverage_tool: crate::coverage::dir_of_entry_point(&coverage_tool),
        ..Descriptor::default()
    })
}

/// rules_python (`bootstrap_impl=script` stage 1, also fine for `system_python`): the program is its
/// stage 2, run by the venv's python; rules_python's site init in the venv sets the import path, so the
/// descriptor carries no imports.
fn rules_python(facts: &Facts, path: &Path) -> std::result::Result<Descriptor, String> {
    let stage2 = facts.runfiles_path("stage2_bootstrap")?;
    let python_binary = facts.get("python_binary");
    let actual = facts.get("python_binary_actual");
    // Read for validation and the debug trace: the core asks a wrapper-script interpreter for its real
    // executable on its own (`resolve_python_binary_at_runtime` is for such runtimes).
    facts.flag("resolve_python_binary_at_runtime")?;
    let recreate = facts.flag("recreate_venv_at_runtime")?;
    let site_packages = facts.get("venv_rel_site_packages").map(str::to_owned);

    // With a venv, %python_binary% is `<venv>/bin/<name>` in the runfiles and %python_binary_actual%
    // the runtime's interpreter; without one, %python_binary% is the runtime's interpreter.
    let venv_python = match (python_binary, actual) {
        (Some(pb), Some(_)) if !pb.starts_with('/') && pb.contains('/') => Some(
            normalize(pb).ok_or_else(|| format!("python_binary={pb:?} is not a runfiles path"))?,
        ),
        _ => None,
    };
    let venv = venv_python.as_deref().and_then(|p| {
        let (bin, _) = p.rsplit_once('/')?;
        let (venv, bin_name) = bin.rsplit_once('/')?;
        matches!(bin_name, "bin" | "Scripts").then(|| venv.to_owned())
    });
    let interpreter = match (actual, python_binary) {
        (Some(actual), _) => interpreter("python_binary_actual", actual)?,
        (None, Some(pb)) => interpreter("python_binary", pb)?,
        (None, None) => return Err(
            "python_binary and python_binary_actual are both empty: the stub names no interpreter"
                .into(),
        ),
    };
    let interpreter_args: Vec<String> = facts
        .get("interpreter_args")
        .unwrap_or("")
        .split('\n')
        .filter(|arg| !arg.is_empty())
        .map(str::to_owned)
        .collect();

    let venv_policy = VenvPolicy {
        always_run_time: recreate && venv.is_some(),
        link_build_time: venv.is_some(),
        site_packages,
        python: venv.as_ref().and(venv_python),
    };
    Ok(Descriptor {
        version: crate::descriptor::SCHEMA_VERSION,
        target: facts.target(path),
        workspace_name: facts.workspace_name(&stage2),
        main: Some(stage2),
        interpreter,
        // No python_version: rules_python runs an interpreter of another version than the one its
        // site-packages path names (stage 2 adds that directory itself), so it is not a requirement.
        interpreter_args,
        venv,
        venv_policy,
        ..Descriptor::default()
    })
}

/// Debug trace of what a stub said: the template, every fact as written, and what py-launcher made of
/// the facts that have no descriptor field.
pub(crate) fn trace_facts((descriptor, origin): &Translated, trace: &mut Trace) {
    trace.note(|| {
        format!(
            "stub: {} template, read from {}",
            origin.template,
            show_path(&origin.path)
        )
    });
    for (key, value) in &origin.facts {
        trace.note(|| {
            let shown = if value.is_empty() {
                "(empty)".to_owned()
            } else if is_placeholder(value) {
                format!("{value:?} (not substituted: absent)")
            } else {
                format!("{value:?}")
            };
            format!("stub fact: {key} = {shown}")
        });
    }
    let stage2 = origin
        .facts
        .iter()
        .any(|(k, v)| k == "stage2_bootstrap" && !v.is_empty() && !is_placeholder(v));
    if stage2 {
        let policy = &descriptor.venv_policy;
        trace.note(|| {
            format!(
                "stub: stage 2 (run as the main file) {:?}; venv {:?}, its python {:?}, site-packages {:?}; \
                 recreate the venv at run time: {}",
                descriptor.main.as_deref().unwrap_or(""),
                descriptor.venv.as_deref().unwrap_or("(none)"),
                policy.python.as_deref().unwrap_or("(none)"),
                policy.site_packages.as_deref().unwrap_or("(none)"),
                if policy.always_run_time { "yes" } else { "no (only if the build-time venv is unusable)" }
            )
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> Translated {
        match parse(text.as_bytes(), Path::new("/b/pkg/app")) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    fn parse_err(text: &str) -> Error {
        match parse(text.as_bytes(), Path::new("/b/pkg/app")) {
            Ok((d, _)) => panic!("parsed: {d:?}"),
            Err(e) => e,
        }
    }

    /// A descriptor error (exit 65) whose message holds `needle`.
    fn descriptor_err(text: &str, needle: &str) -> Error {
        let e = parse_err(text);
        assert_eq!(e.exit_code(), 65, "{e}");
        assert!(e.to_string().contains(needle), "{needle}: {e}");
        e
    }

    const NATIVE: &str = "#!/usr/bin/env py-launcher\n# py-launcher stub: bazel-native 1\n# c\n\
        target=%target%\nworkspace_name=_main\npython_binary=_main/../py 3/bin/python3\n\
        main=_main/pkg/my app.py\nimports=:_main/pkg/lib::_main/x\nimport_all=True\nis_zipfile=False\n\
        coverage_tool=%coverage_tool%\n# py-launcher stub: end\nPK\x03\x04junk";

    #[test]
    fn a_bazel_native_stub_becomes_its_descriptor() {
        let (d, origin) = parse_ok(NATIVE);
        assert_eq!(d.target, "/b/pkg/app");
        assert_eq!(d.main.as_deref(), Some("_main/pkg/my app.py"));
        assert_eq!(d.interpreter, "py 3/bin/python3");
        assert_eq!(d.imports, ["_main/pkg/lib", "_main/x"]);
        assert!(d.import_all);
        assert_eq!(d.venv_policy, VenvPolicy::default());
        assert_eq!(origin.template, "bazel-native");
        assert_eq!(origin.facts.len(), 8);
    }

    #[test]
    fn a_rules_python_stub_becomes_its_descriptor() {
        let (d, _) = parse_ok(
            "#!/opt/py-launcher\r\n# py-launcher stub: rules-python 1\r\ntarget=@@//pkg:app\r\n\
             workspace_name=_main\r\nstage2_bootstrap=_main/pkg/_app_stage2_bootstrap.py\r\n\
             python_binary=_main/pkg/_app.venv/bin/python3\r\npython_binary_actual=/usr/bin/python3.11\r\n\
             is_zipfile=0\r\nrecreate_venv_at_runtime=1\r\nresolve_python_binary_at_runtime=0\r\n\
             venv_rel_site_packages=lib/python3.11/site-packages\r\ninterpreter_args<<END\r\n-X\r\n\r\n\
             a b=c\r\nEND\r\n# py-launcher stub: end\r\n",
        );
        assert_eq!(
            d.main.as_deref(),
            Some("_main/pkg/_app_stage2_bootstrap.py")
        );
        assert_eq!(d.venv.as_deref(), Some("_main/pkg/_app.venv"));
        assert_eq!(d.interpreter, "/usr/bin/python3.11");
        assert_eq!(
            d.python_version, None,
            "a site-packages path is not a requirement"
        );
        assert_eq!(d.interpreter_args, ["-X", "a b=c"]);
        assert!(d.imports.is_empty());
        let x = &d.venv_policy;
        assert!(x.always_run_time && x.link_build_time);
        assert_eq!(x.python.as_deref(), Some("_main/pkg/_app.venv/bin/python3"));
    }

    #[test]
    fn rules_python_without_a_venv_runs_the_runtime() {
        let (d, _) = parse_ok(
            "#!x\n# py-launcher stub: rules-python 1\nstage2_bootstrap=_main/s.py\npython_binary=python3\n\
             python_binary_actual=\ninterpreter_args<<E\n%interpreter_args%\nE\n# py-launcher stub: end\n",
        );
        assert_eq!(d.interpreter, "python3");
        assert_eq!(d.venv, None);
        assert!(d.interpreter_args.is_empty());
        assert_eq!(d.workspace_name, "_main");
    }

    #[test]
    fn zip_stubs_name_the_flag() {
        let e = parse_err(&NATIVE.replace("is_zipfile=False", "is_zipfile=True"));
        assert_eq!(e.exit_code(), 64);
        assert!(e.to_string().contains("--build_python_zip"), "{e}");
        let e = parse_err("#!/usr/bin/env py-launcher\nPK\x03\x04...");
        assert!(e.to_string().contains("--build_python_zip"), "{e}");
    }

    #[test]
    fn broken_stubs_are_descriptor_errors() {
        for (text, needle) in [
            (
                NATIVE.split(END_LINE).next().unwrap_or("").to_owned(),
                "ends before",
            ),
            (NATIVE.replace("bazel-native 1", "bazel-native 2"), "newer"),
            (
                NATIVE.replace("bazel-native 1", "other 1"),
                "unknown stub kind",
            ),
            (NATIVE.replace("# c", "colour=red"), "unknown key"),
            (NATIVE.replace("# c", "main=x"), "twice"),
            (NATIVE.replace("# c", "what"), "neither"),
            (
                NATIVE.replace("main=_main/pkg/my app.py", "main=%main%"),
                "not substituted",
            ),
            (
                NATIVE.replace("main=_main/pkg/my app.py", "main=../x"),
                "not a runfiles path",
            ),
            (
                NATIVE.replace("import_all=True", "import_all=yes"),
                "not a boolean",
            ),
        ] {
            descriptor_err(&text, needle);
        }
    }

    #[test]
    fn other_files_are_usage_errors() {
        for text in ["", "hello\n", "#!/bin/sh\necho hi\n", "\n\nprint(1)\n"] {
            let e = parse_err(text);
            assert_eq!(e.exit_code(), 64, "{text:?}: {e}");
        }
    }

    /// A stock stub of Bazel's shape, written from docs/dropin.md's description of its substituted
    /// lines (a few unrelated lines around them, as in the real file).
    const STOCK_NATIVE_TEXT: &str = "#!/usr/bin/env py-launcher\nimport sys\n\
        PYTHON_BINARY = '_main/../py3/bin/python3'\n\
        if IsWindows():\n  PYTHON_BINARY = PYTHON_BINARY + '.exe'\n\
        def IsRunningFromZip():\n  return False\n\
        def GetRepositoriesImports(module_space, import_all):\n\
          return [os.path.join(module_space, 'e2e')]\n\
        def Main():\n  python_imports = 'e2e/lib:e2e/x'\n\
          python_path_entries += GetRepositoriesImports(module_space, True)\n\
          rel_path = 'e2e/pkg/app.py'\n\
        msg = dict(\n    target='//pkg:app',\n    code=1)\n";

    const STOCK_SYSTEM_PYTHON_TEXT: &str = "#!/opt/py-launcher\nimport os\n\
        _STAGE2_BOOTSTRAP_SENTINEL = \"%stage2\" + \"_bootstrap%\"\n\
        STAGE2_BOOTSTRAP=\"_main/pkg/_app_stage2_bootstrap.py\"\n\
        if STAGE2_BOOTSTRAP == _STAGE2_BOOTSTRAP_SENTINEL:\n  _main = \"%main%\"\n\
        PYTHON_BINARY = '_main/pkg/_app.venv/bin/python3.11'\n\
        PYTHON_BINARY_ACTUAL = \"/usr/bin/python3.11\"\n\
        IS_ZIPFILE = \"0\" == \"1\"\n\
        RECREATE_VENV_AT_RUNTIME = \"0\" == \"1\"\n\
        RESOLVE_PYTHON_BINARY_AT_RUNTIME = \"0\" == \"1\"\n\
        VENV_REL_SITE_PACKAGES = \"lib/python3.11/site-packages\"\n\
        WORKSPACE_NAME = \"_main\"\n\
        _INTERPRETER_ARGS_RAW = \"-X\nutf8\n\n-Wd\"\n\
        INTERPRETER_ARGS = []\n";

    #[test]
    fn a_stock_native_stub_becomes_its_descriptor_in_old_and_new_shapes() {
        let (d, origin) = parse_ok(STOCK_NATIVE_TEXT);
        assert_eq!(origin.template, KIND_STOCK_NATIVE);
        assert_eq!(d.target, "//pkg:app");
        assert_eq!(d.workspace_name, "e2e");
        assert_eq!(d.main.as_deref(), Some("e2e/pkg/app.py"));
        assert_eq!(d.interpreter, "py3/bin/python3");
        assert_eq!(d.imports, ["e2e/lib", "e2e/x"]);
        assert!(d.import_all);
        assert_eq!(d.venv_policy, VenvPolicy::default());
        // An older shape: `main_rel_path`, no target, no workspace line.
        let older = "#!x\nPYTHON_BINARY = 'python3'\n  main_rel_path = 'ws/app.py'\n";
        let (d, _) = parse_ok(older);
        assert_eq!(d.main.as_deref(), Some("ws/app.py"));
        assert_eq!(d.workspace_name, "ws");
        assert_eq!(d.target, "/b/pkg/app");
        assert!(!d.import_all && d.imports.is_empty());
    }

    #[test]
    fn a_stock_system_python_stub_becomes_its_descriptor() {
        let (d, origin) = parse_ok(STOCK_SYSTEM_PYTHON_TEXT);
        assert_eq!(origin.template, KIND_STOCK_SYSTEM_PYTHON);
        assert_eq!(
            d.main.as_deref(),
            Some("_main/pkg/_app_stage2_bootstrap.py")
        );
        assert_eq!(d.venv.as_deref(), Some("_main/pkg/_app.venv"));
        assert_eq!(d.interpreter, "/usr/bin/python3.11");
        assert_eq!(d.interpreter_args, ["-X", "utf8", "-Wd"]);
        assert_eq!(d.target, "/b/pkg/app", "the stub carries no label");
        assert_eq!(
            d.venv_policy.python.as_deref(),
            Some("_main/pkg/_app.venv/bin/python3.11")
        );
        assert!(d.venv_policy.link_build_time && !d.venv_policy.always_run_time);
        // Bazel's native rules expanding this template leave the stage 2 unsubstituted: %main% runs.
        let native = STOCK_SYSTEM_PYTHON_TEXT
            .replace(
                "STAGE2_BOOTSTRAP=\"_main/pkg/_app_stage2_bootstrap.py\"",
                "STAGE2_BOOTSTRAP=\"%stage2_bootstrap%\"",
            )
            .replace("_main = \"%main%\"", "_main = \"_main/pkg/app.py\"")
            .replace("_main/pkg/_app.venv/bin/python3.11", "/usr/bin/python3");
        let (d, _) = parse_ok(&native);
        assert_eq!(d.main.as_deref(), Some("_main/pkg/app.py"));
        assert_eq!(d.interpreter, "/usr/bin/python3");
        assert_eq!(d.venv, None);
        let zip = STOCK_SYSTEM_PYTHON_TEXT.replace("IS_ZIPFILE = \"0\"", "IS_ZIPFILE = \"1\"");
        assert!(parse_err(&zip).to_string().contains("--build_python_zip"));
    }

    #[test]
    fn damaged_stock_stubs_name_the_missing_line() {
        for (text, needle) in [
            (
                STOCK_NATIVE_TEXT.replace("rel_path = 'e2e/pkg/app.py'", ""),
                "rel_path = '…'` (main) is missing",
            ),
            (
                STOCK_NATIVE_TEXT.replace("rel_path = 'e2e/pkg/app.py'", "rel_path = '%main%'"),
                "main is not substituted",
            ),
            (
                STOCK_SYSTEM_PYTHON_TEXT.replace("WORKSPACE_NAME", "WS"),
                "WORKSPACE_NAME = \"…\"` (workspace_name) is missing",
            ),
            (
                STOCK_SYSTEM_PYTHON_TEXT.replace("PYTHON_BINARY_ACTUAL = ", "X = "),
                "python_binary_actual) is missing",
            ),
        ] {
            let e = descriptor_err(&text, needle);
            assert!(
                e.to_string().contains("looks like") || needle.contains("substituted"),
                "{e}"
            );
        }
        let e = parse_err("#!/usr/bin/env py-launcher\nprint('hi')\n");
        assert_eq!(e.exit_code(), 64);
        assert!(e.to_string().contains("PYTHON_BINARY = '"), "{e}");
    }

    #[test]
    fn cut_and_damaged_stock_stubs_never_panic() {
        // Every truncation, and every single-byte deletion, of both stock shapes: an answer each time
        // (errors are the usage or bad-descriptor kind), never a panic.
        for text in [STOCK_NATIVE_TEXT, STOCK_SYSTEM_PYTHON_TEXT] {
            let bytes = text.as_bytes();
            for i in 0..bytes.len() {
                let deleted: Vec<u8> = bytes[..i].iter().chain(&bytes[i + 1..]).copied().collect();
                for candidate in [&bytes[..i], &deleted[..]] {
                    if let Err(e) = parse(candidate, Path::new("/b/pkg/app")) {
                        assert!(matches!(e.exit_code(), 64 | 65), "{e}");
                    }
                }
            }
        }
    }

    #[test]
    fn only_a_whole_percent_word_is_a_placeholder() {
        assert!(is_placeholder("%coverage_tool%"));
        assert!(!is_placeholder("%"));
        assert!(!is_placeholder("%%"));
        assert!(!is_placeholder("50%"));
        assert!(!is_placeholder("%A B%"));
    }
}
