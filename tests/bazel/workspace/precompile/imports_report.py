"""Imports a first-party and a third-party library and prints, as JSON, where their code came from.

`compiled` lists every source CPython compiled from text during those imports (SourceLoader.source_to_code is
called only when no usable .pyc exists), so an empty list means all of them were read from bytecode.
"""
import importlib._bootstrap_external as bootstrap_external
import json
import os
import sys

compiled = []
_source_to_code = bootstrap_external.SourceLoader.source_to_code


def _spy(self, data, path, *, _optimize=-1):
    compiled.append(path)
    return _source_to_code(self, data, path, _optimize=_optimize)


bootstrap_external.SourceLoader.source_to_code = _spy

import mylib  # noqa: E402
from runfiles import runfiles  # noqa: E402

modules = ["mylib", "mylib.helper", "runfiles", "runfiles.runfiles"]
print(
    json.dumps(
        {
            "greeting": mylib.greet("pyc"),
            "compiled": compiled,
            "cached": {m: sys.modules[m].__cached__ for m in modules},
            "files": {m: sys.modules[m].__file__ for m in modules},
            "dont_write_bytecode": sys.flags.dont_write_bytecode,
            "PYTHONDONTWRITEBYTECODE": os.environ.get("PYTHONDONTWRITEBYTECODE"),
            "pycache_prefix": sys.pycache_prefix,
            "runfiles_create": runfiles.Create is not None,
        }
    )
)
