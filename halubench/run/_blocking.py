"""A coroutine run to its end from synchronous code, whether or not an event loop already runs here.

``asyncio.run`` refuses to start inside a running loop, which is where a Jupyter
cell or an ``async def`` training loop calls from. There the coroutine runs on a
fresh loop in a worker thread while this thread waits; a Ctrl-C (a notebook's
"interrupt kernel") cancels it there, so the judge winds down and the runner
reports how far it got, as on the command line, instead of judging on unseen.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_blocking(coroutine: Coroutine[Any, Any, T]) -> T:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    return _in_worker_thread(coroutine)


def _in_worker_thread(coroutine: Coroutine[Any, Any, T]) -> T:
    outcome: dict[str, Any] = {}
    running: dict[str, Any] = {}
    started, finished = threading.Event(), threading.Event()

    async def main() -> T:
        running["loop"], running["task"] = asyncio.get_running_loop(), asyncio.current_task()
        started.set()
        return await coroutine

    def work() -> None:
        try:
            outcome["value"] = asyncio.run(main())
        except BaseException as exc:  # handed to the waiting thread, which raises it
            outcome["error"] = exc
        finally:
            started.set()
            finished.set()

    # Waits on an Event, not Thread.join: a join that a KeyboardInterrupt broke may not wait again.
    threading.Thread(target=work, name="halubench-evaluate", daemon=True).start()
    try:
        finished.wait()
    except KeyboardInterrupt:
        started.wait()
        if "task" in running:
            running["loop"].call_soon_threadsafe(running["task"].cancel)
        finished.wait()
        if isinstance(outcome.get("error"), asyncio.CancelledError):
            raise  # cancelled before judging began: an ordinary interrupt
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
