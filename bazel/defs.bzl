"""Public API of py-launcher's Bazel rules. Reference: docs/bazel.md."""

load("//bazel/private:binary.bzl", _py_launcher_binary = "py_launcher_binary", _py_launcher_test = "py_launcher_test")
load("//bazel/private:layers.bzl", _py_launcher_image_layers = "py_launcher_image_layers")
load("//bazel/private:providers.bzl", _PyLauncherInfo = "PyLauncherInfo")
load("//bazel/private:toolchain.bzl", _py_launcher_toolchain = "py_launcher_toolchain")

py_launcher_binary = _py_launcher_binary
py_launcher_test = _py_launcher_test
py_launcher_image_layers = _py_launcher_image_layers
py_launcher_toolchain = _py_launcher_toolchain
PyLauncherInfo = _PyLauncherInfo

# The toolchain type to name in toolchain(toolchain_type = ...).
PY_LAUNCHER_TOOLCHAIN_TYPE = "@py_launcher//bazel:toolchain_type"
