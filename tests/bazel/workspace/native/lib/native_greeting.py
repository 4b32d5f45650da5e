GREETING = "hello from a native py_library"
