//! The launcher binary's allocator: a bump arena in `.bss`, falling back to the system allocator.
//!
//! A launch makes a few hundred small allocations and then `exec`s, which returns all memory at once.
//! musl's general-purpose allocator spent about a third of the launcher's instructions on them; handing
//! out consecutive slices of a zeroed static array costs a few instructions each. Freeing the most recent
//! allocation (and growing it in place) rolls the arena back, which covers the common build-then-drop
//! patterns of strings and vectors; other frees are ignored. Large or late allocations, once the arena is
//! full, go to the system allocator, so memory use is bounded by the arena's size plus what `System`
//! would have used anyway. The arena is untouched virtual memory until used: it adds nothing to the file.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicUsize, Ordering};

const ARENA_SIZE: usize = 4 << 20;

#[repr(C, align(64))]
struct Bytes(UnsafeCell<[u8; ARENA_SIZE]>);

/// The launcher binary's global allocator: a fixed arena handed out front to back (freeing only the
/// most recent allocation), falling back to the system allocator when it is full.
pub struct BumpAllocator {
    bytes: Bytes,
    /// Offset of the first free byte.
    next: AtomicUsize,
}

// SAFETY: the arena is only handed out in disjoint slices claimed with compare-and-swap on `next`.
unsafe impl Sync for BumpAllocator {}

impl BumpAllocator {
    /// An empty arena (a `const fn`, for a `static` global allocator).
    pub const fn new() -> BumpAllocator {
        BumpAllocator {
            bytes: Bytes(UnsafeCell::new([0; ARENA_SIZE])),
            next: AtomicUsize::new(0),
        }
    }

    fn base(&self) -> usize {
        self.bytes.0.get() as usize
    }

    fn owns(&self, ptr: *mut u8) -> bool {
        let addr = ptr as usize;
        addr >= self.base() && addr < self.base() + ARENA_SIZE
    }
}

impl Default for BumpAllocator {
    fn default() -> Self {
        BumpAllocator::new()
    }
}

// SAFETY: every pointer returned is either a disjoint, suitably aligned slice of the arena or comes from
// `System`; `dealloc`/`realloc` route each pointer back to where it came from.
unsafe impl GlobalAlloc for BumpAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let base = self.base();
        let mut current = self.next.load(Ordering::Relaxed);
        loop {
            let start = (base + current + layout.align() - 1) & !(layout.align() - 1);
            let end = start - base + layout.size();
            if end > ARENA_SIZE {
                // SAFETY: the caller's layout, as `GlobalAlloc::alloc` requires it.
                return unsafe { System.alloc(layout) };
            }
            match self.next.compare_exchange_weak(
                current,
                end,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return start as *mut u8,
                Err(now) => current = now,
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if !self.owns(ptr) {
            // SAFETY: not ours, so `System` allocated it with this layout.
            return unsafe { System.dealloc(ptr, layout) };
        }
        let offset = ptr as usize - self.base();
        // Only the most recent allocation can be given back; the rest is reclaimed by `exec`/exit.
        let _ = self.next.compare_exchange(
            offset + layout.size(),
            offset,
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if self.owns(ptr) {
            let offset = ptr as usize - self.base();
            let grown = offset + new_size;
            if grown <= ARENA_SIZE
                && self
                    .next
                    .compare_exchange(
                        offset + layout.size(),
                        grown,
                        Ordering::Relaxed,
                        Ordering::Relaxed,
                    )
                    .is_ok()
            {
                return ptr;
            }
            if new_size <= layout.size() {
                return ptr;
            }
        }
        // SAFETY: same alignment as the caller's layout, which `realloc`'s contract says is valid.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: a valid non-zero-size layout (realloc's contract: new_size > 0).
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: `ptr` holds layout.size() readable bytes, `new` new_size writable ones, and
            // they do not overlap (a fresh allocation); `ptr` came from this allocator with `layout`.
            unsafe {
                std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
        }
        new
    }
}
