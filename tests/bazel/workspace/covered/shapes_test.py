import json
import os
import sys

from covered import shapes
from runfiles import runfiles  # a third-party library: external, so never in the coverage report

assert shapes.sign(3) == "non-negative"
assert runfiles.Create() is not None
mode = "directory" if os.environ.get("RUNFILES_DIR") else "manifest"
print(json.dumps({"argv0": sys.argv[0], "coverage_dir": bool(os.environ.get("COVERAGE_DIR")), "runfiles": mode}))
