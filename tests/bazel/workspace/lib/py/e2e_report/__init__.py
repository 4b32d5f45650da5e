"""What the end-to-end binaries print: one JSON object on stdout describing the world they run in."""
import json
import os
import subprocess
import sys

ENV_KEYS = [
    "GREETING",
    "DATA_FILE",
    "PY_LAUNCHER_TARGET",
    "PY_LAUNCHER_BUILD_CONFIG",
    "RUNFILES_DIR",
    "JAVA_RUNFILES",
    "RUNFILES_MANIFEST_FILE",
    "PYTHONSAFEPATH",
    "TEST_TARGET",
]


def collect():
    import bazel_binary_info
    import bazel_build_info as info

    stable = info.stable_status()
    volatile = info.volatile_status()
    # A sys.executable subprocess must see the same venv, import path and build information.
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, sys, bazel_build_info as b, greetlib;"
            "print(json.dumps({'path': sys.path, 'target': b.target(), 'stamped': b.is_stamped(),"
            " 'greeting': greetlib.greet('subprocess'), 'prefix': sys.prefix}))",
        ],
        capture_output=True,
        text=True,
    )
    return {
        "argv": sys.argv,
        "cwd": os.getcwd(),
        "executable": sys.executable,
        "base_executable": getattr(sys, "_base_executable", None),
        "prefix": sys.prefix,
        "base_prefix": sys.base_prefix,
        "version": "%d.%d" % sys.version_info[:2],
        "path": sys.path,
        "utf8_mode": sys.flags.utf8_mode,
        "env": {key: os.environ.get(key) for key in ENV_KEYS},
        "build_info": {
            "target": info.target(),
            "stamped": info.is_stamped(),
            "config": info.build_config(),
            "stable_keys": sorted(stable) if stable is not None else None,
            "volatile_keys": sorted(volatile) if volatile is not None else None,
            "binary_info_first_lines": bazel_binary_info.get_build_data().splitlines()[:2],
        },
        "subprocess": json.loads(child.stdout) if child.returncode == 0 else {"error": child.stderr},
    }


def report(extra=None):
    result = collect()
    result.update(extra or {})
    print(json.dumps(result, indent=1, sort_keys=True))
