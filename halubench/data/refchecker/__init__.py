"""The RefChecker benchmark's data (Amazon, arXiv 2405.14486): human-labelled claim triplets and their references.
"""

from __future__ import annotations

from halubench.data.refchecker._annotations import COMMIT, RESPONDERS, SETTINGS, checksums
from halubench.data.refchecker._loader import FAIL_RULES
from halubench.data.refchecker._make_references import make_references
from halubench.data.refchecker._references import HubSource, from_hub

__all__ = [
    "COMMIT",
    "FAIL_RULES",
    "HubSource",
    "RESPONDERS",
    "SETTINGS",
    "checksums",
    "from_hub",
    "make_references",
]
