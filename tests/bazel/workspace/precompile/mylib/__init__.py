"""A first-party library package (its bytecode is precompiled by the rules)."""

from mylib.helper import greet  # noqa: F401
