"""Admission control: bounded lanes of model work, so a flood of long requests neither queues
without end nor starves the short ones.

Model work is CPU-bound Python (and holds the GIL), so running more of it at once than there are
cores makes every request slower.  Each :class:`Lane` runs its requests on its own few threads and
admits at most ``workers + queue`` at a time; beyond that a request is refused at once with 503
and a ``Retry-After`` estimate, and a request that has waited and run for longer than the timeout
is answered 503 as well (its thread finishes the work, bounded by the request's own limits, and
keeps its place in the count until then, so the bound holds).  The server has two lanes: *quick*
(``/complete``, ``/score``: a keystroke must stay fast) and *long* (``/generate``,
``/perplexity``), so generations wait behind each other, never in front of a keystroke.
"""

from __future__ import annotations

import asyncio
import math
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Limits:
    """How much work the server takes on.  Defaults suit one model on a small machine."""

    quick_workers: int = 2  #: threads for /complete and /score
    quick_queue: int = 64  #: quick requests that may wait beyond those running
    long_workers: int = max(1, (os.cpu_count() or 2) // 2)  #: threads for /generate and /perplexity
    long_queue: int = 8  #: long requests that may wait beyond those running
    request_timeout: float = 30.0  #: seconds from admission to answer (waiting included)
    body_timeout: float = 10.0  #: seconds to receive a request's headers and whole body
    max_body_bytes: int = 256 * 1024  #: largest request body

    def __post_init__(self):
        from ..errors import ConfigError

        problems = [f"{k} must be >= {lo}, got {getattr(self, k)}"
                    for k, lo in (("quick_workers", 1), ("quick_queue", 0), ("long_workers", 1),
                                  ("long_queue", 0), ("max_body_bytes", 1))
                    if getattr(self, k) < lo]
        problems += [f"{k} must be > 0, got {getattr(self, k)}" for k in ("request_timeout", "body_timeout")
                     if not getattr(self, k) > 0]
        if problems:
            raise ConfigError(problems)


class Busy(Exception):
    """The lane is full, or the request ran out of time: answer 503 with ``Retry-After``."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class Lane:
    """At most ``workers`` calls running and ``queue`` waiting; the rest refused (:class:`Busy`)."""

    def __init__(self, name: str, workers: int, queue: int):
        self.name, self.workers, self.capacity = name, workers, workers + queue
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"lmlab-{name}")
        self._admitted = 0  # running + waiting; changed under the lock (released from worker threads)
        self._lock = threading.Lock()
        self._mean_s = 0.05  # moving average of one call's run time (for Retry-After)
        self.refused = 0

    @property
    def admitted(self) -> int:
        return self._admitted

    def retry_after(self) -> int:
        """Seconds until a place is likely free: the work ahead of a newcomer, spread over the workers."""
        return max(1, min(60, math.ceil(self._mean_s * self._admitted / self.workers)))

    def _run(self, fn: Callable[[], Any]) -> Any:
        t0 = time.perf_counter()
        try:
            return fn()
        finally:
            self._mean_s = 0.8 * self._mean_s + 0.2 * (time.perf_counter() - t0)

    def _release(self, _future=None) -> None:
        with self._lock:
            self._admitted -= 1

    async def run(self, fn: Callable[[], Any], timeout: float) -> Any:
        """``fn()`` on this lane's threads, or :class:`Busy`."""
        with self._lock:
            if self._admitted >= self.capacity:
                self.refused += 1
                raise Busy(f"the server is busy: {self._admitted} {self.name} requests are running or waiting "
                           f"(the limit); retry in {self.retry_after()} s", self.retry_after())
            self._admitted += 1
        try:
            future = self._pool.submit(self._run, fn)
        except RuntimeError:  # shutting down
            self._release()
            raise Busy("the server is shutting down", 5) from None
        future.add_done_callback(self._release)  # also when cancelled while waiting
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), timeout)
        except TimeoutError:
            future.cancel()  # still waiting: dropped; already running: finishes, holding its place
            raise Busy(f"the request took longer than {timeout:g} s (the server is busy); retry later",
                       self.retry_after()) from None

    def status(self) -> dict:
        return {"workers": self.workers, "capacity": self.capacity, "admitted": self._admitted,
                "refused": self.refused}

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
