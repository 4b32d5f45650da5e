"""Compiles one Python source to an unchecked-hash .pyc: the action of precompile.bzl (PyLauncherPrecompile).

Run by the toolchain's interpreter itself (`python3 -I -B -S precompile.py ...`, no shell):

    precompile.py <cache tag> <source> <output .pyc> <runfiles path of the source>

The cache tag (e.g. "cpython-311") is the one the rules named the output after; the action fails when this
interpreter's tag differs, since CPython would then never look at the file. The runfiles path is recorded as
the code's file name (no sandbox or output-base path ends up in the output, so it is the same on every
machine); CPython replaces it with the real source path when it imports the file anyway.
"""

import py_compile
import sys


def main(argv):
    if len(argv) != 5:
        sys.stderr.write("usage: precompile.py CACHE_TAG SOURCE OUTPUT RUNFILES_PATH\n")
        return 2
    tag, source, output, name = argv[1:]
    if sys.implementation.cache_tag != tag:
        sys.stderr.write(
            "precompile.py: this interpreter's bytecode tag is %r, the rules expect %r: the Python toolchain's "
            "runtime and the python_version the rules use disagree\n" % (sys.implementation.cache_tag, tag)
        )
        return 1
    try:
        py_compile.compile(
            source,
            cfile=output,
            dfile=name,
            doraise=True,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
    except py_compile.PyCompileError as e:
        sys.stderr.write("precompile.py: %s\n" % e.msg)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
