//! Fuzz harnesses shared by the cargo-fuzz targets (`fuzz/fuzz_targets/*.rs`, nightly) and the corpus
//! replay test (`tests/fuzz_corpus.rs`, stable). Each harness takes raw bytes, never panics on its own
//! account, and asserts invariants of the code under test: a panic here is a finding.
//!
//! Where the code has a known, reported bug, the harness has a strict and a tolerant form: fuzzing and
//! the corpus replay use the tolerant one so that they can go past the known bug, and an `#[ignore]`d
//! test in `tests/fuzz_corpus.rs` replays the minimized input through the strict one. When the bug is
//! fixed, that test passes and can be un-ignored.
//!
//! Only `std` and `py_launcher` are used, so the file compiles unchanged in both crates.

#![allow(dead_code)]

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use py_launcher::descriptor::Descriptor;
use py_launcher::hash::Fnv;
use py_launcher::manifest::{Entry, LookupError, Manifest};
use py_launcher::runfiles::Runfiles;
use py_launcher::venv::{self, CacheEnv, Request};
use py_launcher::{stub, trailer, words, Error, ErrorKind};

/// Whether a harness tolerates the known bugs listed on each `Strict`-taking function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// Assert everything, including the known bugs.
    Strict,
    /// Skip the assertions that known, reported bugs break.
    Tolerant,
}

/// Every error the launcher prints is exactly one line starting with `py-launcher: `.
fn check_error(err: &Error) {
    let line = err.to_string();
    assert!(line.starts_with("py-launcher: "), "bad error line {line:?}");
    assert!(
        !line.contains(['\n', '\r']),
        "error message spans lines: {line:?}"
    );
    assert_eq!(err.exit_code(), err.kind.exit_code());
}

// ---------------------------------------------------------------------------------------------------
// trailer

