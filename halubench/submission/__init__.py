"""Submissions: an outside researcher's run packed into a folder (``submit``), checked here (``verify``).

A submission is the run's summary and every row with its raw reply, the judge's
card and how the run was made, with a manifest of hashes; ``verify`` re-reads
every reply with this project's parser and re-scores the run with the task's
scorer, so a merged submission is on the board as *submitted*: its figures are
this project's, its calls the submitter's (docs/submit.md).
"""

from __future__ import annotations

from halubench.submission._folder import CAPS, TOTAL_CAP
from halubench.submission._pack import submit
from halubench.submission._rejected import SubmissionRejected
from halubench.submission._secrets import KEY_SHAPES, KeyShape, find_key
from halubench.submission._verify import Verification, verify

__all__ = [
    "CAPS",
    "KEY_SHAPES",
    "KeyShape",
    "SubmissionRejected",
    "TOTAL_CAP",
    "Verification",
    "find_key",
    "submit",
    "verify",
]
