"""Writes a reproducible .tar.gz for scripts/release.

Reads NUL-separated pairs "ARCHIVE_PATH\0SOURCE_FILE\0" on stdin and writes them, with their parent
directories, sorted by name, owned by 0:0 with no user or group names, every mtime set to MTIME, modes 0755
(directories and executables) or 0644, into OUTPUT as a GNU tar compressed by gzip without a file name or
timestamp in its header. The same input always gives the same bytes (for a given zlib).

It also writes release.json into the archive: the version, the commit and the sha256 of every other
member. The repository rules read it through a label, so Bazel refetches @py_launcher_toolchains (and a
build_from_source rebuilds) whenever the archive's content changes.

Usage: python3 release_tar.py OUTPUT MTIME VERSION COMMIT < pairs
"""

import gzip
import hashlib
import io
import json
import os
import sys
import tarfile

MANIFEST = "release.json"


def main() -> None:
    output, mtime, version, commit = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    fields = sys.stdin.buffer.read().split(b"\0")
    if fields and fields[-1] == b"":
        fields.pop()
    if len(fields) % 2:
        sys.exit("release_tar.py: odd number of fields on stdin")
    files = {}
    for name, source in zip(fields[0::2], fields[1::2]):
        name = name.decode()
        if name in files:
            sys.exit(f"release_tar.py: {name} given twice")
        if name.startswith("/") or ".." in name.split("/"):
            sys.exit(f"release_tar.py: bad archive path {name}")
        files[name] = os.fsdecode(source)
    if MANIFEST in files:
        sys.exit(f"release_tar.py: {MANIFEST} is written here, not given")
    digests = {}
    for name in sorted(files):
        with open(files[name], "rb") as f:
            digests[name] = hashlib.sha256(f.read()).hexdigest()
    manifest = json.dumps(
        {"version": version, "commit": commit, "files": digests}, indent=1, sort_keys=True
    ).encode() + b"\n"
    dirs = set()
    for name in files:
        parts = name.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            dirs.add("/".join(parts[:i]))

    def info(name: str, kind: bytes, mode: int, size: int = 0) -> tarfile.TarInfo:
        ti = tarfile.TarInfo(name)
        ti.type, ti.mode, ti.size, ti.mtime = kind, mode, size, mtime
        ti.uid = ti.gid = 0
        ti.uname = ti.gname = ""
        return ti

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name in sorted(dirs | set(files) | {MANIFEST}):
            if name in dirs:
                tar.addfile(info(name + "/", tarfile.DIRTYPE, 0o755))
                continue
            if name == MANIFEST:
                tar.addfile(info(name, tarfile.REGTYPE, 0o644, len(manifest)), io.BytesIO(manifest))
                continue
            with open(files[name], "rb") as f:
                data = f.read()
            mode = 0o755 if os.stat(files[name]).st_mode & 0o100 else 0o644
            tar.addfile(info(name, tarfile.REGTYPE, mode, len(data)), io.BytesIO(data))
    tmp = output + ".tmp"
    with open(tmp, "wb") as out:
        with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=9) as gz:
            gz.write(raw.getvalue())
    os.replace(tmp, output)


if __name__ == "__main__":
    main()
