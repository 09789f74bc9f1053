#!/usr/bin/env python3
"""Spark ``local[2]`` vs the single-machine estimator vs ``lmplz``: wall time and peak memory.

    .venv/bin/python benchmarks/spark_bench.py                       # PTB train, order 5
    .venv/bin/python benchmarks/spark_bench.py --text big.txt -o 5 --partitions 8

Each estimator runs as a subprocess writing its ARPA file.  Peak memory is the largest sum, over
the process and all its descendants (Spark's JVM is a child of the Python driver, and os.wait4
sees only the direct child), of their resident memory, sampled from ``/proc/PID/status``
(``VmRSS``) every 50 ms; the largest ``VmHWM`` of any one of them is given too.  The Spark ARPA is
checked against the native one (same n-grams, values to 1e-6).  Prints one JSON object; writes it
to ``--json`` if given.  ``lmplz`` comes from ``--kenlm-bin`` (skipped if absent); it refuses a
literal ``<unk>``, so it reads a copy with ``<unk>`` replaced by ``UNKTOK``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _children() -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        out.setdefault(ppid, []).append(int(p))
    return out


def _tree(pid: int) -> list[int]:
    kids, todo, seen = _children(), [pid], []
    while todo:
        p = todo.pop()
        seen.append(p)
        todo.extend(kids.get(p, []))
    return seen


def _status_kb(pid: int, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_measured(cmd: list[str], env: dict | None = None) -> dict:
    """Wall time, peak summed RSS of the process tree and the largest VmHWM of one process in it."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = {"tree_rss_kb": 0, "max_hwm_kb": 0}
    done = threading.Event()

    def sample():
        while not done.is_set():
            pids = _tree(proc.pid)
            peak["tree_rss_kb"] = max(peak["tree_rss_kb"], sum(_status_kb(p, "VmRSS") for p in pids))
            peak["max_hwm_kb"] = max([peak["max_hwm_kb"], *(_status_kb(p, "VmHWM") for p in pids)])
            done.wait(0.05)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    _, err = proc.communicate()
    wall = time.perf_counter() - t0
    done.set()
    th.join()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {err.decode()[-2000:]}")
    return {"wall_s": round(wall, 2), "peak_tree_rss_mb": round(peak["tree_rss_kb"] / 1024, 1),
            "max_process_hwm_mb": round(peak["max_hwm_kb"] / 1024, 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    data = Path(os.environ.get("LMLAB_DATA", REPO.parent / "shared" / "data"))
    ap.add_argument("--text", default=str(data / "ptb" / "ptb.train.txt"))
    ap.add_argument("-o", "--order", type=int, default=5)
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--partitions", type=int, default=4)
    ap.add_argument("--spark_conf", action="append", default=["spark.driver.memory=4g"])
    ap.add_argument("--kenlm-bin", default="/work/kenlm-build/bin")
    ap.add_argument("--json")
    args = ap.parse_args()
    lmlab = [sys.executable, "-m", "lmlab"]
    out: dict = {"text": args.text, "order": args.order, "master": args.master, "partitions": args.partitions,
                 "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="spark-bench-") as tmp:
        native, spark = Path(tmp) / "native.arpa", Path(tmp) / "spark.arpa"
        out["native"] = run_measured([*lmlab, "ngram", "-o", str(args.order), "--text", args.text, "--arpa",
                                      str(native), "--quiet"])
        conf = [x for c in args.spark_conf for x in ("--spark_conf", c)]
        out["spark"] = run_measured([*lmlab, "ngram", "--engine", "spark", "--master", args.master, "--partitions",
                                     str(args.partitions), *conf, "-T", str(Path(tmp) / "spark-local"), "-o",
                                     str(args.order), "--text", args.text, "--arpa", str(spark), "--quiet"])
        lmplz = Path(args.kenlm_bin) / "lmplz"
        if lmplz.is_file():
            copy = Path(tmp) / "train.unktok.txt"
            copy.write_text(Path(args.text).read_text(encoding="utf-8").replace("<unk>", "UNKTOK"), encoding="utf-8")
            out["lmplz"] = run_measured([str(lmplz), "-o", str(args.order), "-S", "1G", "-T", tmp + "/", "--text",
                                         str(copy), "--arpa", str(Path(tmp) / "kenlm.arpa")])
        else:
            out["lmplz"] = f"skipped: no {lmplz}"
        sys.path.insert(0, str(REPO))
        import numpy as np

        from lmlab.models.ngram.arpa import read_arpa

        ta, va, _ = read_arpa(native)
        tb, vb, _ = read_arpa(spark)
        same = va.tokens == vb.tokens and all(np.array_equal(a, b) for a, b in zip(ta.keys, tb.keys, strict=True))
        diff = max(float(np.max(np.abs(a.astype(float) - b), initial=0.0))
                   for a, b in zip(ta.logprob10 + ta.backoff10, tb.logprob10 + tb.backoff10, strict=True))
        out["check"] = {"same_ngrams": bool(same), "max_abs_diff": diff, "sizes": ta.sizes()}
    text = json.dumps(out, indent=1)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
