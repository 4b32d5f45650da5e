//! The little JSON the launcher needs, without serde: a strict reader of the values a descriptor holds
//! (strings, `u32`, booleans, `null`, arrays of strings, objects of strings; `descriptor` drives it and
//! owns the schema) and a compact writer (the descriptor's canonical form and the JSON plan in `debug`).
//!
//! The reader follows RFC 8259: white space is space, tab, LF and CR; strings are UTF-8 with no raw
//! control characters and `\u` escapes paired for surrogates. Its error texts read like serde_json's
//! (`missing field`, `unknown field`, `at line L column C`), which the tests and docs quote. The writer
//! escapes `"`, `\` and the control characters (`\b`, `\f`, `\n`, `\r`, `\t`, else `\u00XX`) and
//! nothing else, as serde_json did, so the descriptor's canonical bytes are unchanged.

use std::borrow::Cow;
use std::fmt::Write as _;

/// A reader over one JSON document. Errors are messages without the position; [`Reader::error`] adds it.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, pos: 0 }
    }

    /// The message with the position of the byte being read, as `… at line L column C`.
    pub(crate) fn error(&self, message: &str) -> String {
        let end = self.pos.min(self.bytes.len());
        let done = &self.bytes[..end];
        let line = 1 + done.iter().filter(|&&b| b == b'\n').count();
        let column = end - done.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        format!("{message} at line {line} column {column}")
    }

    fn white_space(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    /// The next byte after white space, not consumed.
    pub(crate) fn peek(&mut self) -> Option<u8> {
        self.white_space();
        self.bytes.get(self.pos).copied()
    }

    /// Consumes `byte` if it comes next (after white space).
    pub(crate) fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Requires `byte` next; `what` names it in the error.
    pub(crate) fn expect(&mut self, byte: u8, what: &str) -> Result<(), String> {
        match self.peek() {
            Some(b) if b == byte => {
                self.pos += 1;
                Ok(())
            }
            None => Err(self.error("EOF while parsing a value")),
            Some(_) => Err(self.error(&format!("expected {what}"))),
        }
    }

    /// Succeeds when only white space is left.
    pub(crate) fn end(&mut self) -> Result<(), String> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.error("trailing characters")),
        }
    }

    /// The error for a value of the wrong type where `expected` was wanted.
    fn invalid_type(&mut self, expected: &str) -> String {
        let found = match self.peek() {
            None => return self.error("EOF while parsing a value"),
            Some(b'"') => "string",
            Some(b'[') => "sequence",
            Some(b'{') => "map",
            Some(b't' | b'f') => "boolean",
            Some(b'n') => "null",
            Some(b'-' | b'0'..=b'9') => "number",
            Some(_) => return self.error("expected value"),
        };
        self.error(&format!("invalid type: {found}, expected {expected}"))
    }

    fn literal(&mut self, word: &[u8]) -> bool {
        if self.bytes[self.pos..].starts_with(word) {
            self.pos += word.len();
            true
        } else {
            false
        }
    }

    /// `null`, consumed if it comes next.
    pub(crate) fn null(&mut self) -> Result<bool, String> {
        if self.peek() != Some(b'n') {
            return Ok(false);
        }
        if self.literal(b"null") {
            Ok(true)
        } else {
            Err(self.error("expected ident"))
        }
    }

    pub(crate) fn boolean(&mut self) -> Result<bool, String> {
        if self.peek() == Some(b't') && self.literal(b"true") {
            return Ok(true);
        }
        if self.peek() == Some(b'f') && self.literal(b"false") {
            return Ok(false);
        }
        Err(self.invalid_type("a boolean"))
    }

    /// A non-negative integer that fits `u32`; a fraction, an exponent or a sign is refused.
    pub(crate) fn u32(&mut self) -> Result<u32, String> {
        if !matches!(self.peek(), Some(b'0'..=b'9')) {
            return Err(self.invalid_type("u32"));
        }
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
        let digits = &self.bytes[start..self.pos];
        if digits.len() > 1 && digits[0] == b'0' {
            self.pos = start + 1;
            return Err(self.error("invalid number"));
        }
        if let Some(b'.' | b'e' | b'E') = self.bytes.get(self.pos) {
            self.pos = start;
            return Err(self.invalid_type("u32"));
        }
        let mut value: u64 = 0;
        for &d in digits {
            value = value * 10 + u64::from(d - b'0');
            if value > u64::from(u32::MAX) {
                self.pos = start;
                return Err(self.error("invalid value: integer out of range, expected u32"));
            }
        }
        Ok(value as u32)
    }

    pub(crate) fn string(&mut self) -> Result<String, String> {
        self.str().map(Cow::into_owned)
    }

    /// A string, borrowed from the input when it has no escapes (the common case: no allocation, and no
    /// UTF-8 check when it is all ASCII).
    pub(crate) fn str(&mut self) -> Result<Cow<'a, str>, String> {
        if self.peek() != Some(b'"') {
            return Err(self.invalid_type("a string"));
        }
        self.pos += 1;
        let bytes: &'a [u8] = self.bytes;
        let rest = &bytes[self.pos..];
        let (end, ascii) = plain_run(rest);
        if rest.get(end) == Some(&b'"') {
            let text = &rest[..end];
            let text = if ascii {
                // SAFETY: every byte of `text` is below 0x80 (`plain_run` checked), so it is UTF-8.
                unsafe { std::str::from_utf8_unchecked(text) }
            } else {
                std::str::from_utf8(text).map_err(|_| self.error("invalid unicode code point"))?
            };
            self.pos += end + 1;
            return Ok(Cow::Borrowed(text));
        }
        let mut out = Vec::new();
        loop {
            let start = self.pos;
            while let Some(&b) = self.bytes.get(self.pos) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            out.extend_from_slice(&self.bytes[start..self.pos]);
            match self.bytes.get(self.pos) {
                None => return Err(self.error("EOF while parsing a string")),
                Some(b'"') => {
                    self.pos += 1;
                    break;
                }
                Some(b'\\') => {
                    self.pos += 1;
                    self.escape(&mut out)?;
                }
                Some(_) => {
                    return Err(self
                        .error("control character (\\u0000-\\u001F) found while parsing a string"))
                }
            }
        }
        // Escapes push whole UTF-8 sequences and `"`/`\` never occur inside a multi-byte one, so the
        // raw runs keep their boundaries: checking the whole is checking every run.
        String::from_utf8(out)
            .map(Cow::Owned)
            .map_err(|_| self.error("invalid unicode code point"))
    }

    fn escape(&mut self, out: &mut Vec<u8>) -> Result<(), String> {
        let Some(&b) = self.bytes.get(self.pos) else {
            return Err(self.error("EOF while parsing a string"));
        };
        self.pos += 1;
        let simple = match b {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                let first = self.hex4()?;
                let code = match first {
                    0xD800..=0xDBFF => {
                        if !(self.literal(b"\\u")) {
                            return Err(self.error("lone leading surrogate in hex escape"));
                        }
                        let second = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&second) {
                            return Err(self.error("lone leading surrogate in hex escape"));
                        }
                        0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                    }
                    0xDC00..=0xDFFF => {
                        return Err(self.error("lone trailing surrogate in hex escape"))
                    }
                    code => code,
                };
                let c =
                    char::from_u32(code).ok_or_else(|| self.error("invalid unicode code point"))?;
                out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                return Ok(());
            }
            _ => return Err(self.error("invalid escape")),
        };
        out.push(simple);
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let mut value = 0;
        for _ in 0..4 {
            let digit = match self.bytes.get(self.pos) {
                None => return Err(self.error("EOF while parsing a string")),
                Some(&b) => (b as char).to_digit(16),
            };
            let Some(digit) = digit else {
                return Err(self.error("invalid escape"));
            };
            value = value * 16 + digit;
            self.pos += 1;
        }
        Ok(value)
    }

    /// Calls `item` for each element of an array (`[` next, after white space).
    pub(crate) fn array(
        &mut self,
        expected: &str,
        mut item: impl FnMut(&mut Self) -> Result<(), String>,
    ) -> Result<(), String> {
        if self.peek() != Some(b'[') {
            return Err(self.invalid_type(expected));
        }
        self.pos += 1;
        if self.eat(b']') {
            return Ok(());
        }
        loop {
            item(self)?;
            if self.eat(b',') {
                continue;
            }
            return self.expect(b']', "`,` or `]`");
        }
    }

    /// Calls `entry` with each key of an object, the reader then at its value (`{` next).
    pub(crate) fn object(
        &mut self,
        expected: &str,
        mut entry: impl FnMut(&mut Self, Cow<'a, str>) -> Result<(), String>,
    ) -> Result<(), String> {
        if self.peek() != Some(b'{') {
            return Err(self.invalid_type(expected));
        }
        self.pos += 1;
        if self.eat(b'}') {
            return Ok(());
        }
        loop {
            if self.peek() != Some(b'"') {
                return Err(self.error("key must be a string"));
            }
            let key = self.str()?;
            self.expect(b':', "`:`")?;
            entry(self, key)?;
            if self.eat(b',') {
                continue;
            }
            return self.expect(b'}', "`,` or `}`");
        }
    }
}

