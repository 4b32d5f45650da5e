//! Bazel's runfiles manifest: parsing lines and resolving runfiles paths through them.
//!
//! A manifest maps runfiles paths to real paths, one `<link> <target>` line each, split at the first
//! space. A line that starts with a space is escaped: in its link `\s`, `\n` and `\b` stand for a space,
//! a newline and a backslash; in its target only `\n` and `\b` are escapes. An empty target marks an
//! empty file. A path under a listed directory (a tree artifact) resolves through the longest listed
//! `/`-bounded prefix. A relative target is treated like a relative symlink: it is resolved against the
//! link's own directory in runfiles space and looked up again, a bounded number of times, never above the
//! root.
//!
//! The manifest of a large binary has 100,000 lines, so lookups are batched: one pass answers every key
//! the launcher needs and stops as soon as every key has an exact answer. Nothing is allocated for lines
//! that do not match.

use std::borrow::Cow;
use std::path::PathBuf;

/// What a runfiles path resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A real file or directory (for a prefix match, the prefix's target joined with the rest).
    Path(PathBuf),
    /// The manifest lists the path with an empty target: an empty file with no real location.
    Empty,
}

/// Why a key could not be answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupError {
    /// A relative target climbs above the runfiles root, or links form a loop.
    Escapes {
        /// The runfiles path looked up.
        key: String,
    },
    /// The key is listed twice with different targets.
    Conflict {
        /// The runfiles path looked up.
        key: String,
    },
}

/// A runfiles manifest, mapped or in memory.
pub struct Manifest {
    data: Data,
}

/// The manifest's bytes: mapped from the file (a launch touches only the pages a binary search reads),
/// or owned (tests, fuzzing, empty files, systems without `mmap`).
enum Data {
    Owned(Vec<u8>),
    Mapped(sys::Mapping),
}

/// One parsed line. Borrowed unless it had to be unescaped.
#[derive(Debug, PartialEq, Eq)]
pub struct Line<'a> {
    /// The runfiles path, unescaped.
    pub link: Cow<'a, [u8]>,
    /// The real path (empty: an empty file), unescaped.
    pub target: Cow<'a, [u8]>,
}

use crate::descriptor::join_runfiles_path;
use crate::limits::MAX_MANIFEST_LEN;
use crate::sys;

const MAX_LINK_HOPS: usize = 32;
/// Longer than any real runfiles path; a relative target that keeps growing a key stops here.
const MAX_KEY_LEN: usize = 64 * 1024;

impl Manifest {
    /// A manifest from bytes in memory.
    pub fn new(data: Vec<u8>) -> Manifest {
        Manifest {
            data: Data::Owned(data),
        }
    }

    /// Maps the file read-only (reads it where mapping is not possible). Only a regular file of at most
    /// [`MAX_MANIFEST_LEN`] bytes is accepted: a FIFO or a device is an error, never a hang.
    pub(crate) fn open(path: &std::path::Path) -> std::io::Result<Manifest> {
        let (file, meta) = sys::open_regular(path, MAX_MANIFEST_LEN)?;
        let len = usize::try_from(meta.len()).map_err(|_| std::io::ErrorKind::FileTooLarge)?;
        // Bazel never rewrites a manifest in place (it writes a new file and renames it), so a mapping
        // cannot see it truncated.
        if let Some(mapping) = sys::Mapping::new(&file, len) {
            return Ok(Manifest {
                data: Data::Mapped(mapping),
            });
        }
        let mut data = Vec::with_capacity(len);
        std::io::Read::read_to_end(&mut std::io::Read::take(file, MAX_MANIFEST_LEN), &mut data)?;
        Ok(Manifest::new(data))
    }

    fn bytes(&self) -> &[u8] {
        match &self.data {
            Data::Owned(bytes) => bytes,
            Data::Mapped(mapping) => mapping.bytes(),
        }
    }

