"""Resident memory of ``lmlab ngram`` stage by stage (in-memory or ``-S`` estimation).

Runs the CLI in this process with a thread sampling the resident set size every few
milliseconds, and prints, for each stage (reading, encoding, counting, estimating, assembling,
writing), the RSS when it starts and ends and the peak within it::

    LMLAB_DATA=/work/shared/data python benchmarks/ngram_memory_stages.py -o 5 --data wikitext-2 --arpa /tmp/o5.arpa

The arguments are ``lmlab ngram``'s.  The peak matches ``/usr/bin/time -v``'s to a few MB (the
sampler misses peaks shorter than its interval).
"""

from __future__ import annotations

import functools
import os
import sys
import threading
import time

_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * _PAGE / 2**20


class Sampler:
    def __init__(self, interval: float = 0.002):
        self.interval, self.peak, self.rows = interval, 0.0, []
        self._stop = threading.Event()
        self._t0 = time.perf_counter()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb())
            time.sleep(self.interval)

    def start(self):
        self._thread.start()
        return self

    def mark(self, label: str) -> None:
        now = rss_mb()
        self.peak = max(self.peak, now)
        self.rows.append((time.perf_counter() - self._t0, label, now, self.peak))
        self.peak = now  # the peak of the next stage

    def stop(self):
        self._stop.set()
        self._thread.join()


def _wrap(sampler: Sampler, owner, name: str, label: str) -> None:
    fn = getattr(owner, name)

    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        sampler.mark(f"{label} start")
        out = fn(*args, **kwargs)
        sampler.mark(f"{label} end")
        return out

    setattr(owner, name, wrapped)


def main(argv: list[str]) -> int:
    sampler = Sampler().start()
    sampler.mark("start")
    from lmlab.cli import main as cli_main
    from lmlab.cli import ngram as cli_ngram
    from lmlab.models.ngram import model
    from lmlab.models.ngram.smoothing import assemble, kneser_ney, registry
    from lmlab.text import vocab

    sampler.mark("imported")
    _wrap(sampler, cli_ngram, "input_lines", "read lines")
    _wrap(sampler, vocab.Vocab, "build", "vocab")
    for owner, name in ((model, "encode_text"), (model, "count_ngrams")):
        if hasattr(owner, name):
            _wrap(sampler, owner, name, name)
    _wrap(sampler, kneser_ney, "adjusted_counts", "adjusted counts")
    _wrap(sampler, kneser_ney, "discount_table", "discounts")
    _wrap(sampler, registry, "assemble", "assemble")
    _wrap(sampler, cli_ngram, "save_arpa", "save_arpa")
    del assemble
    code = cli_main.main(["ngram", *argv])
    sampler.mark("done")
    sampler.stop()
    print(f"{'time s':>7} {'stage':<24} {'rss MB':>7} {'peak MB':>8}", file=sys.stderr)
    for t, label, now, peak in sampler.rows:
        print(f"{t:7.2f} {label:<24} {now:7.0f} {peak:8.0f}", file=sys.stderr)
    print(f"peak {max(p for *_, p in sampler.rows):.0f} MB", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