/// The trailer hash as implemented: FNV-1a 64 over the 8-byte little-endian length, then the bytes
/// (`hash::Fnv::add` prefixes every field with its length).
pub fn reference_hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in (bytes.len() as u64).to_le_bytes().iter().chain(bytes) {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[derive(Debug, PartialEq, Eq)]
enum RefTail {
    Absent,
    Present { start: u64, len: u64 },
    Corrupt,
}

/// An independent reading of the trailer format (docs/descriptor.md): the last magic inside the last
/// `SEARCH_WINDOW` bytes whose whole 24-byte trailer lies in that window, whose length fits and whose
/// hash matches, wins; a magic with no valid trailer makes the tail corrupt; no magic, absent.
fn reference_tail(data: &[u8]) -> RefTail {
    let magic = &trailer::MAGIC[..];
    if data.len() < magic.len() {
        return RefTail::Absent;
    }
    let window_start = data.len().saturating_sub(trailer::SEARCH_WINDOW as usize);
    let mut corrupt = false;
    let mut p = data.len().saturating_sub(magic.len()) + 1;
    while p > window_start {
        p -= 1;
        if &data[p..p + magic.len()] != magic {
            continue;
        }
        if p < window_start + 16 {
            corrupt = true;
            continue;
        }
        let le = |at: usize| u64::from_le_bytes(data[at..at + 8].try_into().unwrap());
        let (len, hash) = (le(p - 16), le(p - 8));
        let header = (p - 16) as u64;
        if len > header || len > trailer::MAX_DESCRIPTOR_LEN {
            corrupt = true;
            continue;
        }
        let start = (header - len) as usize;
        if reference_hash(&data[start..p - 16]) != hash {
            corrupt = true;
            continue;
        }
        return RefTail::Present {
            start: start as u64,
            len,
        };
    }
    if corrupt {
        RefTail::Corrupt
    } else {
        RefTail::Absent
    }
}

/// Checks `read_bytes` on one file image against the reference; returns what it found.
fn check_tail(data: &[u8]) -> Option<(u64, u64)> {
    let got = trailer::read_bytes(data);
    let want = reference_tail(data);
    match (&got, &want) {
        (trailer::Tail::Absent, RefTail::Absent) => None,
        (trailer::Tail::Corrupt(reason), RefTail::Corrupt) => {
            assert!(!reason.is_empty());
            None
        }
        (trailer::Tail::Present(found, bytes), RefTail::Present { start, len }) => {
            assert_eq!((found.start, found.len), (*start, *len));
            let (s, l) = (found.start as usize, found.len as usize);
            assert!(s + l + trailer::TRAILER_LEN as usize <= data.len());
            assert_eq!(&data[s..s + l], &bytes[..]);
            assert_eq!(trailer::hash(bytes), reference_hash(bytes));
            Some((found.start, found.len))
        }
        _ => panic!(
            "read_bytes disagrees with the reference: got {:?}, want {want:?}",
            match &got {
                trailer::Tail::Absent => "Absent".to_string(),
                trailer::Tail::Present(f, _) => format!("Present({f:?})"),
                trailer::Tail::Corrupt(r) => format!("Corrupt({r})"),
            }
        ),
    }
}

/// Input: `[shape, size, descriptor...]`. Checks the raw bytes as a file tail, then builds a finalized
/// file `prefix ++ encode(descriptor) ++ suffix` (prefix and suffix chosen by `shape`/`size` so that
/// descriptors cross the 64 KiB search window, earlier trailers are left behind as decoys, and
/// signature-like data follows) and checks that the descriptor reads back exactly.
pub fn trailer(data: &[u8]) {
    check_tail(data);
    let [shape, size, descriptor @ ..] = data else {
        return;
    };
    let window = trailer::SEARCH_WINDOW as usize;
    let encoded = trailer::encode(descriptor);
    assert_eq!(
        encoded.len(),
        descriptor.len() + trailer::TRAILER_LEN as usize
    );
    assert_eq!(&encoded[..descriptor.len()], descriptor);
    assert_eq!(
        &encoded[encoded.len() - 8..],
        &trailer::MAGIC[..],
        "encode must end with the magic"
    );
    let prefix: Vec<u8> = match shape & 3 {
        0 => Vec::new(),
        // An older finalized launcher: its trailer must not win over the newer one.
        1 => {
            let mut p = b"\x7fELF launcher".to_vec();
            p.extend(trailer::encode(b"{\"old\":1}"));
            p
        }
        // Push the descriptor so that it starts before the search window.
        2 => vec![0u8; window - descriptor.len().min(window) + usize::from(*size)],
        _ => vec![b'x'; usize::from(*size) * 7],
    };
    let suffix: Vec<u8> = match (shape >> 2) & 3 {
        0 => Vec::new(),
        // A signature: arbitrary bytes (a copy of the descriptor, which may spell the magic).
        1 => descriptor.iter().rev().copied().collect(),
        // A signature that pushes the trailer to the edge of the search window (or past it); with
        // bit 4, to the edge of the first 4 KiB the reader looks at before the whole window.
        2 => {
            let edge = if shape & 16 != 0 { 4096 } else { window };
            vec![0u8; edge - 24 - 8 + usize::from(*size) / 16]
        }
        _ => trailer::MAGIC.to_vec(),
    };
    let mut file = prefix.clone();
    file.extend_from_slice(&encoded);
    let magic_at = file.len() - 8;
    file.extend_from_slice(&suffix);
    let found = check_tail(&file);
    // The reference decides in general; spell out the simple promise for the common case.
    let window_start = file.len().saturating_sub(window);
    let later_magic = memmem(&file[magic_at + 1..], &trailer::MAGIC[..]);
    if !later_magic && magic_at >= window_start + 16 {
        assert_eq!(
            found,
            Some((prefix.len() as u64, descriptor.len() as u64)),
            "a freshly encoded descriptor must read back"
        );
    }
}

fn memmem(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

// ---------------------------------------------------------------------------------------------------
// descriptor

/// A valid descriptor's values are sane, and JSON → Descriptor → JSON → Descriptor is a fixed point.
fn check_valid_descriptor(d: &Descriptor) {
    d.validate().expect("a parsed descriptor must validate");
    assert!(
        d.main.is_some() != d.main_module.is_some(),
        "exactly one of main/main_module"
    );
    for path in d
        .main
        .iter()
        .chain(&d.imports)
        .chain(&d.venv)
        .chain(&d.build_config)
    {
        assert!(
            py_launcher::descriptor::check_runfiles_path("x", path).is_ok(),
            "{path:?}"
        );
        assert!(!path.starts_with('/') && !path.split('/').any(|s| s == ".."));
    }
    assert!(!d.workspace_name.is_empty() && !d.workspace_name.contains('/'));
    assert!(!d.interpreter.is_empty() && !d.interpreter.contains('\0'));
    for (key, value) in &d.env {
        assert!(!key.is_empty() && !key.contains(['=', '\0']) && !value.contains('\0'));
    }
    if let Some(marker) = d.root_marker() {
        assert!(py_launcher::descriptor::check_runfiles_path("x", marker).is_ok());
    }
    let json = d.to_json();
    let again = Descriptor::from_json(&json).expect("to_json output must parse back");
    let plain = Descriptor {
        venv_policy: Default::default(),
        ..d.clone()
    };
    assert_eq!(again, plain, "from_json(to_json(d)) != d");
    assert_eq!(again.to_json(), json, "to_json is not a fixed point");
    // And it survives being embedded in a launcher.
    match trailer::read_bytes(&trailer::encode(&json)) {
        trailer::Tail::Present(_, bytes) => assert_eq!(bytes, json),
        other => panic!("an encoded descriptor does not read back: {other:?}"),
    }
}

pub fn descriptor(data: &[u8]) {
    match Descriptor::from_json(data) {
        Ok(d) => {
            assert_eq!(d.venv_policy, Default::default());
            check_valid_descriptor(&d);
        }
        Err(err) => {
            assert_eq!(err.kind, ErrorKind::Descriptor, "{err}");
            check_error(&err);
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// stub

pub fn stub(data: &[u8]) {
    let path = Path::new("/work/bazel-bin/pkg/app");
    let first = stub::parse(data, path);
    match &first {
        Ok((d, origin)) => {
            assert_eq!(origin.path, path);
            assert!(!origin.template.is_empty());
            if let Some(python) = &d.venv_policy.python {
                assert!(py_launcher::descriptor::check_runfiles_path("x", python).is_ok());
            }
            if let Some(site) = &d.venv_policy.site_packages {
                assert!(!site.starts_with('/') && !site.split('/').any(|s| s == ".."));
            }
            check_valid_descriptor(d);
        }
        Err(err) => {
            assert!(
                matches!(err.kind, ErrorKind::Usage | ErrorKind::Descriptor),
                "{err}"
            );
            check_error(err);
        }
    }
    // Deterministic.
    let second = stub::parse(data, path);
    match (&first, &second) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        _ => panic!("stub::parse is not deterministic"),
    }
}

// ---------------------------------------------------------------------------------------------------
// manifest

/// An independent line parser (the format in src/manifest.rs's module docs).
fn reference_lines(data: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    fn unescape(value: &[u8], link: bool) -> Vec<u8> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < value.len() {
            match (value[i], value.get(i + 1)) {
                (b'\\', Some(b'n')) => out.push(b'\n'),
                (b'\\', Some(b'b')) => out.push(b'\\'),
                (b'\\', Some(b's')) if link => out.push(b' '),
                (c, _) => {
                    out.push(c);
                    i += 1;
                    continue;
                }
            }
            i += 2;
        }
        out
    }
    fn split(line: &[u8]) -> (&[u8], &[u8]) {
        match line.iter().position(|b| *b == b' ') {
            Some(i) => (&line[..i], &line[i + 1..]),
            None => (line, &[]),
        }
    }
    data.split(|b| *b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.is_empty())
        .map(|l| match l.strip_prefix(b" ") {
            Some(escaped) => {
                let (link, target) = split(escaped);
                (unescape(link, true), unescape(target, false))
            }
            None => {
                let (link, target) = split(l);
                (link.to_vec(), target.to_vec())
            }
        })
        .collect()
}

fn entry(target: &[u8], rest: &[u8]) -> Entry {
    if target.is_empty() {
        Entry::Empty
    } else {
        Entry::Path(PathBuf::from(OsStr::from_bytes(&[target, rest].concat())))
    }
}

/// The longest key a relative-link chain may produce before it counts as escaping (src/manifest.rs).
const MAX_KEY_LEN: usize = 64 * 1024;

/// The documented lookup, read declaratively over the whole file: the exact line (exact lines with
/// different targets are a conflict), else the longest `/`-bounded prefix line with a target; a
/// relative target is resolved like a relative symlink against the directory of the matched line's
/// link in runfiles space, never above the root, then the rest of the key below a prefix match is
/// appended and the result looked up again, at most 32 hops and never longer than `MAX_KEY_LEN`.
fn reference_lookup(lines: &[(Vec<u8>, Vec<u8>)], key: &str) -> Result<Option<Entry>, LookupError> {
    // (target, length of the matched link)
    let scan = |key: &str| -> Result<Option<(&[u8], usize)>, LookupError> {
        let k = key.as_bytes();
        let mut exact: Option<&[u8]> = None;
        let mut prefix: Option<(&[u8], usize)> = None;
        for (link, target) in lines {
            if link == k {
                match exact {
                    None => exact = Some(target),
                    Some(first) if first == &target[..] => {}
                    Some(_) => return Err(LookupError::Conflict { key: key.into() }),
                }
            } else if k.len() > link.len()
                && k.starts_with(link)
                && k[link.len()] == b'/'
                && !target.is_empty()
                && prefix.is_none_or(|(_, n)| link.len() > n)
            {
                prefix = Some((target, link.len()));
            }
        }
        Ok(exact.map(|t| (t, k.len())).or(prefix))
    };
    let escapes = || LookupError::Escapes { key: key.into() };
    let Some((mut target, mut link_len)) = scan(key)? else {
        return Ok(None);
    };
    let mut current = key.to_owned();
    for _ in 0..32 {
        let (link, rest) = current.split_at(link_len);
        if target.is_empty() {
            return Ok(Some(Entry::Empty));
        }
        if target.starts_with(b"/") {
            return Ok(Some(entry(target, rest.as_bytes())));
        }
        let base = link.rsplit_once('/').map_or("", |(dir, _)| dir);
        let mut parts: Vec<&str> = base.split('/').filter(|p| !p.is_empty()).collect();
        let relative = String::from_utf8_lossy(target).into_owned();
        for part in relative.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    parts.pop().ok_or_else(escapes)?;
                }
                part => parts.push(part),
            }
        }
        let next = parts.join("/") + rest;
        if next.len() > MAX_KEY_LEN {
            return Err(escapes());
        }
        match scan(&next)? {
            Some(found) => (target, link_len) = found,
            None => return Ok(None),
        }
        current = next;
    }
    Err(escapes())
}

