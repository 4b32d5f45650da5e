"""The repository rule behind py_launcher_register_toolchains (WORKSPACE) and the py_launcher module
extension (Bzlmod): it generates @py_launcher_toolchains, the launcher toolchains for every platform that
has binaries.

Where the binaries come from:
  - prebuilt: the release archive's bin/<target triple>/py-launcher and py-launcher-finalize (symlinked here);
  - build_from_source = True: `cargo build --release --locked --bins` on the archive's own sources, run by
    repository_ctx.execute (no shell) with CARGO_TARGET_DIR inside this repository; the result serves this
    machine's platform (and replaces a prebuilt set for the same platform).
With neither for this machine's platform the fetch fails with one message naming the platform and both
ways out.

The generated repository:
  <set>/py-launcher, <set>/py-launcher-finalize  one directory per binary set (a triple, or built-from-source)
  BUILD.bazel            py_launcher_toolchain per (exec set, target set): target's launcher, exec's finalizer
  toolchains/BUILD.bazel only toolchain() targets, with exec_compatible_with / target_compatible_with, so
                         that register_toolchains("@py_launcher_toolchains//toolchains:all") takes them all
"""

# The CPU and OS parts of a target triple, and their @platforms constraint values. A bin/<triple>/ whose
# triple is not covered here is refused by name (add its mapping here when adding such binaries).
_CPUS = {
    "aarch64": "@platforms//cpu:aarch64",
    "x86_64": "@platforms//cpu:x86_64",
}

_OSES = {
    "apple-darwin": "osx",
    "linux": "linux",
    "windows": "windows",
}

_LAUNCHER = "py-launcher"
_FINALIZER = "py-launcher-finalize"

def _triple_platform(triple):
    """(cpu, os) of a target triple like x86_64-unknown-linux-musl, or None when unknown."""
    cpu = triple.split("-")[0]
    if cpu not in _CPUS:
        return None
    for part, os in _OSES.items():
        if ("-" + part) in triple:
            return (cpu, os)
    return None

def _host_platform(rctx):
    """(cpu, os) of the machine Bazel runs on (the execution platform of a local build)."""
    name = rctx.os.name.lower()
    if name.startswith("linux"):
        os = "linux"
    elif name.startswith("mac os"):
        os = "osx"
    elif name.startswith("windows"):
        os = "windows"
    else:
        os = name
    arch = getattr(rctx.os, "arch", None)  # Bazel 5+; Bazel 4 has no repository_os.arch
    if not arch and os != "windows":
        result = rctx.execute(["uname", "-m"])
        arch = result.stdout.strip() if result.return_code == 0 else ""
    arch = {"amd64": "x86_64", "arm64": "aarch64"}.get(arch, arch)
    return (arch, os)

def _constraints(platform):
    cpu, os = platform
    return [str(Label(_CPUS[cpu])), str(Label("@platforms//os:" + os))]

def _exe(platform):
    return ".exe" if platform[1] == "windows" else ""

def _platform_name(platform):
    return "%s-%s" % (platform[1], platform[0])

def _prebuilt_sets(rctx, root):
    bin_dir = root.get_child("bin")
    if not bin_dir.exists:
        return []
    sets = []
    for triple in sorted([p.basename for p in bin_dir.readdir()]):
        entry = bin_dir.get_child(triple)
        platform = _triple_platform(triple)
        if platform == None:
            fail(("py_launcher: bin/%s holds binaries for a target triple py_launcher does not know; known CPUs: " +
                  "%s, known systems: %s (bazel/private/repos.bzl maps them to @platforms constraints)") %
                 (triple, ", ".join(sorted(_CPUS.keys())), ", ".join(sorted(_OSES.keys()))))
        for name in (_LAUNCHER, _FINALIZER):
            if not entry.get_child(name + _exe(platform)).exists:
                fail("py_launcher: bin/%s/ has no %s%s; a binary set needs both %s and %s" %
                     (triple, name, _exe(platform), _LAUNCHER, _FINALIZER))
        sets.append(struct(name = triple, platform = platform, dir = entry))
    return sets

def _find_cargo(rctx):
    if rctx.attr.cargo:
        return rctx.path(rctx.attr.cargo)
    found = rctx.which("cargo")
    if found:
        return found
    env = rctx.os.environ
    for home in (env.get("CARGO_HOME"), env.get("HOME", "") + "/.cargo" if env.get("HOME") else None):
        if home:
            candidate = rctx.path(home + "/bin/cargo")
            if candidate.exists:
                return candidate
    fail("py_launcher: build_from_source = True needs cargo, which is neither on PATH nor in " +
         "$CARGO_HOME/bin or ~/.cargo/bin; install Rust (https://rustup.rs) or pass cargo = \"/path/to/cargo\"")

def _build_from_source(rctx, root, host, commit):
    cargo = _find_cargo(rctx)
    target_dir = rctx.path("cargo-target")
    rctx.report_progress("building py-launcher with cargo (build_from_source = True)")
    result = rctx.execute(
        [cargo, "build", "--release", "--locked", "--bins"],
        working_directory = str(root),
        # The archive has no .git: the commit it was made from comes from its release.json (build.rs
        # reads PY_LAUNCHER_GIT_COMMIT; empty means none), so `py-launcher --version` names it.
        environment = {"CARGO_TARGET_DIR": str(target_dir), "PY_LAUNCHER_GIT_COMMIT": commit},
        timeout = 3600,
        quiet = False,
    )
    if result.return_code != 0:
        fail("py_launcher: `%s build --release --locked --bins` in %s failed (exit %d):\n%s%s" %
             (cargo, root, result.return_code, result.stdout, result.stderr))
    built = target_dir.get_child("release")
    for name in (_LAUNCHER, _FINALIZER):
        if not built.get_child(name + _exe(host)).exists:
            fail("py_launcher: cargo succeeded but wrote no %s" % built.get_child(name + _exe(host)))
    return struct(name = "built-from-source", platform = host, dir = built)

