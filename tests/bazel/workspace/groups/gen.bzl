"""A rule that is not a py_library but returns PyInfo for a source it generates (the py_proto_library shape)."""

def _generated_py_library_impl(ctx):
    out = ctx.actions.declare_file(ctx.attr.module + ".py")
    ctx.actions.write(out, "MESSAGE = %r\n" % ctx.attr.message)
    return [
        DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out])),
        PyInfo(transitive_sources = depset([out])),
    ]

generated_py_library = rule(
    implementation = _generated_py_library_impl,
    attrs = {
        "module": attr.string(mandatory = True),
        "message": attr.string(mandatory = True),
    },
)
