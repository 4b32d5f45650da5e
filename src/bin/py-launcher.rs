//! The launcher executable: all logic is in the library; this only maps a failure to its exit code.

use std::io::Write;

/// A launch allocates a little and then execs: a bump arena beats a general-purpose allocator here.
#[global_allocator]
static ALLOCATOR: py_launcher::arena::BumpAllocator = py_launcher::arena::BumpAllocator::new();

fn main() {
    let err = match py_launcher::launch::run(std::env::args_os().collect()) {
        Ok(()) => std::process::exit(0),
        Err(err) => err,
    };
    let _ = writeln!(std::io::stderr(), "{err}");
    std::process::exit(err.exit_code());
}
