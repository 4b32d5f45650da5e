#!/usr/bin/env python3
"""Writes the hand-made seed corpus (fuzz/corpus/<target>/). Re-run after changing a seed here."""
import json, os, struct
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
def fnv(b):
    h = 0xcbf29ce484222325
    for c in struct.pack("<Q", len(b)) + b:
        h ^= c; h = (h * 0x100000001b3) & 0xffffffffffffffff
    return h
def enc(d): return d + struct.pack("<Q", len(d)) + struct.pack("<Q", fnv(d)) + b"PYLDESC1"
def put(target, name, data):
    os.makedirs(f"{ROOT}/{target}", exist_ok=True)
    if isinstance(data, str): data = data.encode()
    open(f"{ROOT}/{target}/{name}", "wb").write(data)

full = {"version": 1, "target": "//app:hello", "workspace_name": "_main", "main": "_main/app/hello.py",
  "interpreter": "/usr/bin/python3.11", "python_version": "3.11", "imports": ["_main/app/lib"],
  "interpreter_args": ["-X", "utf8"], "env": {"GREETING": "hi"}, "venv": "_main/app/_hello.venv",
  "build_config": "_main/app/_hello_build_config.json"}
full_j = json.dumps(full, indent=2).encode()
minimal = {"version": 1, "target": "//t:t", "workspace_name": "_main", "main": "_main/t.py", "interpreter": "python3"}
module = {"version": 1, "target": "//pkg:cli", "workspace_name": "_main", "main_module": "pkg.cli",
  "interpreter": "rules_python~~python~python_3_12_x86_64-unknown-linux-gnu/bin/python3", "python_version": "3.13t",
  "import_all": True, "system_site_packages": True}
mj = json.dumps(minimal, separators=(",", ":")).encode()

# descriptor
put("descriptor", "valid-full.json", full_j)
put("descriptor", "valid-minimal.json", mj)
put("descriptor", "valid-main-module.json", json.dumps(module))
put("descriptor", "valid-unicode-env.json", json.dumps(dict(minimal, env={"LANG": "C.UTF-8", "X": "caf\u00e9 \\ \"q\""}, interpreter_args=["-c", "print('a b')"]), ensure_ascii=False))
put("descriptor", "bad-both-mains.json", json.dumps(dict(minimal, main_module="pkg.app")))
put("descriptor", "bad-dotdot.json", json.dumps(dict(minimal, main="_main/../etc/passwd")))
put("descriptor", "bad-absolute-import.json", json.dumps(dict(minimal, imports=["/etc"])))
put("descriptor", "bad-version.json", json.dumps(dict(minimal, version=2)))
put("descriptor", "bad-unknown-field.json", json.dumps(dict(minimal, mian="x")))
put("descriptor", "bad-env-key.json", json.dumps(dict(minimal, env={"A=B": "c"})))
put("descriptor", "bad-truncated.json", mj[:40])
put("descriptor", "bad-python-version.json", json.dumps(dict(minimal, python_version="3.x")))

# trailer: [shape, size, descriptor...]
put("trailer", "plain", b"\x00\x00" + mj)
put("trailer", "decoy-older-trailer", b"\x01\x00" + mj)
put("trailer", "crosses-window", b"\x08\x30" + full_j)
put("trailer", "trailer-at-window-edge", b"\x08\x80" + mj)
put("trailer", "big-prefix", b"\x02\x10" + mj)
put("trailer", "signature-after", b"\x05\x03" + mj)
put("trailer", "magic-after", b"\x0c\x00" + mj)
put("trailer", "trailer-at-first-window-edge", b"\x18\x80" + mj)
put("trailer", "crosses-first-window", b"\x18\x30" + full_j)
put("trailer", "raw-finalized", b"\x7fELF\x02\x01" + b"\0" * 32 + enc(mj))
put("trailer", "raw-bad-hash", b"launcher" + mj + struct.pack("<Q", len(mj)) + struct.pack("<Q", 12345) + b"PYLDESC1")
put("trailer", "raw-len-past-start", b"ab" + struct.pack("<Q", 1 << 40) + struct.pack("<Q", 0) + b"PYLDESC1")
put("trailer", "raw-truncated", b"\x00\x01PYLDESC1")
put("trailer", "raw-two-trailers", enc(b"{}") + enc(mj) + b"SIGNATURE")

