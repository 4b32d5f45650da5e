//! Splitting `PY_LAUNCHER_INTERPRETER_ARGS` / `RULES_PYTHON_ADDITIONAL_INTERPRETER_ARGS` into arguments.
//!
//! Exactly Python's `shlex.split` (POSIX mode), which rules_python's Python stage 1 uses, so a value that
//! works there works here: blanks (space, tab, newline, carriage return) separate words; '…' keeps
//! everything literally; inside "…" a backslash escapes only `"` and `\` (any other backslash stays);
//! outside quotes a backslash makes the next byte literal (a newline included). No expansion of any kind,
//! and nothing is ever run by a shell.

/// `Err` names the problem (an unterminated quote or a trailing backslash).
pub fn split(input: &[u8]) -> Result<Vec<Vec<u8>>, &'static str> {
    let mut words = Vec::new();
    let mut word: Option<Vec<u8>> = None;
    let mut bytes = input.iter().copied();
    while let Some(b) = bytes.next() {
        match b {
            b' ' | b'\t' | b'\n' | b'\r' => {
                if let Some(done) = word.take() {
                    words.push(done);
                }
            }
            b'\'' => {
                let w = word.get_or_insert_with(Vec::new);
                loop {
                    match bytes.next() {
                        Some(b'\'') => break,
                        Some(c) => w.push(c),
                        None => return Err("an unterminated single quote"),
                    }
                }
            }
            b'"' => {
                let w = word.get_or_insert_with(Vec::new);
                loop {
                    match bytes.next() {
                        Some(b'"') => break,
                        Some(b'\\') => match bytes.next() {
                            Some(c @ (b'"' | b'\\')) => w.push(c),
                            Some(c) => w.extend_from_slice(&[b'\\', c]),
                            None => return Err("an unterminated double quote"),
                        },
                        Some(c) => w.push(c),
                        None => return Err("an unterminated double quote"),
                    }
                }
            }
            b'\\' => match bytes.next() {
                Some(c) => word.get_or_insert_with(Vec::new).push(c),
                None => return Err("a trailing backslash"),
            },
            c => word.get_or_insert_with(Vec::new).push(c),
        }
    }
    if let Some(done) = word {
        words.push(done);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::split;

    fn s(input: &str) -> Vec<String> {
        split(input.as_bytes())
            .unwrap()
            .into_iter()
            .map(|w| String::from_utf8(w).unwrap())
            .collect()
    }

    #[test]
    fn splits_like_shlex() {
        assert_eq!(
            s("-X dev  -W 'error::Warning'"),
            ["-X", "dev", "-W", "error::Warning"]
        );
        assert_eq!(
            s(r#"-c "print('a b')" x\ y ''"#),
            ["-c", "print('a b')", "x y", ""]
        );
        assert_eq!(s(r#""a\"b\\c\d""#), [r#"a"b\c\d"#]);
        // The four cases where shlex differs from a POSIX shell (checked against Python 3.11).
        assert_eq!(s(r#""a\$b""#), [r#"a\$b"#]);
        assert_eq!(s(r#""a\`b""#), [r#"a\`b"#]);
        assert_eq!(s("a\\\nb"), ["a\nb"]);
        assert_eq!(s("\"a\\\nb\""), ["a\\\nb"]);
        assert_eq!(s("   "), Vec::<String>::new());
    }

    #[test]
    fn refuses_unterminated_input() {
        assert!(split(b"'abc").is_err());
        assert!(split(b"\"abc").is_err());
        assert!(split(b"abc\\").is_err());
    }
}
