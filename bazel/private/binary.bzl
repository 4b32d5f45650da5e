"""py_launcher_binary / py_launcher_test: a py_binary whose executable is a finalized py-launcher.

Actions (none runs a shell, none declares an unresolved symlink):
  - ctx.actions.write: the descriptors, the build-config JSON, pyvenv.cfg and the .pth file;
  - ctx.actions.expand_template (no substitutions = a copy): the build-info modules;
  - ctx.actions.run(py-launcher-finalize): launcher + descriptor -> the executable, and (platform runtime)
    launcher + venv_python descriptor -> the venv's bin/python3;
  - the deps' .pyc files come from precompile_aspect (precompile.bzl), one action per library source.
"""

load(":build_info.bzl", "BuildInfoFilesInfo")
load(":precompile.bzl", "PycInfo", "precompile_aspect")
load(":providers.bzl", "PyLauncherInfo")
load(
    ":py_providers.bzl",
    "PY_DEPS_PROVIDERS",
    "PY_TOOLCHAIN_TYPE",
    "has_py_info",
    "make_py_info",
    "py3_runtime",
    "py_imports",
    "py_transitive_sources",
)
load(
    ":shared.bzl",
    "VENV_CONFIG",
    "VENV_MODULES",
    "VENV_PTH",
    "VENV_PYTHON",
    "join_runfiles_path",
    "parse_python_version",
    "runfiles_path",
    "venv_base_executable_line",
    "venv_config",
    "venv_pth_line",
    "venv_site_packages",
)

LAUNCHER_TOOLCHAIN_TYPE = str(Label("//bazel:toolchain_type"))

# ---------------------------------------------------------------------------------------------------------
# File classification, done per target by an aspect so that no depset is ever flattened.

_FilesInfo = provider(
    doc = "Runfiles of a dependency, split like PyLauncherInfo.",
    fields = ["app", "third_party", "bootstrap", "interpreter"],
)

def _is_external(f):
    return bool(f.owner != None and f.owner.workspace_name)

def _split(files):
    app, third_party = [], []
    for f in files:
        if _is_external(f):
            third_party.append(f)
        else:
            app.append(f)
    return app, third_party

def _targets(attr_value):
    if type(attr_value) == "list":
        return attr_value
    return []

def _data_files(data_targets):
    """The files a `data` list names directly, minus launcher binaries' (those are in their bootstrap_files).

    The same list ctx.files.data is (Bazel expands that one for every rule anyway), just without the
    executables of launcher binaries, so that no file lands in two groups.
    """
    files = []
    for target in data_targets:
        if PyLauncherInfo not in target:
            files.extend(target[DefaultInfo].files.to_list())
    return files

def _children_info(ctx_rule_attr):
    infos = []
    for name in ("deps", "data"):
        for dep in _targets(getattr(ctx_rule_attr, name, None)):
            if _FilesInfo in dep:
                infos.append(dep[_FilesInfo])
    return infos

def _files_info(app, third_party, children, bootstrap = None, interpreter = None):
    return _FilesInfo(
        app = depset(app, transitive = [c.app for c in children]),
        third_party = depset(third_party, transitive = [c.third_party for c in children]),
        bootstrap = depset(transitive = ([bootstrap] if bootstrap != None else []) + [c.bootstrap for c in children]),
        interpreter = depset(transitive = ([interpreter] if interpreter != None else []) + [c.interpreter for c in children]),
    )

def _files_aspect_impl(target, ctx):
    if PyLauncherInfo in target:
        # Another launcher binary (e.g. in data): its own split is exact.
        info = target[PyLauncherInfo]
        return [_FilesInfo(
            app = info.app_files,
            third_party = info.third_party_files,
            bootstrap = info.bootstrap_files,
            interpreter = info.interpreter_files,
        )]
    if has_py_info(target) and ctx.rule.kind == "py_library":
        # A py_library: its runfiles are its srcs, its data files and its deps'/data's runfiles, so the
        # direct files are split one by one (a short list) and the rest comes from the children.
        direct = list(getattr(ctx.rule.files, "srcs", []))
        direct.extend(_data_files(_targets(getattr(ctx.rule.attr, "data", None))))
        app, third_party = _split(direct)
        return [_files_info(app, third_party, _children_info(ctx.rule.attr))]

    # Any other rule: a PyInfo rule that is not a py_library (py_proto_library and the like, whose sources
    # are generated and in no `srcs`), a filegroup, genrule, sh_binary, ... What it puts in the runfiles is
    # known only from its DefaultInfo, so this one target's files and runfiles are flattened and split file by
    # file (owner's repository), which keeps the four groups exact; the cost is one to_list per such target.
    default = target[DefaultInfo]
    files = depset(transitive = [default.files, default.default_runfiles.files]).to_list()
    app, third_party = _split(files)
    return [_files_info(app, third_party, _children_info(ctx.rule.attr))]

