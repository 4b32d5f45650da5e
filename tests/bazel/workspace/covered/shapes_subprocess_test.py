import subprocess

from covered import shapes
from runfiles import runfiles

assert shapes.sign(3) == "non-negative"
cli = runfiles.Create().Rlocation("e2e/covered/shapes_cli")
out = subprocess.run([cli], check=True, capture_output=True, text=True).stdout
assert out == "negative\n", out
