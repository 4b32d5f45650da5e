"""The venv layout: the one description the rules write the build-time venv from and the launcher's run-time
venv is checked against (docs/layout.md is its prose).

Readers: bazel/private/shared.bzl (the rules' VENV_* names and venv_* functions come from it);
src/venv/layout.rs (its unit test checks the launcher's constants and pyvenv.cfg against it);
tests/common/layout.rs (the tests' hand-made build-time venv is made from it); tests/bazel_mirror.rs (a real
Bazel-built build-time venv and a real launcher-built run-time venv must both match it).

Paths are relative to the venv's root, with "/" between segments.
  - "site_packages": the site-packages directory; {version} is "X.Y", or "X.Yt" for a free-threaded
    runtime (its own ABI, and where CPython's site looks).
  - "pth": the file in site-packages that puts the binary's import directories on sys.path.
  - "config_line": one line of "config" (pyvenv.cfg). Each venv kind writes its "config" pairs [key, value]
    in this order. In a value, {home} is the interpreter's directory, {system_site_packages} "true" or
    "false" (the descriptor's system_site_packages), {version} "X.Y" or "X.Yt"; a pair whose placeholder
    has no value is left out (the build-time "home" of an in-build runtime, known only at run time).
  - "build_time": the venv the rules make in the runfiles. Its python is "python"; its .pth lines are
    "relative": each import directory's runfiles path behind one "../" per segment of the site-packages
    directory's own runfiles path, so the line names the same directory wherever the runfiles tree is.
    After those lines comes "base_executable", the one `import sys...` line that sets sys._base_executable
    (docs/layout.md): "platform" names the interpreter ({interpreter}: its absolute path as a JSON string),
    "in_build" resolves the venv's python link. Python compiles and runs it on every start (about 0.16M
    instructions, measured by scripts/bench).
  - "run_time": the venv the launcher makes in its cache. Its python is "bin/<the interpreter's file name>",
    a link to the interpreter, with "aliases" beside it linking to that name (an alias equal to the name is
    not made twice); its .pth lines are "absolute" directories; "record" is the cache's record of it. When
    the descriptor's venv policy links it to a build-time venv (the drop-in route), its "config" and "lib"
    are links to that venv's, and it writes neither.
"""

# Rust reads everything after `VENV_LAYOUT = ` as JSON: keep the value JSON (double quotes, no trailing
# commas, no comments inside).
VENV_LAYOUT = {
    "bin": "bin",
    "config": "pyvenv.cfg",
    "config_line": "{key} = {value}\n",
    "lib": "lib",
    "site_packages": "lib/python{version}/site-packages",
    "pth": "_py_launcher.pth",
    "modules": ["bazel_build_info.py", "bazel_binary_info.py"],
    "build_time": {
        "python": "bin/python3",
        "config": [["home", "{home}"], ["include-system-site-packages", "false"]],
        "pth_lines": "relative",
        "base_executable": {
            "platform": "import sys; sys._base_executable = {interpreter}",
            "in_build": "import sys, os; sys._base_executable = os.path.realpath(sys.executable) if sys._base_executable == sys.executable else sys._base_executable"
        }
    },
    "run_time": {
        "aliases": ["python3", "python"],
        "config": [
            ["home", "{home}"],
            ["include-system-site-packages", "{system_site_packages}"],
            ["version", "{version}"]
        ],
        "pth_lines": "absolute",
        "record": "py-launcher-venv.txt"
    }
}
