"""Fixture generators for scripts/bench: source files, runfiles trees and manifests laid out the way Bazel
and the py-launcher rules do (docs/layout.md), finalized launchers, and the plain venvs used as floors.

Everything is written under one work directory (bench/work, gitignored). Runfiles trees follow Bazel:
directories are real, every file is a symlink to its real location (a source file in src/, or a generated
file in out/, the stand-in for bazel-out). Manifests are sorted by link path, as Bazel writes them.
"""

import json
import os
import shutil
import subprocess

PY_VERSION = "3.11"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def venv_layout():
    """The venv layout's one description (bazel/private/venv_layout.bzl), which the rules build from."""
    with open(os.path.join(REPO, "bazel", "private", "venv_layout.bzl")) as f:
        return json.loads(f.read().split("\nVENV_LAYOUT = ", 1)[1])

MAIN_PY = """\
import greet

greet.hello()
"""

GREET_PY = """\
import sys


def hello():
    sys.stdout.write("hello from greet\\n")
"""


def write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def symlink(target, link):
    os.makedirs(os.path.dirname(link), exist_ok=True)
    if os.path.lexists(link):
        os.unlink(link)
    os.symlink(target, link)


class Work:
    """The work directory and the real files every binary shares."""

    def __init__(self, root, interpreter, n_deps):
        self.root = root
        self.interpreter = interpreter
        self.src = os.path.join(root, "src")
        self.out = os.path.join(root, "out")
        self.bin = os.path.join(root, "bin")
        self.floor = os.path.join(root, "floor")
        for d in (self.src, self.out, self.bin, self.floor):
            os.makedirs(d, exist_ok=True)
        write(os.path.join(self.src, "app/main.py"), MAIN_PY)
        write(os.path.join(self.src, "app/empty.py"), "")
        write(os.path.join(self.src, "app/lib/greet/__init__.py"), GREET_PY)
        self.deps = []
        for i in range(n_deps):
            rel = f"deps/d{i:04d}"
            write(os.path.join(self.src, rel, f"mod_{i:04d}.py"), f"VALUE = {i}\n")
            self.deps.append(rel)
        write(os.path.join(self.out, "_repo_mapping"), ",_main,_main\n")


