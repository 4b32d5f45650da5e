"""The demo program: what a py_binary sees when py-launcher starts it."""

import os
import sys

import bazel_build_info
import greeting

print(greeting.message())
print("  sys.executable:", sys.executable)
print("  in a venv:     ", sys.prefix != sys.base_prefix)
print("  target:        ", bazel_build_info.target())
print("  runfiles:      ", os.environ.get("RUNFILES_DIR") or os.environ.get("RUNFILES_MANIFEST_FILE"))
print("  arguments:     ", sys.argv[1:])