fn sorted(lines: &[(Vec<u8>, Vec<u8>)]) -> bool {
    lines.windows(2).all(|w| w[0].0 <= w[1].0)
}

/// Links listed twice with different targets.
fn has_conflicts(lines: &[(Vec<u8>, Vec<u8>)]) -> bool {
    let mut seen: std::collections::HashMap<&[u8], &[u8]> = std::collections::HashMap::new();
    lines
        .iter()
        .any(|(l, t)| *seen.entry(&l[..]).or_insert(&t[..]) != &t[..])
}

/// The keys a manifest input is queried with: every link, a file under every link (tree artifacts),
/// every link's parent directories, and a few fixed ones.
fn manifest_keys(lines: &[(Vec<u8>, Vec<u8>)]) -> Vec<String> {
    let mut keys: Vec<String> = vec!["_main/pkg/main.py".into(), "_main".into()];
    for (link, _) in lines {
        let Ok(link) = std::str::from_utf8(link) else {
            continue;
        };
        keys.push(link.to_owned());
        keys.push(format!("{link}/sub/x.py"));
        let mut dir = link;
        while let Some((parent, _)) = dir.rsplit_once('/') {
            keys.push(parent.to_owned());
            dir = parent;
        }
    }
    let mut seen = std::collections::HashSet::new();
    keys.retain(|k| seen.insert(k.clone()));
    keys.truncate(24);
    keys
}

