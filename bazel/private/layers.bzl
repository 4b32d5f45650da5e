"""py_launcher_image_layers: deterministic tar layers of a py_launcher_binary for a container image.

Layers, in order (least to most often changing): interpreter, third party (one tar, or with
split_third_party one per external target that owns files, shared by every binary using it), app, bootstrap.
The tars are written by this project's own tool (//bazel/private:tar_layer, a py_launcher_binary using
Python's tarfile): no shell in any action. Reference: docs/bazel.md, "Image layers".
"""

load(":precompile.bzl", "PycInfo")
load(":providers.bzl", "PyLauncherInfo")

# OCI image configurations are commonly refused past this many layers (docker's and containerd's limit).
MAX_LAYERS = 127

# Where split third-party layers put each repository's runfiles. It is the same for every binary and
# every prefix (so that two binaries' images share the layer and its action); each binary's runfiles tree
# has a relative symlink <repo> -> here/<repo>.
SHARED_RUNFILES = "opt/py_launcher/runfiles"

_RepoLayersInfo = provider(
    doc = "Shared per-target third-party layers under a binary's deps and data.",
    fields = {
        "tars": "depset of File: one tar per external target that owns files",
        "files": "depset of File: the files those tars hold",
        "repos": "depset of string: the external repositories they cover",
    },
)

def _tar_args(ctx, output, root):
    """The tar tool's arguments in a param file: the output, the workspace, the root inside the image."""
    args = ctx.actions.args()
    args.set_param_file_format("multiline")
    args.use_param_file("@%s", use_always = True)
    args.add("--output", output)
    args.add("--workspace", ctx.workspace_name)
    args.add("--root", root)
    return args

def _run_tar(ctx, output, args, inputs, progress_message):
    """Runs the tar tool (a py_launcher_binary, no shell) with args from _tar_args to write output."""
    ctx.actions.run(
        executable = ctx.executable._tar_layer,
        arguments = [args],
        inputs = inputs,
        outputs = [output],
        mnemonic = "PyLauncherLayer",
        progress_message = progress_message,
    )

def _file_line(f):
    return "F\t%s\t%s" % (f.short_path, f.path)

def _excluded_line(f):
    return "X\t%s" % f.short_path

def _children(ctx):
    out = []
    for name in ("deps", "data"):
        value = getattr(ctx.rule.attr, name, None)
        if type(value) == "list":
            out.extend([d[_RepoLayersInfo] for d in value if _RepoLayersInfo in d])
    return out

def _own_files(target, ctx, repo):
    """The files an external target adds itself: a py_library's srcs and data files, else its files and
    runfiles that its own repository owns (one target's closure, flattened once). A py_library's .pyc
    files (precompile.bzl) go with their sources, under the repository's shared directory."""
    if ctx.rule.kind == "py_library":
        files = list(getattr(ctx.rule.files, "srcs", []))
        if PycInfo in target:
            files.extend(target[PycInfo].own)
        for d in getattr(ctx.rule.attr, "data", []):
            files.extend(d[DefaultInfo].files.to_list())
    else:
        default = target[DefaultInfo]
        files = depset(transitive = [default.files, default.default_runfiles.files]).to_list()
    return [f for f in files if f.owner != None and f.owner.workspace_name == repo]

def _repo_layer_aspect_impl(target, ctx):
    children = _children(ctx)
    repo = target.label.workspace_name
    tars, files, repos = [], [], []
    if repo and PyLauncherInfo not in target:
        files = _own_files(target, ctx, repo)
        if files:
            tar = ctx.actions.declare_file("%s.py_launcher_layer.tar" % target.label.name)
            args = _tar_args(ctx, tar, SHARED_RUNFILES)
            args.add_all(files, map_each = _file_line)
            _run_tar(ctx, tar, args, files, "Writing the shared layer of %s" % target.label)
            tars, repos = [tar], [repo]
    return [_RepoLayersInfo(
        tars = depset(tars, transitive = [c.tars for c in children]),
        files = depset(files, transitive = [c.files for c in children]),
        repos = depset(repos, transitive = [c.repos for c in children]),
    )]

_TAR_LAYER = attr.label(
    default = Label("//bazel/private:tar_layer"),
    executable = True,
    cfg = "exec",
)

_repo_layer_aspect = aspect(
    implementation = _repo_layer_aspect_impl,
    attr_aspects = ["deps", "data"],
    attrs = {"_tar_layer": _TAR_LAYER},
    # Sees the binary's precompile_aspect on the same library (its PycInfo).
    required_aspect_providers = [PycInfo],
    doc = "Declares one shared tar per external target that owns files (split_third_party).",
)

