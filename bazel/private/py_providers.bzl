"""The ONLY file that names PyInfo, PyRuntimeInfo or the Python toolchain type.

On Bazel 4 to 7 these are Bazel's built-in symbols (run here: Bazel 4.2.3 only). On Bazel 8, Bazel's
autoloading (`--incompatible_autoload_externally`) is expected to serve the names used below from rules_python,
which MODULE.bazel depends on for that reason (written for, not verified). If it does not, and on Bazel 9,
replace the two assignments below with

    load("@rules_python//python:py_info.bzl", "PyInfo")
    load("@rules_python//python:py_runtime_info.bzl", "PyRuntimeInfo")

and set PY_TOOLCHAIN_TYPE to "@rules_python//python:toolchain_type". Nothing else in bazel/ changes,
because every other file uses the helpers here and never the symbols themselves.
"""

PY_TOOLCHAIN_TYPE = "@bazel_tools//tools/python:toolchain_type"

_PY_INFO = PyInfo
_PY_RUNTIME_INFO = PyRuntimeInfo

# For `attr.label_list(providers = PY_DEPS_PROVIDERS)`.
PY_DEPS_PROVIDERS = [[_PY_INFO]]

def has_py_info(target):
    return _PY_INFO in target

def py_imports(target):
    """The depset of import directories (runfiles paths) a dependency asks for."""
    if _PY_INFO in target:
        return target[_PY_INFO].imports
    return depset()

def py_transitive_sources(target):
    if _PY_INFO in target:
        return target[_PY_INFO].transitive_sources
    return depset()

def make_py_info(transitive_sources, imports):
    """The PyInfo a binary returns, so it can be listed where Python targets are expected."""
    return _PY_INFO(transitive_sources = transitive_sources, imports = imports)

def py3_runtime(ctx):
    """Returns a struct describing the registered toolchain's `py3_runtime`, or fails.

    Fields: interpreter_path (string or None: platform runtime), interpreter (File or None: in-build
    runtime), files (depset: the in-build runtime's files, empty for a platform runtime),
    python_version (the "X.Y" the runtime declares, or None: Bazel 4's PyRuntimeInfo has only "PY3";
    rules_python's has `interpreter_version_info`).
    """
    toolchain = ctx.toolchains[PY_TOOLCHAIN_TYPE]
    runtime = getattr(toolchain, "py3_runtime", None) if toolchain else None
    if runtime == None:
        fail("%s: the Python toolchain (%s) has no py3_runtime; register a py_runtime_pair with py3_runtime set" %
             (ctx.label, PY_TOOLCHAIN_TYPE))
    if getattr(runtime, "python_version", "PY3") != "PY3":
        fail("%s: the Python toolchain's py3_runtime says python_version = %r; py-launcher runs Python 3 only" %
             (ctx.label, runtime.python_version))
    version = None
    info = getattr(runtime, "interpreter_version_info", None)
    if info != None and getattr(info, "major", None) != None and getattr(info, "minor", None) != None:
        version = "%s.%s" % (info.major, info.minor)
    files = runtime.files
    if files == None:
        files = depset()
    return struct(
        interpreter_path = runtime.interpreter_path,
        interpreter = runtime.interpreter,
        files = files,
        python_version = version,
    )
