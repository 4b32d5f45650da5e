//! The program's venv: build-time venv when usable, run-time venv in a checked cache otherwise; the
//! import path order; `sys.executable` subprocesses; races, damage, unsafe caches and the sweep.

mod common;

use std::fs;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use common::*;
use serde_json::{json, Value};

/// A main that reports, and also starts `sys.executable` the way tools do and reports what it sees.
const SUBPROCESS_MAIN: &str = r#"
import json, subprocess, sys
child = subprocess.run([sys.executable, "-c", "import json, sys, greet; print(json.dumps([sys.path, greet.hello(), sys.prefix != sys.base_prefix]))"],
                       capture_output=True, text=True, check=True)
print(json.dumps({"path": sys.path, "executable": sys.executable, "base_executable": sys._base_executable,
                  "prefix": sys.prefix, "base_prefix": sys.base_prefix, "child": json.loads(child.stdout)}))
"#;

fn assert_import_order(path: &[String], app: &App, site_packages: &str) {
    let position = |entry: &str| {
        path.iter()
            .position(|p| p == entry)
            .unwrap_or_else(|| panic!("{entry} not on sys.path {path:?}"))
    };
    let stdlib = position("/usr/lib/python3.11");
    let site = position(site_packages);
    let lib = position(app.runfiles().join("_main/pkg/lib").to_str().unwrap());
    let workspace = position(app.runfiles().join("_main").to_str().unwrap());
    assert!(
        stdlib < site && site < lib && lib < workspace,
        "order wrong: {path:?}"
    );
    assert!(
        !path.iter().any(|p| p.contains("dist-packages")),
        "host site-packages leaked: {path:?}"
    );
}

#[test]
fn build_time_venv_is_used_when_usable() {
    let mut app = App::hello();
    let venv = app.add_build_time_venv();
    app.add_file("_main/pkg/main.py", SUBPROCESS_MAIN);
    app.finalize();
    let report = app.command().run().ok().report();
    assert_eq!(
        report["executable"],
        venv.join("bin/python3").to_str().unwrap()
    );
    assert_eq!(report["prefix"], venv.to_str().unwrap());
    assert_eq!(report["base_prefix"], "/usr");
    assert_eq!(report["base_executable"], PYTHON);
    let site = venv.join("lib/python3.11/site-packages");
    assert_import_order(&strs(&report["path"]), &app, site.to_str().unwrap());
    // A sys.executable subprocess sees the same import path and imports the binary's library.
    assert_eq!(report["child"][0], report["path"]);
    assert_eq!(report["child"][1], "hello from greet");
    assert_eq!(report["child"][2], true);
    assert!(
        !app.sandbox.cache().join("py-launcher").exists(),
        "a usable build-time venv must not touch the cache"
    );
}

#[test]
fn build_time_venv_without_home_fixes_base_executable() {
    let mut app = App::hello();
    let venv = app.add_build_time_venv();
    // An in-build runtime cannot know `home` at build time; the .pth carries the one-line fix-up.
    fs::write(
        venv.join("pyvenv.cfg"),
        "include-system-site-packages = false\n",
    )
    .unwrap();
    let pth = venv.join("lib/python3.11/site-packages/_py_launcher.pth");
    let mut text = fs::read_to_string(&pth).unwrap();
    text.push_str("import sys, os; sys._base_executable = os.path.realpath(sys.executable) if sys._base_executable == sys.executable else sys._base_executable\n");
    fs::write(&pth, text).unwrap();
    app.finalize();
    let report = app.command().run().ok().report();
    assert_eq!(
        report["executable"],
        venv.join("bin/python3").to_str().unwrap()
    );
    assert_eq!(report["base_executable"], PYTHON);
}

