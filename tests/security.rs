//! Security guarantees not covered elsewhere: the environment cannot switch the interpreter, every exit
//! status reaches the parent, and what the launcher creates is private.

mod common;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use common::*;

#[test]
fn no_environment_variable_changes_which_interpreter_runs() {
    let app = App::hello();
    app.finalize();
    // A decoy interpreter on PATH and every variable a Python tool might consult to pick one.
    let decoy_dir = app.sandbox.path("decoy");
    let decoy = app
        .sandbox
        .write_exe("decoy/python3.11", "#!/bin/sh\necho decoy; exit 99\n");
    fs::copy(&decoy, decoy_dir.join("python3")).unwrap();
    fs::copy(&decoy, decoy_dir.join("python")).unwrap();
    let decoy = decoy.to_str().unwrap();
    let path = path_with(&decoy_dir);
    let run = app
        .command()
        .env("PATH", &path)
        .env("PYTHON", decoy)
        .env("PYTHONEXECUTABLE", decoy)
        .env("PY_LAUNCHER_INTERPRETER", decoy)
        .env("PY_LAUNCHER_PYTHON", decoy)
        .env("RULES_PYTHON_PYTHON", decoy)
        .env("VIRTUAL_ENV", decoy_dir.to_str().unwrap())
        .env("PYENV_VERSION", "decoy")
        .env("CONDA_PREFIX", decoy_dir.to_str().unwrap())
        .env("PY_LAUNCHER_DEBUG", "json")
        .run()
        .ok();
    let plan = run.json();
    assert_eq!(plan["interpreter"]["path"], PYTHON);
    let venv_python = plan["venv"]["python"].as_str().unwrap();
    assert_eq!(fs::read_link(venv_python).unwrap(), Path::new(PYTHON));
    let report = app
        .command()
        .env("PATH", &path)
        .env("PYTHON", decoy)
        .run()
        .ok()
        .report();
    assert_eq!(report["base_executable"], PYTHON);
}

#[test]
fn every_exit_status_reaches_the_parent() {
    let mut app = App::hello();
    app.add_file(
        "_main/pkg/main.py",
        "import os, sys\nos._exit(int(sys.argv[1]))\n",
    );
    app.finalize();
    for code in 0..=255 {
        let run = app.command().arg(code.to_string()).run();
        assert_eq!(run.code(), Some(code), "{run}");
    }
}

#[test]
fn the_run_time_venv_is_private() {
    let app = App::hello();
    app.finalize();
    app.command().run().ok();
    let base = app.sandbox.cache().join("py-launcher");
    let venv = fs::read_dir(&base)
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    fn check(path: &Path) {
        let meta = fs::symlink_metadata(path).unwrap();
        if meta.file_type().is_symlink() {
            return;
        }
        let mode = meta.permissions().mode() & 0o777;
        let allowed = if meta.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode, allowed, "{} has mode {mode:o}", path.display());
        assert_eq!(meta.uid(), euid());
        if meta.is_dir() {
            for entry in fs::read_dir(path).unwrap().flatten() {
                check(&entry.path());
            }
        }
    }
    check(&base);
    check(&venv);
}

#[test]
fn a_planted_temp_directory_is_not_trusted() {
    // Someone pre-creates the temp directory a launch would build in, with content of their own.
    let app = App::hello();
    app.finalize();
    let plan = app.command().plan();
    let venv = std::path::PathBuf::from(plan["venv"]["dir"].as_str().unwrap());
    fs::remove_dir_all(&venv).unwrap();
    let name = venv.file_name().unwrap().to_str().unwrap().to_owned();
    // A planted directory for a PID that is not running is swept; the launch builds its own.
    let planted = venv.with_file_name(format!(".tmp-{name}-999999999"));
    fs::create_dir_all(planted.join("bin")).unwrap();
    fs::write(planted.join("bin/python3.11"), "#!/bin/sh\necho planted\n").unwrap();
    let report = app.command().run().ok().report();
    assert_eq!(report["base_executable"], PYTHON);
    assert!(!planted.exists());
}

