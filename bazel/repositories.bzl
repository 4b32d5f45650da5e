"""WORKSPACE set-up of py-launcher (Bazel 4-7 without Bzlmod; Bzlmod: bazel/extensions.bzl).

    load("@py_launcher//bazel:repositories.bzl", "py_launcher_register_toolchains")

    py_launcher_register_toolchains()

registers a launcher toolchain for every platform the py_launcher archive has binaries for (bin/<triple>/),
with exec_compatible_with / target_compatible_with constraints: the launcher for the target platform, the
finalizer for the exec platform. The Python toolchain (a py_runtime_pair) is yours to register. See
docs/bazel.md.
"""

load("//bazel/private:repos.bzl", "py_launcher_toolchains_repo")

def py_launcher_register_toolchains(
        name = "py_launcher_toolchains",
        build_from_source = False,
        python_version = "",
        coverage_tool = "",
        cargo = ""):
    """Declares @<name> (the toolchains) and registers them.

    Args:
      name: the generated repository's name.
      build_from_source: build py-launcher and py-launcher-finalize for this machine with cargo
        (`cargo build --release --locked` on the archive's sources, inside the repository rule) instead of
        using a prebuilt bin/<triple>/; needed where the archive has no binaries for this platform.
      python_version: "X.Y" for Python runtimes that do not declare their version (Bazel 4-7's built-in
        py_runtime only says "PY3"): names the build-time venv's lib/pythonX.Y. Empty (default): the
        launcher finds the version at run time and makes the venv then.
      coverage_tool: the label, as a string (e.g. "@pypi_coverage//:coverage"), of a target providing
        coverage.py, for `bazel coverage` of py_launcher_test targets (docs/coverage.md). Empty
        (default): tests run as usual under `bazel coverage` and report no coverage data.
      cargo: the cargo executable to use (default: `cargo` on PATH, then $CARGO_HOME/bin, ~/.cargo/bin).
    """
    py_launcher_toolchains_repo(
        name = name,
        build_from_source = build_from_source,
        python_version = python_version,
        coverage_tool = coverage_tool,
        cargo = cargo,
    )
    native.register_toolchains("@%s//toolchains:all" % name)