_BUILD_HEADER = """\
# Generated by @py_launcher//bazel/private:repos.bzl: py_launcher_toolchain per (exec, target) binary set.
load("{defs}", "py_launcher_toolchain")

package(default_visibility = ["//visibility:public"])
"""

_TOOLCHAIN = """
py_launcher_toolchain(
    name = "{name}",
    finalizer = ":{exec_set}/{finalizer}",
    launcher = ":{target_set}/{launcher}",
    python_version = "{python_version}",{coverage_tool}
)
"""

_TOOLCHAINS_HEADER = """\
# Generated by @py_launcher//bazel/private:repos.bzl: only toolchain() targets, registered with ":all".
"""

_REGISTERED = """
toolchain(
    name = "{name}",
    exec_compatible_with = {exec_constraints},
    target_compatible_with = {target_constraints},
    toolchain = "//:{name}",
    toolchain_type = "{toolchain_type}",
)
"""

def _py_launcher_toolchains_impl(rctx):
    root = rctx.path(Label("//:BUILD.bazel")).dirname

    # Bazel re-runs a repository rule when a file it read through a label changes, and only then. The
    # archive's release.json (scripts/release) holds the sha256 of every file, so reading it makes a new
    # archive (new binaries, new sources for build_from_source) refetch this repository. A checkout used
    # with local_repository has none: there, `bazel sync` (or a clean) picks up changed sources.
    release = {}
    if root.get_child("release.json").exists:
        release = json.decode(rctx.read(Label("//:release.json")))
    host = _host_platform(rctx)
    sets = _prebuilt_sets(rctx, root)
    if rctx.attr.build_from_source:
        if host[0] not in _CPUS or host[1] not in _OSES.values():
            fail("py_launcher: this machine's platform (%s) has no @platforms mapping in bazel/private/repos.bzl" %
                 _platform_name(host))
        sets = [s for s in sets if s.platform != host] + [_build_from_source(rctx, root, host, release.get("commit", ""))]
    elif not [s for s in sets if s.platform == host]:
        have = ", ".join([s.name for s in sets]) or "none"
        fail(("py_launcher has no prebuilt binaries for this platform, %s (bin/ of the py_launcher archive has: " +
              "%s). Either build them from source with cargo: py_launcher_register_toolchains(build_from_source " +
              "= True) in WORKSPACE (Bzlmod: py_launcher.toolchains(build_from_source = True)); or use a " +
              "py_launcher archive with bin/<target triple>/%s and %s for %s.") %
             (_platform_name(host), have, _LAUNCHER, _FINALIZER, _platform_name(host)))

    build = _BUILD_HEADER.format(defs = str(Label("//bazel:defs.bzl")))
    toolchains = _TOOLCHAINS_HEADER
    for s in sets:
        for name in (_LAUNCHER, _FINALIZER):
            file = name + _exe(s.platform)
            rctx.symlink(s.dir.get_child(file), s.name + "/" + file)
    for exec_set in sets:
        for target_set in sets:
            name = "%s_from_%s" % (target_set.name, exec_set.name) if exec_set.name != target_set.name else target_set.name
            build += _TOOLCHAIN.format(
                name = name,
                exec_set = exec_set.name,
                target_set = target_set.name,
                finalizer = _FINALIZER + _exe(exec_set.platform),
                launcher = _LAUNCHER + _exe(target_set.platform),
                python_version = rctx.attr.python_version,
                coverage_tool = "\n    coverage_tool = %s," % repr(rctx.attr.coverage_tool) if rctx.attr.coverage_tool else "",
            )
            toolchains += _REGISTERED.format(
                name = name,
                exec_constraints = repr(_constraints(exec_set.platform)),
                target_constraints = repr(_constraints(target_set.platform)),
                toolchain_type = str(Label("//bazel:toolchain_type")),
            )
    rctx.file("WORKSPACE", "# Generated by @py_launcher//bazel/private:repos.bzl.\n")
    rctx.file("BUILD.bazel", build)
    rctx.file("toolchains/BUILD.bazel", toolchains)

py_launcher_toolchains_repo = repository_rule(
    implementation = _py_launcher_toolchains_impl,
    doc = "The py-launcher toolchains: prebuilt binaries from bin/<triple>/, or built with cargo.",
    attrs = {
        "build_from_source": attr.bool(
            doc = "Build py-launcher and py-launcher-finalize for this machine with cargo (crates.io access " +
                  "or a filled cargo registry cache needed); prebuilt sets for other platforms stay.",
        ),
        "cargo": attr.string(doc = "The cargo to use (default: `cargo` on PATH, then $CARGO_HOME/bin, ~/.cargo/bin)."),
        "coverage_tool": attr.string(
            doc = "py_launcher_toolchain.coverage_tool for every toolchain: the label (as a string, e.g. " +
                  "\"@pypi_coverage//:coverage\") of a target providing coverage.py; empty: no coverage data.",
        ),
        "python_version": attr.string(
            doc = "py_launcher_toolchain.python_version for every toolchain (\"X.Y\"; see docs/bazel.md).",
        ),
    },
)