/// The length of the run of bytes at the start of `bytes` that a string can hold as they are (no `"`,
/// `\\` or control character), and whether they are all ASCII. Eight bytes at a time: a descriptor's
/// strings are paths, and this is most of the launcher's parsing.
fn plain_run(bytes: &[u8]) -> (usize, bool) {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    // A high bit in the result for each byte that is zero (exactly where the first one is).
    let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let mut high = 0;
    let mut i = 0;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_ne_bytes(word);
        let special = zero(w ^ (ONES * u64::from(b'"')))
            | zero(w ^ (ONES * u64::from(b'\\')))
            | (w.wrapping_sub(ONES * 0x20) & !w & HIGH);
        if special != 0 {
            break;
        }
        high |= w & HIGH;
        i += 8;
    }
    while let Some(&b) = bytes.get(i) {
        if b == b'"' || b == b'\\' || b < 0x20 {
            break;
        }
        high |= u64::from(b & 0x80);
        i += 1;
    }
    (i, high == 0)
}

/// A compact JSON writer. Values, keys and the ends of arrays and objects are written in order; the
/// writer puts the commas.
pub(crate) struct Writer {
    out: String,
    comma: bool,
}

impl Default for Writer {
    fn default() -> Writer {
        Writer::new()
    }
}

impl Writer {
    pub(crate) fn new() -> Writer {
        // A plan is a few kilobytes: start big enough to skip the first few reallocations.
        Writer {
            out: String::with_capacity(1024),
            comma: false,
        }
    }