# stub
put("stub", "py-launcher-stub", b"#!/usr/bin/env py-launcher\n" + full_j + b"\n")
put("stub", "py-launcher-stub-blank-lines", b"#!/opt/py-launcher/bin/py-launcher\n\n  \t" + mj)
put("stub", "not-a-stub", b"print('hello')\n")
put("stub", "shebang-only", b"#!/usr/bin/py-launcher")
put("stub", "bad-json", b"#!/usr/bin/py-launcher\n{\"version\": 1,")
# Stock stubs: only the lines Bazel substitutes into, in the shape docs/dropin.md describes (our own
# description; no text of Bazel's or rules_python's templates).
put("stub", "stock-native-stub", """#!/usr/bin/py-launcher
import sys
PYTHON_BINARY = '_main/../py3/bin/python3'
def IsRunningFromZip():
  return False
def GetRepositoriesImports(module_space, import_all):
  return [os.path.join(module_space, '_main')]
def Main():
  python_imports = '_main/pkg/lib:_main/third_party'
  python_path_entries += GetRepositoriesImports(module_space, False)
  rel_path = '_main/pkg/app.py'
    target='//pkg:app',
""")
put("stub", "stock-native-stub-older", """#!/usr/bin/py-launcher
PYTHON_BINARY = 'python3'
  main_rel_path = '_main/pkg/app.py'
  cov_tool = '%coverage_tool%'
""")
put("stub", "stock-system-python-stub", """#!/usr/bin/py-launcher
STAGE2_BOOTSTRAP="_main/pkg/_app_stage2_bootstrap.py"
  _main = "%main%"
PYTHON_BINARY = '_main/pkg/_app.venv/bin/python3.11'
PYTHON_BINARY_ACTUAL = "rules_python++python+python_3_11_x86_64-unknown-linux-gnu/bin/python3"
IS_ZIPFILE = "0" == "1"
RECREATE_VENV_AT_RUNTIME = "1" == "1"
RESOLVE_PYTHON_BINARY_AT_RUNTIME = "0" == "1"
VENV_REL_SITE_PACKAGES = "lib/python3.11/site-packages"
WORKSPACE_NAME = "_main"
_INTERPRETER_ARGS_RAW = "-X
utf8"
""")
# py-launcher's own templates, expanded.
put("stub", "template-bazel-native", """#!/usr/bin/py-launcher
# py-launcher stub: bazel-native 1
target=//pkg:app
workspace_name=_main
python_binary=/usr/bin/python3.11
main=_main/pkg/app.py
imports=_main/pkg/lib
import_all=False
is_zipfile=False
coverage_tool=%coverage_tool%
# py-launcher stub: end
""")
put("stub", "template-rules-python", """#!/usr/bin/py-launcher
# py-launcher stub: rules-python 1
target=@@//pkg:app
workspace_name=_main
stage2_bootstrap=_main/pkg/_app_stage2_bootstrap.py
python_binary=_main/pkg/_app.venv/bin/python3
python_binary_actual=/usr/bin/python3.11
is_zipfile=0
recreate_venv_at_runtime=0
resolve_python_binary_at_runtime=%resolve_python_binary_at_runtime%
venv_rel_site_packages=lib/python3.10/site-packages
interpreter_args<<END_OF_INTERPRETER_ARGS
-X
utf8
END_OF_INTERPRETER_ARGS
# py-launcher stub: end
""")

