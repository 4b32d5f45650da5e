"""What the rules and the launcher must agree on, written once on the Starlark side.

Each function here mirrors one Rust owner and is checked against it by tests/bazel_mirror.rs, which feeds
both sides the same table (tests/bazel/workspace/mirror/tables.bzl):
  - join_runfiles_path / runfiles_path: `descriptor::join_runfiles_path` (src/descriptor.rs);
  - parse_python_version: the launcher's Python version parser (the descriptor's `python_version`);
  - VENV_* and venv_*: the build-time venv layout, from the one description in venv_layout.bzl, which
    src/venv/layout.rs checks the launcher against (docs/layout.md).
"""

load(":venv_layout.bzl", "VENV_LAYOUT")

def join_runfiles_path(base, relative):
    """Joins a relative runfiles path to a runfiles directory ("" for the root), folding "." and "..".

    Returns None when the result climbs above the runfiles root.
    """
    parts = [p for p in base.split("/") if p]
    for part in relative.split("/"):
        if part == "" or part == ".":
            continue
        if part == "..":
            if not parts:
                return None
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts)

def runfiles_path(ctx, f):
    """The path of File f relative to the runfiles root, as Rlocation() takes it.

    A short_path is relative to the main repository's runfiles directory ("../repo/x" for an external
    repository's file), so this is join_runfiles_path(workspace_name, short_path).
    """
    return join_runfiles_path(ctx.workspace_name, f.short_path)

def parse_python_version(text):
    """"3.11" -> struct(major = 3, minor = 11, free_threaded = False); "3.13t" (free-threaded) too.

    Anything else (a patch level, a missing minor, a non-digit, a part longer than 4 digits) -> None,
    exactly as the launcher reads a descriptor's `python_version`.
    """
    free_threaded = text.endswith("t")
    core = text[:-1] if free_threaded else text
    parts = core.split(".")
    if len(parts) != 2:
        return None
    for part in parts:
        if not part or len(part) > 4 or not part.isdigit():
            return None
    return struct(major = int(parts[0]), minor = int(parts[1]), free_threaded = free_threaded)

# The build-time venv, relative to its root, from the one description (venv_layout.bzl). The launcher finds
# its python at VENV_PYTHON and its site-packages at venv_site_packages("X.Y") (or "X.Yt").
VENV_PYTHON = VENV_LAYOUT["build_time"]["python"]
VENV_CONFIG = VENV_LAYOUT["config"]
VENV_PTH = VENV_LAYOUT["pth"]
VENV_MODULES = VENV_LAYOUT["modules"]

def venv_site_packages(python_version):
    """The site-packages directory relative to the venv, for "X.Y" (or free-threaded "X.Yt")."""
    return VENV_LAYOUT["site_packages"].format(version = python_version)

def _placeholders(template):
    """The names of the {name} placeholders in template."""
    return [part.partition("}")[0] for part in template.split("{")[1:]]

def venv_config(values):
    """The build-time pyvenv.cfg: the description's build-time [key, value] pairs in order, each value's
    placeholders filled from values (e.g. {"home": "/usr/bin"}); a pair naming a placeholder that values
    lacks is left out."""
    lines = []
    for key, template in VENV_LAYOUT["build_time"]["config"]:
        if [name for name in _placeholders(template) if values.get(name) == None]:
            continue
        lines.append(VENV_LAYOUT["config_line"].format(key = key, value = template.format(**values)))
    return "".join(lines)

def venv_base_executable_line(interpreter_path):
    """The build-time .pth's last line, which sets sys._base_executable: to interpreter_path for a platform
    runtime, by resolving the venv's python link for an in-build one (interpreter_path None)."""
    lines = VENV_LAYOUT["build_time"]["base_executable"]
    if interpreter_path:
        return lines["platform"].replace("{interpreter}", json.encode(interpreter_path))
    return lines["in_build"]

def venv_pth_line(site_packages_path, path):
    """The build-time .pth line for the runfiles path `path`, relative to the site-packages directory whose
    runfiles path is site_packages_path: one "../" per segment of it, up to the runfiles root."""
    if VENV_LAYOUT["build_time"]["pth_lines"] != "relative":
        fail("venv_layout.bzl: the build-time .pth lines are relative")
    return "../" * len(site_packages_path.split("/")) + path
