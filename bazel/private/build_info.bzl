"""Configuration facts shared by all binaries: the stamp decision and the stamp-file copies.

One target (//bazel/private:build_info) copies ctx.info_file and ctx.version_file once per configuration, so
every stamped binary in a build shares the same two files (identical actions, no runfiles conflict when one
binary carries another in its data).
"""

BuildInfoFilesInfo = provider(
    doc = "The copies of Bazel's workspace-status files and whether --stamp is on.",
    fields = {
        "stamp_flag": "bool: the --stamp command-line flag in this configuration.",
        "stable": "File: copy of ctx.info_file (stable-status.txt).",
        "volatile": "File: copy of ctx.version_file (volatile-status.txt).",
    },
)

def _build_info_impl(ctx):
    # A copy without a shell: expand_template with no substitutions writes the bytes unchanged. (Bazel does
    # not rerun it when only volatile-status.txt changes, which is Bazel's usual volatile-stamp semantics.)
    stable = ctx.actions.declare_file(ctx.label.name + "/stable.txt")
    volatile = ctx.actions.declare_file(ctx.label.name + "/volatile.txt")
    ctx.actions.expand_template(template = ctx.info_file, output = stable, substitutions = {})
    ctx.actions.expand_template(template = ctx.version_file, output = volatile, substitutions = {})
    return [
        BuildInfoFilesInfo(
            stamp_flag = ctx.attr.stamp_flag,
            stable = stable, volatile = volatile),
        DefaultInfo(files = depset([stable, volatile])),
    ]

build_info_files = rule(
    implementation = _build_info_impl,
    attrs = {
        "stamp_flag": attr.bool(doc = "Set with select() on a config_setting for --stamp."),
    },
)
