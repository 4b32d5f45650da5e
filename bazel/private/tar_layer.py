"""Writes one deterministic image layer (a tar) for py_launcher_image_layers; run as a Bazel action tool.

Usage: tar_layer ARGFILE, where ARGFILE (Bazel's multiline param file) holds one argument per line:

    --output PATH          the tar to write
    --workspace NAME       the main repository's runfiles directory name (a short_path without "../")
    --root DIR             the runfiles root inside the image, without a leading "/" (app/pkg/bin.runfiles)
    F<TAB>short_path<TAB>exec_path      a file at <root>/<runfiles path of short_path>
    X<TAB>short_path                    leave this file out (it is in a shared layer)
    R<TAB>runfiles_path<TAB>exec_path   a file at <root>/<runfiles_path> (a root symlink, stored as a file)
    L<TAB>runfiles_path<TAB>short_path  a relative symlink at <root>/<runfiles_path> to the file's place
    E<TAB>image_path<TAB>exec_path      a file at an image path (the entry point)
    D<TAB>image_path<TAB>link_target    a symlink at an image path with this literal target

Every entry has mtime 0, uid and gid 0, no user or group name; files are 0755 when their source is
executable, else 0644; directories 0755 and listed explicitly. Entries are sorted by path. Sources are
read through symlinks (inside a sandbox every input is one); only L and D entries are symlinks.
"""

import io
import os
import posixpath
import sys
import tarfile


def runfiles_path(short_path, workspace):
    if short_path.startswith("../"):
        return short_path[3:]
    return workspace + "/" + short_path


def relative_link(link_path, target_path):
    return posixpath.relpath(target_path, posixpath.dirname(link_path))


def main(argv):
    if len(argv) != 1 or not argv[0].startswith("@"):
        sys.exit("tar_layer: usage: tar_layer @ARGFILE")
    with open(argv[0][1:], encoding="utf-8") as f:
        args = f.read().splitlines()
    output = workspace = root = None
    files = {}  # image path -> exec path
    links = {}  # image path -> link target
    excluded = set()
    pending = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in ("--output", "--workspace", "--root"):
            value = args[i + 1]
            i += 2
            if arg == "--output":
                output = value
            elif arg == "--workspace":
                workspace = value
            else:
                root = value.strip("/")
            continue
        pending.append(arg.split("\t"))
        i += 1
    if not output or workspace is None or root is None:
        sys.exit("tar_layer: --output, --workspace and --root are required")
    for fields in pending:
        if fields[0] == "X":
            excluded.add(runfiles_path(fields[1], workspace))
    for fields in pending:
        kind = fields[0]
        if kind == "F":
            rpath = runfiles_path(fields[1], workspace)
            if rpath not in excluded:
                files[root + "/" + rpath] = fields[2]
        elif kind == "R":
            files[root + "/" + fields[1]] = fields[2]
        elif kind == "L":
            link = root + "/" + fields[1]
            links[link] = relative_link(link, root + "/" + runfiles_path(fields[2], workspace))
        elif kind == "E":
            files[fields[1].strip("/")] = fields[2]
        elif kind == "D":
            links[fields[1].strip("/")] = fields[2]
        elif kind != "X":
            sys.exit("tar_layer: unknown entry %r" % "\t".join(fields))
    for path in links:
        files.pop(path, None)

    dirs = set()
    for path in list(files) + list(links):
        parent = posixpath.dirname(path)
        while parent and parent not in dirs:
            dirs.add(parent)
            parent = posixpath.dirname(parent)

    def info(name, kind, mode, size=0, linkname=""):
        entry = tarfile.TarInfo(name)
        entry.type = kind
        entry.mode = mode
        entry.size = size
        entry.linkname = linkname
        entry.mtime = 0
        entry.uid = entry.gid = 0
        entry.uname = entry.gname = ""
        return entry

    tmp = output + ".tmp"
    with open(tmp, "wb") as out:
        with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as tar:
            for path in sorted(dirs | set(files) | set(links)):
                if path in dirs:
                    tar.addfile(info(path + "/", tarfile.DIRTYPE, 0o755))
                elif path in links:
                    tar.addfile(info(path, tarfile.SYMTYPE, 0o777, linkname=links[path]))
                else:
                    source = files[path]
                    with open(source, "rb") as f:
                        data = f.read()
                    mode = 0o755 if os.stat(source).st_mode & 0o111 else 0o644
                    tar.addfile(info(path, tarfile.REGTYPE, mode, size=len(data)), io.BytesIO(data))
    os.replace(tmp, output)


if __name__ == "__main__":
    main(sys.argv[1:])
