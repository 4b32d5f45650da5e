//! The per-user cache of run-time venvs: where it may live and whether that place can be trusted, the
//! key that names a venv, the record a warm launch checks a venv against, the last-use stamp, and the
//! sweep.
//!
//! A venv is `venv-<key>`, the key a hash of everything that decides its content, so a warm launch finds
//! it with a few `stat`/`readlink` calls. Python re-reads the venv by path after the `exec`, so checking
//! a directory is not enough: every directory on the cache's path from `/` must be writable only by the
//! launching user or root (a sticky, world-writable one such as `/tmp` is fine when the next component is
//! the user's own), which is what OpenSSH's StrictModes asks of `~/.ssh`. Then nobody else can swap
//! anything under it between the check and Python's reads. An unsafe location is skipped for the next
//! one, never used and never the reason a usable one is not tried.

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::builder::{self, link_target, linked_site_packages, Layout};
use super::layout::{BIN_DIR, LIB_DIR, MODULES, PTH_NAME};
use super::{note_wrapper_bypassed, Request, Venv, BINARY_INFO_MODULE, BUILD_INFO_MODULE};
use crate::debug::Trace;
use crate::environment::os_from_bytes;
use crate::error::{show_path, Error, Result};
use crate::hash::Fnv;
use crate::interpreter::{Interpreter, Kind};
use crate::limits::MAX_RECORD_LEN;
use crate::python_version::PythonVersion;
use crate::runfiles::{normalize_lexically, Mode};
use crate::sys;

/// Bumped whenever the run-time venv's layout changes, so old entries are never reused.
const LAYOUT_VERSION: &str = "py-launcher run-time venv 3";
/// The record's file name in each venv, and its first line.
pub(crate) const RECORD_NAME: &str = "py-launcher-venv.txt";
const RECORD_HEADER: &str = "py-launcher venv record 3";
/// Run-time venvs not used for this long are removed when another venv is created.
pub(crate) const STALE_AFTER: Duration = Duration::from_secs(14 * 24 * 3600);
/// A warm launch refreshes the record's modification time (the last-use stamp) when it is older than
/// this, so the stamp costs one write a day, not one per launch.
pub(crate) const STAMP_EVERY: Duration = Duration::from_secs(24 * 3600);
/// The links beside `bin/<interpreter name>`.
pub(crate) const ALIASES: [&str; 2] = ["python3", "python"];
const MAX_SYMLINK_HOPS: usize = 40;

/// `$TEST_TMPDIR/py-launcher` under `bazel test`; then `$XDG_CACHE_HOME/py-launcher` (or
/// `~/.cache/py-launcher`), then `$TMPDIR/py-launcher-<uid>`. Relative values are ignored.
pub fn cache_bases(env: &super::CacheEnv) -> Vec<PathBuf> {
    let absolute =
        |v: &Option<std::ffi::OsString>| v.as_ref().map(PathBuf::from).filter(|p| p.is_absolute());
    let mut bases = Vec::with_capacity(3);
    if let Some(test_tmp) = absolute(&env.test_tmpdir) {
        bases.push(test_tmp.join("py-launcher"));
    }
    if let Some(xdg) = absolute(&env.xdg_cache_home) {
        bases.push(xdg.join("py-launcher"));
    } else if let Some(home) = absolute(&env.home) {
        bases.push(home.join(".cache/py-launcher"));
    }
    let tmp = absolute(&env.tmpdir).unwrap_or_else(sys::default_temp_dir);
    bases.push(tmp.join(format!("py-launcher-{}", sys::effective_uid())));
    bases
}