class Binary:
    """One py_binary: its runfiles content (runfiles path -> real path), descriptor and launcher."""

    def __init__(self, work, name, main="app/main.py", deps=(), build_time_venv=True, libs=None):
        """`libs`: {runfiles path of an import dir: real dir}, every file below it in the runfiles (the
        site-packages of a third-party wheel, as an external repository)."""
        self.work = work
        self.name = name
        self.main = "_main/" + main
        self.libs = dict(libs or {})
        self.imports = ([f"_main/{d}" for d in deps] + (["_main/app/lib"] if main == "app/main.py" else [])
                        + list(self.libs))
        self.venv = f"_main/app/_{name}.venv" if build_time_venv else None
        self.build_config = f"_main/app/_{name}_build_config.json"
        self.exe = os.path.join(work.bin, name)
        self.files = {}  # runfiles path -> real path (file or symlink)
        self._collect(main, deps)

    def _collect(self, main, deps):
        w = self.work
        self.files["_repo_mapping"] = os.path.join(w.out, "_repo_mapping")
        self.files[self.main] = os.path.join(w.src, main)
        if main == "app/main.py":
            self.files["_main/app/lib/greet/__init__.py"] = os.path.join(w.src, "app/lib/greet/__init__.py")
        for d in deps:
            base = os.path.basename(d)[1:]
            self.files[f"_main/{d}/mod_{base}.py"] = os.path.join(w.src, d, f"mod_{base}.py")
        for rel, real_dir in self.libs.items():
            for dirpath, dirnames, filenames in os.walk(real_dir):
                dirnames[:] = [d for d in dirnames if d != "__pycache__"]
                for f in filenames:
                    real = os.path.join(dirpath, f)
                    self.files[f"{rel}/{os.path.relpath(real, real_dir)}"] = real
        out_pkg = os.path.join(w.out, "app")
        config = {
            "target": f"//app:{self.name}",
            "workspace_name": "_main",
            "python_version": PY_VERSION,
            "cpu": "k8",
            "compilation_mode": "fastbuild",
            "stamped": False,
            "main": self.main,
            "attributes": {"imports": [i[len("_main/"):] for i in self.imports], "env": {}},
        }
        cfg_path = os.path.join(out_pkg, f"_{self.name}_build_config.json")
        write(cfg_path, json.dumps(config, indent=1) + "\n")
        self.files[self.build_config] = cfg_path
        if self.venv:
            self._venv_files(out_pkg)

    def _venv_files(self, out_pkg):
        """The build-time venv the rules make for a platform runtime, from the layout description: pyvenv.cfg
        naming `home`, bin/python3 a copy of the launcher in its venv_python mode (written by `finalize`),
        the .pth with one relative line per import directory and the workspace root, then the
        sys._base_executable line, and the two build-info modules."""
        layout = venv_layout()
        build_time = layout["build_time"]
        self.venv_out = os.path.join(out_pkg, f"_{self.name}.venv")
        site_rel = layout["site_packages"].replace("{version}", PY_VERSION)
        values = {"{home}": os.path.dirname(self.work.interpreter), "{version}": PY_VERSION}
        config = ""
        for key, template in build_time["config"]:
            for name, value in values.items():
                template = template.replace(name, value)
            config += layout["config_line"].replace("{key}", key).replace("{value}", template)
        write(os.path.join(self.venv_out, layout["config"]), config)
        site_runfiles = f"{self.venv}/{site_rel}"
        lines = ["../" * len(site_runfiles.split("/")) + d for d in self.imports + ["_main"]]
        lines.append(build_time["base_executable"]["platform"].replace("{interpreter}", json.dumps(self.work.interpreter)))
        pth = f"{site_rel}/{layout['pth']}"
        write(os.path.join(self.venv_out, pth), "\n".join(lines) + "\n")
        templates = os.path.join(REPO, "templates")
        for module in layout["modules"]:
            shutil.copy(os.path.join(templates, module), os.path.join(self.venv_out, site_rel, module))
        for rel in [layout["config"], build_time["python"], pth] + [f"{site_rel}/{m}" for m in layout["modules"]]:
            self.files[f"{self.venv}/{rel}"] = os.path.join(self.venv_out, rel)

    def descriptor(self):
        d = {
            "version": 1,
            "target": f"//app:{self.name}",
            "workspace_name": "_main",
            "main": self.main,
            "interpreter": self.work.interpreter,
            "python_version": PY_VERSION,
            "imports": self.imports,
            "build_config": self.build_config,
        }
        if self.venv:
            d["venv"] = self.venv
        return d

    def finalize(self, finalize_tool, launcher, exe=None):
        exe = exe or self.exe
        desc = os.path.join(self.work.out, f"{self.name}.descriptor.json")
        write(desc, json.dumps(self.descriptor(), indent=1) + "\n")
        subprocess.run([finalize_tool, "--launcher", launcher, "--descriptor", desc, "--output", exe],
                       check=True)
        if self.venv and exe == self.exe:
            # The venv's bin/python3, as the rules make it: the launcher in its venv_python mode.
            python = os.path.join(self.venv_out, venv_layout()["build_time"]["python"])
            desc = os.path.join(self.work.out, f"{self.name}.venv_python.json")
            write(desc, json.dumps({"version": 1, "target": f"//app:{self.name}", "workspace_name": "_main",
                                    "interpreter": self.work.interpreter, "venv_python": True}) + "\n")
            os.makedirs(os.path.dirname(python), exist_ok=True)
            subprocess.run([finalize_tool, "--launcher", launcher, "--descriptor", desc, "--output", python],
                           check=True)
        return exe

    @property
    def runfiles_dir(self):
        return self.exe + ".runfiles"

    def lay_out_tree(self):
        """Directory mode: <exe>.runfiles/ with real directories and one symlink per file."""
        root = self.runfiles_dir
        if os.path.exists(root):
            shutil.rmtree(root)
        for rel, real in self.files.items():
            symlink(real, os.path.join(root, rel))
        return root

    def write_manifest(self, filler):
        """Manifest-only mode: <exe>.runfiles_manifest and no tree. `filler` adds unrelated entries."""
        entries = dict(filler)
        entries.update(self.files)
        path = self.exe + ".runfiles_manifest"
        with open(path, "w") as f:
            for link in sorted(entries, key=lambda s: s.encode()):
                f.write(f"{link} {entries[link]}\n")
        if os.path.exists(self.runfiles_dir):
            shutil.rmtree(self.runfiles_dir)
        return path, len(entries)


