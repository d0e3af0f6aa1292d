"""The one exception family of instdet, raised at the public boundary."""


class InstdetError(Exception):
    """Bad input or a fault instdet can explain in one line (a path, a value, what to do)."""
