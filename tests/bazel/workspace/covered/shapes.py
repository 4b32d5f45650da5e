"""A library with one branch its test takes and one it never takes."""


def sign(number):
    if number >= 0:
        return "non-negative"
    return "negative"
