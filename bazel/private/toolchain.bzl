"""py_launcher_toolchain: the launcher for a target platform plus the finalize tool for the exec platform."""

load(":providers.bzl", "PyLauncherToolchainInfo")

def _py_launcher_toolchain_impl(ctx):
    version = ctx.attr.python_version
    if version:
        parts = version.split(".")
        if len(parts) != 2 or not parts[0].isdigit() or not parts[1].isdigit():
            fail("%s: python_version must be \"X.Y\" (major.minor), got %r" % (ctx.label, version))
    info = PyLauncherToolchainInfo(
        launcher = ctx.file.launcher,
        finalizer = ctx.attr.finalizer[DefaultInfo].files_to_run,
        python_version = version,
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
        "python_version": attr.string(
            doc = "Default Python \"X.Y\" for binaries whose Python runtime does not declare its version " +
                  "(Bazel 4-7's built-in PyRuntimeInfo only says \"PY3\"). It names the build-time venv's " +
                  "lib/pythonX.Y and goes into the descriptor. Empty: the launcher finds the version at run " +
                  "time and no build-time venv is made.",
            default = "",
        ),
    },
)
