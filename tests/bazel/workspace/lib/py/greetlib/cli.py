"""Run with main_module = "greetlib.cli"."""
import sys

from e2e_report import report

report(extra={"module": __name__, "spec": __spec__.name if __spec__ else None})
sys.exit(0)
