//! Drop-in route: reading launch facts from a text stub whose `#!` line names py-launcher.
//!
//! Formats recognised (see `templates/` and the README):
//! - py-launcher's own stub: a `#!` line, then the descriptor JSON (`templates/py_launcher_stub.tmpl`).

use std::fs;
use std::path::Path;

use crate::descriptor::{Descriptor, DropIn};
use crate::error::{show_path, Error, Result};

/// Stubs are small text files; anything larger is not one.
const MAX_STUB_LEN: u64 = 1024 * 1024;

pub fn read_stub(path: &Path) -> Result<Descriptor> {
    let not_a_stub = |why: String| {
        Error::usage(
            format!("{} is not a py-launcher stub: {why}", show_path(path)),
            "run py-launcher as a stub's #! interpreter (py-launcher STUB [ARGS...]), or finalize it with a descriptor",
        )
    };
    let meta = fs::metadata(path).map_err(|e| not_a_stub(e.to_string()))?;
    if !meta.is_file() || meta.len() > MAX_STUB_LEN {
        return Err(not_a_stub("not a small regular file".into()));
    }
    let text = fs::read(path).map_err(|e| not_a_stub(e.to_string()))?;
    parse(&text, path).map_err(|e| {
        if e.kind == crate::ErrorKind::Usage {
            not_a_stub(e.message().to_owned())
        } else {
            e
        }
    })
}

/// Parses stub text; `path` is the stub's path as invoked (runfiles discovery starts from it).
pub fn parse(text: &[u8], path: &Path) -> Result<Descriptor> {
    let body = match text.strip_prefix(b"#!") {
        Some(rest) => rest
            .iter()
            .position(|b| *b == b'\n')
            .map_or(&b""[..], |nl| &rest[nl + 1..]),
        None => return Err(Error::usage("it does not start with a #! line", "")),
    };
    let trimmed = body.trim_ascii_start();
    if trimmed.starts_with(b"{") {
        let mut descriptor = Descriptor::from_json(trimmed)?;
        descriptor.drop_in = Some(DropIn {
            template: "py-launcher".into(),
            stub_path: path.to_path_buf(),
            ..DropIn::default()
        });
        return Ok(descriptor);
    }
    Err(Error::usage(
        "it carries no launch facts py-launcher knows",
        "",
    ))
}