/// Runs a command with a deadline: a launch that hangs (a FIFO read forever) fails the test instead of
/// hanging it.
fn run_within(cmd: Cmd, seconds: u64) -> Run {
    let description = format!("{:?}", cmd.command);
    let cwd = cmd.command.get_current_dir().map(Path::to_path_buf);
    let tree = cmd.tree.clone();
    let mut child = cmd.spawn();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    loop {
        if child.try_wait().unwrap().is_some() {
            return Run::new(description, child.wait_with_output().unwrap()).in_dir(cwd, tree);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "still running after {seconds} s: {description}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a NUL-terminated path that outlives the call.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

#[test]
fn a_fifo_or_device_is_never_read_as_a_manifest_or_stub() {
    let app = App::hello();
    app.finalize();
    let fifo = app.sandbox.path("fifo");
    mkfifo(&fifo);
    // No runfiles tree next to the binary: only the named manifest could serve.
    fs::remove_dir_all(app.runfiles()).unwrap();
    for manifest in [fifo.as_path(), Path::new("/dev/zero")] {
        let run = run_within(app.command().env("RUNFILES_MANIFEST_FILE", manifest), 20);
        run.fails(66, "not a regular file");
    }
    // A stub given to the plain launcher.
    for stub in [fifo.as_path(), Path::new("/dev/zero")] {
        let run = run_within(app.sandbox.command(launcher()).arg(stub), 20);
        run.fails(64, "not a regular file");
    }
}

#[test]
fn a_fifo_as_the_venv_record_is_a_damaged_venv_not_a_hang() {
    let app = App::hello();
    app.finalize();
    let plan = app.command().plan();
    let venv = Path::new(plan["venv"]["dir"].as_str().unwrap()).to_path_buf();
    let record = venv.join("py-launcher-venv.txt");
    fs::remove_file(&record).unwrap();
    mkfifo(&record);
    let run = run_within(app.command(), 20).ok();
    assert_eq!(run.report()["greeting"], "hello from greet");
    assert!(fs::symlink_metadata(&record).unwrap().is_file());
}

#[test]
fn python_executable_and_python_home_never_reach_the_program() {
    let app = App::hello();
    app.finalize();
    let decoy = app
        .sandbox
        .write_exe("decoy/python3", "#!/bin/sh\nexit 99\n");
    let run = app
        .command()
        .env("PYTHONEXECUTABLE", &decoy)
        .env("PYTHONHOME", "/nonexistent/home")
        .env("PY_LAUNCHER_DEBUG", "1")
        .run()
        .ok();
    let report = run.report();
    assert_eq!(report["greeting"], "hello from greet");
    assert_ne!(report["prefix"], report["base_prefix"], "outside its venv");
    assert!(report["env"].get("PYTHONEXECUTABLE").is_none(), "{report}");
    assert!(report["env"].get("PYTHONHOME").is_none(), "{report}");
    let stderr = run.stderr();
    assert!(
        stderr.contains("removing the inherited PYTHONHOME=\"/nonexistent/home\""),
        "{run}"
    );
    assert!(
        stderr.contains("removing the inherited PYTHONEXECUTABLE="),
        "{run}"
    );
}

#[test]
fn a_json_plan_to_a_closed_stdout_is_an_error() {
    use std::os::unix::process::CommandExt;
    let app = App::hello();
    app.finalize();
    let mut cmd = app.command().env("PY_LAUNCHER_DEBUG", "json");
    // SAFETY: close(2) is async-signal-safe.
    unsafe {
        cmd.command.pre_exec(|| {
            libc::close(1);
            Ok(())
        });
    }
    cmd.run()
        .fails(71, "cannot write the launch plan to stdout");
    // /dev/null opened read-write, as Python's subprocess.DEVNULL does, is a choice, not a closed stdout.
    let mut cmd = app.command().env("PY_LAUNCHER_DEBUG", "json");
    // SAFETY: open(2) and dup2(2) are async-signal-safe.
    unsafe {
        cmd.command.pre_exec(|| {
            let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
            if null < 0 || libc::dup2(null, 1) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.run().ok();
}

#[test]
fn a_json_plan_to_dev_null_opened_read_write_is_written() {
    // Python's subprocess.DEVNULL opens /dev/null read-write: an open descriptor, not a closed one.
    use std::os::unix::process::CommandExt;
    let app = App::hello();
    app.finalize();
    let mut cmd = app.command().env("PY_LAUNCHER_DEBUG", "json");
    // SAFETY: open(2), dup2(2) and close(2) are async-signal-safe.
    unsafe {
        cmd.command.pre_exec(|| {
            let fd = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
            libc::dup2(fd, 1);
            libc::close(fd);
            Ok(())
        });
    }
    let run = cmd.run();
    assert_eq!(run.code(), Some(0), "{run}");
}

#[test]
fn a_setuid_or_setgid_launcher_refuses_to_run() {
    if euid() != 0 {
        eprintln!("skipped: needs root to give the binary to another user");
        return;
    }
    for (mode, owner, group) in [(0o4755, 65534, 0), (0o2755, 0, 65534)] {
        let app = App::hello();
        let bin = app.finalize();
        std::os::unix::fs::chown(&bin, Some(owner), Some(group)).unwrap();
        fs::set_permissions(&bin, fs::Permissions::from_mode(mode)).unwrap();
        assert_eq!(
            fs::metadata(&bin).unwrap().permissions().mode() & 0o7777,
            mode
        );
        // The sandbox is root's 0700 directory; the binary runs as root with another effective id.
        app.command()
            .run()
            .fails(64, "refusing to run setuid or setgid");
    }
}

fn mode_of(path: &Path) -> u32 {
    fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn every_directory_the_launcher_creates_is_private_whatever_the_umask() {
    use std::os::unix::process::CommandExt;
    for umask in [0o000, 0o022, 0o777] {
        let app = App::hello();
        app.finalize();
        let home = app.sandbox.home();
        let mut cmd = app.command().env_remove("XDG_CACHE_HOME");
        // SAFETY: umask(2) is async-signal-safe.
        unsafe {
            cmd.command.pre_exec(move || {
                libc::umask(umask);
                Ok(())
            });
        }
        let report = cmd.run().ok().report();
        assert_eq!(report["greeting"], "hello from greet", "umask {umask:o}");
        // `~/.cache` did not exist: the launcher made it, and `py-launcher` in it.
        for dir in [home.join(".cache"), home.join(".cache/py-launcher")] {
            assert_eq!(mode_of(&dir), 0o700, "umask {umask:o}: {}", dir.display());
        }
        let venv = fs::read_dir(home.join(".cache/py-launcher"))
            .unwrap()
            .flatten()
            .next()
            .unwrap()
            .path();
        fn walk(path: &Path, umask: u32) {
            let meta = fs::symlink_metadata(path).unwrap();
            if meta.file_type().is_symlink() {
                return;
            }
            let want = if meta.is_dir() { 0o700 } else { 0o600 };
            assert_eq!(mode_of(path), want, "umask {umask:o}: {}", path.display());
            if meta.is_dir() {
                for entry in fs::read_dir(path).unwrap().flatten() {
                    walk(&entry.path(), umask);
                }
            }
        }
        walk(&venv, umask);
    }
}