    /// Every non-empty line, parsed, in file order.
    pub fn lines(&self) -> impl Iterator<Item = Line<'_>> {
        split_lines(self.bytes()).map(parse_line)
    }

    /// Resolves every key in one pass over the file (plus one more pass per relative-target hop).
    pub fn lookup_all(&self, keys: &[&str]) -> Vec<Result<Option<Entry>, LookupError>> {
        match self.scan(keys) {
            Ok(hits) => hits
                .into_iter()
                .zip(keys)
                .map(|(hit, key)| match hit {
                    Some(hit) => self.resolve(key, hit),
                    None => Ok(None),
                })
                .collect(),
            Err(err) => keys.iter().map(|_| Err(err.clone())).collect(),
        }
    }

    /// [`Manifest::lookup_all`] for one key.
    pub fn lookup(&self, key: &str) -> Result<Option<Entry>, LookupError> {
        self.lookup_all(&[key]).pop().unwrap_or(Ok(None))
    }

    /// For each directory (a runfiles path), every real directory that holds files listed under it,
    /// in first-seen order. Used to turn an import directory into `.pth` lines when no runfiles tree
    /// exists: sources and generated files of one package live in two real directories.
    pub fn real_dirs_under(&self, dirs: &[&str]) -> Vec<Vec<PathBuf>> {
        // Each line is matched against its own `/`-bounded prefixes, looked up in a map of the wanted
        // directories: linear in lines times path depth, not lines times directories.
        let mut wanted: std::collections::HashMap<&[u8], Vec<usize>> =
            std::collections::HashMap::with_capacity(dirs.len());
        for (i, dir) in dirs.iter().enumerate() {
            wanted.entry(dir.as_bytes()).or_default().push(i);
        }
        let mut found: Vec<Vec<PathBuf>> = vec![Vec::new(); dirs.len()];
        let mut seen: std::collections::HashSet<(usize, Vec<u8>)> =
            std::collections::HashSet::new();
        for line in self.lines() {
            if line.target.is_empty() || !line.target.starts_with(b"/") {
                continue;
            }
            let link = &line.link[..];
            let ends = link
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b'/')
                .map(|(i, _)| i)
                .chain(std::iter::once(link.len()));
            for end in ends {
                let Some(indexes) = wanted.get(&link[..end]) else {
                    continue;
                };
                let rest = &link[end..];
                let target = &line.target[..];
                let Some(real) = target.strip_suffix(rest) else {
                    continue;
                };
                for &i in indexes {
                    if seen.insert((i, real.to_vec())) {
                        // `_main/x.py /x.py`: the real directory is the file system root.
                        found[i].push(if real.is_empty() {
                            PathBuf::from("/")
                        } else {
                            bytes_to_path(real)
                        });
                    }
                }
            }
        }
        found
    }

    /// Exact match where there is one, else the longest `/`-bounded prefix match.
    ///
    /// Bazel writes manifests sorted by link, so once a file that has been sorted so far passes the
    /// largest key, nothing later can match and the scan stops. A hand-written file may be unsorted in a
    /// way not yet seen at that point, so when the early stop leaves any key without an exact answer the
    /// whole file is read again. A key listed twice with different targets is an error: runfiles libraries
    /// disagree on which line wins, so the launcher and the program could end up using different files.
    /// In a sorted file duplicates are adjacent, so the early stop never hides one; in an unsorted file
    /// whose keys were all found before the stop, a later duplicate is not read.
    fn scan(&self, keys: &[&str]) -> Result<Vec<Option<Hit>>, LookupError> {
        let mut hits: Vec<Option<Hit>> = Vec::with_capacity(keys.len());
        for key in keys {
            hits.push(self.binary_search(key.as_bytes())?);
        }
        if hits.iter().all(Option::is_some) {
            return Ok(hits);
        }
        let (hits, stopped_early) = self.scan_lines(keys, true)?;
        if stopped_early && hits.iter().any(|h| !h.as_ref().is_some_and(|h| h.exact)) {
            return Ok(self.scan_lines(keys, false)?.0);
        }
        Ok(hits)
    }

    /// An exact line for `key`, found by bisecting the file as if it were sorted (Bazel's manifests
    /// are). Only a line whose link equals the key counts, so an unsorted file can make this miss but
    /// never lie; a miss falls back to [`Manifest::scan_lines`]. Lines next to the hit with the same link
    /// are checked for conflicting targets, since a sorted file keeps duplicates together.
    fn binary_search(&self, key: &[u8]) -> Result<Option<Hit>, LookupError> {
        let data = self.bytes();
        if key.is_empty() {
            return Ok(None);
        }
        let line_at = |start: usize| {
            let end = memchr::memchr(b'\n', &data[start..]).map_or(data.len(), |i| start + i);
            let raw = &data[start..end];
            (parse_line(raw.strip_suffix(b"\r").unwrap_or(raw)), end)
        };
        let (mut lo, mut hi) = (0usize, data.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let start = memchr::memrchr(b'\n', &data[lo..mid]).map_or(lo, |i| lo + i + 1);
            let (line, end) = line_at(start);
            match line.link[..].cmp(key) {
                std::cmp::Ordering::Less => lo = end + 1,
                std::cmp::Ordering::Greater => hi = start,
                std::cmp::Ordering::Equal => {
                    // Neighbours with the same link; blank lines do not count as lines (as in `lines`).
                    let conflict = |other: &Line| other.target != line.target;
                    let conflict_error = || LookupError::Conflict {
                        key: String::from_utf8_lossy(key).into_owned(),
                    };
                    let mut before = start;
                    while before > 0 {
                        let prev = memchr::memrchr(b'\n', &data[..before - 1]).map_or(0, |i| i + 1);
                        let (other, other_end) = line_at(prev);
                        before = prev;
                        if prev == other_end || data[prev..other_end] == *b"\r" {
                            continue;
                        }
                        if other.link[..] != *key {
                            break;
                        }
                        if conflict(&other) {
                            return Err(conflict_error());
                        }
                    }
                    let mut after = end;
                    while after < data.len() {
                        let next = after + 1;
                        let (other, next_end) = line_at(next);
                        after = next_end;
                        if next == next_end || data[next..next_end] == *b"\r" {
                            continue;
                        }
                        if other.link[..] != *key {
                            break;
                        }
                        if conflict(&other) {
                            return Err(conflict_error());
                        }
                    }
                    return Ok(Some(Hit {
                        exact: true,
                        link_len: key.len(),
                        target: line.target.to_vec(),
                    }));
                }
            }
        }
        Ok(None)
    }

    /// One pass; returns the hits and whether the pass stopped early.
    fn scan_lines(
        &self,
        keys: &[&str],
        may_stop: bool,
    ) -> Result<(Vec<Option<Hit>>, bool), LookupError> {
        let mut hits: Vec<Option<Hit>> = vec![None; keys.len()];
        let Some(largest) = keys.iter().map(|k| k.as_bytes()).max() else {
            return Ok((hits, false));
        };
        let mut previous: Vec<u8> = Vec::new();
        let mut sorted = may_stop;
        let mut stopped_early = false;
        for line in self.lines() {
            let link = &line.link[..];
            if sorted {
                if link < &previous[..] {
                    sorted = false;
                } else if link > largest {
                    stopped_early = true;
                    break;
                }
                previous.clear();
                previous.extend_from_slice(link);
            }
            for (i, key) in keys.iter().enumerate() {
                let key = key.as_bytes();
                if link == key {
                    match &hits[i] {
                        Some(hit) if hit.exact && hit.target != line.target[..] => {
                            return Err(LookupError::Conflict {
                                key: String::from_utf8_lossy(key).into_owned(),
                            });
                        }
                        Some(hit) if hit.exact => {}
                        _ => {
                            hits[i] = Some(Hit {
                                exact: true,
                                link_len: key.len(),
                                target: line.target.to_vec(),
                            })
                        }
                    }
                } else if key.len() > link.len()
                    && key.starts_with(link)
                    && key[link.len()] == b'/'
                    && !line.target.is_empty()
                    && hits[i]
                        .as_ref()
                        .is_none_or(|hit| !hit.exact && link.len() > hit.link_len)
                {
                    hits[i] = Some(Hit {
                        exact: false,
                        link_len: link.len(),
                        target: line.target.to_vec(),
                    });
                }
            }
        }
        Ok((hits, stopped_early))
    }

    /// Turns a hit into an entry. A relative target is resolved like a relative symlink against the
    /// directory of the line that matched (for a tree-artifact prefix, the prefix's directory, not the
    /// key's), the rest of the key is appended, and the result is looked up again: at most
    /// [`MAX_LINK_HOPS`] times, never above the root, never growing without bound.
    fn resolve(&self, key: &str, mut hit: Hit) -> Result<Option<Entry>, LookupError> {
        let escapes = || LookupError::Escapes {
            key: key.to_owned(),
        };
        let mut current = key.to_owned();
        for _ in 0..MAX_LINK_HOPS {
            let (link, rest) = current.split_at(hit.link_len.min(current.len()));
            if hit.target.is_empty() {
                return Ok(Some(Entry::Empty));
            }
            if hit.target.starts_with(b"/") {
                return Ok(Some(entry_of(&hit.target, rest.as_bytes())));
            }
            let base = link.rsplit_once('/').map_or("", |(dir, _)| dir);
            let mut next = join_runfiles_path(base, &String::from_utf8_lossy(&hit.target))
                .ok_or_else(escapes)?;
            next.push_str(rest);
            if next.len() > MAX_KEY_LEN {
                return Err(escapes());
            }
            match self.scan(&[next.as_str()])?.pop().flatten() {
                Some(found) => hit = found,
                None => return Ok(None),
            }
            current = next;
        }
        Err(escapes())
    }
}