#[test]
fn an_unusable_build_time_venv_falls_back_to_a_run_time_venv() {
    // Interpreter moved: bin/python3 dangles.
    let mut app = App::hello();
    let venv = app.add_build_time_venv();
    fs::remove_file(venv.join("bin/python3")).unwrap();
    symlink("/nonexistent/python3.11", venv.join("bin/python3")).unwrap();
    app.finalize();
    let plan = app.command().plan();
    assert_eq!(plan["venv"]["kind"], "run-time");
    assert!(
        plan["venv"]["reason"]
            .as_str()
            .unwrap()
            .contains("does not resolve"),
        "{plan}"
    );
    assert_eq!(
        app.command().run().ok().report()["greeting"],
        "hello from greet"
    );

    // Manifest-only runfiles: the venv's links do not exist.
    let mut app = App::hello();
    app.add_build_time_venv();
    app.finalize();
    app.entries.insert(
        "_main/pkg/_app.venv/pyvenv.cfg".into(),
        app.runfiles().join("_main/pkg/_app.venv/pyvenv.cfg"),
    );
    let manifest_text: String = app
        .entries
        .iter()
        .map(|(k, v)| format!("{k} {}\n", v.display()))
        .collect();
    let runfiles = app.runfiles();
    fs::rename(&runfiles, app.sandbox.path("moved.runfiles")).unwrap();
    let manifest_text = manifest_text.replace(
        runfiles.to_str().unwrap(),
        app.sandbox.path("moved.runfiles").to_str().unwrap(),
    );
    app.sandbox
        .write("bin/app.runfiles_manifest", manifest_text);
    let plan = app.command().plan();
    assert_eq!(plan["venv"]["kind"], "run-time");
    assert!(
        plan["venv"]["reason"]
            .as_str()
            .unwrap()
            .contains("manifest-only"),
        "{plan}"
    );
}

#[test]
fn run_time_venv_is_created_once_then_reused() {
    let mut app = App::hello();
    app.add_file("_main/pkg/main.py", SUBPROCESS_MAIN);
    app.finalize();
    let first = app.command().env("PY_LAUNCHER_DEBUG", "1").run().ok();
    assert!(first.stderr().contains("venv: created"), "{first}");
    let second = app.command().env("PY_LAUNCHER_DEBUG", "1").run().ok();
    assert!(second.stderr().contains("venv: reusing"), "{second}");
    let report = second.report();
    let entries = cache_entries(&app.sandbox.cache());
    assert_eq!(entries.len(), 1, "{entries:?}");
    let venv = &entries[0];
    assert!(venv
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("venv-"));
    assert_eq!(report["prefix"], venv.to_str().unwrap());
    assert_eq!(
        report["executable"],
        venv.join("bin/python3.11").to_str().unwrap()
    );
    assert_eq!(report["base_executable"], PYTHON);
    assert_import_order(
        &strs(&report["path"]),
        &app,
        venv.join("lib/python3.11/site-packages").to_str().unwrap(),
    );
    assert_eq!(report["child"][0], report["path"]);
    assert_eq!(report["child"][1], "hello from greet");
    let base = app.sandbox.cache().join("py-launcher");
    assert_eq!(fs::metadata(&base).unwrap().mode() & 0o777, 0o700);
    let cfg = fs::read_to_string(venv.join("pyvenv.cfg")).unwrap();
    assert!(
        cfg.contains("home = /usr/bin") && cfg.contains("include-system-site-packages = false"),
        "{cfg}"
    );
}

#[test]
fn system_site_packages_can_be_opted_into() {
    let mut app = App::hello();
    app.set("system_site_packages", json!(true));
    app.finalize();
    let path = strs(&app.command().run().ok().report()["path"]);
    let lib = path
        .iter()
        .position(|p| p.ends_with("_main/pkg/lib"))
        .unwrap();
    let host = path
        .iter()
        .position(|p| p == "/usr/lib/python3/dist-packages")
        .expect("host site-packages missing");
    assert!(lib < host, "{path:?}");
}

#[test]
fn sixty_four_cold_launches_race_to_one_venv() {
    let app = App::hello();
    app.finalize();
    let children: Vec<_> = (0..64).map(|_| app.command().spawn()).collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "a racing launch failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: Value = serde_json::from_slice(out.stdout.trim_ascii()).unwrap();
        assert_eq!(report["greeting"], "hello from greet");
    }
    let entries = cache_entries(&app.sandbox.cache());
    assert_eq!(
        entries.len(),
        1,
        "expected exactly one venv and no leftovers: {entries:?}"
    );
}

