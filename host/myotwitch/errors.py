"""The one error type the command line turns into a clear message and exit code 1."""


class MyotwitchError(Exception):
    """A problem the user can act on (bad file, missing port, no firmware answer)."""


class ConnectionLost(MyotwitchError):
    """The board went away mid-stream: unplugged, silent, or restarted (its counter starts again).

    `why` is the short reason a gap is recorded with."""

    def __init__(self, message: str, why: str) -> None:
        super().__init__(message)
        self.why = why
