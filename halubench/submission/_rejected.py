"""The one error a submission check raises: what is wrong, where (file, line, row) and how to fix it."""

from __future__ import annotations

from halubench.errors import HalubenchError


class SubmissionRejected(HalubenchError):
    """A submission ``halubench verify`` does not accept, or a run ``halubench submit`` will not pack.

    Exit status 1: the check ran and said no (2 is kept for a check that could not run).
    """

    exit_code = 1
