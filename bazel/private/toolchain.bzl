"""py_launcher_toolchain: the launcher for a target platform plus the finalize tool for the exec platform."""

load(":providers.bzl", "PyLauncherToolchainInfo")
load(":shared.bzl", "join_runfiles_path", "parse_python_version")

def _coverage_tool(ctx):
    """The runfiles path of the directory holding coverage.py's `coverage` package, and the tool's runfiles."""
    tool = ctx.attr.coverage_tool
    if not tool:
        return None, None
    default = tool[DefaultInfo]

    # Once per toolchain, not per binary: the tool's file list is short (one package).
    for f in depset(transitive = [default.files, default.default_runfiles.files]).to_list():
        if f.basename == "__init__.py" and ("/" + f.dirname).endswith("/coverage"):
            short = join_runfiles_path(ctx.workspace_name, f.short_path)
            package_parent = short[:-len("/coverage/__init__.py")]
            runfiles = ctx.runfiles(transitive_files = default.files).merge(default.default_runfiles)
            return package_parent, runfiles
    fail("%s: coverage_tool %s provides no coverage/__init__.py (it must be a target providing coverage.py, " % (ctx.label, tool.label) +
         "e.g. a py_library of the unpacked coverage wheel)")

def _py_launcher_toolchain_impl(ctx):
    version = ctx.attr.python_version
    if version:
        if not parse_python_version(version):
            fail("%s: python_version must be \"X.Y\" (major.minor) or \"X.Yt\" (free-threaded), got %r" % (ctx.label, version))
    coverage_path, coverage_runfiles = _coverage_tool(ctx)
    info = PyLauncherToolchainInfo(
        launcher = ctx.file.launcher,
        finalizer = ctx.attr.finalizer[DefaultInfo].files_to_run,
        python_version = version,
        coverage_tool = coverage_path,
        coverage_runfiles = coverage_runfiles,
        precompile = ctx.attr.precompile,
    )
    return [platform_common.ToolchainInfo(py_launcher = info)]

py_launcher_toolchain = rule(
    implementation = _py_launcher_toolchain_impl,
    doc = """Declares the py-launcher executable for one target platform and the finalize tool that stamps a
launch descriptor onto it. Wrap it in a `toolchain(toolchain_type = "@py_launcher//bazel:toolchain_type")`
and register it.""",
    attrs = {
        "launcher": attr.label(
            doc = "The `py-launcher` executable for the target platform (a prebuilt file or a rule's output).",
            allow_single_file = True,
            mandatory = True,
            cfg = "target",
        ),
        "finalizer": attr.label(
            doc = "The `py-launcher-finalize` tool; built for (or prebuilt for) the execution platform.",
            executable = True,
            allow_files = True,
            mandatory = True,
            cfg = "exec",
        ),
        "coverage_tool": attr.label(
            doc = "A target providing coverage.py (its files or runfiles hold `coverage/__init__.py`, e.g. a " +
                  "py_library of the unpacked coverage wheel). Used by `bazel coverage` only: a test run " +
                  "with COVERAGE_DIR set runs under it (docs/coverage.md). Empty: no coverage data.",
            cfg = "target",
        ),
        "python_version": attr.string(
            doc = "Default Python \"X.Y\" (\"X.Yt\" for a free-threaded build) for binaries whose Python runtime does not declare its version " +
                  "(Bazel 4-7's built-in PyRuntimeInfo only says \"PY3\"). It names the build-time venv's " +
                  "lib/pythonX.Y and goes into the descriptor. Empty: the launcher finds the version at run " +
                  "time and no build-time venv is made.",
            default = "",
        ),
        "precompile": attr.bool(
            doc = "Build unchecked-hash .pyc files for the py_library sources of binaries whose `precompile` " +
                  "is True (docs/bazel.md, \"Bytecode\"). False: no binary gets any, whatever it says. Needs a " +
                  "known Python version (the runtime's or `python_version`) and a runtime that can run on the " +
                  "execution platform.",
            default = True,
        ),
    },
)