_files_aspect = aspect(
    implementation = _files_aspect_impl,
    attr_aspects = ["deps", "data"],
    doc = "Splits the runfiles of a binary's deps and data into first-party and third-party files.",
)

# ---------------------------------------------------------------------------------------------------------
# Paths.

def _normalize(path, what):
    """A runfiles path with no '.', no '..' and no empty segment; fails when it climbs out of the root."""
    out = join_runfiles_path("", path)
    if out == None:
        fail("%s climbs out of the runfiles root: %r" % (what, path))
    if not out:
        fail("%s is the runfiles root itself: %r" % (what, path))
    return out

def _label_str(label):
    """"//pkg:name" for the main repository, "@repo//pkg:name" otherwise, on every Bazel version
    (str(Label) says "@//" or "@@//" for the main repository on some)."""
    if label.workspace_name:
        return "@%s//%s:%s" % (label.workspace_name, label.package, label.name)
    return "//%s:%s" % (label.package, label.name)

def _repo_runfiles_dir(ctx):
    """The runfiles directory of the repository that holds this target."""
    return ctx.label.workspace_name or ctx.workspace_name

# ---------------------------------------------------------------------------------------------------------
# The rule.

def _main_file(ctx):
    if ctx.attr.main_module:
        if ctx.attr.main:
            fail("%s: set `main` or `main_module`, not both" % ctx.label)
        return None
    if ctx.file.main:
        return ctx.file.main
    wanted = ctx.label.name + ".py"
    for f in ctx.files.srcs:
        if f.basename == wanted:
            return f
    if len(ctx.files.srcs) == 1:
        return ctx.files.srcs[0]
    fail("%s: no `main` given and no source named %s among srcs; set `main` or `main_module`" % (ctx.label, wanted))

def _import_dirs(ctx, deps):
    """The binary's own `imports` (relative to its package), then its deps' (already runfiles paths)."""
    base = _repo_runfiles_dir(ctx)
    if ctx.label.package:
        base = base + "/" + ctx.label.package
    seen = {}
    result = []
    for imp in ctx.attr.imports:
        if imp.startswith("/"):
            fail("%s: imports must be relative to the package, got %r" % (ctx.label, imp))
        path = _normalize(base + "/" + imp, "%s: import %r" % (ctx.label, imp))
        if path not in seen:
            seen[path] = True
            result.append(path)

    # The import list goes into two small files (descriptor, .pth), so this depset is expanded once here.
    for imp in depset(transitive = [py_imports(d) for d in deps]).to_list():
        path = _normalize(imp, "%s: an import of a dependency" % ctx.label)
        if path not in seen:
            seen[path] = True
            result.append(path)
    return result

def _stamped(ctx):
    if ctx.attr.stamp == 1:
        return True
    if ctx.attr.stamp == 0:
        return False
    if ctx.attr.stamp != -1:
        fail("%s: stamp must be -1, 0 or 1, got %d" % (ctx.label, ctx.attr.stamp))
    return ctx.attr._build_info[BuildInfoFilesInfo].stamp_flag

def _python_version(ctx, runtime, launcher_tc):
    """The runtime's (or else the toolchain's) "X.Y" or free-threaded "X.Yt"; a patch level is dropped."""
    version = runtime.python_version or launcher_tc.python_version
    if not version:
        return None
    free_threaded = version.endswith("t")
    parts = (version[:-1] if free_threaded else version).split(".")
    short = ".".join(parts[:2]) + ("t" if free_threaded else "")
    if not parse_python_version(short):
        fail("%s: python_version %r is not \"X.Y\" (or \"X.Yt\" for a free-threaded runtime)" % (ctx.label, version))
    return short

