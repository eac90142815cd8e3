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
    """`text` on one line (line breaks become spaces), its control characters escaped
    (`escape`), cut to `limit` characters with "...": what every message quotes from a user, so
    that no message repeats a huge value or drives the terminal."""
    flat = escape(" ".join(str(text).splitlines()))
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def escape(text: str) -> str:
    """`text` with every character that a terminal would act on rather than show written as an
    escape: C0 and C1 controls and DEL (`\x1b`, `\x07`, `\r`, `\t`), and Unicode's format and separator
    characters (`\u202e`, which reverses the text after it; `\u2028`). Everything else as it is."""
    return "".join(_escaped(c) if _controls(c) else c for c in text)


def _controls(character: str) -> bool:
    import unicodedata

    return unicodedata.category(character) in ("Cc", "Cf", "Zl", "Zp")


def _escaped(character: str) -> str:
    code = ord(character)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def failure(exc: BaseException) -> str:
    """One line saying why a unit of work failed: the exception's class and the first line of
    its message (what results record in their `error` column)."""
    lines = str(exc).strip().splitlines()
    return f"{exc.__class__.__name__}: {lines[0]}" if lines else exc.__class__.__name__
