"""rules_python's ``bazel_binary_info`` API, served from py-launcher's build information.

Programs written against rules_python's stage-2 bootstrap read ``bazel_binary_info.BUILD_DATA_FILE`` and
call ``get_build_data()``. Here both come from ``bazel_build_info``: ``BUILD_DATA_FILE`` is the absolute
path of the build-configuration JSON (``Rlocation`` returns an absolute path unchanged, so code that resolves
it through runfiles keeps working), and ``get_build_data()`` returns the text in rules_python's format:
``TARGET <label>``, ``STAMPED TRUE|FALSE``, then the volatile and the stable status lines.
"""

import os

BUILD_DATA_FILE = os.environ.get("PY_LAUNCHER_BUILD_CONFIG", "")

_cache = []


def get_build_data():
    if not _cache:
        import bazel_build_info as info

        lines = ["TARGET " + (info.target() or ""), "STAMPED " + ("TRUE" if info.is_stamped() else "FALSE")]
        for status in (info.volatile_status(), info.stable_status()):
            for key, value in (status or {}).items():
                lines.append(key + " " + value)
        _cache.append("\n".join(lines) + "\n")
    return _cache[0]
