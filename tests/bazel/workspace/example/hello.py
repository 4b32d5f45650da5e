import sys

import bazel_build_info
from example.greeting import greeting

print(greeting(sys.argv[1] if len(sys.argv) > 1 else "world"))
print("built from", bazel_build_info.target(), "stamped:", bazel_build_info.is_stamped())