#[test]
fn a_damaged_or_tampered_venv_is_rebuilt_not_used() {
    let app = App::hello();
    app.finalize();
    app.command().run().ok();
    let venv = cache_entries(&app.sandbox.cache()).pop().unwrap();
    // Re-point the interpreter link elsewhere.
    let decoy = app
        .sandbox
        .write_exe("decoy/python3.11", "#!/bin/sh\necho decoy\n");
    let link = venv.join("bin/python3.11");
    fs::remove_file(&link).unwrap();
    symlink(&decoy, &link).unwrap();
    let run = app.command().env("PY_LAUNCHER_DEBUG", "1").run().ok();
    assert!(run.stderr().contains("is damaged or was changed"), "{run}");
    assert_eq!(run.report()["greeting"], "hello from greet");
    assert_eq!(fs::read_link(&link).unwrap(), PathBuf::from(PYTHON));

    // Partly deleted by hand: the import file is gone.
    fs::remove_file(venv.join("lib/python3.11/site-packages/_py_launcher.pth")).unwrap();
    let run = app.command().env("PY_LAUNCHER_DEBUG", "1").run().ok();
    assert!(
        run.stderr().contains("_py_launcher.pth\" is missing"),
        "{run}"
    );
    assert_eq!(run.report()["greeting"], "hello from greet");
    assert_eq!(cache_entries(&app.sandbox.cache()).len(), 1);
}

/// Where the launch's venv is, from its plan.
fn venv_dir(cmd: Cmd) -> PathBuf {
    PathBuf::from(cmd.plan()["venv"]["dir"].as_str().unwrap())
}

fn tmp_base(app: &App) -> PathBuf {
    let uid = euid();
    app.sandbox.path(&format!("tmp/py-launcher-{uid}"))
}

#[test]
fn unsafe_cache_directories_are_skipped_never_used() {
    // Each unsafe preferred cache: the launch goes on in $TMPDIR; nothing is written into the unsafe one.
    type Plant = fn(&App, &Path);
    let cases: [(&str, Plant); 3] = [
        ("is a symlink", |app, base| {
            let elsewhere = app.sandbox.path("planted");
            fs::create_dir_all(&elsewhere).unwrap();
            fs::create_dir_all(base.parent().unwrap()).unwrap();
            symlink(&elsewhere, base).unwrap();
        }),
        ("is writable by group or others (mode 777)", |_, base| {
            fs::create_dir_all(base).unwrap();
            fs::set_permissions(base, fs::Permissions::from_mode(0o777)).unwrap();
        }),
        ("is owned by uid 65534", |_, base| {
            fs::create_dir_all(base).unwrap();
            fs::set_permissions(base, fs::Permissions::from_mode(0o700)).unwrap();
            std::os::unix::fs::chown(base, Some(65534), Some(65534)).unwrap();
        }),
    ];
    for (why, plant) in cases {
        let app = App::hello();
        app.finalize();
        let base = app.sandbox.cache().join("py-launcher");
        plant(&app, &base);
        let run = app.command().env("PY_LAUNCHER_DEBUG", "1").run().ok();
        assert!(run.stderr().contains("not using the cache"), "{why}\n{run}");
        assert!(run.stderr().contains(why), "{why}\n{run}");
        assert_eq!(run.report()["greeting"], "hello from greet");
        assert!(
            run.report()["prefix"]
                .as_str()
                .unwrap()
                .starts_with(tmp_base(&app).to_str().unwrap()),
            "{why}\n{run}"
        );
        let planted = fs::read_dir(app.sandbox.path("planted"))
            .map(|d| d.count())
            .unwrap_or(0);
        assert_eq!(planted, 0, "wrote through the planted symlink");
        // With the fallback unsafe too: a clear error whose hint the user can follow.
        let tmp = app.sandbox.path("tmp2");
        fs::create_dir_all(&tmp).unwrap();
        fs::set_permissions(&tmp, fs::Permissions::from_mode(0o777)).unwrap();
        let run = app.command().env("TMPDIR", &tmp).run();
        let run = run.fails(73, "no usable cache directory");
        assert!(run.stderr().contains(why), "{run}");
        assert!(
            run.stderr()
                .contains("hint: set XDG_CACHE_HOME (or TMPDIR) to a directory of yours"),
            "{run}"
        );
    }
}