/// A manifest line that answers a key: its target, and how much of the key its link covers.
#[derive(Debug, Clone)]
struct Hit {
    exact: bool,
    link_len: usize,
    target: Vec<u8>,
}

fn entry_of(target: &[u8], rest: &[u8]) -> Entry {
    if target.is_empty() {
        return Entry::Empty;
    }
    let mut full = Vec::with_capacity(target.len() + rest.len());
    full.extend_from_slice(target);
    full.extend_from_slice(rest);
    Entry::Path(bytes_to_path(&full))
}

fn split_lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = data;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let (line, next) = match memchr::memchr(b'\n', rest) {
            Some(end) => (&rest[..end], &rest[end + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        rest = next;
        Some(line.strip_suffix(b"\r").unwrap_or(line))
    })
    .filter(|line| !line.is_empty())
}

/// Parses one line (without its newline). A line with no space maps to itself with an empty target
/// only when it is escaped; otherwise it is kept as a link with no target, which lookups treat as an
/// empty file, so a malformed line can never make a path resolve somewhere unexpected.
pub fn parse_line(line: &[u8]) -> Line<'_> {
    if let Some(escaped) = line.strip_prefix(b" ") {
        let (link, target) = split_first_space(escaped);
        return Line {
            link: unescape(link, true),
            target: unescape(target, false),
        };
    }
    let (link, target) = split_first_space(line);
    Line {
        link: Cow::Borrowed(link),
        target: Cow::Borrowed(target),
    }
}

