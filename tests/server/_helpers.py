"""Helpers of the server tests: a real uvicorn server on loopback, and models whose
generation blocks or spins on demand (long work that the tests control)."""

from __future__ import annotations

import contextlib
import threading
import time

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from lmlab.models.ngram.model import NgramLM  # noqa: E402
from lmlab.server.run import make_server  # noqa: E402
from lmlab.text.specials import EOS_ID  # noqa: E402

TRAIN = ["the stock market fell", "the stock market rose", "the stock price fell", "new york stock exchange",
         "slow work takes time"] * 3


@contextlib.contextmanager
def running(app, **kwargs):
    """``app`` served by lmlab's uvicorn set-up on 127.0.0.1 and a free port; yields its URL."""
    srv = make_server(app, "127.0.0.1", 0, **kwargs)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while srv.url is None and time.monotonic() < deadline and thread.is_alive():
        time.sleep(0.02)
    assert srv.url, "the server did not start"
    try:
        yield srv.url
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


class ControlledLM(NgramLM):
    """An n-gram model for long work the tests control: from the first state holding the word
    ``slow`` on, a thread's next-token distributions wait for :attr:`gate` (``mode="block"``) or
    keep the CPU busy in Python for ``spin_s`` CPU seconds each (``mode="spin"``: holding the GIL,
    as model code does; ``</s>`` is then never drawn, so a generation runs ``max_tokens``), until
    :attr:`stop` is set.  Off until :meth:`arm` is called, so the app's preparation runs normally."""

    def arm(self, mode: str, spin_s: float = 0.02) -> None:
        self.mode, self.spin_s = mode, spin_s
        self.gate, self.stop = threading.Event(), threading.Event()
        self.entered = 0
        self.trigger = self.vocab.lookup("slow")
        self.slow_threads = threading.local()

    @contextlib.contextmanager
    def released(self):
        """On leaving (also on a failure): every waiting or spinning call goes on."""
        try:
            yield
        finally:
            self.stop.set()
            self.gate.set()

    def next_logprobs(self, states):
        out = super().next_logprobs(states)
        if getattr(self, "mode", None) is None or self.stop.is_set():
            return out
        if any(self.trigger in st for st in states):
            if not getattr(self.slow_threads, "on", False):
                self.entered += 1
            self.slow_threads.on = True
        if getattr(self.slow_threads, "on", False):
            if self.mode == "block":
                self.gate.wait(20)
            else:
                t0 = time.thread_time()  # this thread's CPU time: the same work however many run
                while time.thread_time() - t0 < self.spin_s and not self.stop.is_set():
                    pass
                out[:, EOS_ID] = -np.inf
        return out


def controlled_lm() -> ControlledLM:
    lm = ControlledLM(3, "witten_bell")
    lm.fit(TRAIN)
    return lm