def _write_venv(ctx, runtime, launcher_tc, python_version, import_dirs, workspace_root):
    """Declares the build-time venv (venv_layout.bzl, docs/layout.md) with no unresolved symlink, so caches accept it.

    Platform runtime (absolute interpreter_path): bin/python3 is a regular file, a copy of the launcher
    finalized in its `venv_python` mode (it execs interpreter_path with argv[0] kept), and pyvenv.cfg names
    `home`. In-build runtime: bin/python3 is a runfiles root symlink to the interpreter File (an ordinary
    runfiles entry) and pyvenv.cfg has no `home`, so CPython follows the link to its standard library.

    Returns (venv runfiles path, files for bootstrap_files, root symlinks {runfiles path: File}).
    """
    prefix = "_%s.venv" % ctx.label.name
    cfg = ctx.actions.declare_file(prefix + "/" + VENV_CONFIG)
    venv_path = runfiles_path(ctx, cfg).rpartition("/")[0]
    files = [cfg]
    root_symlinks = {}
    fixup = []
    if runtime.interpreter_path:
        ctx.actions.write(cfg, venv_config({"home": _dirname(runtime.interpreter_path)}))
        python = ctx.actions.declare_file(prefix + "/" + VENV_PYTHON)
        descriptor = ctx.actions.declare_file(prefix + "/" + VENV_PYTHON + ".descriptor.json")
        ctx.actions.write(descriptor, json.encode({
            "version": 1,
            "target": _label_str(ctx.label),
            "workspace_name": ctx.workspace_name,
            "interpreter": runtime.interpreter_path,
            "venv_python": True,
        }))
        _finalize(ctx, launcher_tc, descriptor, python)
        files.append(python)

        # With `home` set, CPython takes sys._base_executable from realpath(bin/python3), which is this file
        # in bazel-out, not the base interpreter: name the interpreter (for `python -m venv` and friends).
        fixup.append(venv_base_executable_line(runtime.interpreter_path))
    else:
        ctx.actions.write(cfg, venv_config({}))
        root_symlinks[venv_path + "/" + VENV_PYTHON] = runtime.interpreter
        # Without `home` (an in-build runtime), CPython 3.11 says the venv's own bin/python3, which
        # `python -m venv` and friends would copy: resolve the link instead.
        fixup.append(venv_base_executable_line(None))

    site_packages = venv_site_packages(python_version)
    site = prefix + "/" + site_packages + "/"
    pth = ctx.actions.declare_file(site + VENV_PTH)

    # Each line relative to site-packages, so it names the same directory wherever the runfiles tree is.
    site_path = venv_path + "/" + site_packages
    lines = [venv_pth_line(site_path, d) for d in import_dirs + [workspace_root]] + fixup
    ctx.actions.write(pth, "\n".join(lines) + "\n")
    files.append(pth)

    for name, template in zip(VENV_MODULES, [ctx.file._build_info_module, ctx.file._binary_info_module]):
        out = ctx.actions.declare_file(site + name)
        ctx.actions.expand_template(template = template, output = out, substitutions = {})
        files.append(out)
    return venv_path, files, root_symlinks

def _finalize(ctx, launcher_tc, descriptor, output):
    ctx.actions.run(
        executable = launcher_tc.finalizer,
        arguments = [
            "--launcher",
            launcher_tc.launcher.path,
            "--descriptor",
            descriptor.path,
            "--output",
            output.path,
        ],
        inputs = [launcher_tc.launcher, descriptor],
        outputs = [output],
        mnemonic = "PyLauncherFinalize",
        progress_message = "Finalizing py-launcher for %s" % output.short_path,
    )

def _dirname(path):
    head = path.rpartition("/")[0]
    return head or "/"

