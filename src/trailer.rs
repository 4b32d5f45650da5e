//! The descriptor trailer at the end of a finalized launcher: `<launcher><descriptor><len><hash><magic>`.
//!
//! The launcher reads only the tail of its own file (two `pread`s), not the whole executable. The magic
//! is searched backwards within the last [`SEARCH_WINDOW`] bytes so that data appended after finalizing
//! (a code signature) does not hide the descriptor, and a candidate counts only if its length fits and
//! its hash matches, so stray bytes that happen to spell the magic are skipped.

use std::fs::File;
use std::io;

use crate::error::{Error, Result};
use crate::hash::Fnv;
pub use crate::limits::MAX_DESCRIPTOR_LEN;
use crate::sys;

/// The last 8 bytes of a finalized launcher.
pub const MAGIC: &[u8; 8] = b"PYLDESC1";
/// Length, hash and magic after the descriptor: 8 bytes each.
pub const TRAILER_LEN: u64 = 24;
/// How far from the end of the file the magic is searched for.
pub const SEARCH_WINDOW: u64 = 64 * 1024;
const FIRST_WINDOW: u64 = 4096;

/// Where a valid trailer sits in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    /// Offset of the first descriptor byte: the launcher proper ends here.
    pub start: u64,
    /// Length of the descriptor in bytes.
    pub len: u64,
}

/// The descriptor's checksum as the trailer stores it (FNV-1a of the bytes as one field).
pub fn hash(bytes: &[u8]) -> u64 {
    let mut h = Fnv::new();
    h.add(bytes);
    h.finish()
}

/// The descriptor followed by its trailer: what finalize appends to the launcher.
pub fn encode(descriptor: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(descriptor.len() + TRAILER_LEN as usize);
    out.extend_from_slice(descriptor);
    out.extend_from_slice(&(descriptor.len() as u64).to_le_bytes());
    out.extend_from_slice(&hash(descriptor).to_le_bytes());
    out.extend_from_slice(MAGIC);
    out
}

/// What a file's tail says about an embedded descriptor.
#[derive(Debug)]
pub enum Tail {
    /// No magic at all: a plain launcher (drop-in route) or not ours.
    Absent,
    /// A valid trailer.
    Present(Found, Vec<u8>),
    /// The magic is there but nothing valid goes with it.
    Corrupt(String),
}

/// Reads the trailer from a file through positioned reads.
pub(crate) fn read(file: &File, file_len: u64) -> io::Result<Tail> {
    read_from(file_len, |buf, offset| {
        sys::read_exact_at(file, buf, offset)
    })
}

/// Reads the trailer from bytes in memory (the finalize tool's input, tests and fuzzing).
pub fn read_bytes(bytes: &[u8]) -> Tail {
    let read_at = |buf: &mut [u8], offset: u64| {
        let start =
            usize::try_from(offset).map_err(|_| io::Error::from(io::ErrorKind::UnexpectedEof))?;
        let src = bytes
            .get(start..start + buf.len())
            .ok_or(io::ErrorKind::UnexpectedEof)?;
        buf.copy_from_slice(src);
        Ok(())
    };
    read_from(bytes.len() as u64, read_at).unwrap_or_else(|e| Tail::Corrupt(e.to_string()))
}

/// The search itself, over any source of positioned reads of a `file_len`-byte file.
pub(crate) fn read_from(
    file_len: u64,
    read_at: impl Fn(&mut [u8], u64) -> io::Result<()>,
) -> io::Result<Tail> {
    // A typical descriptor fits in the last page: read that first, and the whole window only if needed.
    let first = search(file_len, file_len.min(FIRST_WINDOW), &read_at)?;
    if matches!(first, Tail::Present(..)) || file_len <= FIRST_WINDOW {
        return Ok(first);
    }
    search(file_len, file_len.min(SEARCH_WINDOW), &read_at)
}

fn search(
    file_len: u64,
    window: u64,
    read_at: &impl Fn(&mut [u8], u64) -> io::Result<()>,
) -> io::Result<Tail> {
    let mut tail = vec![0u8; window as usize];
    read_at(&mut tail, file_len - window)?;
    let tail_start = file_len - window;
    let mut corrupt = None;
    let mut end = tail.len();
    while let Some(pos) = memchr::memmem::rfind(&tail[..end], MAGIC) {
        end = pos + MAGIC.len() - 1;
        let magic_at = tail_start + pos as u64;
        match check_candidate(read_at, &tail, tail_start, magic_at) {
            Ok(Some(found)) => return Ok(Tail::Present(found.0, found.1)),
            Ok(None) => {}
            Err(reason) => corrupt = corrupt.or(Some(reason)),
        }
        if pos == 0 {
            break;
        }
    }
    Ok(match corrupt {
        Some(reason) => Tail::Corrupt(reason),
        None => Tail::Absent,
    })
}

type Candidate = (Found, Vec<u8>);

fn check_candidate(
    read_at: &impl Fn(&mut [u8], u64) -> io::Result<()>,
    tail: &[u8],
    tail_start: u64,
    magic_at: u64,
) -> std::result::Result<Option<Candidate>, String> {
    if magic_at < tail_start + 16 {
        return Err("the trailer is truncated".into());
    }
    let header = (magic_at - 16 - tail_start) as usize;
    let len = u64::from_le_bytes(tail[header..header + 8].try_into().unwrap_or_default());
    let want = u64::from_le_bytes(tail[header + 8..header + 16].try_into().unwrap_or_default());
    let header_at = magic_at - 16;
    if len > header_at || len > MAX_DESCRIPTOR_LEN {
        return Err(format!(
            "the trailer's length {len} points past the start of the file"
        ));
    }
    let start = header_at - len;
    let mut descriptor = vec![0u8; len as usize];
    if start >= tail_start {
        let from = (start - tail_start) as usize;
        descriptor.copy_from_slice(&tail[from..from + len as usize]);
    } else {
        read_at(&mut descriptor, start).map_err(|e| format!("cannot read the descriptor: {e}"))?;
    }
    if hash(&descriptor) != want {
        return Err(
            "the descriptor's checksum does not match (the file was changed after finalizing)"
                .into(),
        );
    }
    Ok(Some((Found { start, len }, descriptor)))
}

/// Reads the descriptor bytes embedded in a file, for the launcher: `Ok(None)` when there is none.
/// `len` is the file's length, from the `fstat` the caller already made.
pub(crate) fn embedded_descriptor(file: &File, len: u64) -> Result<Option<Vec<u8>>> {
    match read(file, len) {
        Ok(Tail::Present(_, bytes)) => Ok(Some(bytes)),
        Ok(Tail::Absent) => Ok(None),
        Ok(Tail::Corrupt(reason)) => Err(Error::descriptor(
            format!("the embedded descriptor is damaged: {reason}"),
            "rebuild the binary; do not strip or edit a finalized launcher",
        )),
        Err(e) => Err(Error::os(
            format!("cannot read the launcher's own executable: {e}"),
            "check that the file is readable",
        )),
    }
}
