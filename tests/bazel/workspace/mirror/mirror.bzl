"""Runs the rules' Starlark mirrors (bazel/private/shared.bzl) over tables.bzl and writes the answers as JSON."""

load(
    "@py_launcher//bazel/private:shared.bzl",
    "VENV_CONFIG",
    "VENV_PTH",
    "VENV_PYTHON",
    "VENV_SITE_PACKAGES",
    "join_runfiles_path",
    "parse_python_version",
)
load(":tables.bzl", "TABLES")

def _version(text):
    v = parse_python_version(text)
    if not v:
        return "!"
    return "%d.%d%s" % (v.major, v.minor, "t" if v.free_threaded else "")

def _mirror_impl(ctx):
    joined = []
    for base, relative, _expected in TABLES["join_runfiles_path"]:
        result = join_runfiles_path(base, relative)
        joined.append([base, relative, "!" if result == None else result])
    answers = {
        "join_runfiles_path": joined,
        "python_version": [[text, _version(text)] for text, _expected in TABLES["python_version"]],
        "venv_layout": {
            "config": VENV_CONFIG,
            "pth": VENV_PTH,
            "python": VENV_PYTHON,
            "site_packages": VENV_SITE_PACKAGES % "3.11",
        },
    }
    out = ctx.actions.declare_file(ctx.label.name + ".json")
    ctx.actions.write(out, json.encode(answers))
    return [DefaultInfo(files = depset([out]))]

mirror = rule(implementation = _mirror_impl)
