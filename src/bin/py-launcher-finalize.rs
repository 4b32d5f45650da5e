//! `py-launcher-finalize --launcher PATH --descriptor FILE.json --output PATH`.

use py_launcher::finalize;

use std::io::Write;

fn main() {
    let result = finalize::parse_args(std::env::args_os().skip(1))
        .and_then(|args| finalize::finalize(&args));
    if let Err(err) = result {
        let _ = writeln!(std::io::stderr(), "{err}");
        std::process::exit(err.exit_code());
    }
}
