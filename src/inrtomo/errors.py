"""The one exception type for user mistakes (bad file, bad flag, inconsistent data).

The CLI turns an :class:`InputError` into one line on stderr and exit code 2.
"""


class InputError(ValueError):
    """A problem with the user's input; the message says what is wrong and how to fix it."""


class MissingAnglesError(InputError):
    """A tilt series was asked for but no tilt angles could be found."""
