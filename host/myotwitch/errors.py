"""The one error type the command line turns into a clear message and exit code 1."""


class MyotwitchError(Exception):
    """A problem the user can act on (bad file, missing port, no firmware answer)."""


class ConnectionLost(MyotwitchError):
    """The board went away mid-stream: unplugged, silent, or restarted (its counter starts again)."""