fn split_first_space(line: &[u8]) -> (&[u8], &[u8]) {
    match memchr::memchr(b' ', line) {
        Some(i) => (&line[..i], &line[i + 1..]),
        None => (line, &line[line.len()..]),
    }
}

fn unescape(value: &[u8], link: bool) -> Cow<'_, [u8]> {
    if !value.contains(&b'\\') {
        return Cow::Borrowed(value);
    }
    let mut out = Vec::with_capacity(value.len());
    let mut i = 0;
    while i < value.len() {
        let next = value.get(i + 1).copied();
        match (value[i], next) {
            (b'\\', Some(b'n')) => out.push(b'\n'),
            (b'\\', Some(b'b')) => out.push(b'\\'),
            (b'\\', Some(b's')) if link => out.push(b' '),
            (byte, _) => {
                out.push(byte);
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    Cow::Owned(out)
}

fn bytes_to_path(bytes: &[u8]) -> PathBuf {
    sys::path_from_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(text: &str) -> Manifest {
        Manifest::new(text.as_bytes().to_vec())
    }

    #[test]
    fn plain_lines_split_at_first_space() {
        let m = manifest("_main/a.py /src/a b.py\n_main/b.py /src/b.py\n");
        assert_eq!(
            m.lookup("_main/a.py"),
            Ok(Some(Entry::Path("/src/a b.py".into())))
        );
        assert_eq!(
            m.lookup("_main/b.py"),
            Ok(Some(Entry::Path("/src/b.py".into())))
        );
        assert_eq!(m.lookup("_main/c.py"), Ok(None));
    }

    #[test]
    fn escaped_lines_unescape_link_and_target_differently() {
        let m = manifest(" _main/with\\sspace\\nnl\\bx /t/a\\nb\\bc\\sd\n");
        assert_eq!(
            m.lookup("_main/with space\nnl\\x"),
            Ok(Some(Entry::Path("/t/a\nb\\c\\sd".into())))
        );
    }

    #[test]
    fn tree_artifacts_resolve_through_longest_prefix() {
        let m = manifest("_main/tree /out/tree\n_main/tree/sub /other/sub\n");
        assert_eq!(
            m.lookup("_main/tree/x/y.py"),
            Ok(Some(Entry::Path("/out/tree/x/y.py".into())))
        );
        assert_eq!(
            m.lookup("_main/tree/sub/z"),
            Ok(Some(Entry::Path("/other/sub/z".into())))
        );
        assert_eq!(m.lookup("_main/treex"), Ok(None));
    }

    #[test]
    fn empty_target_is_an_empty_file() {
        let m = manifest("_main/pkg/__init__.py \n");
        assert_eq!(m.lookup("_main/pkg/__init__.py"), Ok(Some(Entry::Empty)));
    }

    #[test]
    fn relative_targets_follow_like_symlinks_and_cannot_escape() {
        let m = manifest("_main/venv/bin/python3 ../../py/bin/python3\n_main/py/bin/python3 /usr/bin/python3.11\n");
        assert_eq!(
            m.lookup("_main/venv/bin/python3"),
            Ok(Some(Entry::Path("/usr/bin/python3.11".into())))
        );
        let escape = manifest("a/b ../../../etc/passwd\n");
        assert!(matches!(
            escape.lookup("a/b"),
            Err(LookupError::Escapes { .. })
        ));
        let looping = manifest("a/x y\na/y x\n");
        assert!(matches!(
            looping.lookup("a/x"),
            Err(LookupError::Escapes { .. })
        ));
    }

    #[test]
    fn bisection_finds_every_line_of_a_large_sorted_manifest() {
        let text: String = (0..5000)
            .map(|i| format!("_main/f{i:05}.py /src/f{i:05}.py\n"))
            .collect();
        let m = manifest(&text);
        for i in [0, 1, 2499, 4998, 4999] {
            assert_eq!(
                m.lookup(&format!("_main/f{i:05}.py")),
                Ok(Some(Entry::Path(format!("/src/f{i:05}.py").into())))
            );
        }
        assert_eq!(m.lookup("_main/f99999.py"), Ok(None));
        assert_eq!(m.lookup("_main"), Ok(None));
    }

    #[test]
    fn blank_lines_do_not_hide_a_conflict() {
        let m = manifest("a /x\n\n\r\na /y\nb /b\n");
        assert_eq!(
            m.lookup("a"),
            Err(LookupError::Conflict { key: "a".into() })
        );
        assert_eq!(m.lookup(""), Ok(None));
    }

    #[test]
    fn crlf_and_missing_final_newline_are_tolerated() {
        let m = manifest("a /x\r\nb /y");
        assert_eq!(m.lookup("a"), Ok(Some(Entry::Path("/x".into()))));
        assert_eq!(m.lookup("b"), Ok(Some(Entry::Path("/y".into()))));
    }

    #[test]
    fn conflicting_duplicates_are_refused_and_identical_ones_tolerated() {
        let m = manifest("a /first\na /second\n");
        assert_eq!(
            m.lookup("a"),
            Err(LookupError::Conflict { key: "a".into() })
        );
        let adjacent = manifest("0 /0\na /first\na /second\nb /b\n");
        assert_eq!(
            adjacent.lookup("a"),
            Err(LookupError::Conflict { key: "a".into() })
        );
        // Unsorted and far apart: a line for the key answers, never anything else (documented).
        let unsorted = manifest("z /z\na /first\nb /b\na /second\n");
        let answer = unsorted.lookup("a");
        let allowed = [
            Ok(Some(Entry::Path("/first".into()))),
            Ok(Some(Entry::Path("/second".into()))),
            Err(LookupError::Conflict { key: "a".into() }),
        ];
        assert!(allowed.contains(&answer), "{answer:?}");
        let same = manifest("a /same\na /same\n");
        assert_eq!(same.lookup("a"), Ok(Some(Entry::Path("/same".into()))));
    }

    #[test]
    fn an_unsorted_manifest_whose_first_line_sorts_late_is_still_read() {
        let m = manifest("zz /z\nb /b\n");
        assert_eq!(m.lookup("b"), Ok(Some(Entry::Path("/b".into()))));
        // A tree-artifact prefix seen before the stop must not hide an exact line after it.
        let m = manifest("a /tree\nzz /z\na/x /exact\n");
        assert_eq!(m.lookup("a/x"), Ok(Some(Entry::Path("/exact".into()))));
    }

    #[test]
    fn a_sorted_manifest_is_read_only_up_to_the_largest_key() {
        // The conflicting lines after "b" are never reached when the file is sorted.
        let m = manifest("a /a\nb /b\nc /one\nc /two\n");
        assert_eq!(m.lookup("b"), Ok(Some(Entry::Path("/b".into()))));
        // The line scan itself (bisection answers the lookup above): it stops at "c", past the largest key.
        let (hits, stopped_early) = m.scan_lines(&["b", "a"], true).unwrap();
        assert!(stopped_early, "a sorted scan stops after the largest key");
        let targets: Vec<_> = hits
            .iter()
            .map(|h| h.as_ref().map(|h| (h.exact, h.target.clone())))
            .collect();
        assert_eq!(
            targets,
            [Some((true, b"/b".to_vec())), Some((true, b"/a".to_vec()))]
        );
        // Unsorted, the same scan reads to the end and meets the conflict.
        let m = manifest("b /b\na /a\nc /one\nc /two\n");
        assert!(matches!(
            m.scan_lines(&["c"], true),
            Err(LookupError::Conflict { .. })
        ));
        let (_, stopped_early) = m.scan_lines(&["b"], true).unwrap();
        assert!(!stopped_early, "an unsorted file is read to the end");
    }

    #[test]
    fn real_dirs_under_collects_each_real_root() {
        let m = manifest("_main/lib/p/__init__.py /src/lib/p/__init__.py\n_main/lib/p/gen.py /out/lib/p/gen.py\n_main/other.py /src/other.py\n");
        assert_eq!(
            m.real_dirs_under(&["_main/lib"]),
            vec![vec![PathBuf::from("/src/lib"), PathBuf::from("/out/lib")]]
        );
    }
}
