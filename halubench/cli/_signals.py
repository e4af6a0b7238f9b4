"""Ctrl-C and SIGTERM during ``halubench run``: stop cleanly once, exit at once the second time.

Judging runs inside ``asyncio.run``. A KeyboardInterrupt raised from a signal handler
in the middle of the event loop leaves tasks half-done and asyncio logging about
them at shutdown, so the first signal cancels the task that judges instead (as
asyncio's own Ctrl-C handling does): the runner closes the judge and raises
``Interrupted`` with how many replies are in the cache. Every reply is committed to
the cache as it arrives, so the cache is consistent whenever the process stops.
A second signal means "now": the process exits without any more cleanup.
"""

from __future__ import annotations

import asyncio
import os
import signal
from types import FrameType
from typing import Any

from halubench.backends import Judge, Reply
from halubench.run import RunProgress

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopOnSignal:
    """``with StopOnSignal() as stop:`` handles SIGINT/SIGTERM; ``exit_code`` is 128 + the signal."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._task: asyncio.Task[Any] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._previous: dict[int, Any] = {}

    @property
    def exit_code(self) -> int:
        return 128 + (self.signum or signal.SIGINT)

    def __enter__(self) -> StopOnSignal:
        for signum in SIGNALS:
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def watch(self, progress: RunProgress) -> RunProgress:
        """``progress``, reporting as before, that also marks its run's judging task as the one to cancel."""
        return _Armed(self, progress)

    def arm(self) -> None:
        """Called inside the event loop, from the judging task: the task a first signal cancels."""
        self._loop, self._task = asyncio.get_running_loop(), asyncio.current_task()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is not None:
            os.write(2, b"interrupted again: exiting now\n")
            os._exit(128 + signum)
        self.signum = signum
        task, loop = self._task, self._loop
        if task is None or loop is None or task.done():
            raise KeyboardInterrupt  # not judging: nothing to wind down
        task.cancel()
        loop.call_soon_threadsafe(lambda: None)  # wake the loop if it sleeps in select()


class _Armed(RunProgress):
    def __init__(self, stop: StopOnSignal, inner: RunProgress):
        self.stop, self.inner = stop, inner

    def start(self, total: int, cached: int, judge: Judge | None = None) -> None:
        self.stop.arm()
        self.inner.start(total, cached, judge)

    def advance(self, reply: Reply) -> None:
        self.inner.advance(reply)

    def note(self, text: str) -> None:
        self.inner.note(text)