    pub(crate) fn finish(self) -> String {
        self.out
    }

    fn value(&mut self) -> &mut String {
        if self.comma {
            self.out.push(',');
        }
        self.comma = true;
        &mut self.out
    }

    pub(crate) fn key(&mut self, key: &str) -> &mut Writer {
        self.string(key);
        self.out.push(':');
        self.comma = false;
        self
    }

    pub(crate) fn string(&mut self, value: &str) -> &mut Writer {
        push_string(self.value(), value);
        self
    }

    pub(crate) fn opt_string(&mut self, value: Option<&str>) -> &mut Writer {
        match value {
            Some(value) => self.string(value),
            None => self.null(),
        }
    }

    pub(crate) fn null(&mut self) -> &mut Writer {
        self.value().push_str("null");
        self
    }

    pub(crate) fn boolean(&mut self, value: bool) -> &mut Writer {
        self.value().push_str(if value { "true" } else { "false" });
        self
    }

    pub(crate) fn number(&mut self, value: u64) -> &mut Writer {
        let _ = write!(self.value(), "{value}");
        self
    }

    pub(crate) fn begin_object(&mut self) -> &mut Writer {
        self.value().push('{');
        self.comma = false;
        self
    }

    pub(crate) fn end_object(&mut self) -> &mut Writer {
        self.out.push('}');
        self.comma = true;
        self
    }