def manifest_filler(work, count, before=1.0):
    """`count` entries of a large monorepo. A share `before` of them sorts before the binary's own entries
    (`_main/aaa/pkg0123/sub4/file_07.py`), the rest after them, as external repositories do
    (`rules_python++pip+pypi_pkg0123/site-packages/...`). With before=1.0 a sorted scan must read the whole
    manifest before it reaches the binary's entries: the worst case for the launcher."""
    filler = {}
    n_before = int(count * before)
    for i in range(count):
        pkg, sub, f = i // 200, (i // 20) % 10, i % 20
        if i < n_before:
            rel = f"_main/aaa/pkg{pkg:04d}/sub{sub}/file_{f:02d}.py"
        else:
            rel = f"rules_python++pip+pypi_pkg{pkg:04d}/site-packages/pkg{pkg:04d}/sub{sub}/file_{f:02d}.py"
        filler[rel] = os.path.join(work.src, "monorepo", rel)
    return filler


def floor_venv(work, name, import_dirs):
    """A plain venv (no launcher): pyvenv.cfg like the launcher's (home, no system site-packages),
    bin/python3 -> the interpreter, and a .pth with the same import directories, absolute."""
    venv = os.path.join(work.floor, f"{name}.venv")
    if os.path.exists(venv):
        shutil.rmtree(venv)
    site = os.path.join(venv, f"lib/python{PY_VERSION}/site-packages")
    write(os.path.join(venv, "pyvenv.cfg"),
          f"home = {os.path.dirname(work.interpreter)}\ninclude-system-site-packages = false\nversion = {PY_VERSION}\n")
    symlink(work.interpreter, os.path.join(venv, "bin/python3"))
    write(os.path.join(site, "_floor.pth"), "".join(d + "\n" for d in import_dirs))
    return os.path.join(venv, "bin/python3")


RICH_CLI_PY = """\
import sys

from rich.console import Console
from rich.markdown import Markdown

TEXT = \"\"\"# Report

Some *emphasis*, a [link](https://example.org) and `inline code`.

```python
def greet(name):
    return f"hello {name}"
```
\"\"\"

Console(file=sys.stdout, force_terminal=True, width=80).print(Markdown(TEXT))
"""


def static_program(work, source, name="python3.11"):
    """Compiles `source` (a C file) statically into work/static/bin/<name>; None without gcc."""
    if not shutil.which("gcc"):
        return None
    exe = os.path.join(work, "static", "bin", name)
    os.makedirs(os.path.dirname(exe), exist_ok=True)
    subprocess.run(["gcc", "-O2", "-static", "-o", exe, source], check=True)
    return exe


def unpack_wheels(wheels, dest):
    """Each wheel (a zip) unpacked into dest/<distribution>/ (a site-packages of its own); returns them."""
    import zipfile
    dirs = {}
    for wheel in sorted(wheels):
        dist = os.path.basename(wheel).split("-")[0].lower()
        target = os.path.join(dest, dist)
        with zipfile.ZipFile(wheel) as z:
            z.extractall(target)
        dirs[dist] = target
    return dirs


def floor_venv_with_packages(work, name, package_dirs):
    """A hand-made venv whose site-packages holds the unpacked wheels (copies, as pip would install)."""
    python = floor_venv(work, name, [])
    site = os.path.join(work.floor, f"{name}.venv", f"lib/python{PY_VERSION}/site-packages")
    os.unlink(os.path.join(site, "_floor.pth"))
    for d in package_dirs:
        shutil.copytree(d, site, dirs_exist_ok=True)
    return python
