"""PyLauncherInfo and the launcher toolchain's provider."""

PyLauncherInfo = provider(
    doc = """What a py_launcher_binary/py_launcher_test consists of, split for packaging.

Every field is a depset of Files and is never flattened by these rules; together they are the files of the
binary's runfiles (root symlinks included: the stamp files). An image rule maps each to its own layer:
interpreter_files and third_party_files change rarely, app_files on every commit, bootstrap_files on every
build of this binary. Root symlinks (DefaultInfo.default_runfiles.root_symlinks) place two kinds of files
elsewhere than their short_path: the stamp files (only there) and, for an in-build runtime, the interpreter
again as the venv's bin/python3.
A binary listed in another binary's `data` contributes each of its fields to the
same field of the outer binary.""",
    fields = {
        "executable": "depset: the finalized launcher (the descriptor-bearing executable) alone.",
        "bootstrap_files": "depset: the executable, the build-time venv (pyvenv.cfg, bin/python3 of a platform runtime, the .pth, the " +
                           "bazel_build_info/bazel_binary_info modules), the build-config JSON and, when stamped, " +
                           "the copies of the stamp files (root symlinks bazel_build_info/stable.txt, volatile.txt).",
        "interpreter_files": "depset: the in-build Python runtime's files (empty for a platform runtime).",
        "third_party_files": "depset: runfiles owned by external repositories (File.owner.workspace_name != \"\").",
        "app_files": "depset: runfiles owned by the main repository (first-party sources and data).",
    },
)

PyLauncherToolchainInfo = provider(
    doc = "Returned by py_launcher_toolchain inside platform_common.ToolchainInfo(py_launcher = ...).",
    fields = {
        "launcher": "File: the py-launcher executable for the target platform.",
        "finalizer": "FilesToRunProvider: py-launcher-finalize, built for the execution platform.",
        "python_version": "string: default \"X.Y\" when the Python runtime does not declare one, or \"\".",
        "coverage_tool": "string or None: runfiles path of the directory holding coverage.py's `coverage` package.",
        "coverage_runfiles": "runfiles or None: the coverage tool's files, added to binaries built with coverage.",
        "precompile": "bool: False turns bytecode precompilation off for every binary (precompile.bzl).",
    },
)