#[test]
fn another_users_temp_cache_never_blocks_the_preferred_one() {
    if euid() != 0 {
        eprintln!("skipped: needs root to create a directory owned by another user");
        return;
    }
    // Someone else created $TMPDIR/py-launcher-<uid> in the shared, sticky temp directory first.
    let app = App::hello();
    app.finalize();
    let tmp = app.sandbox.path("tmp");
    fs::create_dir_all(&tmp).unwrap();
    fs::set_permissions(&tmp, fs::Permissions::from_mode(0o1777)).unwrap();
    let squatted = tmp_base(&app);
    fs::create_dir_all(&squatted).unwrap();
    std::os::unix::fs::chown(&squatted, Some(65534), Some(65534)).unwrap();
    let report = app.command().run().ok().report();
    let cache = app.sandbox.cache().join("py-launcher");
    assert!(report["prefix"]
        .as_str()
        .unwrap()
        .starts_with(cache.to_str().unwrap()));
    // And with no preferred location, the error's hint is one the user can follow (they cannot remove
    // another user's directory from a sticky /tmp).
    let run = app
        .command()
        .env_remove("XDG_CACHE_HOME")
        .env_remove("HOME")
        .run()
        .fails(73, "belongs to uid 65534");
    assert!(run.stderr().contains("hint: set XDG_CACHE_HOME"), "{run}");
}

#[test]
fn every_parent_of_the_cache_must_be_writable_only_by_you_or_root() {
    if euid() != 0 {
        eprintln!("skipped: needs root to hand directories to another user");
        return;
    }
    // The cache home sits below a directory another user owns (root's `sudo -E` with a user's
    // XDG_CACHE_HOME), or below a group-writable one: skipped for $TMPDIR.
    let app = App::hello();
    app.finalize();
    let theirs = app.sandbox.path("theirs");
    fs::create_dir_all(theirs.join("cache")).unwrap();
    std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).unwrap();
    let run = app
        .command()
        .env("XDG_CACHE_HOME", theirs.join("cache"))
        .env("PY_LAUNCHER_DEBUG", "1")
        .run()
        .ok();
    assert!(
        run.stderr()
            .contains("is owned by uid 65534, who could replace"),
        "{run}"
    );
    assert!(run.report()["prefix"]
        .as_str()
        .unwrap()
        .starts_with(tmp_base(&app).to_str().unwrap()));
    assert!(!theirs.join("cache/py-launcher").exists());

    let shared = app.sandbox.path("shared");
    fs::create_dir_all(shared.join("cache")).unwrap();
    fs::set_permissions(&shared, fs::Permissions::from_mode(0o775)).unwrap();
    let run = app
        .command()
        .env("XDG_CACHE_HOME", shared.join("cache"))
        .env("PY_LAUNCHER_DEBUG", "1")
        .run()
        .ok();
    assert!(run.stderr().contains("mode 775) and not sticky"), "{run}");
    assert!(!shared.join("cache/py-launcher").exists());

    // A sticky world-writable parent is fine when the next directory is ours (like /tmp); the
    // launcher's own directories are then made 0700.
    let sticky = app.sandbox.path("sticky");
    fs::create_dir_all(&sticky).unwrap();
    fs::set_permissions(&sticky, fs::Permissions::from_mode(0o1777)).unwrap();
    fs::remove_dir_all(tmp_base(&app)).unwrap();
    let dir = venv_dir(app.command().env("XDG_CACHE_HOME", sticky.join("mine")));
    assert!(
        dir.starts_with(sticky.join("mine/py-launcher")),
        "{}",
        dir.display()
    );
    // Through a symlink: its target's parents are what count.
    let link = app.sandbox.symlink(&theirs, "via-link");
    let run = app
        .command()
        .env("XDG_CACHE_HOME", link.join("cache"))
        .env("PY_LAUNCHER_DEBUG", "1")
        .run()
        .ok();
    assert!(run.stderr().contains("is owned by uid 65534"), "{run}");
}

