# A native py_binary's program: prints what it sees as one JSON line (tests/bazel_dropin.rs).
# With `--run RLOCATION` it first runs that binary through the runfiles and includes its report.
import json
import os
import subprocess
import sys

import native_greeting

args = sys.argv[1:]
inner = None
if args[:1] == ["--run"]:
    root = os.environ["RUNFILES_DIR"]
    out = subprocess.run([os.path.join(root, args[1]), "from-outer"], check=True, stdout=subprocess.PIPE)
    inner = json.loads(out.stdout.decode().splitlines()[-1])
    args = args[2:]
data = None
if os.environ.get("RUNFILES_DIR"):
    with open(os.path.join(os.environ["RUNFILES_DIR"], "e2e/native/data.txt")) as f:
        data = f.read().strip()
print(json.dumps({
    "argv": sys.argv,
    "args": args,
    "executable": sys.executable,
    "prefix": sys.prefix,
    "version": "%d.%d" % sys.version_info[:2],
    "greeting": native_greeting.GREETING,
    "data": data,
    "inner": inner,
    "env": {k: os.environ.get(k) for k in [
        "RUNFILES_DIR", "RUNFILES_MANIFEST_FILE", "PY_LAUNCHER_TARGET", "PYTHONSAFEPATH",
    ]},
}))
