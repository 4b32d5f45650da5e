"""Runs the rules' Starlark mirrors (bazel/private/shared.bzl) over tables.bzl and writes the answers as JSON.

The venv_* answers are what the rules derive from the venv layout's description (bazel/private/venv_layout.bzl).
"""

load(
    "@py_launcher//bazel/private:shared.bzl",
    "VENV_CONFIG",
    "VENV_MODULES",
    "VENV_PTH",
    "VENV_PYTHON",
    "join_runfiles_path",
    "parse_python_version",
    "venv_config",
    "venv_pth_line",
    "venv_site_packages",
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
        "venv_config": [
            [home, venv_config({} if home == "!" else {"home": home})]
            for home, _expected in TABLES["venv_config"]
        ],
        "venv_layout": {
            "config": VENV_CONFIG,
            "modules": VENV_MODULES,
            "pth": VENV_PTH,
            "python": VENV_PYTHON,
        },
        "venv_pth_line": [
            [site, path, venv_pth_line(site, path)]
            for site, path, _expected in TABLES["venv_pth_line"]
        ],
        "venv_site_packages": [[text, venv_site_packages(text)] for text, _expected in TABLES["venv_site_packages"]],
    }
    out = ctx.actions.declare_file(ctx.label.name + ".json")
    ctx.actions.write(out, json.encode(answers))
    return [DefaultInfo(files = depset([out]))]

mirror = rule(implementation = _mirror_impl)
