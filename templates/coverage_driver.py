"""py-launcher's coverage driver: runs the program under coverage.py and writes lcov for Bazel.

The launcher runs it (as ``python -c``, so no file of ours is ever measured) only when the test runner
asked for coverage (``COVERAGE_DIR`` is set) and the toolchain names a coverage tool:

    python [interpreter args] -c <this> TOOL_DIR WORKSPACE (file|module) MAIN [ARGS...]

TOOL_DIR is the absolute directory holding the ``coverage`` package, WORKSPACE the main repository's
runfiles name, MAIN the absolute main file or a module name. Only the files Bazel lists in
``COVERAGE_MANIFEST`` (exec-root paths such as ``pkg/lib.py``) are measured, so neither the standard
library nor the tool itself can show up. The report is lcov in ``$COVERAGE_DIR/py_launcher_<pid>_<n>.dat``,
every ``SF:`` line being the manifest's exec-root path, where Bazel's coverage merger picks it up.
The program's exit status (and its exception, if any) is unchanged.
"""

import os
import sys


def _runfiles_lookup():
    """A function from a runfiles path to a path on disk (or None), for either runfiles mode."""
    directory = os.environ.get("RUNFILES_DIR")
    if directory:
        return lambda key: os.path.join(directory, key)
    manifest = os.environ.get("RUNFILES_MANIFEST_FILE")
    entries = {}
    if manifest:
        with open(manifest, "rb") as f:
            for line in f.read().decode("utf-8", "surrogateescape").splitlines():
                key, _, target = line.partition(" ")
                if key and target and not line.startswith(" "):
                    entries[key] = target
    return entries.get


def _instrumented(workspace):
    """Real path of each instrumented Python file -> its exec-root path from COVERAGE_MANIFEST."""
    manifest = os.environ.get("COVERAGE_MANIFEST")
    if not manifest:
        return {}
    with open(manifest, "rb") as f:
        lines = f.read().decode("utf-8", "surrogateescape").splitlines()
    runfile = _runfiles_lookup()
    exec_root = os.environ.get("ROOT")  # set by Bazel's collect_coverage.sh: the exec root
    found = {}
    for line in lines:
        path = line.strip()
        if not path.endswith(".py"):
            continue
        if path.startswith("external/"):
            key = path[len("external/"):]
        else:
            key = workspace + "/" + path
        candidates = [runfile(key)]
        if exec_root:
            candidates.append(os.path.join(exec_root, path))
        for candidate in candidates:
            if candidate and os.path.isfile(candidate):
                found.setdefault(os.path.realpath(candidate), path)
    return found


def _lcov(text, files, base):
    """coverage.py's lcov with each SF: named by its exec-root path, unlisted files dropped and the
    per-line checksums some coverage.py versions add removed (DA:line,count)."""
    out, keep = [], False
    for line in text.splitlines():
        if line.startswith("SF:"):
            name = os.path.realpath(os.path.join(base, line[3:]))
            keep = name in files
            if keep:
                out.append("SF:" + files[name])
            continue
        if not keep:
            continue
        if line.startswith("DA:"):
            line = ",".join(line.split(",")[:2])
        out.append(line)
        if line == "end_of_record":
            keep = False
    return "".join(line + "\n" for line in out)


def _main():
    tool_dir, workspace, kind, main = sys.argv[1:5]
    args = sys.argv[5:]
    if tool_dir not in sys.path:
        sys.path.append(tool_dir)
    import coverage

    files = _instrumented(workspace)
    base = os.getcwd()
    cov = coverage.Coverage(data_file=None, config_file=False, include=sorted(files) or ["<none>"])

    import runpy

    cov.start()
    try:
        sys.argv = [main] + args
        if kind == "module":
            runpy.run_module(main, run_name="__main__", alter_sys=True)
        else:
            # `python -c` put the cwd first unless safe-path is on; `python MAIN` puts MAIN's directory.
            if sys.path and sys.path[0] == "":
                sys.path[0] = os.path.dirname(os.path.realpath(main))
            runpy.run_path(main, run_name="__main__")
    finally:
        cov.stop()
        _report(cov, files, base)


def _report(cov, files, base):
    directory = os.environ.get("COVERAGE_DIR")
    if not directory or not files:
        return
    import tempfile

    fd, raw = tempfile.mkstemp(prefix="py_launcher_", suffix=".lcov.tmp", dir=directory)
    os.close(fd)
    try:
        try:
            cov.lcov_report(outfile=raw)
        except Exception as err:  # coverage.py's NoDataError: nothing instrumented ran
            if type(err).__name__ != "NoDataError":
                raise
            return
        with open(raw, encoding="utf-8", errors="surrogateescape") as f:
            text = _lcov(f.read(), files, base)
    finally:
        os.unlink(raw)
    if not text:
        return
    fd, path = tempfile.mkstemp(prefix="py_launcher_%d_" % os.getpid(), suffix=".dat", dir=directory)
    with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as f:
        f.write(text)


_main()