# manifest
bin_ = "/home/u/.cache/bazel/_bazel_u/0123abcd/execroot/_main/bazel-out/k8-fastbuild/bin"
ext = "/home/u/.cache/bazel/_bazel_u/0123abcd/external"
src = "/home/u/src/proj"
py = "rules_python++python+python_3_11_x86_64-unknown-linux-gnu"
entries = [
  ("_main/pkg/__init__.py", ""),
  ("_main/pkg/app", f"{bin_}/pkg/app"),
  ("_main/pkg/app.py", f"{src}/pkg/app.py"),
  ("_main/pkg/lib/util.py", f"{src}/pkg/lib/util.py"),
  ("_main/pkg/lib/gen.py", f"{bin_}/pkg/lib/gen.py"),
  ("_main/pkg/tree", f"{bin_}/pkg/tree"),
  ("_main/pkg/_app.venv/bin/python3", f"../../../{py}/bin/python3"),
  ("_main/pkg/_app.venv/pyvenv.cfg", f"{bin_}/pkg/_app.venv/pyvenv.cfg"),
  (f"{py}/bin/python3", f"{ext}/{py}/bin/python3"),
  (f"{py}/lib/python3.11/os.py", f"{ext}/{py}/lib/python3.11/os.py"),
]
def esc_line(link, target):
    if " " in link or "\n" in link or "\\" in link or "\n" in target or "\\" in target:
        l = link.replace("\\", "\\b").replace(" ", "\\s").replace("\n", "\\n")
        t = target.replace("\\", "\\b").replace("\n", "\\n")
        return f" {l} {t}"
    return f"{link} {target}"
def manifest(es, sort=True):
    es = sorted(es, key=lambda e: e[0].encode()) if sort else es
    return "".join(esc_line(l, t) + "\n" for l, t in es)
put("manifest", "bazel-sorted", manifest(entries))
put("manifest", "escaped-lines", manifest(entries[:3] + [("_main/pkg/with space.py", f"{src}/pkg/with space.py"),
   ("_main/pkg/back\\slash.py", f"{src}/pkg/back\\slash.py"), ("_main/pkg/new\nline.py", f"{src}/pkg/new\nline.py")]))
put("manifest", "tree-artifact-prefixes", manifest([("_main/gen", f"{bin_}/gen"), ("_main/gen/sub", "/other/sub"),
   ("_main/gen/sub/x.py", "/exact/x.py"), ("_main/genx", "/not/a/prefix")]))
put("manifest", "relative-links", manifest([("_main/a/link", "../b/target"), ("_main/b/target", "/real/target"),
   ("_main/esc", "../../etc/passwd"), ("_main/loop1", "loop2"), ("_main/loop2", "loop1")]))
put("manifest", "duplicates", "a /same\na /same\nb /first\nb /second\n")
put("manifest", "unsorted-handwritten", "z /z\n_main/pkg/app.py /src/app.py\na /a\n")
put("manifest", "crlf-no-final-newline", "_main/a.py /x/a.py\r\n_main/b.py /x/b.py")
put("manifest", "malformed", "no-space-line\n\n   \n \n_main/x \n /\\\\n\\s\\b \\n\\s\n")

# words
put("words", "flags", "-X dev  -W 'error::Warning'")
put("words", "quotes", r'''-c "print('a b')" x\ y '' "a\"b\\c\d" '$HOME' "\$x" ''')
put("words", "continuation", "a\\\nb \"c\\\nd\"\t'e\nf'")
put("words", "unterminated-single", "'abc")
put("words", "unterminated-double", "\"abc\\\"")
put("words", "trailing-backslash", "abc\\")
put("words", "nul-separated-words", b"-c\0print(1)\0it's \"quoted\"\0\0back\\slash\n")

# venv_key: flags \0 imports \0 manifest \0 xdg \0 home \0 tmpdir
put("venv_key", "directory-mode", b"\x40\0_main/pkg/lib\n_main/third_party\0\0/home/u/.cache\0/home/u\0/tmp")
put("venv_key", "directory-import-all", b"\x15\0_main/pkg/lib\0\0\0/home/u\0")
put("venv_key", "manifest-mode", b"\x02\0_main/pkg/lib\0" + manifest(entries).encode() + b"\0\0/home/u\0/var/tmp")
put("venv_key", "manifest-import-all", b"\x03\0\0" + manifest(entries).encode() + b"\0relative/xdg\0\0relative-tmp")
put("venv_key", "manifest-two-real-dirs", b"\x02\0_main/lib\0_main/lib/p/__init__.py /src/lib/p/__init__.py\n_main/lib/p/gen.py /out/lib/p/gen.py\n\0/x\0/y\0/z")