    pub(crate) fn begin_array(&mut self) -> &mut Writer {
        self.value().push('[');
        self.comma = false;
        self
    }

    pub(crate) fn end_array(&mut self) -> &mut Writer {
        self.out.push(']');
        self.comma = true;
        self
    }

    /// An array of strings.
    pub(crate) fn strings<'s>(&mut self, values: impl IntoIterator<Item = &'s str>) -> &mut Writer {
        self.begin_array();
        for value in values {
            self.string(value);
        }
        self.end_array()
    }
}

/// `value` as a JSON string literal.
fn push_string(out: &mut String, value: &str) {
    out.reserve(value.len() + 2);
    out.push('"');
    let mut rest = value;
    while let Some(i) = rest
        .bytes()
        .position(|b| b < 0x20 || b == b'"' || b == b'\\')
    {
        out.push_str(&rest[..i]);
        let b = rest.as_bytes()[i];
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x08 => out.push_str("\\b"),
            0x0c => out.push_str("\\f"),
            _ => {
                let _ = write!(out, "\\u{b:04x}");
            }
        }
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_eight_byte_scan_agrees_with_a_byte_by_byte_one() {
        let naive = |bytes: &[u8]| {
            let end = bytes
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                .unwrap_or(bytes.len());
            (end, bytes[..end].is_ascii())
        };
        // Every byte value at every position of a 19-byte run of plain ASCII or of non-ASCII, so each
        // lands in the first and second word and in the tail, beside every kind of neighbour.
        for filler in [b'a', 0x7f, 0x80, 0xc3, 0xff, b' '] {
            for pos in 0..19 {
                for byte in 0..=255u8 {
                    let mut bytes = vec![filler; 19];
                    bytes[pos] = byte;
                    assert_eq!(plain_run(&bytes), naive(&bytes), "{bytes:?}");
                }
            }
        }
    }

    #[test]
    fn strings_round_trip_with_serde_json_escapes() {
        let text = "a\"b\\c\n\r\t\u{8}\u{c}\u{1}\u{1f}\u{7f}é😀/";
        let mut w = Writer::new();
        w.string(text);
        let out = w.finish();
        assert_eq!(
            out,
            "\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f\u{7f}é😀/\""
        );
        assert_eq!(Reader::new(out.as_bytes()).string().unwrap(), text);
        let escaped = br#""\ud83d\ude00\u00e9\/""#;
        assert_eq!(Reader::new(escaped).string().unwrap(), "😀é/");
    }

    #[test]
    fn bad_strings_and_numbers_are_refused() {
        for bad in [
            &b"\"\\ud83d\""[..],
            b"\"\\ude00\"",
            b"\"\\x\"",
            b"\"a\nb\"",
            b"\"\xff\"",
            b"\"abc",
        ] {
            assert!(Reader::new(bad).string().is_err(), "{bad:?}");
        }
        for bad in [&b"01"[..], b"1.0", b"-1", b"1e2", b"4294967296", b"\"1\""] {
            assert!(Reader::new(bad).u32().is_err(), "{bad:?}");
        }
        assert_eq!(Reader::new(b" 4294967295").u32(), Ok(u32::MAX));
    }

    #[test]
    fn writer_puts_the_commas() {
        let mut w = Writer::new();
        w.begin_object().key("a").number(1).key("b").begin_array();
        w.string("x").null().begin_object().end_object().end_array();
        w.key("c").boolean(false).end_object();
        assert_eq!(w.finish(), r#"{"a":1,"b":["x",null,{}],"c":false}"#);
    }

    #[test]
    fn errors_carry_the_position() {
        let mut r = Reader::new(b"{\n  \"a\": x}");
        r.expect(b'{', "`{`").unwrap();
        assert_eq!(r.string().unwrap(), "a");
        r.expect(b':', "`:`").unwrap();
        assert_eq!(r.string().unwrap_err(), "expected value at line 2 column 7");
    }
}
