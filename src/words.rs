//! Splitting `PY_LAUNCHER_INTERPRETER_ARGS` / `RULES_PYTHON_ADDITIONAL_INTERPRETER_ARGS` into arguments.
//!
//! The rules follow POSIX shell words without any expansion: blanks separate words; '…' keeps
//! everything literally; "…" keeps everything but lets `\` escape `"`, `\`, `$` and a backquote; a `\`
//! outside quotes escapes the next byte. This is what `shlex.split` (rules_python's Python stage 1)
//! does, so a value that works there works here. Nothing is ever run by a shell.

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
                            Some(c @ (b'"' | b'\\' | b'$' | b'`')) => w.push(c),
                            Some(b'\n') => {}
                            Some(c) => w.extend_from_slice(&[b'\\', c]),
                            None => return Err("an unterminated double quote"),
                        },
                        Some(c) => w.push(c),
                        None => return Err("an unterminated double quote"),
                    }
                }
            }
            b'\\' => match bytes.next() {
                Some(b'\n') => {}
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
        assert_eq!(s("   "), Vec::<String>::new());
    }

    #[test]
    fn refuses_unterminated_input() {
        assert!(split(b"'abc").is_err());
        assert!(split(b"\"abc").is_err());
        assert!(split(b"abc\\").is_err());
    }
}
