//! The size limits shared by the launcher and the build-side finalize tool, in one place, so that finalize
//! refuses exactly what a launch would refuse.
//!
//! Every file the launcher reads is opened without following a FIFO's or device's promise of endless
//! bytes (see `sys::open_regular`) and must be a regular file no larger than its limit here, so memory
//! stays bounded whatever a path points at.

/// An embedded descriptor (the JSON in the trailer). Real ones are a few KB.
pub const MAX_DESCRIPTOR_LEN: u64 = 16 * 1024 * 1024;
/// A drop-in text stub: only this much of the file is read (a zip may follow a stub's end line).
pub(crate) const MAX_STUB_LEN: u64 = 1024 * 1024;
/// A runfiles manifest. It is mapped, not read, so this only bounds address space; 100,000 entries
/// are about 20 MB.
pub(crate) const MAX_MANIFEST_LEN: u64 = 4 * 1024 * 1024 * 1024;
/// The record a run-time venv carries (`py-launcher-venv.txt`), and its `.pth` file when traced.
pub(crate) const MAX_RECORD_LEN: u64 = 64 * 1024;
/// The `.pth` file of a run-time venv, read back only for the trace and the JSON plan.
pub(crate) const MAX_PTH_LEN: u64 = 64 * 1024 * 1024;
/// How many launchers may exec one another in one process (a launcher named as another's interpreter)
/// before the chain is refused as a loop.
pub(crate) const MAX_EXEC_DEPTH: u32 = 8;
