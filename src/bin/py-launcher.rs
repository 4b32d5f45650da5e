//! The launcher executable: all logic is in the library; this only maps a failure to its exit code.
//!
//! On Linux the launcher has no Rust runtime start-up (`no_main`): the C runtime calls `main(argc, argv)`
//! below directly. std's `lang_start` would ignore SIGPIPE (which the launcher then had to restore before
//! `exec`, since an ignored signal survives it), install stack-overflow handlers on an alternate stack and
//! copy the arguments: ten system calls before the first useful one, and two more to undo them. What the
//! launcher needs of it, standard descriptors that are open, [`sys::start_up`] does in one `poll`.
//! Nothing here may use `std::env::args`, which this start-up leaves empty on musl.

#![cfg_attr(all(target_os = "linux", not(test)), no_main)]

use std::io::Write;

use py_launcher::{launch, sys};

/// A launch allocates a little and then execs: a bump arena beats a general-purpose allocator here.
#[global_allocator]
static ALLOCATOR: py_launcher::arena::BumpAllocator = py_launcher::arena::BumpAllocator::new();

#[cfg(all(target_os = "linux", not(test)))]
#[no_mangle]
extern "C" fn main(argc: std::ffi::c_int, argv: *const *const std::ffi::c_char) -> std::ffi::c_int {
    sys::start_up();
    // SAFETY: the C runtime passes `argc` valid NUL-terminated strings that live until exit.
    let args = unsafe { sys::args_from_c(argc, argv) };
    finish(launch::run(args))
}

#[cfg(not(all(target_os = "linux", not(test))))]
fn main() {
    sys::start_up();
    std::process::exit(finish(launch::run(std::env::args_os().collect())));
}

/// Ok only after printing a JSON plan (an exec never returns here); an error is one stderr line.
fn finish(result: Result<(), py_launcher::Error>) -> i32 {
    match result {
        Ok(()) => 0,
        Err(err) => {
            let _ = writeln!(std::io::stderr(), "{err}");
            err.exit_code()
        }
    }
}

/// No unwinder in the launcher. std's panic message can end in a backtrace, and the code that takes and
/// symbolizes one (an unwinder, a DWARF reader, a decompressor and a demangler: about 200 KB, a third of
/// the binary) stays linked even with `panic = "abort"`, since `RUST_BACKTRACE` decides at run time; the
/// precompiled std also keeps references to the unwinder's personality-routine helpers. Defining those
/// few C symbols here keeps the target's `libunwind.a` out of the link: the stack walk std starts reports
/// an empty stack (so link-time optimisation drops the symbolizer behind it), and the rest are reachable
/// only from an unwind in progress, which `panic = "abort"` never starts. A panic (a bug: errors are
/// one-line messages) still prints its message and aborts, with no backtrace.
#[cfg(all(
    target_os = "linux",
    target_env = "musl",
    not(test),
    not(debug_assertions)
))]
mod no_unwinder {
    use std::ffi::{c_int, c_void};

    type Context = *mut c_void;

    #[no_mangle]
    extern "C" fn _Unwind_Backtrace(_trace: *const c_void, _data: *mut c_void) -> c_int {
        5 // _URC_END_OF_STACK
    }
    #[no_mangle]
    extern "C" fn _Unwind_Resume(_exception: *mut c_void) -> ! {
        std::process::abort()
    }
    #[no_mangle]
    extern "C" fn _Unwind_GetIPInfo(_ctx: Context, _before: *mut c_int) -> usize {
        std::process::abort()
    }
    #[no_mangle]
    extern "C" fn _Unwind_GetDataRelBase(_ctx: Context) -> usize {
        std::process::abort()
    }
    #[no_mangle]
    extern "C" fn _Unwind_GetTextRelBase(_ctx: Context) -> usize {
        std::process::abort()
    }
    #[no_mangle]
    extern "C" fn _Unwind_GetLanguageSpecificData(_ctx: Context) -> *mut c_void {
        std::process::abort()
    }
    #[no_mangle]
    extern "C" fn _Unwind_GetRegionStart(_ctx: Context) -> usize {
        std::process::abort()
    }
    #[no_mangle]
    extern "C" fn _Unwind_SetGR(_ctx: Context, _index: c_int, _value: usize) {
        std::process::abort()
    }
    #[no_mangle]
    extern "C" fn _Unwind_SetIP(_ctx: Context, _value: usize) {
        std::process::abort()
    }
}