def _layer(ctx, name, root, entries, inputs, excluded = None):
    out = ctx.actions.declare_file("%s/%s.tar" % (ctx.label.name, name))
    args = _tar_args(ctx, out, root)
    for files in entries:
        args.add_all(files, map_each = _file_line)
    if excluded != None:
        args.add_all(excluded, map_each = _excluded_line)
    _run_tar(ctx, out, args, inputs, "Writing the %s layer of %s" % (name, ctx.attr.binary.label))
    return out

def _impl(ctx):
    binary = ctx.attr.binary
    info = binary[PyLauncherInfo]
    executable = binary[DefaultInfo].files_to_run.executable
    prefix = ctx.attr.prefix.strip("/")
    if not ctx.attr.prefix.startswith("/") or ".." in prefix.split("/"):
        fail("%s: prefix must be an absolute path without '..', got %r" % (ctx.label, ctx.attr.prefix))

    # The executable sits at <prefix>/<its short path>, its runfiles beside it.
    short = executable.short_path
    if short.startswith("../"):
        short = "external/" + short[3:]
    entry = (prefix + "/" + short).strip("/")
    root = entry + ".runfiles"

    # Root symlinks: the stamp files (stored as files) and an in-build runtime's venv python (kept as a
    # relative symlink to the interpreter's place in the runfiles, so CPython resolves it to its stdlib).
    bootstrap_lines = ["E\t%s\t%s" % (entry, executable.path)]
    root_files = []
    for link in binary[DefaultInfo].default_runfiles.root_symlinks.to_list():
        if link.path.endswith(".venv/bin/python3"):
            bootstrap_lines.append("L\t%s\t%s" % (link.path, link.target_file.short_path))
        else:
            bootstrap_lines.append("R\t%s\t%s" % (link.path, link.target_file.path))
            root_files.append(link.target_file)

    interpreter = _layer(ctx, "interpreter", root, [info.interpreter_files], info.interpreter_files)

    shared = []
    excluded = None
    if ctx.attr.split_third_party:
        layers = binary[_RepoLayersInfo]
        shared = layers.tars.to_list()
        excluded = layers.files
        up = "../" * len(root.split("/"))
        for repo in layers.repos.to_list():
            bootstrap_lines.append("D\t%s/%s\t%s%s/%s" % (root, repo, up, SHARED_RUNFILES, repo))
        count = len(shared) + 4
        if count > MAX_LAYERS:
            fail(("%s: %d layers (%d shared third-party layers + 4) exceed the limit of %d layers an OCI " +
                  "image may have; set split_third_party = False, or merge external repositories") %
                 (ctx.label, count, len(shared), MAX_LAYERS))

    third_party = _layer(
        ctx,
        "third_party",
        root,
        [info.third_party_files],
        info.third_party_files,
        excluded = excluded,
    )
    app = _layer(ctx, "app", root, [info.app_files], info.app_files)

    bootstrap_out = ctx.actions.declare_file("%s/bootstrap.tar" % ctx.label.name)
    args = _tar_args(ctx, bootstrap_out, root)
    args.add_all(info.bootstrap_files, map_each = _file_line)
    args.add_all(bootstrap_lines)

    # The stamp copies are in the runfiles only under their root-symlink names.
    args.add_all(root_files, map_each = _excluded_line)
    inputs = depset(root_files, transitive = [info.bootstrap_files])
    _run_tar(ctx, bootstrap_out, args, inputs, "Writing the bootstrap layer of %s" % binary.label)

    tars = [interpreter] + shared + [third_party, app, bootstrap_out]
    return [
        DefaultInfo(files = depset(tars)),
        OutputGroupInfo(
            interpreter_layer = depset([interpreter]),
            third_party_layers = depset(shared + [third_party]),
            app_layer = depset([app]),
            bootstrap_layer = depset([bootstrap_out]),
        ),
    ]

py_launcher_image_layers = rule(
    implementation = _impl,
    doc = """Deterministic tar layers of a py_launcher_binary for an OCI image, in order: interpreter, third
party, app, bootstrap (DefaultInfo.files, in that order; also output groups). See docs/bazel.md.""",
    attrs = {
        "binary": attr.label(
            doc = "A py_launcher_binary or py_launcher_test.",
            mandatory = True,
            providers = [PyLauncherInfo],
            aspects = [_repo_layer_aspect],
        ),
        "prefix": attr.string(
            doc = "Absolute directory of the image under which the binary's paths go (its short path).",
            default = "/app",
        ),
        "split_third_party": attr.bool(
            doc = "One shared layer per external target that owns files, at /" + SHARED_RUNFILES +
                  "/<repo>, instead of one third_party layer.",
            default = False,
        ),
        "_tar_layer": _TAR_LAYER,
    },
)
