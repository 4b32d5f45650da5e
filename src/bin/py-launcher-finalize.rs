//! `py-launcher-finalize --launcher PATH --descriptor FILE.json --output PATH` (and `--version`, `--help`).

use py_launcher::finalize::{self, Command};

use std::io::Write;

fn main() {
    let result = finalize::parse_args(std::env::args_os().skip(1)).and_then(|command| {
        let text = match command {
            Command::Finalize(args) => return finalize::finalize(&args),
            Command::Help => finalize::help(),
            Command::Version => finalize::version_line() + "\n",
        };
        let mut out = std::io::stdout().lock();
        if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
            let _ = writeln!(
                std::io::stderr(),
                "py-launcher-finalize: cannot write to stdout: {e}"
            );
            std::process::exit(71);
        }
        Ok(())
    });
    if let Err(err) = result {
        let _ = writeln!(std::io::stderr(), "{err}");
        std::process::exit(err.exit_code());
    }
}
