# A native py_test: passes, or with --fail prints its target and exits 3 (tests/bazel_dropin.rs).
import os
import sys

import native_greeting

print("native test under", os.environ.get("PY_LAUNCHER_TARGET"), "greeting:", native_greeting.GREETING)
sys.exit(3 if "--fail" in sys.argv[1:] else 0)
