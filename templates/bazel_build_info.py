"""What was built: the Bazel target, its build configuration and its stamp data.

py-launcher puts this module in the program's venv, so it imports the same way in the program and in any
``sys.executable`` subprocess. Importing it reads nothing; each function reads its file on first use and
caches the answer. It depends on nothing outside the standard library.

- ``target()``: the label, e.g. ``"//app:hello"`` (``PY_LAUNCHER_TARGET``), or ``None``.
- ``build_config()``: the parsed build-configuration JSON (``PY_LAUNCHER_BUILD_CONFIG``), or ``None``.
- ``is_stamped()``: whether the binary was built with stamping.
- ``stable_status()`` / ``volatile_status()``: ``{KEY: value}`` from Bazel's stable and volatile status
  files, or ``None`` when the binary is not stamped.
"""

import os

_cache = {}

STAMP_DIR = "bazel_build_info"


def target():
    label = os.environ.get("PY_LAUNCHER_TARGET")
    if label:
        return label
    config = build_config()
    return config.get("target") if config else None


def build_config():
    if "config" not in _cache:
        path = os.environ.get("PY_LAUNCHER_BUILD_CONFIG")
        config = None
        if path:
            import json

            with open(path, encoding="utf-8") as f:
                config = json.load(f)
        _cache["config"] = config
    return _cache["config"]


def is_stamped():
    config = build_config()
    if config is not None and "stamped" in config:
        return bool(config["stamped"])
    return stable_status() is not None


def stable_status():
    return _status("stable.txt")


def volatile_status():
    return _status("volatile.txt")


def _status(name):
    if name not in _cache:
        path = _rlocation(STAMP_DIR + "/" + name)
        _cache[name] = _read_status(path) if path and os.path.isfile(path) else None
    found = _cache[name]
    return dict(found) if found is not None else None


def _read_status(path):
    values = {}
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if not line:
                continue
            key, _, value = line.partition(" ")
            values[key] = value
    return values


def _rlocation(key):
    """Resolve a runfiles path the way Bazel's runfiles libraries do, without depending on one."""
    manifest = os.environ.get("RUNFILES_MANIFEST_FILE")
    if manifest:
        with open(manifest, "rb") as f:
            wanted = key.encode()
            for raw in f:
                line = raw.rstrip(b"\n")
                if line.startswith(b" "):
                    link, _, target = line[1:].partition(b" ")
                    link = _unescape(link, escape_space=True)
                    target = _unescape(target, escape_space=False)
                else:
                    link, _, target = line.partition(b" ")
                if link == wanted:
                    return os.fsdecode(target) if target else None
        return None
    root = os.environ.get("RUNFILES_DIR")
    return os.path.join(root, key) if root else None


def _unescape(value, escape_space):
    out = bytearray()
    i = 0
    while i < len(value):
        c = value[i : i + 1]
        if c == b"\\" and i + 1 < len(value):
            nxt = value[i + 1 : i + 2]
            if nxt == b"n":
                out += b"\n"
                i += 2
                continue
            if nxt == b"b":
                out += b"\\"
                i += 2
                continue
            if escape_space and nxt == b"s":
                out += b" "
                i += 2
                continue
        out += c
        i += 1
    return bytes(out)