/// Finds a valid run-time venv in the first trusted location that has one, else makes one in the first
/// trusted location that takes it.
///
/// The interpreter is identified only on the way to making one: a venv found here was made for the same
/// interpreter file (its stamp is in the key), and its record says what that file is.
pub(crate) fn run_time(
    request: &Request,
    interpreter: &mut Interpreter,
    reason: String,
    trace: &mut Trace,
) -> Result<Venv> {
    let name = format!("venv-{:016x}", cache_key(request, interpreter));
    let bases = cache_bases(request.cache);
    let mut refusals: Vec<String> = Vec::new();
    let mut distrusted = false;
    let mut trusted: Vec<&PathBuf> = Vec::with_capacity(bases.len());
    for base in &bases {
        match trust(base) {
            Ok(exists) => {
                if exists {
                    if let Some(venv) = find(request, interpreter, &base.join(&name), trace) {
                        return Ok(Venv { reason, ..venv });
                    }
                }
                trusted.push(base);
            }
            Err(why) => {
                trace.note(|| {
                    format!(
                        "venv: not using the cache {}: {why}; trying the next",
                        show_path(base)
                    )
                });
                refusals.push(format!("{} ({why})", show_path(base)));
                distrusted = true;
            }
        }
    }

    interpreter.identify(request.descriptor, trace)?;
    let (layout, pth) = builder::layout(request, interpreter, trace)?;
    for base in trusted {
        if let Err((why, unsafe_)) = ensure_base(base) {
            trace.note(|| {
                format!(
                    "venv: cache {} unusable ({why}); trying the next",
                    show_path(base)
                )
            });
            distrusted |= unsafe_;
            refusals.push(format!("{} ({why})", show_path(base)));
            continue;
        }
        let dir = base.join(&name);
        let identified = (interpreter.kind, interpreter.version);
        match builder::create(&layout, identified, &pth, base, &name) {
            Ok(created_here) => {
                trace.note(|| {
                    let who = if created_here {
                        "created"
                    } else {
                        "another launch created it first; using"
                    };
                    format!("venv: {who} {}", show_path(&dir))
                });
                return Ok(layout.venv_at(&dir, created_here, reason));
            }
            Err(err) => {
                trace.note(|| {
                    format!(
                        "venv: cannot create in {} ({err}); trying the next",
                        show_path(base)
                    )
                });
                refusals.push(format!("{} ({err})", show_path(base)));
            }
        }
    }
    let hint = if distrusted {
        "set XDG_CACHE_HOME (or TMPDIR) to a directory of yours whose every parent is writable only by you or root; the cache can be anywhere"
    } else {
        "make $XDG_CACHE_HOME (or ~/.cache) or $TMPDIR writable, or set XDG_CACHE_HOME to a writable directory"
    };
    Err(Error::venv(
        format!(
            "no usable cache directory for the run-time venv; tried {}",
            refusals.join(", ")
        ),
        hint,
    ))
}

/// Whether `path` can hold venvs that nobody but us (and root) can change: `Ok(true)` when it exists
/// and can, `Ok(false)` when some component does not exist yet (every existing one being trusted; the
/// launcher creates the rest, 0700), `Err` naming the first component that makes it unsafe.
///
/// Every directory from `/` down must be owned by us or root and not writable by group or others; a
/// sticky one may be world-writable when the next component is ours or root's (nobody else can rename
/// it). The
/// last one must be ours and not a symlink. Symlinks on the way are followed and their targets checked
/// the same way (a symlink cannot change, only be replaced in its directory, which was checked). One
/// `lstat` per component.
pub(crate) fn trust(path: &Path) -> std::result::Result<bool, String> {
    trust_walk(path, 0)
}

