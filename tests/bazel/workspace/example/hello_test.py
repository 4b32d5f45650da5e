import sys
import unittest

from example.greeting import greeting


class GreetingTest(unittest.TestCase):
    def test_greeting(self):
        self.assertEqual(greeting("test"), "Hi, test!")

    def test_venv(self):
        self.assertNotEqual(sys.prefix, sys.base_prefix)


if __name__ == "__main__":
    unittest.main()