/// Documented limitation (`Check::Tolerant` allows it, `Check::Strict` does not): in an unsorted
/// (hand-written) file, a conflicting duplicate may go unnoticed, because a key found by bisection or
/// before the early stop is not looked for again; the lookup then answers with one of the duplicates.
pub fn manifest_checked(data: &[u8], check: Check) {
    let m = Manifest::new(data.to_vec());
    let lines = reference_lines(data);
    let parsed: Vec<(Vec<u8>, Vec<u8>)> = m
        .lines()
        .map(|l| (l.link.into_owned(), l.target.into_owned()))
        .collect();
    assert_eq!(
        parsed, lines,
        "line parsing differs from the documented format"
    );
    for (link, target) in &lines {
        let mut line = link.clone();
        line.push(b' ');
        line.extend_from_slice(target);
        if !link.is_empty() && !link.contains(&b' ') && !line.contains(&b'\n') {
            // A plain line parses as itself.
            let l = py_launcher::manifest::parse_line(&line);
            assert_eq!((&l.link[..], &l.target[..]), (&link[..], &target[..]));
        }
    }

    let keys = manifest_keys(&lines);
    let is_sorted = sorted(&lines);
    let unsorted_conflicts = !is_sorted && has_conflicts(&lines);
    // A blank line is no line (fixed in 5e1407c: the bisection used to read one as a line with an
    // empty link, hiding a conflict between the duplicates around it).
    let tolerated = |_key: &str| check == Check::Tolerant && unsorted_conflicts;
    let mut singles = Vec::new();
    for key in &keys {
        let got = m.lookup(key);
        let want = reference_lookup(&lines, key);
        if !tolerated(key) {
            assert_eq!(got, want, "lookup({key:?})");
        }
        // Never a path for a key that no line names (exactly, as a prefix, or through a link).
        if let Ok(Some(Entry::Path(_))) = &got {
            assert!(
                lines.iter().any(|(link, _)| {
                    let k = key.as_bytes();
                    link == k || (k.starts_with(link) && k.get(link.len()) == Some(&b'/'))
                }),
                "lookup({key:?}) found a path with no line for it"
            );
        }
        singles.push(got);
    }

    // One batched pass answers like one lookup per key, except that a conflict fails the whole batch.
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    if !keys.iter().any(|k| tolerated(k)) {
        let batch = m.lookup_all(&refs);
        assert_eq!(batch.len(), keys.len());
        let conflicting: Vec<&String> = keys
            .iter()
            .filter(|k| {
                let k = k.as_bytes();
                let exact: Vec<&Vec<u8>> = lines
                    .iter()
                    .filter(|(l, _)| l == k)
                    .map(|(_, t)| t)
                    .collect();
                exact.windows(2).any(|w| w[0] != w[1])
            })
            .collect();
        for (i, got) in batch.iter().enumerate() {
            if conflicting.is_empty() {
                assert_eq!(got, &singles[i], "lookup_all vs lookup for {:?}", keys[i]);
            } else {
                assert!(
                    matches!(got, Err(LookupError::Conflict { key }) if conflicting.contains(&key)),
                    "a conflict must fail the whole batch: {got:?}"
                );
            }
        }
    }

    // real_dirs_under: each answer is a real directory that a listed file under the runfiles
    // directory lives in.
    let dirs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let reals = m.real_dirs_under(&dirs);
    assert_eq!(reals.len(), dirs.len());
    for (dir, reals) in dirs.iter().zip(&reals) {
        let mut want: Vec<PathBuf> = Vec::new();
        for (link, target) in &lines {
            if !target.starts_with(b"/") {
                continue;
            }
            let d = dir.as_bytes();
            let rest = if link == d {
                &b""[..]
            } else if link.starts_with(d) && link.get(d.len()) == Some(&b'/') {
                &link[d.len()..]
            } else {
                continue;
            };
            if let Some(real) = target.strip_suffix(rest) {
                // `_main/x.py /x.py`: the real directory is the root.
                let real = if real.is_empty() { b"/" } else { real };
                let real = PathBuf::from(OsStr::from_bytes(real));
                if !want.contains(&real) {
                    want.push(real);
                }
            }
        }
        assert_eq!(reals, &want, "real_dirs_under({dir:?})");
        for real in reals {
            assert!(real.is_absolute(), "real_dirs_under({dir:?}): {real:?}");
        }
    }
}

