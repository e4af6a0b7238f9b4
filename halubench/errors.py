"""User-facing errors.

Anything a user can fix (a bad file, a missing key, an unknown name) is raised as
a ``HalubenchError``; the CLI prints its message on one line and exits non-zero
without a traceback. Programming errors stay ordinary exceptions.
"""

from __future__ import annotations


class HalubenchError(Exception):
    """An error the user can fix; ``str(err)`` says what, where and how."""

    exit_code = 2


class DataError(HalubenchError):
    """A dataset file or hub dataset that does not match the task's schema."""


class ConfigError(HalubenchError):
    """An unknown or malformed task / judge definition."""


class JudgeError(HalubenchError):
    """A judge that cannot run at all (missing key, 401, missing engine): stop the run."""


class OutputError(HalubenchError):
    """An output location halubench will not write to (e.g. a folder it did not make)."""


class BatchPending(HalubenchError):
    """Batches were submitted (or are still running) and the run was told not to wait for them.

    Not a failure: the replies are paid for and will be collected by running the
    same command again, so the CLI prints the message and exits 0.
    """

    exit_code = 0