/// The attack of the issue: another user who can write a directory above the cache swaps the cache
/// directory with a look-alike in a loop (`renameat2(RENAME_EXCHANGE)`) while the victim launches.
#[test]
fn a_cache_swapped_in_a_loop_by_another_user_never_runs_their_code() {
    if euid() != 0 {
        eprintln!("skipped: needs root to run the attacker as another uid");
        return;
    }
    let app = App::hello();
    app.finalize();
    // The sandbox is root's; let the attacker (uid 65534) reach their own directory inside it.
    fs::set_permissions(app.sandbox.root(), fs::Permissions::from_mode(0o755)).unwrap();
    let theirs = app.sandbox.path("theirs");
    fs::create_dir_all(theirs.join("cache")).unwrap();
    let cache = theirs.join("cache");
    // The victim's real venv, made once by hand the way the launcher makes it (root-owned, 0700), so
    // that only the race is in play: the look-alike is the same venv with the attacker's python.
    let real = cache.join("py-launcher");
    let plan = app.command().plan();
    let key = Path::new(plan["venv"]["dir"].as_str().unwrap())
        .file_name()
        .unwrap()
        .to_owned();
    let built = PathBuf::from(plan["venv"]["dir"].as_str().unwrap());
    fs::create_dir_all(&real).unwrap();
    fs::set_permissions(&real, fs::Permissions::from_mode(0o700)).unwrap();
    let copy = |from: &Path, to: &Path| {
        let status = std::process::Command::new("cp")
            .arg("-a")
            .arg(from)
            .arg(to)
            .status()
            .unwrap();
        assert!(status.success());
    };
    copy(&built, &real.join(&key));
    let fake = cache.join("fake");
    fs::create_dir_all(&fake).unwrap();
    copy(&built, &fake.join(&key));
    let evil = app
        .sandbox
        .write_exe("theirs/evil", "#!/bin/sh\necho PWNED\n");
    let evil_link = fake.join(&key).join("bin/python3.11");
    fs::remove_file(&evil_link).unwrap();
    symlink(&evil, &evil_link).unwrap();
    for path in [&theirs, &cache, &fake] {
        std::os::unix::fs::chown(path, Some(65534), Some(65534)).unwrap();
    }
    fs::set_permissions(&fake, fs::Permissions::from_mode(0o755)).unwrap();

    // The attacker: a forked child that becomes uid 65534 and swaps the two directories until killed.
    let a = std::ffi::CString::new(real.as_os_str().as_encoded_bytes()).unwrap();
    let b = std::ffi::CString::new(fake.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: the child only calls async-signal-safe functions (setgid, setuid, renameat2, _exit).
    let attacker = unsafe { libc::fork() };
    assert!(attacker >= 0);
    if attacker == 0 {
        // SAFETY: the C strings outlive the loop; nothing here allocates or takes a lock.
        unsafe {
            if libc::setgid(65534) != 0 || libc::setuid(65534) != 0 {
                libc::_exit(2);
            }
            loop {
                libc::syscall(
                    libc::SYS_renameat2,
                    libc::AT_FDCWD,
                    a.as_ptr(),
                    libc::AT_FDCWD,
                    b.as_ptr(),
                    libc::RENAME_EXCHANGE,
                );
            }
        }
    }
    // Killed and reaped whatever happens below, a failed assertion included.
    struct Reap(libc::pid_t);
    impl Drop for Reap {
        fn drop(&mut self) {
            // SAFETY: the pid is our own forked child; a null status pointer is allowed.
            unsafe {
                libc::kill(self.0, libc::SIGKILL);
                libc::waitpid(self.0, std::ptr::null_mut(), 0);
            }
        }
    }
    let attacker = Reap(attacker);
    let started = std::time::Instant::now();
    let mut launches = 0;
    let mut pwned = 0;
    let mut first: Option<String> = None;
    while launches < 100 && started.elapsed() < std::time::Duration::from_secs(20) {
        let run = app.command().env("XDG_CACHE_HOME", &cache).run();
        launches += 1;
        // Safe outcomes: the program ran in the victim's venv, or the launcher refused cleanly.
        let ran_ours = run.code() == Some(0)
            && run
                .stdout()
                .lines()
                .last()
                .is_some_and(|l| l.contains("hello from greet"));
        let refused = run.code() != Some(0)
            && run.stdout().is_empty()
            && run.stderr().starts_with("py-launcher: ")
            && run.stderr().lines().count() == 1;
        if !ran_ours && !refused {
            pwned += 1;
            first.get_or_insert_with(|| run.to_string());
        }
    }
    drop(attacker);
    assert_eq!(
        pwned,
        0,
        "{pwned} of {launches} launches ran the other user's code; the first:\n{}",
        first.unwrap_or_default()
    );
}

#[test]
fn every_kind_of_venv_damage_is_detected_and_rebuilt() {
    let app = App::hello();
    app.finalize();
    let venv = venv_dir(app.command());
    let site = venv.join("lib/python3.11/site-packages");
    type Damage = fn(&Path, &Path);
    let damages: [(&str, Damage); 10] = [
        ("pyvenv.cfg missing", |v, _| {
            fs::remove_file(v.join("pyvenv.cfg")).unwrap()
        }),
        ("pyvenv.cfg empty", |v, _| {
            fs::write(v.join("pyvenv.cfg"), "").unwrap()
        }),
        (".pth missing", |_, s| {
            fs::remove_file(s.join("_py_launcher.pth")).unwrap()
        }),
        (".pth empty", |_, s| {
            fs::write(s.join("_py_launcher.pth"), "").unwrap()
        }),
        ("module missing", |_, s| {
            fs::remove_file(s.join("bazel_build_info.py")).unwrap()
        }),
        ("module emptied", |_, s| {
            fs::write(s.join("bazel_binary_info.py"), "").unwrap()
        }),
        ("alias link missing", |v, _| {
            fs::remove_file(v.join("bin/python3")).unwrap()
        }),
        ("interpreter link missing", |v, _| {
            fs::remove_file(v.join("bin/python3.11")).unwrap()
        }),
        ("interpreter link pointing elsewhere", |v, _| {
            fs::remove_file(v.join("bin/python3.11")).unwrap();
            std::os::unix::fs::symlink("/bin/false", v.join("bin/python3.11")).unwrap()
        }),
        ("alias link replaced by a file", |v, _| {
            fs::remove_file(v.join("bin/python")).unwrap();
            fs::write(v.join("bin/python"), "").unwrap()
        }),
    ];
    for (what, damage) in damages {
        damage(&venv, &site);
        let run = app.command().env("PY_LAUNCHER_DEBUG", "1").run().ok();
        assert!(
            run.stderr().contains("is damaged or was changed"),
            "{what} not noticed\n{run}"
        );
        assert_eq!(run.report()["greeting"], "hello from greet", "{what}");
        assert_ne!(
            run.report()["prefix"],
            run.report()["base_prefix"],
            "{what}"
        );
        let warm = app.command().env("PY_LAUNCHER_DEBUG", "1").run().ok();
        assert!(
            warm.stderr().contains("venv: reusing"),
            "{what}: not rebuilt whole\n{warm}"
        );
    }
}

#[test]
fn the_sweep_removes_only_venvs_unused_for_fourteen_days() {
    let app = App::hello();
    app.finalize();
    let ours = venv_dir(app.command());
    let record = ours.join("py-launcher-venv.txt");
    let days =
        |n: u64| std::time::SystemTime::now() - std::time::Duration::from_secs(n * 24 * 3600);
    let set_time = |path: &Path, when| fs::File::open(path).unwrap().set_modified(when).unwrap();
    let mtime = |path: &Path| fs::metadata(path).unwrap().modified().unwrap();

    // A warm launch refreshes a day-old stamp, and leaves a recent one alone (no write per launch).
    set_time(&record, days(3));
    app.command().run().ok();
    assert!(
        mtime(&record) > days(1),
        "a warm launch did not refresh a 3-day-old stamp"
    );
    let recent = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    set_time(&record, recent);
    app.command().run().ok();
    assert_eq!(mtime(&record), recent, "a warm launch wrote a fresh stamp");

    // Created 30 days ago, used 13 days ago: kept when another venv is created; unused for 15: removed.
    set_time(&ours, days(30));
    set_time(&record, days(13));
    // A second binary sharing the cache makes a new venv (and sweeps).
    let mut app2 = App::hello();
    app2.add_file("_main/pkg/other.py", "print('other')\n");
    app2.finalize();
    let shared = |cmd: Cmd| cmd.env("XDG_CACHE_HOME", app.sandbox.cache());
    shared(app2.command()).run().ok();
    assert!(ours.exists(), "a venv used 13 days ago was swept");
    set_time(&record, days(15));
    let mut app3 = App::hello();
    app3.add_file("_main/pkg/third.py", "print('third')\n");
    app3.finalize();
    shared(app3.command()).run().ok();
    assert!(!ours.exists(), "a venv unused for 15 days was kept");
}

#[test]
fn under_bazel_test_the_venv_lives_in_the_tests_own_temp_dir() {
    let app = App::hello();
    app.finalize();
    let test_tmp = app.sandbox.path("test_tmpdir");
    fs::create_dir_all(&test_tmp).unwrap();
    let dir = venv_dir(app.command().env("TEST_TMPDIR", &test_tmp));
    assert!(
        dir.starts_with(test_tmp.join("py-launcher")),
        "{}",
        dir.display()
    );
    let report = app
        .command()
        .env("TEST_TMPDIR", &test_tmp)
        .run()
        .ok()
        .report();
    assert_eq!(report["greeting"], "hello from greet");
    assert!(!app.sandbox.cache().join("py-launcher").exists());
    assert!(!tmp_base(&app).exists());
}

#[test]
fn creating_a_venv_is_linear_in_the_number_of_imports() {
    // The cost of making the venv is a cold launch's CPU time less a warm one's (both print the plan
    // and stop before Python, and both parse the 20,000-entry descriptor, which in this debug build of
    // the launcher dominates). CPU time, not wall time, so a loaded machine does not fail the test.
    // Quadratic creation took seconds here.
    fn children_cpu() -> std::time::Duration {
        // SAFETY: rusage is plain integers (all-zero is valid), and getrusage writes into the struct we own.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
        let micros = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
        std::time::Duration::from_micros(micros(usage.ru_utime) + micros(usage.ru_stime))
    }
    fn creation_cost(app: &App) -> std::time::Duration {
        let timed = || {
            let before = children_cpu();
            let plan = app.command().plan();
            (
                children_cpu() - before,
                plan["venv"]["created"].as_bool().unwrap(),
            )
        };
        let (cold, created) = timed();
        assert!(created);
        let (warm, created) = timed();
        assert!(!created);
        cold.saturating_sub(warm)
    }
    let imports: Vec<String> = (0..20_000).map(|i| format!("_main/pkg/lib{i}")).collect();
    let mut app = App::hello();
    app.set("imports", serde_json::json!(imports));
    app.finalize();
    let took = creation_cost(&app);
    assert!(
        took < std::time::Duration::from_millis(500),
        "20,000 imports: {took:?}"
    );
    // Manifest-only runfiles: each import's real directories come from the manifest's lines.
    let mut app = App::hello();
    app.set("imports", serde_json::json!(imports));
    for i in 0..5_000 {
        let real = app.sandbox.path(&format!("src/lib{i}/m.py"));
        app.entries.insert(format!("_main/pkg/lib{i}/m.py"), real);
    }
    app.finalize();
    app.make_manifest_only();
    let took = creation_cost(&app);
    assert!(
        took < std::time::Duration::from_millis(500),
        "manifest mode: {took:?}"
    );
}

#[test]
fn stale_entries_are_swept_when_a_venv_is_created() {
    let app = App::hello();
    app.finalize();
    let base = app.sandbox.cache().join("py-launcher");
    fs::create_dir_all(&base).unwrap();
    fs::set_permissions(&base, fs::Permissions::from_mode(0o700)).unwrap();
    // A venv untouched for 30 days, a temp dir of a dead process, and a fresh venv to keep.
    let old = base.join("venv-00000000000000aa");
    let fresh = base.join("venv-00000000000000bb");
    let dead_temp = base.join(".tmp-venv-00000000000000cc-999999999");
    for dir in [&old, &fresh, &dead_temp] {
        fs::create_dir_all(dir.join("bin")).unwrap();
    }
    let month_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(30 * 24 * 3600);
    fs::File::open(&old)
        .unwrap()
        .set_modified(month_ago)
        .unwrap();
    app.command().run().ok();
    assert!(!old.exists(), "stale venv kept");
    assert!(!dead_temp.exists(), "dead process's temp dir kept");
    assert!(fresh.exists(), "fresh venv removed");
    // A warm launch never sweeps: recreate the stale one and launch again.
    fs::create_dir_all(&old).unwrap();
    fs::File::open(&old)
        .unwrap()
        .set_modified(month_ago)
        .unwrap();
    app.command().run().ok();
    assert!(old.exists(), "a warm launch swept the cache");
}

#[test]
fn a_relative_runfiles_root_is_made_absolute_or_refused() {
    use std::os::unix::process::CommandExt;
    // RUNFILES_DIR relative to the working directory: made absolute, the imports work.
    let app = App::hello();
    app.finalize();
    let run = app
        .command()
        .current_dir(app.sandbox.root())
        .env("RUNFILES_DIR", "bin/app.runfiles")
        .run()
        .ok();
    let report = run.report();
    assert_eq!(report["greeting"], "hello from greet", "{run}");
    assert_eq!(
        report["env"]["RUNFILES_DIR"],
        app.runfiles().to_str().unwrap()
    );

    // Started by a relative path from a working directory that getcwd cannot report (longer than
    // PATH_MAX, below directories the user may enter but not list): a clear error, not an import
    // path that silently lost its entries.
    if euid() != 0 {
        eprintln!("skipped: needs root to run the launcher as another user");
        return;
    }
    fs::set_permissions(app.sandbox.root(), fs::Permissions::from_mode(0o711)).unwrap();
    let deep = app.sandbox.path("deep");
    fs::create_dir_all(&deep).unwrap();
    fs::set_permissions(&deep, fs::Permissions::from_mode(0o711)).unwrap();
    let name = std::ffi::CString::new("d".repeat(200)).unwrap();
    let levels = 25;
    let c = |p: &Path| std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a NUL-terminated path that outlives the call.
    let mut fd = unsafe { libc::open(c(&deep).as_ptr(), libc::O_DIRECTORY | libc::O_RDONLY) };
    for _ in 0..levels {
        // SAFETY: `fd` is a directory descriptor we own; `name` outlives the calls.
        unsafe {
            assert_eq!(libc::mkdirat(fd, name.as_ptr(), 0o711), 0);
            assert_eq!(libc::fchmodat(fd, name.as_ptr(), 0o711, 0), 0);
            let next = libc::openat(fd, name.as_ptr(), libc::O_DIRECTORY | libc::O_RDONLY);
            libc::close(fd);
            fd = next;
        }
    }
    for (link, target) in [("app", app.bin()), ("app.runfiles", app.runfiles())] {
        let link = std::ffi::CString::new(link).unwrap();
        assert_eq!(
            // SAFETY: NUL-terminated strings that outlive the call; `fd` is ours.
            unsafe { libc::symlinkat(c(&target).as_ptr(), fd, link.as_ptr()) },
            0
        );
    }
    // SAFETY: `fd` is ours and closed once.
    unsafe { libc::close(fd) };
    let theirs = app.sandbox.path("nobody");
    fs::create_dir_all(&theirs).unwrap();
    std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).unwrap();
    let mut cmd = app
        .sandbox
        .command("./app")
        .env("HOME", &theirs)
        .env("XDG_CACHE_HOME", &theirs)
        .env("TMPDIR", &theirs);
    let deep_c = c(&deep);
    // SAFETY: chdir(2), setgid(2) and setuid(2) are async-signal-safe.
    unsafe {
        cmd.command.pre_exec(move || {
            let fail = || Err(std::io::Error::last_os_error());
            if libc::chdir(deep_c.as_ptr()) != 0 {
                return fail();
            }
            for _ in 0..levels {
                if libc::chdir(name.as_ptr()) != 0 {
                    return fail();
                }
            }
            if libc::setgid(65534) != 0 || libc::setuid(65534) != 0 {
                return fail();
            }
            Ok(())
        });
    }
    cmd.run().fails(
        66,
        "were found by a relative path, and the working directory cannot be learnt",
    );
}

#[test]
fn a_runfiles_root_that_cannot_be_an_import_path_line_is_a_clear_error() {
    use std::os::unix::ffi::OsStrExt;
    for bad in [&b"we\nird"[..], b"we\rird", b"we\xffird"] {
        let app = App::hello();
        app.finalize();
        let dir = app.sandbox.root().join(std::ffi::OsStr::from_bytes(bad));
        symlink(app.sandbox.path("bin"), &dir).unwrap();
        app.sandbox
            .command(dir.join("app"))
            .run()
            .fails(66, "cannot go on the import path");
    }
}
