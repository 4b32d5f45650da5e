"""Bzlmod set-up of py-launcher: the `py_launcher` module extension (written for Bazel 7+, NOT run here:
only Bazel 4.2.3 could be installed on the machines this was developed on).

py_launcher's own MODULE.bazel uses this extension and registers @py_launcher_toolchains, so a root
module needs only `bazel_dep(name = "py_launcher", ...)`. To build the binaries from source (no prebuilt
binary for your platform):

    py_launcher = use_extension("@py_launcher//bazel:extensions.bzl", "py_launcher")
    py_launcher.toolchains(build_from_source = True)

The root module's `toolchains` tag wins; otherwise the first module (in dependency order) that has one.
"""

load("//bazel/private:repos.bzl", "py_launcher_toolchains_repo")

_toolchains = tag_class(
    doc = "Settings of @py_launcher_toolchains; see py_launcher_register_toolchains in repositories.bzl.",
    attrs = {
        "build_from_source": attr.bool(doc = "Build the binaries for this machine with cargo."),
        "python_version": attr.string(doc = "\"X.Y\" for runtimes that do not declare their version."),
        "coverage_tool": attr.string(doc = "The label of a target providing coverage.py (docs/coverage.md)."),
        "cargo": attr.string(doc = "The cargo executable (default: found on PATH, $CARGO_HOME/bin, ~/.cargo/bin)."),
    },
)

def _py_launcher_impl(mctx):
    settings = None
    for module in mctx.modules:  # the root module comes first
        if module.tags.toolchains:
            settings = module.tags.toolchains[0]
            break
    py_launcher_toolchains_repo(
        name = "py_launcher_toolchains",
        build_from_source = settings.build_from_source if settings else False,
        python_version = settings.python_version if settings else "",
        coverage_tool = settings.coverage_tool if settings else "",
        cargo = settings.cargo if settings else "",
    )

py_launcher = module_extension(
    implementation = _py_launcher_impl,
    tag_classes = {"toolchains": _toolchains},
    doc = "Generates @py_launcher_toolchains (prebuilt or built-from-source launcher toolchains).",
)
