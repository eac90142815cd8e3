"""Exception types of the library.

Library code raises these; only the CLI turns them into a one-line message and an exit status.
"""


class BenchError(Exception):
    """Base class of every error the CLI reports as one line with exit status 2."""

    exit_code = 2


class ConfigError(BenchError):
    """A config file or override is unreadable or invalid. The message names file and key."""


class UsageError(BenchError):
    """A command-line option has a value that cannot be used (unknown name, bad directory)."""


class DeviceError(BenchError):
    """A device was asked for that this machine does not have."""


class ExecutionError(BenchError):
    """The executor of a run failed (a worker process died): the run was closed as interrupted,
    what finished is kept, and `--resume` runs the rest."""

    exit_code = 1


class ExpressionError(ValueError):
    """A target-function expression is malformed or uses something outside the whitelist.

    A ValueError, so that config validation reports it under the key that holds the expression.
    """


def clip(text: str, limit: int = 80) -> str:
    """`text` on one line (line breaks become spaces), cut to `limit` characters with "...":
    what every message quotes from a user, so that no message repeats a huge value."""
    flat = " ".join(text.splitlines())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def failure(exc: BaseException) -> str:
    """One line saying why a unit of work failed: the exception's class and the first line of
    its message (what results record in their `error` column)."""
    lines = str(exc).strip().splitlines()
    return f"{exc.__class__.__name__}: {lines[0]}" if lines else exc.__class__.__name__
