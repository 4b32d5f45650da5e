import os


def greeting(name):
    return "%s, %s!" % (os.environ.get("GREETING", "Hi"), name)
