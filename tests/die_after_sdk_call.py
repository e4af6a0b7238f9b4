"""The halubench CLI in a process that kills itself (SIGKILL) the moment a chosen SDK call returns.

``python tests/die_after_sdk_call.py batches.create run --judge ... --batch`` runs
``halubench run ...`` with the official SDKs' batch create (OpenAI's
``batches.create``, Anthropic's ``messages.batches.create``) wrapped so that
when it returns, before any other line runs, the process dies as ``kill -9``
would kill it. ``files.create`` does the same after OpenAI's batch-file upload.
Tests use it for what a run leaves behind between the provider's create and
its own record: nothing halubench writes after the call can have happened.
"""

from __future__ import annotations

import functools
import os
import runpy
import signal
import sys

import anthropic.resources.messages.batches
import openai.resources.batches
import openai.resources.files

TARGETS = {
    "batches.create": [openai.resources.batches.AsyncBatches, anthropic.resources.messages.batches.AsyncBatches],
    "files.create": [openai.resources.files.AsyncFiles],
}


def die_after(cls: type) -> None:
    original = cls.create

    @functools.wraps(original)
    async def create(self, *args, **kwargs):
        await original(self, *args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)

    cls.create = create


if __name__ == "__main__":
    for cls in TARGETS[sys.argv[1]]:
        die_after(cls)
    sys.argv = ["halubench", *sys.argv[2:]]
    runpy.run_module("halubench", run_name="__main__")
