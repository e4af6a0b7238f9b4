"""Stopping a judge whose endpoint answers nothing but server errors, instead of waiting out every row's retries.

A busy service fails some calls (a partial outage): the retries get every row
answered, as before. A service that is down fails all of them, and the retry
policy alone would hold each row for up to ``deadline_s`` (10 minutes) before
giving up on it, an hour or more for a full run. So each API judge watches its
calls: once every attempt for ``outage_after_s`` seconds (the ``retry`` block;
default 30) has failed with a server error (5xx, Anthropic's 529
``overloaded_error``, a timeout, a dropped connection, a garbled reply), at
least ``MIN_FAILURES`` of them and none succeeding, the judge stops. Rows
sleeping in their backoff wake at once, so the run ends within moments of the
threshold with one line naming the endpoint, the last status and the server's
message. Replies already received are in the cache; the same command asks only
the rows without one. A 429 is the rate limiter's business: it neither starts
nor ends a streak.
"""

from __future__ import annotations

import asyncio
import time

from halubench.backends._retry import Fault
from halubench.errors import JudgeError

# Fewer failed attempts than this are no outage, however long they took (one call that hung, then failed).
MIN_FAILURES = 3


class OutageWatch:
    """One per judge: the current streak of server errors, and the stop it leads to."""

    def __init__(self, judge: str, endpoint: str, window_s: float):
        self.judge, self.endpoint, self.window_s = judge, endpoint, window_s
        self.started: float | None = None  # the first failure since the last success
        self.failures = 0
        self.last: Fault | None = None
        self.stopped: str | None = None  # the message, once the streak has become an outage
        self._woken: asyncio.Event | None = None
        self._timer: asyncio.TimerHandle | None = None

    def passed(self) -> None:
        """A call succeeded: whatever failed before was no outage."""
        self.started, self.failures = None, 0
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def failed(self, fault: Fault) -> None:
        """A server error; raises ``JudgeError`` once the streak is an outage."""
        now = time.monotonic()
        self.failures += 1
        self.last = fault
        if self.started is None:
            self.started = now
            self._timer = asyncio.get_running_loop().call_later(self.window_s, self._expire)
        elif now - self.started >= self.window_s:
            self._expire()
        self.check()

    def check(self) -> None:
        """Raise the outage's one line once there is one (before each attempt, after each backoff)."""
        if self.stopped is not None:
            raise JudgeError(self.stopped)

    async def sleep(self, seconds: float) -> None:
        """A backoff that ends early when the judge stops."""
        self.check()
        if self._woken is None:
            self._woken = asyncio.Event()
        try:
            await asyncio.wait_for(self._woken.wait(), seconds)
        except asyncio.TimeoutError:
            pass
        self.check()

    def _expire(self) -> None:
        self._timer = None
        if self.started is None or self.failures < MIN_FAILURES or self.stopped is not None:
            return
        assert self.last is not None
        self.stopped = (
            f"judge {self.judge}: {self.endpoint} answered only server errors for {self.window_s:g} s "
            f"({self.failures} attempts in a row, none succeeded; the last: {self.last.reason}), so the run "
            "stops here instead of retrying every row; the replies already received are kept, and once the "
            "service is back the same command asks only the rows without one"
        )
        if self._woken is not None:
            self._woken.set()
