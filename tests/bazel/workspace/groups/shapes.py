"""Imports and reads every shape of groups/BUILD.bazel and prints what it found as JSON."""
import json
import os

import bazel_build_info
import gen_mod
from pkg.sub import mod
from runfiles import runfiles

r = runfiles.Create()


def read(path):
    with open(r.Rlocation(path)) as f:
        return f.read()


print(json.dumps({
    "generated": gen_mod.MESSAGE,
    "namespace": mod.VALUE,
    "outer": read("e2e/groups/outer.txt"),
    "inner": read("e2e/groups/inner/inner.txt"),
    "third_party": read("pypi_bazel_runfiles/data/greeting.txt"),
    "native_tool": os.path.isfile(r.Rlocation("e2e/groups/native_tool")),
    "target": bazel_build_info.target(),
    "stamped": bazel_build_info.is_stamped(),
    "build_user": (bazel_build_info.stable_status() or {}).get("BUILD_USER") is not None,
}, sort_keys=True))
