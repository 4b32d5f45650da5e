def message():
    return "Hello from a py_binary started by py-launcher (no shell, no bootstrap Python)."
