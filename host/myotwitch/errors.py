"""The error types the command line turns into a clear message: exit code 1, or 2 for a usage error."""


class MyotwitchError(Exception):
    """A problem the user can act on (bad file, missing port, no firmware answer)."""


class UsageError(MyotwitchError):
    """A command line that cannot be carried out as given, found after parsing: exit code 2, as argparse's
    own refusals."""


class ConnectionLost(MyotwitchError):
    """The board went away mid-stream: unplugged, silent, or restarted (its counter starts again).

    `why` is the short reason a gap is recorded with."""

    def __init__(self, message: str, why: str) -> None:
        super().__init__(message)
        self.why = why
