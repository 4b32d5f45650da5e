//! FNV-1a, 64 bits, over length-prefixed fields: the trailer's checksum and the run-time venv's cache key.
//!
//! Not a defence against an adversary (whoever can write to the cache or the binary already controls
//! what runs); it only has to be stable across releases of the same format and cheap.

/// A running FNV-1a hash.
pub struct Fnv(u64);

impl Fnv {
    /// The FNV-1a offset basis: the hash of nothing.
    pub const fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    /// Adds a field; the length prefix keeps ("ab","c") and ("a","bc") apart.
    pub fn add(&mut self, bytes: &[u8]) {
        *self = Fnv(self.0).with(bytes);
    }
    /// [`Fnv::add`] usable in a `const` (hashes computed at compile time).
    pub(crate) const fn with(self, bytes: &[u8]) -> Fnv {
        let mut h = self.0;
        let len = (bytes.len() as u64).to_le_bytes();
        let mut i = 0;
        while i < 8 {
            h ^= len[i] as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
            i += 1;
        }
        let mut i = 0;
        while i < bytes.len() {
            h ^= bytes[i] as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
            i += 1;
        }
        Fnv(h)
    }
    /// The hash of the fields added so far.
    pub const fn finish(&self) -> u64 {
        self.0
    }
}

impl Default for Fnv {
    fn default() -> Self {
        Fnv::new()
    }
}