fn trust_walk(path: &Path, hops: usize) -> std::result::Result<bool, String> {
    if !path.is_absolute() {
        return Err(format!("{} is not an absolute path", show_path(path)));
    }
    let uid = sys::effective_uid();
    let names: Vec<&std::ffi::OsStr> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(name) => Some(Ok(name)),
            Component::ParentDir => Some(Err(())),
            _ => None,
        })
        .collect::<std::result::Result<_, _>>()
        .map_err(|()| format!("{} contains '..'", show_path(path)))?;
    let mut current = PathBuf::from("/");
    let root = fs::symlink_metadata(&current).map_err(|e| format!("/ cannot be examined ({e})"))?;
    let mut open_sticky = check_ancestor(&current, &root, uid)?;
    for (i, name) in names.iter().enumerate() {
        let next = current.join(name);
        let meta = match fs::symlink_metadata(&next) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(format!("{} cannot be examined ({e})", show_path(&next))),
        };
        let (owner, _) = sys::owner_and_mode(&meta);
        if open_sticky && owner != uid && owner != 0 {
            return Err(format!(
                "{} sits in the shared directory {} but belongs to uid {owner}, not to you (uid {uid}) or root",
                show_path(&next),
                show_path(&current)
            ));
        }
        let last = i + 1 == names.len();
        if meta.file_type().is_symlink() {
            if last {
                return Err(format!("{} is a symlink", show_path(&next)));
            }
            if hops >= MAX_SYMLINK_HOPS {
                return Err(format!("{} loops through symlinks", show_path(path)));
            }
            let target = fs::read_link(&next)
                .map_err(|e| format!("{} cannot be read ({e})", show_path(&next)))?;
            // `current` has no symlinks left in it, so folding `..` in the target lexically is exact.
            let mut resolved = normalize_lexically(&current.join(target));
            resolved.extend(&names[i + 1..]);
            return trust_walk(&resolved, hops + 1);
        }
        if !meta.is_dir() {
            return Err(format!("{} is not a directory", show_path(&next)));
        }
        if last {
            let (_, mode) = sys::owner_and_mode(&meta);
            if owner != uid {
                return Err(format!(
                    "{} is owned by uid {owner}, not by you (uid {uid})",
                    show_path(&next)
                ));
            }
            if mode & 0o022 != 0 {
                return Err(format!(
                    "{} is writable by group or others (mode {:o})",
                    show_path(&next),
                    mode & 0o7777
                ));
            }
        } else {
            open_sticky = check_ancestor(&next, &meta, uid)?;
        }
        current = next;
    }
    Ok(true)
}

/// An ancestor must be owned by us or root, and not writable by group or others unless it is sticky.
/// `Ok(true)`: it is sticky and writable by others (the next component must then be ours).
fn check_ancestor(dir: &Path, meta: &fs::Metadata, uid: u32) -> std::result::Result<bool, String> {
    let (owner, mode) = sys::owner_and_mode(meta);
    if owner != uid && owner != 0 {
        return Err(format!(
            "{} is owned by uid {owner}, who could replace what is below it (only you, uid {uid}, or root may own the cache's parents)",
            show_path(dir)
        ));
    }
    let open = mode & 0o022 != 0;
    if open && mode & 0o1000 == 0 {
        return Err(format!(
            "{} is writable by group or others (mode {:o}) and not sticky",
            show_path(dir),
            mode & 0o7777
        ));
    }
    Ok(open)
}

/// Creates the cache directory (and missing parents, 0700) and checks the result is trusted. The error
/// says why, and whether the place turned out unsafe (someone else made it first) rather than unusable.
fn ensure_base(base: &Path) -> std::result::Result<(), (String, bool)> {
    match sys::create_private_dir(base, true) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err((e.to_string(), false)),
    }
    match trust(base) {
        Ok(true) => Ok(()),
        Ok(false) => Err(("it vanished while being created".into(), false)),
        Err(why) => Err((why, true)),
    }
}

/// A warm hit: the record is there and matches this launch, and the venv is whole. Also refreshes the
/// last-use stamp, at most once a day, and tells the interpreter what it is, from the record.
fn find(
    request: &Request,
    interpreter: &mut Interpreter,
    dir: &Path,
    trace: &mut Trace,
) -> Option<Venv> {
    // Reading the record is the existence check too; only when it fails is the directory itself looked at
    // (cold path), to tell "not made yet" from "damaged".
    let opened = sys::open_regular(&dir.join(RECORD_NAME), MAX_RECORD_LEN);
    let (found, problem) = match opened {
        Err(_) if fs::symlink_metadata(dir).is_err() => return None,
        Err(e) => (None, Some(format!("its record cannot be read ({e})"))),
        Ok((file, meta)) => {
            // Exactly the length fstat gave (no extra read to see the end): a record that changed size
            // meanwhile fails to parse or to match, and is rebuilt.
            let mut bytes = vec![0u8; meta.len() as usize];
            let read = io::Read::read_exact(&mut &file, &mut bytes);
            match read.ok().and_then(|()| Record::parse(&bytes)) {
                None => (None, Some("its record is damaged".to_string())),
                Some(record) => {
                    let layout = record.layout(request);
                    let problem =
                        if record.kind == Kind::Binary && layout.interpreter != interpreter.path {
                            Some(format!(
                                "its record names the interpreter {}",
                                show_path(&layout.interpreter)
                            ))
                        } else {
                            damage(dir, &layout, record.bin_modified)
                        };
                    if problem.is_none() {
                        refresh_stamp(&file, &meta);
                        // Not closed: O_CLOEXEC closes it at the exec, one system call fewer.
                        std::mem::forget(file);
                    }
                    (Some((record, layout)), problem)
                }
            }
        }
    };
    match (problem, found) {
        (None, Some((record, layout))) => {
            interpreter.recorded(request.descriptor, record.kind, record.named, trace);
            trace.note(|| format!("venv: reusing {}", show_path(dir)));
            if record.kind == Kind::Script {
                note_wrapper_bypassed(trace, &interpreter.path, &layout.interpreter);
            }
            Some(layout.venv_at(dir, false, String::new()))
        }
        (problem, _) => {
            let problem = problem.unwrap_or_default();
            trace.note(|| {
                format!(
                    "venv: {} is damaged or was changed ({problem}); rebuilding it",
                    show_path(dir)
                )
            });
            None
        }
    }
}

