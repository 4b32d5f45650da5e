"""Prints e2e_report's JSON. Options (all optional, in any order):
  --out FILE          write the JSON to FILE instead of stdout (used as a genrule tool)
  --rlocation PATH    resolve PATH with the third-party `runfiles` library and add its text
  --run RLOCATION     resolve a binary with `runfiles`, run it and add its JSON output
  --exit N            exit with status N after reporting
"""
import json
import subprocess
import sys

import e2e_report

args = sys.argv[1:]
extra = {}
out = None
code = 0
while args:
    opt = args.pop(0)
    if opt == "--out":
        out = args.pop(0)
    elif opt == "--exit":
        code = int(args.pop(0))
    elif opt in ("--rlocation", "--run"):
        from runfiles import runfiles

        r = runfiles.Create()
        path = r.Rlocation(args.pop(0))
        extra.setdefault("rlocation", []).append(path)
        if opt == "--rlocation":
            with open(path, encoding="utf-8") as f:
                extra["rlocation_text"] = f.read()
        else:
            env = dict(r.EnvVars())
            import os

            env = {**os.environ, **env}
            child = subprocess.run([path, "from-outer"], capture_output=True, text=True, env=env)
            extra["child_exit"] = child.returncode
            extra["child_stderr"] = child.stderr
            extra["child"] = json.loads(child.stdout) if child.returncode == 0 else None
    else:
        extra.setdefault("positional", []).append(opt)

try:
    import extramod

    extra["extramod"] = extramod.VALUE
except ImportError:
    extra["extramod"] = None

if out:
    result = e2e_report.collect()
    result.update(extra)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1, sort_keys=True)
else:
    e2e_report.report(extra)
sys.exit(code)