def _impl(ctx):
    launcher_tc = ctx.toolchains[LAUNCHER_TOOLCHAIN_TYPE].py_launcher
    runtime = py3_runtime(ctx)
    deps = ctx.attr.deps
    name = ctx.label.name

    main = _main_file(ctx)
    import_dirs = _import_dirs(ctx, deps)
    workspace_root = ctx.workspace_name
    stamped = _stamped(ctx)
    python_version = _python_version(ctx, runtime, launcher_tc)

    if runtime.interpreter_path:
        interpreter = runtime.interpreter_path
        interpreter_files = depset()
    elif runtime.interpreter:
        interpreter = runfiles_path(ctx, runtime.interpreter)
        interpreter_files = depset([runtime.interpreter], transitive = [runtime.files])
    else:
        fail("%s: the Python runtime has neither interpreter_path nor interpreter" % ctx.label)

    env = {}
    for key, value in ctx.attr.env.items():
        env[key] = ctx.expand_location(value, ctx.attr.data)
    interpreter_args = [ctx.expand_location(a, ctx.attr.data) for a in ctx.attr.interpreter_args]

    bootstrap = []

    # Build-time venv, in every configuration (the host/exec one of a genrule tool too): none of its files is
    # an unresolved symlink, so disk and remote caches take every action that has it among its inputs.
    venv_path = None
    root_symlinks = {}
    if python_version:
        venv_path, venv_files, root_symlinks = _write_venv(ctx, runtime, launcher_tc, python_version, import_dirs, workspace_root)
        bootstrap.extend(venv_files)

    build_config = ctx.actions.declare_file("_%s_build_config.json" % name)
    config = {
        "target": _label_str(ctx.label),
        "workspace_name": ctx.workspace_name,
        "python_version": python_version,
        "cpu": ctx.var.get("TARGET_CPU", ""),
        "compilation_mode": ctx.var.get("COMPILATION_MODE", ""),
        "stamped": stamped,
        "interpreter": interpreter,
        "attributes": {
            "imports": ctx.attr.imports,
            "env": ctx.attr.env,
            "interpreter_args": ctx.attr.interpreter_args,
            "stamp": ctx.attr.stamp,
        },
    }
    if main:
        config["main"] = runfiles_path(ctx, main)
    else:
        config["main_module"] = ctx.attr.main_module
    ctx.actions.write(build_config, json.encode(config) + "\n")
    bootstrap.append(build_config)

    descriptor = {
        "version": 1,
        "target": _label_str(ctx.label),
        "workspace_name": ctx.workspace_name,
        "interpreter": interpreter,
        "imports": import_dirs,
        "interpreter_args": interpreter_args,
        "env": env,
        "build_config": runfiles_path(ctx, build_config),
    }
    if main:
        descriptor["main"] = runfiles_path(ctx, main)
    else:
        descriptor["main_module"] = ctx.attr.main_module
    if python_version:
        descriptor["python_version"] = python_version
    if venv_path:
        descriptor["venv"] = venv_path

    # Coverage (docs/coverage.md): only in a build with coverage enabled, so other builds are unchanged.
    coverage_runfiles = None
    if ctx.configuration.coverage_enabled and launcher_tc.coverage_tool:
        descriptor["coverage_tool"] = launcher_tc.coverage_tool
        coverage_runfiles = launcher_tc.coverage_runfiles
    descriptor_file = ctx.actions.declare_file("_%s.descriptor.json" % name)
    ctx.actions.write(descriptor_file, json.encode(descriptor))

    executable = ctx.actions.declare_file(name)
    _finalize(ctx, launcher_tc, descriptor_file, executable)
    bootstrap.append(executable)

    # The stamp copies are in the runfiles only as these root symlinks (not also at their own short_path).
    stamp_files = []
    if stamped:
        build_info = ctx.attr._build_info[BuildInfoFilesInfo]
        root_symlinks["bazel_build_info/stable.txt"] = build_info.stable
        root_symlinks["bazel_build_info/volatile.txt"] = build_info.volatile
        stamp_files = [build_info.stable, build_info.volatile]

    # Split of the binary's own srcs and data files; the deps' and data targets' come from the aspect.
    own_app, own_third_party = _split(ctx.files.srcs + _data_files(ctx.attr.data))
    children = [d[_FilesInfo] for d in deps + ctx.attr.data if _FilesInfo in d]
    if coverage_runfiles:
        children.append(_FilesInfo(app = depset(), third_party = coverage_runfiles.files, bootstrap = depset(), interpreter = depset()))
    pyc = [d[PycInfo] for d in deps + ctx.attr.data if ctx.attr.precompile and PycInfo in d]
    pyc_files = _FilesInfo(
        app = depset(transitive = [p.app for p in pyc]),
        third_party = depset(transitive = [p.third_party for p in pyc]),
        bootstrap = depset(),
        interpreter = depset(),
    )
    children.append(pyc_files)
    split = _files_info(
        own_app,
        own_third_party,
        children,
        bootstrap = depset(bootstrap + stamp_files),
        interpreter = interpreter_files,
    )

    # The deps' and data's runfiles are taken apart (files, symlinks, root symlinks) instead of merged:
    # runfiles.merge would also carry a native py_binary's request for empty __init__.py files
    # (legacy_create_init), which Bazel then creates all over the tree, venv included, as files that no
    # output group could name. This rule never creates them (docs/bazel.md, "__init__.py files").
    # Bazel 4 takes only dicts for symlinks, so the deps' (few: stamp files, in-build venv pythons)
    # symlink entries are copied; their files stay a depset.
    dep_runfiles = [d[DefaultInfo].default_runfiles for d in deps + ctx.attr.data]
    symlinks = {}
    for r in dep_runfiles:
        for entry in r.symlinks.to_list():
            symlinks[entry.path] = entry.target_file
        for entry in r.root_symlinks.to_list():
            root_symlinks.setdefault(entry.path, entry.target_file)
    runfiles = ctx.runfiles(
        files = ctx.files.srcs + ctx.files.data + bootstrap,
        transitive_files = depset(transitive = [interpreter_files, pyc_files.app, pyc_files.third_party] + [r.files for r in dep_runfiles]),
        symlinks = symlinks,
        root_symlinks = root_symlinks,
    )
    if coverage_runfiles:
        runfiles = runfiles.merge(coverage_runfiles)

    info = PyLauncherInfo(
        executable = depset([executable]),
        bootstrap_files = split.bootstrap,
        interpreter_files = split.interpreter,
        third_party_files = split.third_party,
        app_files = split.app,
    )
    transitive_sources = depset(
        [f for f in ctx.files.srcs if f.extension == "py"],
        transitive = [py_transitive_sources(d) for d in deps],
    )
    return [
        DefaultInfo(executable = executable, files = depset([executable]), runfiles = runfiles),
        info,
        make_py_info(transitive_sources = transitive_sources, imports = depset(import_dirs)),
        # What `bazel coverage` measures (subject to --instrumentation_filter): the .py sources of this
        # binary and of its deps and data.
        coverage_common.instrumented_files_info(
            ctx,
            source_attributes = ["srcs"],
            dependency_attributes = ["deps", "data"],
            extensions = ["py"],
        ),
        OutputGroupInfo(
            executable = info.executable,
            bootstrap_files = info.bootstrap_files,
            interpreter_files = info.interpreter_files,
            third_party_files = info.third_party_files,
            app_files = info.app_files,
            py_launcher_descriptor = depset([descriptor_file]),
        ),
    ]