/// The record's modification time is the venv's last use: refreshed when a day old, through the
/// descriptor already open, so a warm launch writes nothing on other days.
fn refresh_stamp(file: &fs::File, meta: &fs::Metadata) {
    let now = sys::now();
    let old = meta
        .modified()
        .ok()
        .and_then(|m| now.duration_since(m).ok())
        .is_none_or(|age| age > STAMP_EVERY);
    if old {
        let _ = file.set_modified(now);
    }
}

/// What is wrong with the venv at `dir` for `layout`, beyond its record: the interpreter link and its
/// aliases, `pyvenv.cfg`, the `.pth` file and the modules, each missing, emptied or changed. One
/// `lstat` each; sizes are compared with what the launcher wrote. The links are checked through `bin/`
/// itself: a link cannot be changed in place, only removed or replaced, which changes its directory's
/// modification time from the one recorded (`bin_modified`) when the links were made.
pub(crate) fn damage(dir: &Path, layout: &Layout, bin_modified: u64) -> Option<String> {
    let bin = dir.join(BIN_DIR);
    match fs::symlink_metadata(&bin) {
        Ok(meta) if meta.is_dir() && sys::modified_nanos(&meta) == bin_modified => {}
        Ok(_) => {
            return Some(format!(
                "{} was changed after its links were made",
                show_path(&bin)
            ))
        }
        Err(_) => return Some(format!("{} is missing", show_path(&bin))),
    }
    let mut links: Vec<(PathBuf, PathBuf)> = Vec::new();
    let mut files: Vec<(PathBuf, u64)> = Vec::with_capacity(4);
    match &layout.link_to {
        Some(runfiles_venv) => {
            links.push((
                dir.join(super::VENV_CONFIG),
                runfiles_venv.join(super::VENV_CONFIG),
            ));
            links.push((dir.join(LIB_DIR), runfiles_venv.join(LIB_DIR)));
        }
        None => {
            files.push((
                dir.join(super::VENV_CONFIG),
                layout.pyvenv_cfg().len() as u64,
            ));
            let site = dir.join(layout.site_packages_rel());
            files.push((site.join(PTH_NAME), layout.pth_len));
            for (name, content) in MODULES {
                files.push((site.join(name), content.len() as u64));
            }
        }
    }
    for (link, want) in links {
        match fs::read_link(&link) {
            Ok(target) if target == want => {}
            Ok(target) => {
                return Some(format!(
                    "{} points to {} instead of {}",
                    show_path(&link),
                    show_path(&target),
                    show_path(&want)
                ))
            }
            Err(_) => return Some(format!("{} is missing or not a link", show_path(&link))),
        }
    }
    for (file, len) in files {
        match fs::symlink_metadata(&file) {
            Ok(meta) if meta.is_file() && meta.len() == len => {}
            Ok(meta) => {
                return Some(format!(
                    "{} has {} bytes, not the {len} written",
                    show_path(&file),
                    meta.len()
                ))
            }
            Err(_) => return Some(format!("{} is missing", show_path(&file))),
        }
    }
    None
}