pub fn manifest(data: &[u8]) {
    manifest_checked(data, Check::Tolerant);
    join_runfiles(data);
}

/// `descriptor::join_runfiles_path` never climbs above the root and never leaves `.`, `..` or empty
/// segments, given a normalised base (the launcher only ever passes the directory of a validated runfiles path or of
/// an earlier join; a base holding `..` is kept as it is).
pub fn join_runfiles(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (base, relative) = text.split_once('\n').unwrap_or((&text, ""));
    if !base.is_empty() && py_launcher::descriptor::check_runfiles_path("base", base).is_err() {
        return;
    }
    if let Some(joined) = py_launcher::descriptor::join_runfiles_path(base, relative) {
        assert!(!joined.starts_with('/'));
        if !joined.is_empty() {
            assert!(
                joined
                    .split('/')
                    .all(|s| !s.is_empty() && s != "." && s != ".."),
                "{joined:?}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// words

fn quote_single(word: &[u8]) -> Vec<u8> {
    let mut out = vec![b'\''];
    for &b in word {
        if b == b'\'' {
            out.extend_from_slice(b"'\\''");
        } else {
            out.push(b);
        }
    }
    out.push(b'\'');
    out
}

fn quote_double(word: &[u8]) -> Vec<u8> {
    let mut out = vec![b'"'];
    for &b in word {
        // Only `"` and `\`: POSIX would also let `\` escape `$` and a backquote, shlex.split would not
        // (see the report on src/words.rs); unescaped they are literal in both.
        if matches!(b, b'"' | b'\\') {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b'"');
    out
}

fn quote_backslash(word: &[u8]) -> Vec<u8> {
    if word.is_empty() {
        return b"''".to_vec();
    }
    let mut out = Vec::new();
    for &b in word {
        if b == b'\n' {
            // `\<newline>` is a line continuation: a newline needs quotes.
            out.extend_from_slice(b"'\n'");
        } else {
            out.push(b'\\');
            out.push(b);
        }
    }
    out
}

fn check_requote(words_in: &[Vec<u8>], separator: &[u8]) {
    for quote in [quote_single, quote_double, quote_backslash] {
        let mut joined = Vec::new();
        for (i, w) in words_in.iter().enumerate() {
            if i > 0 {
                joined.extend_from_slice(separator);
            }
            joined.extend(quote(w));
        }
        assert_eq!(
            words::split(&joined).as_deref(),
            Ok(words_in),
            "quoted words do not split back: {:?}",
            String::from_utf8_lossy(&joined)
        );
    }
}

pub fn words(data: &[u8]) {
    let first = words::split(data);
    assert_eq!(words::split(data), first, "split is not deterministic");
    if let Ok(split) = &first {
        // Quoted again, the words split back identically, whichever quoting is used.
        check_requote(split, b" ");
        check_requote(split, b" \t\n ");
        // Blanks around the input change nothing.
        let padded = [b" \t", data, b"\n "].concat();
        assert_eq!(words::split(&padded).as_ref(), Ok(split));
    }
    // Arbitrary words (NUL-separated in the input) survive quoting.
    let arbitrary: Vec<Vec<u8>> = data.split(|b| *b == 0).map(<[u8]>::to_vec).collect();
    check_requote(&arbitrary, b" ");
}

// ---------------------------------------------------------------------------------------------------
// venv key and .pth content

/// FNV-1a 64 with each field prefixed by its 8-byte little-endian length.
fn reference_fnv(fields: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for field in fields {
        for b in (field.len() as u64).to_le_bytes().iter().chain(*field) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

fn os(bytes: &[u8]) -> OsString {
    OsStr::from_bytes(bytes).to_os_string()
}

/// Roots that do not exist, so `import_all` in directory mode reads nothing from the real disk.
const ROOTS: [&str; 4] = [
    "/nonexistent/py-launcher-fuzz/app.runfiles",
    "/nonexistent/py-launcher-fuzz/with space.runfiles",
    "/nonexistent/py-launcher-fuzz/deep/er/x.runfiles",
    "/nonexistent/py-launcher-fuzz/m.runfiles",
];

/// Input: fields separated by NUL: `flags`, `imports` (newline-separated), `manifest`, then
/// `XDG_CACHE_HOME`, `HOME`, `TMPDIR`. Checks `Fnv` against FNV-1a, `cache_bases`, and the import
/// directories a `.pth` file is written from: deterministic, absolute, one line each.
///
/// In directory mode every import the descriptor accepts is on the import path: the descriptor refuses
/// names that cannot be a `.pth` line (fixed in b89bd43; it used to accept trailing white space, which
/// `import_dirs` then dropped silently; `Check::Tolerant` still allows that).
pub fn venv_key_checked(data: &[u8], check: Check) {
    let fields: Vec<&[u8]> = data.splitn(6, |b| *b == 0).collect();
    let field = |i: usize| fields.get(i).copied().unwrap_or(b"");

    // Fnv: FNV-1a over length-prefixed fields, deterministic.
    let mut h = Fnv::new();
    for f in &fields {
        h.add(f);
    }
    assert_eq!(h.finish(), reference_fnv(&fields));
    assert_eq!(trailer::hash(data), reference_fnv(&[data]));

    // cache_bases: absolute, the per-user cache first when there is one, the temp directory last.
    let env = CacheEnv {
        xdg_cache_home: fields.get(3).map(|f| os(f)),
        home: fields.get(4).map(|f| os(f)),
        tmpdir: fields.get(5).map(|f| os(f)),
        test_tmpdir: None,
    };
    let bases = venv::cache_bases(&env);
    assert_eq!(bases, venv::cache_bases(&env));
    assert!((1..=2).contains(&bases.len()));
    for base in &bases {
        assert!(base.is_absolute(), "{base:?}");
    }
    let last = bases.last().unwrap();
    assert!(last
        .file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with("py-launcher-"));
    if bases.len() == 2 {
        assert_eq!(bases[0].file_name().unwrap(), "py-launcher");
    }

    // import_dirs: the .pth content.
    let flags = field(0).first().copied().unwrap_or(0);
    let imports: Vec<String> = String::from_utf8_lossy(field(1))
        .split('\n')
        .filter(|s| py_launcher::descriptor::check_runfiles_path("imports", s).is_ok())
        .take(8)
        .map(str::to_owned)
        .collect();
    let descriptor = Descriptor {
        version: 1,
        target: "//pkg:app".into(),
        workspace_name: if flags & 4 != 0 { "ws" } else { "_main" }.into(),
        main: Some("_main/pkg/app.py".into()),
        interpreter: "/usr/bin/python3.11".into(),
        imports,
        import_all: flags & 1 != 0,
        ..Descriptor::default()
    };
    if descriptor.validate().is_err() {
        return;
    }
    let root = PathBuf::from(ROOTS[usize::from(flags >> 4) % ROOTS.len()]);
    let runfiles = if flags & 2 != 0 {
        Runfiles::from_manifest(
            PathBuf::from(format!("{}_manifest", root.display())),
            field(2).to_vec(),
        )
    } else {
        Runfiles::directory(root.clone())
    };
    let request = Request {
        descriptor: &descriptor,
        runfiles: &runfiles,
        build_time_venv: None,
        build_time_python: None,
        cache: &env,
    };
    let dirs = venv::import_dirs(&request);
    assert_eq!(
        dirs,
        venv::import_dirs(&request),
        "import_dirs is not deterministic"
    );
    for (i, dir) in dirs.iter().enumerate() {
        assert!(!dirs[..i].contains(dir), "duplicate import dir {dir:?}");
    }
    let well_formed = |dir: &PathBuf| {
        let bytes = dir.as_os_str().as_bytes();
        // site.py reads .pth files with universal newlines and strips trailing whitespace.
        dir.is_absolute()
            && !bytes.contains(&b'\n')
            && !bytes.contains(&b'\r')
            && !bytes.last().is_some_and(u8::is_ascii_whitespace)
    };
    for dir in &dirs {
        assert!(
            well_formed(dir),
            "import dir {dir:?} cannot be one .pth line"
        );
    }
    if flags & 2 == 0 {
        // Directory mode: imports, then the workspace, under the root, in order.
        let mut want: Vec<PathBuf> = Vec::new();
        for w in descriptor
            .imports
            .iter()
            .chain(std::iter::once(&descriptor.workspace_name))
        {
            let p = root.join(w);
            if !want.contains(&p) {
                want.push(p);
            }
        }
        if check == Check::Tolerant {
            // Known bug: the descriptor accepts paths that cannot be a .pth line, which are dropped.
            want.retain(well_formed);
        }
        assert_eq!(dirs, want, "an import the descriptor accepted is missing");
    }
    // The .pth file as the venv writes it: one line per directory.
    let mut pth = Vec::new();
    for dir in &dirs {
        pth.extend_from_slice(dir.as_os_str().as_bytes());
        pth.push(b'\n');
    }
    let lines: Vec<&[u8]> = pth.split(|b| *b == b'\n').collect();
    assert_eq!(lines.len(), dirs.len() + 1);
    for line in &lines[..dirs.len()] {
        // site.py runs a .pth line starting with "import": an import dir must never look like one.
        assert!(line.starts_with(b"/"));
    }
}

pub fn venv_key(data: &[u8]) {
    venv_key_checked(data, Check::Tolerant);
}
