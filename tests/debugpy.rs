//! The one-step debugpy mode (`PY_LAUNCHER_DEBUGPY`, docs/debugging.md), driven by a minimal Debug
//! Adapter Protocol client: it attaches to the port, sets a breakpoint in a library module of the
//! program, sees it hit, and checks that the program ran with the same `sys.path` as a normal launch.
//! debugpy is the pinned wheel from PyPI (`tests/deps.txt`). Every wait is bounded.

mod common;

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

/// How long the whole debugging session may take (a cold start compiles debugpy's bytecode).
const SESSION: Duration = Duration::from_secs(120);

fn debugpy_dir() -> PathBuf {
    let dir = unpacked_wheel("debugpy");
    assert!(
        dir.join("debugpy/__main__.py").is_file(),
        "the debugpy wheel has no debugpy/__main__.py: {}",
        dir.display()
    );
    dir
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The program and everything it started (debugpy's adapter is a child of the program): killed as a
/// group when the test ends, however it ends.
struct Group(Child);

impl Drop for Group {
    fn drop(&mut self) {
        // SAFETY: signals the process group this test created for the program (pgid = its pid).
        unsafe { libc::killpg(self.0.id() as i32, libc::SIGKILL) };
        let _ = self.0.wait();
    }
}

/// A Debug Adapter Protocol client: `Content-Length` framed JSON over TCP.
struct Dap {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
    seq: u64,
    deadline: Instant,
    /// Messages received but not yet asked for.
    pending: VecDeque<Value>,
    /// Everything received, for failure messages.
    log: Vec<String>,
}

impl Dap {
    fn connect(port: u16, deadline: Instant, child: &mut Child) -> Dap {
        loop {
            let addr = (Ipv4Addr::LOCALHOST, port).into();
            if let Ok(stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) {
                let reader = BufReader::new(stream.try_clone().unwrap());
                return Dap {
                    stream,
                    reader,
                    seq: 0,
                    deadline,
                    pending: VecDeque::new(),
                    log: Vec::new(),
                };
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!("the program ended ({status}) before debugpy listened on {port}");
            }
            assert!(
                Instant::now() < deadline,
                "debugpy never listened on port {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn send(&mut self, command: &str, arguments: Value) -> u64 {
        self.seq += 1;
        let body =
            json!({"seq": self.seq, "type": "request", "command": command, "arguments": arguments})
                .to_string();
        write!(self.stream, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stream.flush().unwrap();
        self.seq
    }

    fn receive(&mut self) -> Value {
        let remaining = self.deadline.saturating_duration_since(Instant::now());
        assert!(
            !remaining.is_zero(),
            "timed out; received so far:\n{}",
            self.log.join("\n")
        );
        self.stream.set_read_timeout(Some(remaining)).unwrap();
        let mut length = None;
        loop {
            let mut line = String::new();
            let read = self.reader.read_line(&mut line);
            match read {
                Ok(0) => panic!(
                    "debugpy closed the connection; received:\n{}",
                    self.log.join("\n")
                ),
                Ok(_) => {}
                Err(e) => panic!(
                    "reading from debugpy: {e}; received:\n{}",
                    self.log.join("\n")
                ),
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(n) = line.strip_prefix("Content-Length:") {
                length = Some(n.trim().parse::<usize>().unwrap());
            }
        }
        let mut body = vec![0; length.expect("a Content-Length header")];
        self.reader.read_exact(&mut body).unwrap();
        let message: Value = serde_json::from_slice(&body).unwrap();
        self.log.push(message.to_string());
        message
    }

    /// The first message (already received or not) that `wanted` accepts.
    fn wait(&mut self, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.pending.iter().position(&wanted) {
            return self.pending.remove(i).unwrap();
        }
        loop {
            let message = self.receive();
            if wanted(&message) {
                return message;
            }
            self.pending.push_back(message);
            assert!(
                Instant::now() < self.deadline,
                "timed out waiting for {what}; received:\n{}",
                self.log.join("\n")
            );
        }
    }

    fn event(&mut self, name: &str) -> Value {
        self.wait(&format!("the {name} event"), |m| {
            m["type"] == "event" && m["event"] == name
        })
    }

    fn response(&mut self, seq: u64) -> Value {
        let response = self.wait(&format!("the response to request {seq}"), |m| {
            m["type"] == "response" && m["request_seq"] == seq
        });
        assert_eq!(
            response["success"],
            true,
            "request failed: {response}\nreceived:\n{}",
            self.log.join("\n")
        );
        response
    }

    fn request(&mut self, command: &str, arguments: Value) -> Value {
        let seq = self.send(command, arguments);
        self.response(seq)
    }
}

/// Reads a pipe to its end on a thread, so the program never blocks on a full pipe.
fn drain(pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = BufReader::new(pipe).read_to_string(&mut text);
        text
    })
}

fn wait_for_exit(child: &mut Child, deadline: Instant) -> std::process::ExitStatus {
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "the program did not end");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_breakpoint_in_a_library_module_is_hit_with_the_normal_sys_path() {
    let debugpy = debugpy_dir();
    let app = App::hello();
    app.finalize();
    let normal = app.command().run().ok().report();
    let library = app.runfiles().join("_main/pkg/lib/greet/__init__.py");
    assert_eq!(
        std::fs::read_to_string(&library).unwrap().lines().nth(1),
        Some("    return 'hello from greet'"),
        "the breakpoint line"
    );

    let port = free_port();
    let mut cmd = app
        .command()
        .env("PY_LAUNCHER_DEBUGPY", format!("127.0.0.1:{port}"))
        .env("PY_LAUNCHER_DEBUGPY_PATH", &debugpy)
        .arg("under the debugger");
    cmd.command.process_group(0);
    let mut group = Group(cmd.spawn());
    let stdout = drain(group.0.stdout.take().unwrap());
    let stderr = drain(group.0.stderr.take().unwrap());
    let deadline = Instant::now() + SESSION;

    let mut dap = Dap::connect(port, deadline, &mut group.0);
    dap.request(
        "initialize",
        json!({"clientID": "py-launcher-test", "adapterID": "debugpy", "pathFormat": "path",
               "linesStartAt1": true, "columnsStartAt1": true}),
    );
    // debugpy answers `attach` only after the configuration is done.
    // As an IDE does it: the breakpoint is set in the source tree, which the runfiles link to.
    let source_root = app.sandbox.path("src/_main");
    let source = source_root.join("pkg/lib/greet/__init__.py");
    let mapping = json!([{"localRoot": source_root, "remoteRoot": app.runfiles().join("_main")}]);
    let attach = dap.send(
        "attach",
        json!({"justMyCode": false, "pathMappings": mapping}),
    );
    dap.event("initialized");
    let set = dap.request(
        "setBreakpoints",
        json!({"source": {"path": source}, "breakpoints": [{"line": 2}]}),
    );
    assert_eq!(set["body"]["breakpoints"][0]["verified"], true, "{set}");
    dap.request("configurationDone", json!({}));
    dap.response(attach);

    let stopped = dap.event("stopped");
    assert_eq!(stopped["body"]["reason"], "breakpoint", "{stopped}");
    let thread = stopped["body"]["threadId"].clone();
    let trace = dap.request("stackTrace", json!({"threadId": thread, "levels": 1}));
    let frame = &trace["body"]["stackFrames"][0];
    assert_eq!(frame["name"], "hello", "{trace}");
    assert_eq!(frame["line"], 2, "{trace}");
    assert_eq!(
        Path::new(frame["source"]["path"].as_str().unwrap()),
        source,
        "{trace}"
    );
    dap.request("continue", json!({"threadId": thread}));
    dap.event("terminated");
    drop(dap);

    let status = wait_for_exit(&mut group.0, deadline);
    drop(group);
    let (stdout, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
    assert!(status.success(), "{status}\n{stdout}\n{stderr}");
    let report: Value = serde_json::from_str(stdout.lines().last().unwrap_or(""))
        .unwrap_or_else(|e| panic!("no report ({e})\n{stdout}\n{stderr}"));
    assert_eq!(report["greeting"], "hello from greet");
    assert_eq!(report["argv"][1], "under the debugger");
    assert_eq!(
        report["path"], normal["path"],
        "sys.path differs from a normal launch"
    );
    assert_eq!(report["executable"], normal["executable"]);
    assert!(
        report["env"].get("PY_LAUNCHER_DEBUGPY").is_none(),
        "a program's own py-launcher children must not listen too"
    );
}

#[test]
fn the_plan_shows_where_debugpy_goes_in_argv() {
    let debugpy = debugpy_dir();
    let app = App::hello();
    app.finalize();
    let plan = app
        .command()
        .env("PY_LAUNCHER_DEBUGPY", "5678")
        .env("PY_LAUNCHER_DEBUGPY_PATH", &debugpy)
        .env("PY_LAUNCHER_INTERPRETER_ARGS", "-X dev")
        .arg("one")
        .plan();
    let package = debugpy.join("debugpy").to_str().unwrap().to_owned();
    let main = app.runfiles().join("_main/pkg/main.py");
    assert_eq!(strs(&plan["interpreter_args"]), ["-X", "dev"]);
    assert_eq!(
        strs(&plan["debugger_args"]),
        [
            "-X",
            "frozen_modules=off",
            &package,
            "--listen",
            "5678",
            "--wait-for-client"
        ]
    );
    let argv = strs(&plan["argv"]);
    assert_eq!(argv[9], main.to_str().unwrap());
    assert_eq!(plan["user_args_index"], 10);
    assert_eq!(argv[10..], ["one"]);

    // Without a path, debugpy comes from the program's own import path (a dev dependency).
    let mut app = App::hello();
    app.remove("main");
    app.set("main_module", json!("greet"));
    app.finalize();
    let plan = app
        .command()
        .env("PY_LAUNCHER_DEBUGPY", "localhost:5678")
        .plan();
    assert_eq!(
        strs(&plan["argv"])[1..],
        [
            "-X",
            "frozen_modules=off",
            "-m",
            "debugpy",
            "--listen",
            "localhost:5678",
            "--wait-for-client",
            "-m",
            "greet"
        ]
    );
    assert_eq!(plan["user_args_index"], 10);
}

#[test]
fn bad_debugpy_settings_are_usage_errors() {
    let app = App::hello();
    app.finalize();
    for listen in ["host:", ":5678", "5678x", "70000"] {
        app.command()
            .env("PY_LAUNCHER_DEBUGPY", listen)
            .run()
            .fails(64, "PY_LAUNCHER_DEBUGPY must be [HOST:]PORT");
    }
    let empty = app.sandbox.path("no-debugpy");
    std::fs::create_dir_all(&empty).unwrap();
    app.command()
        .env("PY_LAUNCHER_DEBUGPY", "5678")
        .env("PY_LAUNCHER_DEBUGPY_PATH", &empty)
        .run()
        .fails(64, "holds no debugpy package");
}
