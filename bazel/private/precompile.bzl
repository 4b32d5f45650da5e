"""Bytecode precompilation: unchecked-hash `.pyc` files built by actions (docs/bazel.md, "Bytecode").

`precompile_aspect` walks a binary's deps and data. For each py_library it runs one action per `.py` source
(mnemonic PyLauncherPrecompile): the Python toolchain's interpreter itself, no shell, runs precompile.py,
which calls py_compile with `--invalidation-mode unchecked-hash` (runfiles mtimes mean nothing). The output
is declared in the library's own package at `<dir>/__pycache__/<module>.<cache tag>.pyc`, so its runfiles
path is exactly where CPython looks beside the source: no symlink, no copy. The action belongs to the library
(one per source, whatever the number of binaries using it), so local, disk and remote caches share it.

Not compiled: a binary's own srcs (its main file is never read from a .pyc anyway), sources of PyInfo rules
other than py_library, and a source outside its library's package (its __pycache__ would be in another
package). A source in two py_library targets of one package yields two identical actions for one output,
which Bazel shares. The binary decides whether the files join its runfiles (`precompile`); the launcher toolchain's
`precompile = False` turns the actions off everywhere.
"""

load(":providers.bzl", "PyLauncherInfo")
load(":py_providers.bzl", "PY_TOOLCHAIN_TYPE", "py3_runtime")
load(":shared.bzl", "parse_python_version", "runfiles_path")

_LAUNCHER_TOOLCHAIN_TYPE = str(Label("//bazel:toolchain_type"))

PycInfo = provider(
    doc = "The precompiled .pyc files of a target and its deps/data, split like PyLauncherInfo.",
    fields = {
        "app": "depset: .pyc files of main-repository libraries.",
        "third_party": "depset: .pyc files of external repositories' libraries.",
        "own": "list: the .pyc files of this target's own sources (py_launcher_image_layers' shared layers).",
    },
)

_PrecompileRuntimeInfo = provider(
    doc = "How to run the compiler: from precompile_runtime, read by precompile_aspect.",
    fields = {
        "enabled": "bool: the launcher toolchain allows precompiling and the Python version is known.",
        "cache_tag": "string: sys.implementation.cache_tag of the runtime, e.g. \"cpython-311\".",
        "executable": "string (platform runtime: the absolute interpreter path) or File (in-build runtime).",
        "inputs": "depset: the in-build runtime's files (empty for a platform runtime).",
    },
)

def _precompile_runtime_impl(ctx):
    runtime = py3_runtime(ctx)
    launcher_tc = ctx.toolchains[_LAUNCHER_TOOLCHAIN_TYPE].py_launcher
    version = runtime.python_version or launcher_tc.python_version or ""
    parts = version.split(".")
    parsed = parse_python_version(".".join(parts[:2])) if len(parts) >= 2 else None
    enabled = parsed != None and launcher_tc.precompile
    tag = ""
    if parsed != None:
        # sys.implementation.cache_tag: "cpython-311", "cpython-313t" for a free-threaded build.
        tag = "cpython-%d%d%s" % (parsed.major, parsed.minor, "t" if parsed.free_threaded else "")
    if runtime.interpreter_path:
        executable, inputs = runtime.interpreter_path, depset()
    else:
        executable, inputs = runtime.interpreter, depset([runtime.interpreter], transitive = [runtime.files])
    return [_PrecompileRuntimeInfo(enabled = enabled, cache_tag = tag, executable = executable, inputs = inputs)]

precompile_runtime = rule(
    implementation = _precompile_runtime_impl,
    toolchains = [PY_TOOLCHAIN_TYPE, _LAUNCHER_TOOLCHAIN_TYPE],
    doc = "The resolved Python and launcher toolchains, as precompile_aspect needs them (aspects on Bazel 4 " +
          "cannot resolve toolchains themselves).",
)

def _children(rule_attr):
    infos = []
    for name in ("deps", "data"):
        value = getattr(rule_attr, name, None)
        if type(value) != "list":
            continue
        for dep in value:
            if PycInfo in dep:
                infos.append(dep[PycInfo])
    return infos

def _package_prefix(label):
    """The short_path prefix of files in the package of `label`."""
    prefix = "../%s/" % label.workspace_name if label.workspace_name else ""
    if label.package:
        prefix += label.package + "/"
    return prefix

def _compile(ctx, target, rt):
    prefix = _package_prefix(target.label)
    compiler = ctx.file._precompiler
    pycs = []
    for src in getattr(ctx.rule.files, "srcs", []):
        if src.extension != "py" or not src.short_path.startswith(prefix):
            continue
        rel = src.short_path[len(prefix):]
        directory, _, base = rel.rpartition("/")
        name = "%s__pycache__/%s.%s.pyc" % (directory + "/" if directory else "", base[:-len(".py")], rt.cache_tag)
        pyc = ctx.actions.declare_file(name)
        ctx.actions.run(
            executable = rt.executable,
            # -I: no user site, no PYTHON* variables; -B: write no bytecode of our own; -S: no site.
            arguments = ["-I", "-B", "-S", compiler.path, rt.cache_tag, src.path, pyc.path, runfiles_path(ctx, src)],
            inputs = depset([compiler, src], transitive = [rt.inputs]),
            outputs = [pyc],
            mnemonic = "PyLauncherPrecompile",
            progress_message = "Precompiling %s" % src.short_path,
        )
        pycs.append(pyc)
    return pycs

def _precompile_aspect_impl(target, ctx):
    if PyLauncherInfo in target:
        # A launcher binary in data: its own .pyc files are already in its PyLauncherInfo groups.
        return [PycInfo(app = depset(), third_party = depset(), own = [])]
    children = _children(ctx.rule.attr)
    pycs = []
    rt = ctx.attr._precompile_runtime[_PrecompileRuntimeInfo]
    if rt.enabled and ctx.rule.kind == "py_library":
        pycs = _compile(ctx, target, rt)
    external = bool(target.label.workspace_name)
    return [PycInfo(
        app = depset([] if external else pycs, transitive = [c.app for c in children]),
        third_party = depset(pycs if external else [], transitive = [c.third_party for c in children]),
        own = pycs,
    )]

precompile_aspect = aspect(
    implementation = _precompile_aspect_impl,
    attr_aspects = ["deps", "data"],
    provides = [PycInfo],
    attrs = {
        "_precompile_runtime": attr.label(default = Label("//bazel/private:precompile_runtime")),
        "_precompiler": attr.label(default = Label("//bazel/private:precompile.py"), allow_single_file = True),
    },
    doc = "Precompiles the sources of every py_library among a binary's deps and data (see the module doc).",
)