/// [`damage`], and also whether the venv's record describes exactly this layout (another launch's venv).
pub(crate) fn damage_with_record(dir: &Path, layout: &Layout) -> Option<String> {
    match sys::read_regular(&dir.join(RECORD_NAME), MAX_RECORD_LEN)
        .ok()
        .as_deref()
        .and_then(Record::parse)
    {
        Some(record) if record.matches(layout) => damage(dir, layout, record.bin_modified),
        _ => Some("its record is missing, unreadable or different".into()),
    }
}

/// The record written last into each venv: the facts a warm launch needs that a slow probe may have
/// found (so the probe never runs twice), what the interpreter file was identified as (so a warm launch
/// does not read it again), the `.pth` length and `bin/`'s modification time it checks. Values are
/// escaped so any path bytes survive the line format.
pub(crate) fn record(
    layout: &Layout,
    identified: (Kind, Option<PythonVersion>),
    bin_modified: u64,
) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(RECORD_HEADER.as_bytes());
    out.push(b'\n');
    let mut field = |key: &str, value: &[u8]| {
        out.extend_from_slice(key.as_bytes());
        out.push(b'=');
        for &b in value {
            match b {
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                b => out.push(b),
            }
        }
        out.push(b'\n');
    };
    field(
        "interpreter",
        layout.interpreter.as_os_str().as_encoded_bytes(),
    );
    field("bin", layout.bin_name.as_encoded_bytes());
    field("version", layout.version.to_string().as_bytes());
    field("pth", layout.pth_len.to_string().as_bytes());
    let (kind, named) = identified;
    field("kind", kind.name().as_bytes());
    field(
        "named",
        named.map(|v| v.to_string()).unwrap_or_default().as_bytes(),
    );
    field("bin-modified", bin_modified.to_string().as_bytes());
    out
}

fn unescape(value: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(value.len());
    let mut bytes = value.iter();
    while let Some(&b) = bytes.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        out.push(match bytes.next()? {
            b'\\' => b'\\',
            b'n' => b'\n',
            b'r' => b'\r',
            _ => return None,
        });
    }
    Some(out)
}

/// A parsed record (see [`record`]).
struct Record {
    interpreter: PathBuf,
    bin_name: std::ffi::OsString,
    version: PythonVersion,
    pth_len: u64,
    kind: Kind,
    named: Option<PythonVersion>,
    bin_modified: u64,
}

impl Record {
    fn parse(bytes: &[u8]) -> Option<Record> {
        let mut lines = bytes.split(|b| *b == b'\n');
        if lines.next()? != RECORD_HEADER.as_bytes() {
            return None;
        }
        let (mut interpreter, mut bin_name, mut version, mut pth_len) = (None, None, None, None);
        let (mut kind, mut named, mut bin_modified) = (None, None, None);
        let number = |value: &[u8]| std::str::from_utf8(value).ok()?.parse::<u64>().ok();
        for line in lines.filter(|l| !l.is_empty()) {
            let eq = line.iter().position(|b| *b == b'=')?;
            let value = unescape(&line[eq + 1..])?;
            match &line[..eq] {
                b"interpreter" => interpreter = Some(PathBuf::from(os_from_bytes(value))),
                b"bin" => bin_name = Some(os_from_bytes(value)),
                b"version" => {
                    version = std::str::from_utf8(&value)
                        .ok()
                        .and_then(PythonVersion::parse)
                }
                b"pth" => pth_len = number(&value),
                b"kind" => kind = Kind::ALL.into_iter().find(|k| k.name().as_bytes() == value),
                b"named" if value.is_empty() => named = Some(None),
                b"named" => {
                    named = Some(Some(PythonVersion::parse(
                        std::str::from_utf8(&value).ok()?,
                    )?))
                }
                b"bin-modified" => bin_modified = number(&value),
                _ => {}
            }
        }
        Some(Record {
            interpreter: interpreter?,
            bin_name: bin_name?,
            version: version?,
            pth_len: pth_len?,
            kind: kind?,
            named: named?,
            bin_modified: bin_modified?,
        })
    }

    /// The layout this record describes, for this launch's request.
    fn layout(&self, request: &Request) -> Layout {
        Layout {
            interpreter: self.interpreter.clone(),
            bin_name: self.bin_name.clone(),
            version: self.version,
            pth_len: self.pth_len,
            link_to: link_target(request),
            linked_site_packages: linked_site_packages(request),
            system_site_packages: request.descriptor.system_site_packages,
        }
    }

