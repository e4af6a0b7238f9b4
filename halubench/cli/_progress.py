"""Progress as plain lines, for runs with no terminal to draw a bar on (CI, nohup, slurm, a pipe).

A rich bar redraws one line in place; in a log file that is either nothing or a
wall of control codes, and a run that takes an hour looks dead. This prints a
line when a judge starts and one when it finishes; in between, after the first
5 seconds (a run done sooner needs no progress: ten lines within 0.02 s say
nothing), a line every tenth of the rows or every 30 seconds, whichever comes
first (the timer also reports a run that is stuck waiting on its judge;
``HALUBENCH_PROGRESS_SECONDS`` changes the 30, and the 5 when it is shorter).
A tenth passed in the quiet start is reported when the quiet ends.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlsplit

from halubench.backends import Judge, Reply
from halubench.errors import ConfigError
from halubench.run import RunProgress

STEPS = 10  # a line every tenth of the rows
EVERY_S = 30.0  # and at least this often while rows are outstanding (HALUBENCH_PROGRESS_SECONDS)
QUIET_S = 5.0  # no line in a run's first seconds but the start line (at most HALUBENCH_PROGRESS_SECONDS)


def judge_place(judge: Judge) -> str:
    """Model and where it runs: the endpoint's host (and port), never credentials, or this process."""
    model = judge.spec.model or judge.spec.name
    if not judge.endpoint:
        return f"{model} in this process"
    return f"{model} at {urlsplit(judge.endpoint).netloc.rpartition('@')[2] or judge.endpoint}"


def heartbeat_seconds() -> float:
    """Seconds between lines while rows are outstanding: $HALUBENCH_PROGRESS_SECONDS, else 30."""
    value = os.environ.get("HALUBENCH_PROGRESS_SECONDS", "").strip()
    if not value:
        return EVERY_S
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not seconds > 0:
        raise ConfigError(f"HALUBENCH_PROGRESS_SECONDS={value!r}: expected a number of seconds above 0")
    return seconds


def _duration(seconds: float) -> str:
    return str(timedelta(seconds=round(seconds)))


class LineProgress(RunProgress):
    """Lines for one judge on one task; ``finish`` when its results are in, ``stop`` in any case.

    ``clock`` gives the seconds the rhythm reads; with ``timer`` False no thread is started and the caller
    calls ``tick`` itself (a test that steps its own clock: the rhythm without waiting for it).
    """

    def __init__(self, label: str, concurrency: int, *, clock: Callable[[], float] = time.monotonic,
                 timer: bool = True):
        self.label, self.concurrency = label, concurrency
        self.every_s = heartbeat_seconds()
        self.quiet_s = min(QUIET_S, self.every_s)
        self.total = self.cached = self.done = self.errors = 0
        self._clock, self._use_timer = clock, timer
        self._next_step = 1
        self._started = self._last_line = 0.0
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._timer: threading.Thread | None = None

    def finish(self) -> None:
        """The task is judged: stop the timer and say so."""
        self.stop()
        self._print(f"{self.label}: finished {self.done}/{self.total} rows in "
                    f"{_duration(self._clock() - self._started)} ({self.cached} from cache, "
                    f"{self.errors} errors)")

    def stop(self) -> None:
        """Stop the timer (idempotent); an interrupted run says nothing more."""
        self._stopped.set()
        if self._timer is not None:
            self._timer.join()

    def start(self, total: int, cached: int, judge: Judge | None = None) -> None:
        self.total, self.cached, self.done = total, cached, cached
        self._started = self._last_line = self._clock()
        who = judge_place(judge) if judge else "the judge"
        self._print(f"{self.label}: {total} rows, {cached} from cache; judging with {who}, "
                    f"concurrency {self.concurrency}")
        self._next_step = self._step_of(cached) + 1
        if self._use_timer:
            self._timer = threading.Thread(target=self._beat, name="halubench-progress", daemon=True)
            self._timer.start()

    def advance(self, reply: Reply) -> None:
        with self._lock:
            self.done += 1
            self.errors += reply.error is not None and not reply.too_long
            if self._step_of(self.done) >= self._next_step and not self._quiet():
                self._status()

    def note(self, text: str) -> None:
        """A status line from the judge (a batch's state and counts, once per poll)."""
        with self._lock:
            self._print(f"{self.label}: {text}")

    def tick(self) -> float:
        """What the timer does, now: a line when the quiet start has just ended past an unreported tenth,
        or when none came for ``every_s`` while rows are outstanding. Returns the seconds until the next
        moment either can be due."""
        with self._lock:
            now = self._clock()
            if self.done < self.total and not self._quiet():
                if self._step_of(self.done) >= self._next_step or now - self._last_line >= self.every_s:
                    self._status()
            wait = self.every_s - (now - self._last_line)
            if self._quiet():
                wait = min(wait, self._started + self.quiet_s - now)
            return max(wait, 0.01)

    def _quiet(self) -> bool:
        return self._clock() - self._started < self.quiet_s

    def _step_of(self, done: int) -> int:
        return done * STEPS // self.total if self.total else STEPS

    def _beat(self) -> None:
        """The timer: ``tick`` whenever a line can next be due, until stopped."""
        timeout = self.quiet_s
        while not self._stopped.wait(timeout):
            timeout = self.tick()

    def _status(self) -> None:
        self._next_step = self._step_of(self.done) + 1
        elapsed = max(self._clock() - self._started, 1e-9)
        called = self.done - self.cached
        rate = called / elapsed
        eta = _duration((self.total - self.done) / rate) if rate else "unknown"
        self._print(f"{self.label}: {self.done}/{self.total} rows ({100 * self.done / self.total:.0f}%), "
                    f"{self.cached} from cache, {self.errors} errors, {rate:.1f} rows/s, ETA {eta}")

    def _print(self, line: str) -> None:
        self._last_line = self._clock()
        print(line, flush=True)  # beside the tables in the log; stderr stays for errors