_ATTRS = {
    "srcs": attr.label_list(
        doc = "Python sources of the binary.",
        allow_files = [".py"],
    ),
    "main": attr.label(
        doc = "The main file (default: `<name>.py` in srcs, or the only source).",
        allow_single_file = [".py"],
    ),
    "main_module": attr.string(
        doc = "Run this module like `python -m` instead of a main file.",
    ),
    "deps": attr.label_list(
        doc = "Python libraries (anything with PyInfo).",
        providers = PY_DEPS_PROVIDERS,
        aspects = [_files_aspect, precompile_aspect],
    ),
    "data": attr.label_list(
        doc = "Files needed at run time; `$(location)` in env and interpreter_args refers to these.",
        allow_files = True,
        aspects = [_files_aspect, precompile_aspect],
    ),
    "imports": attr.string_list(
        doc = "Import directories relative to the package, put on sys.path before the workspace root.",
    ),
    "interpreter_args": attr.string_list(
        doc = "Arguments for the interpreter, before the main file (e.g. [\"-X\", \"utf8\"]).",
    ),
    "env": attr.string_dict(
        doc = "Environment variables for the program (`$(location)` expanded).",
    ),
    "precompile": attr.bool(
        doc = "Put unchecked-hash .pyc files of the py_library sources in deps and data into the runfiles, " +
              "beside each source in its __pycache__ (docs/bazel.md, \"Bytecode\"). The launcher toolchain's " +
              "`precompile = False` overrides True.",
        default = True,
    ),
    "stamp": attr.int(
        doc = "1: stamp; 0: never; -1: stamp when --stamp is given (like py_binary).",
        default = -1,
        values = [-1, 0, 1],
    ),
    "_build_info": attr.label(
        default = Label("//bazel/private:build_info"),
        providers = [BuildInfoFilesInfo],
    ),
    "_build_info_module": attr.label(
        default = Label("//:templates/bazel_build_info.py"),
        allow_single_file = True,
    ),
    "_binary_info_module": attr.label(
        default = Label("//:templates/bazel_binary_info.py"),
        allow_single_file = True,
    ),
}

_TOOLCHAINS = [PY_TOOLCHAIN_TYPE, LAUNCHER_TOOLCHAIN_TYPE]

py_launcher_binary = rule(
    implementation = _impl,
    attrs = _ATTRS,
    executable = True,
    toolchains = _TOOLCHAINS,
    doc = "A Python binary whose executable is a finalized py-launcher (see docs/bazel.md).",
)

# `bazel coverage` runs the merger this attribute names after each test (Bazel reads it by this name).
# Bazel 4 has no `coverage` configuration fragment for configuration_field, so this is the label that
# --coverage_output_generator defaults to (docs/coverage.md).
_TEST_ATTRS = dict(_ATTRS)
_TEST_ATTRS["_lcov_merger"] = attr.label(
    default = Label("@bazel_tools//tools/test:lcov_merger"),
    allow_files = True,
    cfg = "exec",
)

py_launcher_test = rule(
    implementation = _impl,
    attrs = _TEST_ATTRS,
    test = True,
    toolchains = _TOOLCHAINS,
    doc = "A Python test whose executable is a finalized py-launcher (see docs/bazel.md).",
)
