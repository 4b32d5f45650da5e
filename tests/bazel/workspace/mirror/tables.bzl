# The tables tests/bazel_mirror.rs feeds both to the launcher's Rust code and to the rules' Starlark
# (bazel/private/shared.bzl, through :mirror). The Rust side reads everything after `TABLES = ` as JSON:
# keep the value JSON (double quotes, no trailing commas, no comments inside). "!" means "refused" (in
# venv_config: no home). The venv_* rows are worked through the venv layout's one description,
# bazel/private/venv_layout.bzl, by both sides.

TABLES = {
    "join_runfiles_path": [
        ["_main", "pkg/main.py", "_main/pkg/main.py"],
        ["_main", "../pyrt/bin/python3", "pyrt/bin/python3"],
        ["_main", "../rules_python~0.31~pip~numpy/site-packages", "rules_python~0.31~pip~numpy/site-packages"],
        ["e2e", "cases/report_main.py", "e2e/cases/report_main.py"],
        ["", "_main/../repo/x", "repo/x"],
        ["", "a/./b//c/", "a/b/c"],
        ["", "a/b/../../c", "c"],
        ["", "a/..", ""],
        ["", "..", "!"],
        ["_main", "../../x", "!"],
        ["_main/pkg", "../../../x", "!"],
        ["_main/pkg", "../lib/x.py", "_main/lib/x.py"],
        ["_main", "", "_main"]
    ],
    "python_version": [
        ["3.11", "3.11"],
        ["3.9", "3.9"],
        ["3.13t", "3.13t"],
        ["10.0", "10.0"],
        ["3.1000", "3.1000"],
        ["3", "!"],
        ["3.", "!"],
        [".11", "!"],
        ["3.11.4", "!"],
        ["3.13tt", "!"],
        ["3.t", "!"],
        ["t", "!"],
        ["", "!"],
        ["3.11a", "!"],
        ["3.10000", "!"],
        ["PY3", "!"],
        ["3.-1", "!"],
        ["+3.11", "!"],
        ["3 .11", "!"]
    ],
    "venv_site_packages": [
        ["3.11", "lib/python3.11/site-packages"],
        ["3.13t", "lib/python3.13t/site-packages"]
    ],
    "venv_config": [
        ["/usr/bin", "home = /usr/bin\ninclude-system-site-packages = false\n"],
        ["!", "include-system-site-packages = false\n"]
    ],
    "venv_pth_line": [
        ["e2e/cases/_report.venv/lib/python3.11/site-packages", "e2e/lib/py", "../../../../../../e2e/lib/py"],
        ["_main/_app.venv/lib/python3.13t/site-packages", "_main", "../../../../../_main"],
        ["_main/a/b/_app.venv/lib/python3.11/site-packages", "pypi_x/site-packages", "../../../../../../../pypi_x/site-packages"]
    ]
}
