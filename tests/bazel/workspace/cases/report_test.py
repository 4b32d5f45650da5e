"""A py_launcher_test: checks the test environment and the venv; exits non-zero on any failure."""
import os
import sys
import unittest

import bazel_build_info
import greetlib


class LauncherTest(unittest.TestCase):
    def test_venv(self):
        self.assertNotEqual(sys.prefix, sys.base_prefix)
        self.assertTrue(sys.executable.endswith("/bin/python3"), sys.executable)

    def test_imports(self):
        self.assertEqual(greetlib.greet("t"), "hello, t")

    def test_bazel_test_env(self):
        self.assertEqual(os.environ.get("TEST_TARGET"), "//cases:report_test")
        self.assertTrue(os.environ.get("TEST_TMPDIR"))
        self.assertEqual(os.environ.get("GREETING"), "from test env")

    def test_build_info(self):
        self.assertEqual(bazel_build_info.target(), "//cases:report_test")
        self.assertFalse(bazel_build_info.is_stamped())


if __name__ == "__main__":
    unittest.main()