    fn matches(&self, layout: &Layout) -> bool {
        self.interpreter == layout.interpreter
            && self.bin_name == layout.bin_name
            && self.version == layout.version
            && self.pth_len == layout.pth_len
    }
}

/// FNV-1a over every input that decides the venv's content. Inputs that would need real work to expand
/// (the manifest's lines, a wrapper script's target) enter through their file identity instead.
///
/// The interpreter enters with its path and its file's stamp: a venv found under this key was made for
/// this very file, so its record may say what the file is (a binary or a wrapper script, which version).
/// Upgrading the interpreter in place makes a new venv (and the sweep removes the old one later).
pub(crate) fn cache_key(request: &Request, interpreter: &Interpreter) -> u64 {
    let d = request.descriptor;
    let mut h = Fnv::new();
    h.add(LAYOUT_VERSION.as_bytes());
    h.add(&TEMPLATES_HASH.to_le_bytes());
    h.add(interpreter.path.as_os_str().as_encoded_bytes());
    add_stamp(&mut h, interpreter.stamp);
    h.add(d.python_version.as_deref().unwrap_or("").as_bytes());
    h.add(&[d.system_site_packages as u8, d.import_all as u8]);
    h.add(d.workspace_name.as_bytes());
    for import in &d.imports {
        h.add(import.as_bytes());
    }
    match (request.runfiles.mode, &request.runfiles.manifest_path) {
        (Mode::Manifest, Some(manifest)) => {
            h.add(manifest.as_os_str().as_encoded_bytes());
            add_stamp(&mut h, identity(manifest));
        }
        _ => {
            h.add(request.runfiles.root.as_os_str().as_encoded_bytes());
            if d.import_all {
                add_stamp(&mut h, identity(&request.runfiles.root));
            }
        }
    }
    if let Some(link) = link_target(request) {
        h.add(link.as_os_str().as_encoded_bytes());
    }
    h.finish()
}

/// The file's stamp ([`sys::content_stamp`], through symlinks); zeros when it cannot be read.
fn identity(path: &Path) -> [u64; 5] {
    fs::metadata(path).map_or([0; 5], |meta| sys::content_stamp(&meta))
}

fn add_stamp(h: &mut Fnv, stamp: [u64; 5]) {
    for part in stamp {
        h.add(&part.to_le_bytes());
    }
}

/// The module templates written into every run-time venv enter its key through this hash, computed at
/// compile time: hashing their 5 KB on every launch would be a third of the launcher's own work.
const TEMPLATES_HASH: u64 = Fnv::new()
    .with(BUILD_INFO_MODULE.as_bytes())
    .with(BINARY_INFO_MODULE.as_bytes())
    .finish();

/// Removes what dead launches left (`.tmp-*` of processes that no longer exist, `.trash-*`) and
/// run-time venvs not used for [`STALE_AFTER`] (the record's time, refreshed at most daily by a warm launch; the
/// directory's own when there is no record). Runs only when a venv is being created, never on a warm
/// launch.
pub(crate) fn sweep(base: &Path) {
    let Ok(entries) = fs::read_dir(base) else {
        return;
    };
    let now = SystemTime::now();
    let unused_for = |path: &Path| {
        fs::symlink_metadata(path.join(RECORD_NAME))
            .or_else(|_| fs::symlink_metadata(path))
            .ok()
            .and_then(|m| m.modified().ok())
            .and_then(|last| now.duration_since(last).ok())
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let path = entry.path();
        let remove = if let Some(rest) = name.strip_prefix(".tmp-") {
            let pid = rest.rsplit('-').next().and_then(|p| p.parse::<u32>().ok());
            pid.is_some_and(|pid| pid != std::process::id() && !sys::process_exists(pid))
        } else if name.starts_with(".trash-") {
            true
        } else if name.starts_with("venv-") {
            unused_for(&path).is_some_and(|age| age > STALE_AFTER)
        } else {
            false
        };
        if remove {
            let trash = base.join(builder::unique_trash_name());
            if fs::rename(&path, &trash).is_ok() {
                let _ = fs::remove_dir_all(&trash);
            }
        }
    }
}
